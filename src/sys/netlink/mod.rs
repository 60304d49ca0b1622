//! Link, address and route operations over rtnetlink. One socket per
//! namespace: the host's, and one made inside the container's namespace.
//! Kernel errors keep their errno so callers can match on it.

use std::net::IpAddr;

use futures::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::packet_route::link::{InfoData, InfoVeth, LinkAttribute, LinkFlags, LinkMessage};
use rtnetlink::packet_route::route::RouteScope;
use rtnetlink::{Handle, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::netns::Netns;

mod unlink;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The kernel refused: `errno` is positive (EEXIST, ENODEV...).
    #[error("{}", std::io::Error::from_raw_os_error(*.errno))]
    Kernel { errno: i32 },
    #[error("{0}")]
    Other(String),
}

impl NetlinkError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno } => Some(*errno),
            NetlinkError::Other(_) => None,
        }
    }
    pub fn is(&self, errno: i32) -> bool {
        self.errno() == Some(errno)
    }
}

impl From<rtnetlink::Error> for NetlinkError {
    fn from(e: rtnetlink::Error) -> Self {
        match e {
            rtnetlink::Error::NetlinkError(m) if m.raw_code() != 0 => {
                NetlinkError::Kernel { errno: m.raw_code().abs() }
            }
            other => NetlinkError::Other(other.to_string()),
        }
    }
}

impl From<std::io::Error> for NetlinkError {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(errno) => NetlinkError::Kernel { errno },
            None => NetlinkError::Other(e.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, NetlinkError>;

/// What we read back about a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub up: bool,
    /// IFLA_IFALIAS: where we mark the host ends we create (see
    /// `port::naming::host_port_alias`).
    pub alias: Option<String>,
    /// For a veth: the peer's index (IFLA_LINK), in the peer's namespace.
    pub peer_index: Option<u32>,
    pub is_veth: bool,
    /// IFLA_GROUP (0 unless someone set it).
    pub group: u32,
}

/// A rtnetlink socket bound to one namespace.
pub struct Netlink {
    handle: Handle,
    conn: tokio::task::JoinHandle<()>,
    /// Whether the socket is in this process's namespace, where links are
    /// deleted without waiting for the kernel's slow half (see [`unlink`]).
    in_host: bool,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

impl Netlink {
    /// A socket in this process's namespace.
    pub fn host() -> Result<Self> {
        let (conn, handle, _) = rtnetlink::new_connection()?;
        Ok(Netlink { handle, conn: tokio::spawn(conn), in_host: true })
    }

    /// A socket inside `ns`: made on a thread that entered `ns`, then used
    /// from here; the socket keeps its namespace.
    pub fn inside(ns: &Netns) -> Result<Self> {
        Ok(Self::inside_with(ns, || Ok(()))?.0)
    }

    /// As [`Netlink::inside`], also running `extra` on the same short-lived
    /// thread inside `ns` (to make other sockets there in one go).
    pub fn inside_with<T: Send>(ns: &Netns, extra: impl FnOnce() -> std::io::Result<T> + Send) -> Result<(Self, T)> {
        let ((conn, handle, _), more) = ns.run(|| Ok((rtnetlink::new_connection()?, extra()?)))?;
        Ok((Netlink { handle, conn: tokio::spawn(conn), in_host: false }, more))
    }

    /// Create a veth pair: `host` in this socket's namespace, `peer` created
    /// directly in `peer_ns` under its final name, with its MTU and MAC, in a
    /// single message (no move, no rename, nothing half-made on failure).
    /// The host end is then marked with `alias` (IFLA_IFALIAS), so that a
    /// veth left by a crash can be told apart and cleaned up.
    /// Returns the host end's index.
    pub async fn create_veth(
        &self,
        host: &str,
        alias: &str,
        peer: &str,
        peer_ns: &Netns,
        mtu: Option<u32>,
        mac: Option<[u8; 6]>,
    ) -> Result<u32> {
        let mut peer_msg = LinkMessageBuilder::<LinkUnspec>::new().name(peer.to_string()).setns_by_fd(peer_ns.raw_fd());
        if let Some(m) = mtu {
            peer_msg = peer_msg.mtu(m);
        }
        if let Some(a) = mac {
            peer_msg = peer_msg.address(a.to_vec());
        }
        let peer_msg = peer_msg.build();
        let mut msg = LinkVeth::new(host, peer).build();
        // LinkVeth::new made a bare peer message; replace it with ours.
        for attr in msg.attributes.iter_mut() {
            if let LinkAttribute::LinkInfo(infos) = attr {
                for info in infos.iter_mut() {
                    if let rtnetlink::packet_route::link::LinkInfo::Data(InfoData::Veth(v)) = info {
                        *v = InfoVeth::Peer(peer_msg.clone());
                    }
                }
            }
        }
        // The host end gets the same MTU, or the bridge would fragment.
        if let Some(m) = mtu {
            msg.attributes.push(LinkAttribute::Mtu(m));
        }
        self.handle.link().add(msg).execute().await?;
        // The kernel ignores IFLA_IFALIAS when creating a link: set it at
        // once. A crash in between leaves an unmarked veth, which add-port
        // and del-port still recognise through its peer (see
        // `commands::reclaim::remove_orphan_peer`).
        let created = self.link(host).await?.ok_or(NetlinkError::Kernel { errno: libc::ENODEV })?;
        self.handle.link().set(LinkUnspec::new_with_index(created.index).alias(alias).build()).execute().await?;
        Ok(created.index)
    }

    pub async fn set_alias(&self, index: u32, alias: &str) -> Result<()> {
        self.handle.link().set(LinkUnspec::new_with_index(index).alias(alias).build()).execute().await?;
        Ok(())
    }

    /// Delete the links called `names`, all in one kernel operation: each
    /// deletion costs the kernel an RCU grace period (15 to 20 ms), a group
    /// deletion costs one for all. The links are put in a link group no
    /// other link uses, and the group is deleted. Links already gone are
    /// skipped. Returns how many were deleted.
    pub async fn delete_many(&self, names: &[String]) -> Result<usize> {
        if names.len() < 2 {
            let mut n = 0;
            for name in names {
                n += usize::from(self.delete(name).await?);
            }
            return Ok(n);
        }
        let links = self.links().await?;
        let used: std::collections::HashSet<u32> = links.iter().map(|l| l.group).collect();
        let group = loop {
            let g = 0x0d0c_0000 | (uuid::Uuid::new_v4().as_u128() as u32 & 0xffff);
            if !used.contains(&g) {
                break g;
            }
        };
        let mut grouped = Vec::new();
        for l in links.iter().filter(|l| names.contains(&l.name)) {
            match self.handle.link().set(LinkUnspec::new_with_index(l.index).link_group(group).build()).execute().await
            {
                Ok(()) => grouped.push(l.index),
                Err(e) if NetlinkError::from(e.clone()).is(libc::ENODEV) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if grouped.is_empty() {
            return Ok(0);
        }
        // RTM_DELLINK with no index and no name but IFLA_GROUP deletes the
        // whole group (`ip link delete group N`).
        if self.in_host {
            let deleted = unlink::delete(unlink::Target::Group(group), &grouped)?;
            return Ok(if deleted { grouped.len() } else { 0 });
        }
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::Group(group));
        or_if_gone(self.handle.link().del_with_message(msg).execute().await.map(|()| grouped.len()), 0)
    }

    /// The link with this index, if any.
    pub async fn link_by_index(&self, index: u32) -> Result<Option<LinkInfo>> {
        let mut stream = self.handle.link().get().match_index(index).execute();
        or_if_gone(stream.try_next().await.map(|m| m.map(|m| link_info(&m))), None)
    }

    /// The link called `name`, if any.
    pub async fn link(&self, name: &str) -> Result<Option<LinkInfo>> {
        let mut stream = self.handle.link().get().match_name(name.to_string()).execute();
        or_if_gone(stream.try_next().await.map(|m| m.map(|m| link_info(&m))), None)
    }

    /// Every link in the namespace.
    pub async fn links(&self) -> Result<Vec<LinkInfo>> {
        let msgs: Vec<LinkMessage> = self.handle.link().get().execute().try_collect().await?;
        Ok(msgs.iter().map(link_info).collect())
    }

    pub async fn set_up(&self, index: u32) -> Result<()> {
        self.handle.link().set(LinkUnspec::new_with_index(index).up().build()).execute().await?;
        Ok(())
    }

    /// Delete a link by name. A link that is already gone is success. In
    /// the host's namespace this returns once the link is unlisted, without
    /// waiting the 15 to 20 ms the kernel then takes to free it (see
    /// [`unlink`]).
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let Some(link) = self.link(name).await? else { return Ok(false) };
        if self.in_host {
            return Ok(unlink::delete(unlink::Target::Index(link.index), &[])?);
        }
        or_if_gone(self.handle.link().del(link.index).execute().await.map(|()| true), false)
    }

    /// Add an address. IPv6 addresses skip duplicate address detection so
    /// they are usable at once instead of staying tentative.
    pub async fn add_address(&self, index: u32, addr: IpAddr, prefix: u8) -> Result<()> {
        let mut req = self.handle.address().add(index, addr, prefix);
        if addr.is_ipv6() {
            req.message_mut().attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        req.execute().await?;
        Ok(())
    }

    /// Remove an address; one that is not there is success.
    pub async fn del_address(&self, index: u32, addr: IpAddr, prefix: u8) -> Result<()> {
        let msgs: Vec<_> = self.handle.address().get().set_link_index_filter(index).execute().try_collect().await?;
        for m in msgs {
            let matches = m.header.prefix_len == prefix
                && m.attributes.iter().any(|a| matches!(a, AddressAttribute::Address(ip) if *ip == addr));
            if matches {
                match self.handle.address().del(m).execute().await.map_err(NetlinkError::from) {
                    Err(e) if e.is(libc::EADDRNOTAVAIL) || e.is(libc::ENODEV) => {}
                    r => r?,
                }
            }
        }
        Ok(())
    }

    /// Set a link's MTU.
    pub async fn set_mtu(&self, index: u32, mtu: u32) -> Result<()> {
        self.handle.link().set(LinkUnspec::new_with_index(index).mtu(mtu).build()).execute().await?;
        Ok(())
    }

    /// Addresses on the link, as (address, prefix length).
    pub async fn addresses(&self, index: u32) -> Result<Vec<(IpAddr, u8)>> {
        let msgs: Vec<_> = self.handle.address().get().set_link_index_filter(index).execute().try_collect().await?;
        Ok(msgs
            .iter()
            .filter_map(|m| {
                m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(ip) => Some((*ip, m.header.prefix_len)),
                    _ => None,
                })
            })
            .collect())
    }

    /// Add the default route via `gateway` on link `index`.
    pub async fn add_default_route(&self, index: u32, gateway: IpAddr) -> Result<()> {
        let any = if gateway.is_ipv4() { "0.0.0.0/0" } else { "::/0" };
        let dest = any.parse().map_err(|e| NetlinkError::Other(format!("{e}")))?;
        self.add_route(index, dest, Some(gateway)).await
    }

    /// Add a route to `dest` on link `index`, via `gateway` or on-link.
    pub async fn add_route(&self, index: u32, dest: ipnetwork::IpNetwork, gateway: Option<IpAddr>) -> Result<()> {
        let msg = match (dest.network(), gateway) {
            (IpAddr::V4(d), gw) => {
                let mut b = RouteMessageBuilder::<std::net::Ipv4Addr>::new()
                    .output_interface(index)
                    .destination_prefix(d, dest.prefix());
                match gw {
                    Some(IpAddr::V4(gw)) => b = b.gateway(gw),
                    Some(IpAddr::V6(_)) => return Err(NetlinkError::Other("IPv6 gateway for an IPv4 route".into())),
                    None => b = b.scope(RouteScope::Link),
                }
                b.build()
            }
            (IpAddr::V6(d), gw) => {
                let mut b = RouteMessageBuilder::<std::net::Ipv6Addr>::new()
                    .output_interface(index)
                    .destination_prefix(d, dest.prefix());
                match gw {
                    Some(IpAddr::V6(gw)) => b = b.gateway(gw),
                    Some(IpAddr::V4(_)) => return Err(NetlinkError::Other("IPv4 gateway for an IPv6 route".into())),
                    None => {}
                }
                b.build()
            }
        };
        self.handle.route().add(msg).execute().await?;
        Ok(())
    }

    /// Whether link `index` has a token bucket (tbf) as its root qdisc, as
    /// [`Netlink::set_rate_limit`] makes it. A veth moved to another
    /// namespace loses its qdiscs, so this tells whether a limit is still
    /// in place.
    pub async fn has_rate_limit(&self, index: u32) -> Result<bool> {
        use rtnetlink::packet_route::tc::{TcAttribute, TcHandle};
        let handle = self.handle.clone();
        // The kernel may answer the dump for every link: filter here.
        let qdiscs: Vec<_> = handle.qdisc().get().index(index as i32).execute().try_collect().await?;
        Ok(qdiscs.iter().any(|q| {
            q.header.index == index as i32
                && q.header.parent == TcHandle::ROOT
                && q.attributes.iter().any(|a| matches!(a, TcAttribute::Kind(k) if k == "tbf"))
        }))
    }

    /// Limit what link `index` sends to `kbps` kbit/s with a token bucket
    /// (tbf) as its root qdisc, allowing bursts of `burst_kb` kbit (at least
    /// two full frames); 0 removes the limit. rtnetlink's qdisc builder
    /// cannot carry tbf options, so the message is built here.
    pub async fn set_rate_limit(&self, index: u32, kbps: u32, burst_kb: Option<u32>) -> Result<()> {
        use rtnetlink::packet_core::{DefaultNla, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE};
        use rtnetlink::packet_core::{NLM_F_REPLACE, NLM_F_REQUEST};
        use rtnetlink::packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
        use rtnetlink::packet_route::RouteNetlinkMessage;
        // linux/pkt_sched.h
        const TCA_TBF_PARMS: u16 = 1;
        const TCA_TBF_BURST: u16 = 6;
        const TC_LINKLAYER_ETHERNET: u8 = 1;

        let mut msg = TcMessage::with_index(index as i32);
        msg.header.parent = TcHandle::ROOT;
        msg.header.handle = TcHandle { major: 1, minor: 0 };
        let mut handle = self.handle.clone();
        let request = if kbps == 0 {
            let mut req = NetlinkMessage::from(RouteNetlinkMessage::DelQueueDiscipline(msg));
            req.header.flags = NLM_F_REQUEST | NLM_F_ACK;
            req
        } else {
            // Bytes per second; u32 holds up to 34 Gbit/s, plenty for a limit.
            let rate = (u64::from(kbps) * 125).min(u64::from(u32::MAX)) as u32;
            // OVS's default burst is 80% of the rate; a bucket smaller than
            // a frame would drop every full-size frame.
            let burst = (u64::from(burst_kb.unwrap_or(kbps / 10 * 8)) * 125).clamp(3028, u64::from(u32::MAX)) as u32;
            // Queue up to 50 ms at the rate on top of the bucket, as `tc ...
            // latency 50ms` would.
            let limit = (u64::from(rate) / 20 + u64::from(burst)).min(u64::from(u32::MAX)) as u32;
            let mut qopt = Vec::with_capacity(36);
            // struct tc_ratespec rate: cell_log, linklayer, overhead, cell_align, mpu, rate
            qopt.extend_from_slice(&[0, TC_LINKLAYER_ETHERNET]);
            qopt.extend_from_slice(&[0u8; 6]);
            qopt.extend_from_slice(&rate.to_ne_bytes());
            // struct tc_ratespec peakrate: none
            qopt.extend_from_slice(&[0, TC_LINKLAYER_ETHERNET]);
            qopt.extend_from_slice(&[0u8; 10]);
            // limit, buffer (recomputed from TCA_TBF_BURST), mtu
            qopt.extend_from_slice(&limit.to_ne_bytes());
            qopt.extend_from_slice(&[0u8; 8]);
            msg.attributes.push(TcAttribute::Kind("tbf".into()));
            msg.attributes.push(TcAttribute::Options(vec![
                TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, qopt)),
                TcOption::Other(DefaultNla::new(TCA_TBF_BURST, burst.to_ne_bytes().to_vec())),
            ]));
            let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewQueueDiscipline(msg));
            req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
            req
        };
        let mut replies = handle.request(request)?;
        while let Some(reply) = futures::StreamExt::next(&mut replies).await {
            if let NetlinkPayload::Error(e) = reply.payload {
                let errno = e.raw_code().abs();
                // Removing a limit that is not there is success.
                if errno == 0 || kbps == 0 && (errno == libc::ENOENT || errno == libc::EINVAL) {
                    continue;
                }
                return Err(NetlinkError::Kernel { errno });
            }
        }
        Ok(())
    }
}

/// ENODEV means the link is not there (any more): answer `gone` instead.
fn or_if_gone<T>(r: std::result::Result<T, rtnetlink::Error>, gone: T) -> Result<T> {
    match r.map_err(NetlinkError::from) {
        Err(e) if e.is(libc::ENODEV) => Ok(gone),
        other => other,
    }
}

fn link_info(msg: &LinkMessage) -> LinkInfo {
    let mut info = LinkInfo {
        index: msg.header.index,
        name: String::new(),
        mac: None,
        mtu: None,
        up: msg.header.flags.contains(LinkFlags::Up),
        alias: None,
        peer_index: None,
        is_veth: false,
        group: 0,
    };
    for a in &msg.attributes {
        match a {
            LinkAttribute::IfName(n) => info.name = n.clone(),
            LinkAttribute::Mtu(m) => info.mtu = Some(*m),
            LinkAttribute::IfAlias(a) => info.alias = Some(a.clone()),
            LinkAttribute::Link(i) => info.peer_index = Some(*i),
            LinkAttribute::Group(g) => info.group = *g,
            LinkAttribute::LinkInfo(infos) => {
                info.is_veth = infos.iter().any(|i| {
                    matches!(
                        i,
                        rtnetlink::packet_route::link::LinkInfo::Kind(rtnetlink::packet_route::link::InfoKind::Veth)
                    )
                })
            }
            LinkAttribute::Address(a) if a.len() == 6 => {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(a);
                info.mac = Some(mac);
            }
            _ => {}
        }
    }
    info
}
