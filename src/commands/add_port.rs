//! `add-port BRIDGE INTERFACE CONTAINER [options]`.
//!
//! Order of work: validate everything; ask Docker for the container while
//! OVSDB is asked about the bridge (and the addresses' users, refused
//! here before anything is changed); take the port's lock; then, at once,
//! look up this interface's rows, make the sockets inside the container and
//! create the veth (peer directly in the container under its final name).
//! If the rows show a live port, the creation has failed on the peer's name
//! and the run is refused; if they show stale state to clean up (a restart,
//! a crash), the new veth is deleted again, the old state reclaimed and the
//! veth made anew, so a kill while reclaiming leaves nothing new. Then the
//! veth is configured and one guarded OVSDB transaction is committed last.
//! Every step is journalled first; a failure or a signal undoes them.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::undo::{guarded, Journal, Signals, Step};
use super::{reclaim, Ctx};
use crate::cli::AddPortArgs;
use crate::config::{host_port_alias, host_port_name, Mac};
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netlink::{Netlink, NetlinkError};
use crate::netns::{write_sysctl, Netns};
use crate::ovsdb::vswitch::{self, keys, Absent, AttachedPort, BridgePlan, IfaceState, NewPort, Vswitch};
use crate::ovsdb::{data, Cond, Op, OvsdbError};
use crate::record::{self, Record};

/// Bridge-state preconditions can fail when another run creates the bridge
/// at the same moment; such a transaction is retried with fresh state.
const BRIDGE_RETRIES: usize = 5;

/// Returns the name of the port (the host end of the veth) it added.
pub async fn exec(ctx: &Ctx, a: AddPortArgs) -> Result<String> {
    check_addresses(&a)?;
    let journal = Journal::default();
    let mut signals = Signals::install();
    guarded(ctx, &journal, &mut signals, attach(ctx, &a, &journal, None)).await
}

/// As [`exec`], within a batch: the batch's signals, and a journal the
/// batch keeps so that it can still undo the line after its final check.
pub async fn exec_in_batch(ctx: &Ctx, a: AddPortArgs, journal: &Journal, signals: &mut Signals) -> Result<String> {
    check_addresses(&a)?;
    guarded(ctx, journal, signals, attach(ctx, &a, journal, None)).await
}

/// What a port re-created for a restarted container keeps of its stale
/// row (see `watch`): the row is replaced in the transaction that adds the
/// new one, so the record is never lost, even if the watcher is killed.
pub struct Carry {
    /// `container_id` as first recorded (the reference the user typed).
    pub reference: String,
    pub old: AttachedPort,
}

/// Re-create the port `carry.old` describes, for the container `a` names
/// by its full ID.
pub async fn reattach(ctx: &Ctx, a: AddPortArgs, carry: &Carry, signals: &mut Signals) -> Result<String> {
    let journal = Journal::default();
    guarded(ctx, &journal, signals, attach(ctx, &a, &journal, Some(carry))).await
}

async fn attach(ctx: &Ctx, a: &AddPortArgs, journal: &Journal, carry: Option<&Carry>) -> Result<String> {
    let iface = a.interface.as_str();
    let lookup = a.reference();
    // The reference recorded: as typed, or as first recorded when re-created.
    let reference = carry.map_or(lookup.as_str(), |c| c.reference.as_str());
    let docker = ctx.docker()?;
    let ips: Vec<_> = a.ipaddress.iter().map(|x| x.ip).collect();
    // Docker is asked for the container while OVSDB is asked about the
    // bridge: its datapath, who uses the addresses asked for (checked again
    // by the commit, so a late change cannot slip through), its tunnels
    // (for the MTU warning at the end). What concerns this interface's rows
    // is read once its lock is held.
    let (container, bridge) = tokio::join!(crate::target::get(&docker, &lookup), async {
        let ovs = ctx.vswitch().await?;
        let (datapath, users, tunnels) = tokio::join!(
            ovs.bridge_datapath_type(&a.bridge),
            ovs.address_users(&a.bridge, &ips),
            super::tunnel::tunnels(&ovs, Some(&a.bridge))
        );
        Ok::<_, Error>((ovs, datapath, users, tunnels))
    });
    let container = container?;
    let (mut ovs, datapath, users, tunnels) = bridge?;
    ctx.step(format_args!("container \"{reference}\" is {} ({})", container.name, container.short_id()));
    if let Some(why) = container.refusal(reference) {
        return Err(Error::refused(why));
    }
    let users = users.step(|| format!("look up the addresses used on bridge {}", a.bridge))?;
    let datapath = datapath.step(|| format!("look up bridge {}", a.bridge))?;
    ctx.step(format_args!(
        "bridge {} is {}",
        a.bridge,
        datapath.as_deref().map_or("missing", |d| if d.is_empty() { "system" } else { d })
    ));
    // Rows for this container and interface, and rows recorded under one of
    // its names for an older container of the same name (recreated with
    // `docker rm` and `docker run`): the commit's preconditions refuse both,
    // so stale ones are reclaimed below and live ones refused.
    let refs = [reference, container.name.as_str(), container.id.as_str(), container.short_id()];
    let replaced = carry.map(|c| c.old.iface_uuid.as_str());
    let mine = |p: &AttachedPort| reclaim::belongs_to(p, &container) || refs.contains(&p.container_ref());
    if !a.force {
        // The rows reclaimed below (or replaced) do not count.
        let reclaimed = |p: &AttachedPort| mine(p) && p.container_iface() == iface;
        if let Some((ip, p)) = users.iter().find(|(_, p)| !(reclaimed(p) || Some(p.iface_uuid.as_str()) == replaced)) {
            return Err(address_in_use(*ip, &a.bridge, Some(p)));
        }
    }
    let ns_path = container
        .netns_path()
        .ok_or_else(|| Error::refused(format!("container \"{reference}\" has no network namespace")))?;
    let netns =
        Netns::open(&ns_path).step(|| format!("open network namespace {ns_path} of container \"{reference}\""))?;
    let host_ns = Netns::current().step(|| "open the host network namespace".into())?;
    if netns.same_as(&host_ns) {
        return Err(Error::refused(format!("container \"{reference}\" uses the host's network namespace")));
    }

    // From here on nobody else works on this container's interface. The
    // journal keeps the lock until any undo is over.
    let lock = PortLock::acquire(&container.id, iface, ctx.timeout)
        .await
        .step(|| format!("lock {}/{iface}", container.name))?
        .ok_or_else(|| {
            Error::refused(format!(
                "another ovs-docker is still working on CONTAINER={reference} and INTERFACE={iface}"
            ))
        })?;
    journal.hold(lock);
    ctx.step(format_args!("locked {}/{iface}", container.name));

    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let port_name = host_port_name(&uuid::Uuid::new_v4());
    // A re-created port keeps its MAC.
    let mac = a.macaddress.or_else(|| carry.and_then(|c| Record::from_external_ids(&c.old.external_ids).mac));
    let alias = host_port_alias(&container.id, iface);
    // Three things at once: ovsdb-server looks up this interface's rows,
    // the kernel creates the veth (most likely needed: if a live port holds
    // the interface, its peer's name makes the creation fail and nothing is
    // made), and a short-lived thread makes the sockets inside the
    // container.
    ctx.step(format_args!("creating veth {port_name} with peer {iface} inside {}", container.name));
    journal.record(Step::Veth(port_name.clone()));
    let (rows, created, inside) = tokio::join!(
        ovs.find_ports(vec![Cond::includes("external_ids", crate::ovsdb::data::map([(keys::CONTAINER_IFACE, iface)]))]),
        host.create_veth(&port_name, &alias, iface, &netns, a.mtu, mac.map(|m| m.0)),
        async { Netlink::inside_with(&netns, crate::ethtool::socket) }
    );
    let rows = rows.step(|| "look up container ports in OVSDB".into())?;
    let (inside, ioctl) = inside.step(|| format!("open sockets in container \"{reference}\""))?;
    if let Some(old) = replaced {
        // Removed meanwhile (del-port between the watcher's look and our
        // lock): there is nothing to re-create.
        if !rows.iter().any(|p| p.iface_uuid == old) {
            return Err(Error::refused(format!(
                "port for CONTAINER={reference} INTERFACE={iface} was removed meanwhile"
            )));
        }
    }

    let mut created = Some(created);
    for p in rows.iter().filter(|p| mine(p)) {
        // A row of this container is live only if its veth ends in the
        // container's namespace of now: after a restart, a lingering old
        // namespace (held by a TCP socket) keeps the old veth for a while.
        let live = if reclaim::belongs_to(p, &container) {
            reclaim::is_live_in(p, &host, &inside).await?
        } else {
            reclaim::is_live(p, &host).await?
        };
        if !live && matches!(created, Some(Ok(_))) {
            // Old state is cleaned up first, the new veth made after, as
            // if it had not been made early: a run killed while cleaning
            // up leaves nothing new behind.
            host.delete(&port_name).await.step(|| format!("delete veth {port_name}"))?;
            created = None;
        }
        if Some(p.iface_uuid.as_str()) == replaced {
            if host.link(&p.name).await.step(|| format!("look up veth {}", p.name))?.is_some() {
                ctx.step(format_args!("deleting veth {} of the container's previous namespace", p.name));
                host.delete(&p.name).await.step(|| format!("delete veth {}", p.name))?;
            }
            continue;
        }
        if live {
            let whose = if reclaim::belongs_to(p, &container) {
                String::new()
            } else {
                format!(", made for another container {}", p.full_id().unwrap_or("?"))
            };
            return Err(Error::refused(format!(
                "port already attached for CONTAINER={reference} and INTERFACE={iface} ({} on bridge {}{whose})",
                p.name,
                p.bridge.as_deref().unwrap_or("?")
            )));
        }
        ctx.step(format_args!("reclaiming stale port {} (its veth is gone)", p.name));
        reclaim::remove_port(ctx, &mut ovs, &host, p).await?;
    }

    let netdev =
        datapath.as_deref() == Some("netdev") || datapath.is_none() && a.datapath_type.as_deref() == Some("netdev");
    let plan = Plan {
        ctx,
        a,
        reference,
        carry,
        container: &container,
        netns: &netns,
        host: &host,
        inside: &inside,
        ioctl: &ioctl,
        port_name: &port_name,
        mac,
        alias: &alias,
        netdev,
    };
    let host_index = plan.created_veth(created).await?;
    crate::fault::point("veth-created").await;
    let mac = plan.configure_links(host_index).await?;
    crate::fault::point("links-configured").await;
    // Multi-host hooks (see ovn.rs and tunnel.rs).
    let owner = super::ovn::owner_mark(&container.id, iface);
    let ovn_ids = super::ovn::bind(ctx, a, mac, journal, &port_name, &owner).await?;
    plan.commit(&mut ovs, journal, datapath.is_some(), mac, ovn_ids).await?;
    super::ovn::wait_installed(ctx, &a.ovn, &ovs, &port_name).await?;
    super::tunnel::warn_mtu(ctx, tunnels, &a.bridge, iface, a.mtu);
    Ok(port_name)
}

fn address_in_use(ip: IpAddr, bridge: &str, user: Option<&AttachedPort>) -> Error {
    let by = user.map_or(String::new(), |p| {
        format!(" (port {}, CONTAINER={} INTERFACE={})", p.name, p.container_ref(), p.container_iface())
    });
    Error::refused(format!("address {ip} is already used on bridge {bridge}{by}; --force adds it anyway"))
}

/// Address checks that need several options at once.
fn check_addresses(a: &AddPortArgs) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for addr in &a.ipaddress {
        if !seen.insert(addr.ip) {
            return Err(Error::invalid(format!("address {} is given twice", addr.ip)));
        }
        if let (true, Some(mtu)) = (addr.ip.is_ipv6(), a.mtu) {
            if mtu < 1280 {
                return Err(Error::invalid(format!("IPv6 address {addr} needs --mtu of at least 1280, not {mtu}")));
            }
        }
    }
    let on_a_subnet = |gw: IpAddr| {
        a.ipaddress.iter().any(|addr| IpNetwork::new(addr.ip, addr.prefix).is_ok_and(|net| net.contains(gw)))
    };
    for (i, gw) in a.gateway.iter().enumerate() {
        if a.gateway[..i].iter().any(|g| g.is_ipv4() == gw.is_ipv4()) {
            return Err(Error::invalid(format!("only one {} --gateway may be given", family(*gw))));
        }
        if !a.ipaddress.iter().any(|addr| addr.ip.is_ipv4() == gw.is_ipv4()) {
            return Err(Error::invalid(format!("--gateway={gw} needs an {} --ipaddress on its subnet", family(*gw))));
        }
        if a.ipaddress.iter().any(|addr| addr.ip == *gw) {
            return Err(Error::invalid(format!("gateway {gw} is the interface's own address")));
        }
        if !on_a_subnet(*gw) && !is_link_local(*gw) {
            return Err(Error::invalid(format!("gateway {gw} is not on the subnet of any --ipaddress")));
        }
    }
    for r in &a.route {
        if r.dest.prefix() == 0 && a.gateway.iter().any(|g| g.is_ipv4() == r.dest.is_ipv4()) {
            return Err(Error::invalid(format!("route {r} repeats the default route of --gateway")));
        }
        if let Some(gw) = r.via {
            if !on_a_subnet(gw) && !is_link_local(gw) {
                return Err(Error::invalid(format!("route {r}: {gw} is not on the subnet of any --ipaddress")));
            }
        }
    }
    Ok(())
}

/// IPv6 routers are often reached by their link-local address.
fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

struct Plan<'a> {
    ctx: &'a Ctx,
    a: &'a AddPortArgs,
    /// `container_id` to record.
    reference: &'a str,
    carry: Option<&'a Carry>,
    container: &'a Container,
    netns: &'a Netns,
    host: &'a Netlink,
    inside: &'a Netlink,
    /// A socket made inside the container's namespace, for ethtool.
    ioctl: &'a std::os::fd::OwnedFd,
    port_name: &'a str,
    /// The MAC asked for (or kept by a re-created port).
    mac: Option<Mac>,
    /// The mark of the host end (see [`host_port_alias`]).
    alias: &'a str,
    netdev: bool,
}

impl Plan<'_> {
    /// The veth, given the first attempt to create it (None: not made yet,
    /// or deleted again to clean up first). If the interface name
    /// was taken inside the container by the peer of a veth that has no
    /// OVSDB row (left by a run killed half-way: we hold the lock, so nobody
    /// is working on it), remove that and try once more.
    async fn created_veth(&self, first: Option<std::result::Result<u32, NetlinkError>>) -> Result<u32> {
        let (ctx, host, inside, netns, c, a, port_name) =
            (self.ctx, self.host, self.inside, self.netns, self.container, self.a, self.port_name);
        let reference = self.reference;
        let iface = a.interface.as_str();
        let taken = || Error::refused(format!("interface {iface} already exists in container \"{reference}\""));
        let failed = |e| Error::Netlink {
            step: format!("create veth {port_name} for {iface} in container \"{reference}\""),
            source: e,
        };
        let create = || async {
            ctx.step(format_args!("creating veth {port_name} with peer {iface} inside {}", c.name));
            host.create_veth(port_name, self.alias, iface, netns, a.mtu, self.mac.map(|m| m.0)).await
        };
        let first = match first {
            Some(r) => r,
            None => create().await,
        };
        match first {
            Ok(index) => Ok(index),
            Err(e) if e.is(libc::EEXIST) => {
                if !reclaim::remove_orphan_peer(ctx, host, inside, iface).await? {
                    return Err(taken());
                }
                match create().await {
                    Ok(index) => Ok(index),
                    Err(e) if e.is(libc::EEXIST) => Err(taken()),
                    Err(e) => Err(failed(e)),
                }
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// Bring both ends up and set the container side's addresses, routes
    /// and rate limit. Returns the interface's MAC, to be recorded.
    async fn configure_links(&self, host_index: u32) -> Result<Option<Mac>> {
        let (a, port, iface) = (self.a, self.port_name, self.a.interface.as_str());
        let cname = self.reference;
        if self.netdev {
            crate::netns::quiet_netdev_host_end(port)?;
        }
        self.host.set_up(host_index).await.step(|| format!("set veth {port} up"))?;

        let link = self
            .inside
            .link(iface)
            .await
            .step(|| format!("look up {iface} in container \"{cname}\""))?
            .ok_or_else(|| Error::refused(format!("{iface} vanished from container \"{cname}\"")))?;
        if self.netdev {
            crate::ethtool::disable_tx_checksum(self.ioctl, iface).step(|| {
                format!(
                    "turn TX checksum offload off on {iface} in container \"{cname}\" (needed by the netdev datapath)"
                )
            })?;
            // OVS's ingress policing acts in the kernel after the userspace
            // datapath has already read the frame: police inside instead.
            if let Some(rate) = a.ingress_rate.filter(|r| *r > 0) {
                self.ctx.step(format_args!("limiting {iface} to {rate} kbit/s"));
                self.inside
                    .set_rate_limit(link.index, rate, a.ingress_burst)
                    .await
                    .step(|| format!("set the rate limit of {iface} in container \"{cname}\""))?;
            }
        }
        // The peer cannot be created up (ENOTCONN); bring it up from inside.
        self.inside.set_up(link.index).await.step(|| format!("set {iface} up in container \"{cname}\""))?;
        if a.ipaddress.iter().any(|x| x.ip.is_ipv6()) {
            // Docker creates interfaces with IPv6 disabled; /proc/sys/net
            // follows the namespace of the thread that writes it.
            let path = format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6");
            self.netns
                .run(|| write_sysctl(&path, "0"))
                .step(|| format!("enable IPv6 on {iface} in container \"{cname}\""))?;
        }
        for addr in &a.ipaddress {
            self.ctx.step(format_args!("adding address {addr} to {iface}"));
            self.inside
                .add_address(link.index, addr.ip, addr.prefix)
                .await
                .step(|| format!("add address {addr} to {iface} in container \"{cname}\""))?;
        }
        for gw in &a.gateway {
            self.ctx.step(format_args!("adding default route via {gw}"));
            self.inside.add_default_route(link.index, *gw).await.map_err(|e| {
                if e.is(libc::EEXIST) {
                    Error::refused(format!("container \"{cname}\" already has a default {} route", family(*gw)))
                } else {
                    Error::Netlink { step: format!("add default route via {gw} in container \"{cname}\""), source: e }
                }
            })?;
        }
        for r in &a.route {
            self.ctx.step(format_args!("adding route {r}"));
            self.inside.add_route(link.index, r.dest, r.via).await.map_err(|e| {
                if e.is(libc::EEXIST) {
                    Error::refused(format!("container \"{cname}\" already has a route to {}", r.dest))
                } else {
                    Error::Netlink { step: format!("add route {r} in container \"{cname}\""), source: e }
                }
            })?;
        }
        Ok(link.mac.map(Mac))
    }

    /// Commit the port to OVSDB in one guarded transaction and wait for
    /// ovs-vswitchd to take it.
    async fn commit(
        &self,
        ovs: &mut Vswitch,
        journal: &Journal,
        mut bridge_exists: bool,
        mac: Option<Mac>,
        ovn_ids: Vec<(&'static str, String)>,
    ) -> Result<()> {
        let (a, c, reference) = (self.a, self.container, self.reference);
        let iface = a.interface.as_str();
        let record = Record {
            addresses: a.ipaddress.clone(),
            gateways: a.gateway.clone(),
            routes: a.route.clone(),
            mac,
            mtu: a.mtu,
            persist: !a.no_persist,
        };
        let mut new = NewPort {
            bridge: a.bridge.clone(),
            name: self.port_name.to_string(),
            external_ids: vec![
                (keys::CONTAINER_ID, reference.to_string()),
                (keys::CONTAINER_IFACE, iface.to_string()),
                (keys::FULL_ID, c.id.clone()),
                (keys::NAME, c.name.clone()),
                (keys::CREATED_BY, vswitch::CREATED_BY_US.to_string()),
            ]
            .into_iter()
            .chain(ovn_ids)
            .collect(),
            extra_ids: record.to_external_ids(&a.bridge),
            tag: a.vlan,
            port_columns: Default::default(),
            iface_columns: a
                .ingress_rate
                .map(|rate| vswitch::policing_columns(rate, a.ingress_burst))
                .unwrap_or_default(),
            replaces: None,
        };
        if let Some(carry) = self.carry {
            // Everything else the old row carried goes along (keys of other
            // tools included), and its VLAN and policing settings.
            let old = &carry.old;
            for (k, v) in old.external_ids.iter().filter(|(k, _)| !super::ovn::is_state_of_old_port(k)) {
                if !new.external_ids.iter().any(|(nk, _)| nk == k) && !new.extra_ids.iter().any(|(nk, _)| nk == k) {
                    new.extra_ids.push((k.clone(), v.clone()));
                }
            }
            // VLAN settings as they were, to the letter (a hand-set
            // vlan_mode included).
            if old.tag.is_some() || !old.trunks.is_empty() || old.vlan_mode.is_some() {
                new.tag = None;
                let empty = || data::set(vec![]);
                new.port_columns.insert("tag".into(), old.tag.map_or_else(empty, |t| serde_json::json!(t)));
                new.port_columns
                    .insert("trunks".into(), data::set(old.trunks.iter().map(|t| serde_json::json!(t)).collect()));
                new.port_columns
                    .insert("vlan_mode".into(), old.vlan_mode.as_ref().map_or_else(empty, |m| serde_json::json!(m)));
            }
            if old.ingress_rate > 0 {
                new.iface_columns = vswitch::policing_columns(old.ingress_rate as u32, Some(old.ingress_burst as u32));
            }
            new.replaces = old.port_uuid.clone();
        }
        // Whatever name the container goes by, no port may exist for it and
        // this interface: that is what keeps a concurrent upstream run (which
        // takes no lock) from attaching the same interface. A replaced row
        // is the one exception.
        let refs = [reference, c.name.as_str(), c.id.as_str(), c.short_id()];
        let not_replaced = self.carry.map(|k| Cond::ne("_uuid", data::uuid(&k.old.iface_uuid)));
        let mut absent: Vec<Absent> = vswitch::alias_conds(Some(iface), Some(&c.id), &refs)
            .into_iter()
            .map(|(_, conds)| Absent {
                table: "Interface",
                conds: conds.into_iter().chain(not_replaced.clone()).collect(),
                what: format!("no port is attached for CONTAINER={reference} and INTERFACE={iface}"),
            })
            .collect();
        if !a.force {
            for addr in &a.ipaddress {
                let key = record::address_key(addr.ip);
                absent.push(Absent {
                    table: "Interface",
                    conds: vec![Cond::includes("external_ids", data::map([(key.as_str(), a.bridge.as_str())]))]
                        .into_iter()
                        .chain(not_replaced.clone())
                        .collect(),
                    what: format!("address {} is unused on bridge {}", addr.ip, a.bridge),
                });
            }
        }
        let step = || format!("add port {} to bridge {}", self.port_name, a.bridge);
        let mut attempt = 0;
        let applied;
        loop {
            let plan = if bridge_exists {
                BridgePlan::Exists
            } else {
                BridgePlan::Create { datapath_type: a.datapath_type.clone() }
            };
            let txn = vswitch::add_port_txn(&new, &plan, &absent);
            self.ctx.step(format_args!(
                "adding port {} to bridge {}{}",
                self.port_name,
                a.bridge,
                if bridge_exists { "" } else { " (creating the bridge)" }
            ));
            if !bridge_exists {
                journal.record(Step::Bridge { bridge: a.bridge.clone(), port: self.port_name.to_string() });
            }
            // A re-created port's row stays even if a later step fails: it
            // holds the record, and its missing veth makes it stale, to be
            // re-created again.
            if self.carry.is_none() {
                journal.record(Step::Row(self.port_name.to_string()));
            }
            let committed = if self.ctx.wait {
                ovs.commit_watching(txn, self.port_name).await.map(|(_, state)| Some(state))
            } else {
                ovs.commit(txn, false).await.map(|_| None)
            };
            match committed {
                Ok(state) => {
                    crate::fault::point("row-committed").await;
                    applied = state;
                    break;
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("bridge ") && attempt < BRIDGE_RETRIES => {
                    attempt += 1;
                    bridge_exists = !bridge_exists;
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("no port is attached") => {
                    return Err(Error::refused(format!(
                        "port already attached for CONTAINER={reference} and INTERFACE={iface}"
                    )));
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("the replaced port") => {
                    return Err(Error::refused(format!(
                        "port for CONTAINER={reference} INTERFACE={iface} was removed meanwhile"
                    )));
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("address ") => {
                    let ip = what.split(' ').nth(1).and_then(|w| w.parse().ok());
                    return Err(match ip {
                        Some(ip) => address_in_use(ip, &a.bridge, None),
                        None => Error::refused(what),
                    });
                }
                Err(e) => return Err(Error::Ovsdb { step: step(), source: e }),
            }
        }
        // Unless --no-wait: did ovs-vswitchd take the interface?
        match applied {
            Some(state) => {
                self.ctx.step(format_args!("ovs-vswitchd applied the change"));
                judge_interface(&state, self.port_name, &a.bridge)
            }
            None => Ok(()),
        }
    }
}

/// After ovs-vswitchd applied a change: did it take the interface `port`?
/// (Looked up; [`Vswitch::commit_watching`] gives the same without a lookup.)
pub async fn check_interface(ovs: &Vswitch, port: &str, bridge: &str) -> Result<()> {
    let res = ovs
        .select(vec![Op::Select {
            table: "Interface",
            conds: vec![Cond::eq("name", port)],
            columns: vec!["error", "ofport"],
        }])
        .await
        .step(|| format!("check port {port}"))?;
    let state = match data::rows(&res[0]).into_iter().next() {
        Some(row) => IfaceState {
            exists: true,
            ofport: data::as_opt_int(&row["ofport"]),
            error: data::as_opt_str(&row["error"]),
        },
        None => IfaceState::default(),
    };
    judge_interface(&state, port, bridge)
}

/// An error in `Interface.error`, or no OpenFlow port number (as when the
/// bridge's datapath could not be created), means ovs-vswitchd did not take
/// the interface.
fn judge_interface(state: &IfaceState, port: &str, bridge: &str) -> Result<()> {
    if !state.exists {
        return Err(Error::refused(format!("port {port} vanished from OVSDB")));
    }
    let failed = |why: String| Error::Ovsdb {
        step: format!("add port {port} to bridge {bridge}"),
        source: OvsdbError::Interface(why),
    };
    if let Some(error) = &state.error {
        return Err(failed(error.clone()));
    }
    match state.ofport {
        Some(n) if n > 0 => Ok(()),
        _ => Err(failed(
            "it got no OpenFlow port (is the bridge's datapath type usable here? see ovs-vswitchd's log)".into(),
        )),
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}
