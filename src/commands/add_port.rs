//! `add-port BRIDGE INTERFACE CONTAINER [options]`.
//!
//! Order of work: validate everything, look everything up, take the port's
//! lock, reclaim what a restart or a crash left for this container and
//! interface, then create the veth (peer directly in the container under its
//! final name) and configure it, and commit one guarded OVSDB transaction
//! last. Every step is journalled first; a failure or a signal undoes them.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::undo::{guarded, Journal, Signals, Step};
use super::{reclaim, Ctx};
use crate::cli::AddPortArgs;
use crate::config::{host_port_alias, host_port_name};
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netlink::Netlink;
use crate::netns::{write_sysctl, Netns};
use crate::ovsdb::vswitch::{self, keys, Absent, BridgePlan, NewPort, Vswitch};
use crate::ovsdb::{data, Cond, Op, OvsdbError};

/// Bridge-state preconditions can fail when another run creates the bridge
/// at the same moment; such a transaction is retried with fresh state.
const BRIDGE_RETRIES: usize = 5;

/// Returns the name of the port (the host end of the veth) it added.
pub async fn exec(ctx: &Ctx, a: AddPortArgs) -> Result<String> {
    check_addresses(&a)?;
    let journal = Journal::default();
    let mut signals = Signals::install();
    guarded(ctx, &journal, &mut signals, attach(ctx, &a, &journal)).await
}

/// As [`exec`], within a batch: the batch's signals, and a journal the
/// batch keeps so that it can still undo the line after its final check.
pub async fn exec_in_batch(ctx: &Ctx, a: AddPortArgs, journal: &Journal, signals: &mut Signals) -> Result<String> {
    check_addresses(&a)?;
    guarded(ctx, journal, signals, attach(ctx, &a, journal)).await
}

async fn attach(ctx: &Ctx, a: &AddPortArgs, journal: &Journal) -> Result<String> {
    let iface = a.interface.as_str();
    let docker = ctx.docker()?;
    // Docker and OVSDB are asked at the same time.
    let (container, ovs) = tokio::join!(docker.get(&a.container), ctx.vswitch());
    let (container, mut ovs) = (container?, ovs?);
    ctx.step(format_args!("container \"{}\" is {} ({})", a.container, container.name, container.short_id()));
    if let Some(why) = container.refusal(&a.container) {
        return Err(Error::refused(why));
    }
    let ns_path = container
        .netns_path()
        .ok_or_else(|| Error::refused(format!("container \"{}\" has no network namespace", a.container)))?;
    let netns =
        Netns::open(&ns_path).step(|| format!("open network namespace {ns_path} of container \"{}\"", a.container))?;
    let host_ns = Netns::current().step(|| "open the host network namespace".into())?;
    if netns.same_as(&host_ns) {
        return Err(Error::refused(format!("container \"{}\" uses the host's network namespace", a.container)));
    }

    // From here on nobody else works on this container's interface. The
    // journal keeps the lock until any undo is over.
    let lock = PortLock::acquire(&container.id, iface, ctx.timeout)
        .await
        .step(|| format!("lock {}/{iface}", container.name))?
        .ok_or_else(|| {
            Error::refused(format!(
                "another ovs-docker is still working on CONTAINER={} and INTERFACE={iface}",
                a.container
            ))
        })?;
    journal.hold(lock);
    ctx.step(format_args!("locked {}/{iface}", container.name));

    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let (rows, datapath) = tokio::join!(
        ovs.find_ports(vec![Cond::includes("external_ids", crate::ovsdb::data::map([(keys::CONTAINER_IFACE, iface)]))]),
        ovs.bridge_datapath_type(&a.bridge)
    );
    let rows = rows.step(|| "look up container ports in OVSDB".into())?;
    let datapath = datapath.step(|| format!("look up bridge {}", a.bridge))?;
    ctx.step(format_args!(
        "bridge {} is {}",
        a.bridge,
        datapath.as_deref().map_or("missing", |d| if d.is_empty() { "system" } else { d })
    ));
    // Rows for this container and interface, and rows recorded under one of
    // its names for an older container of the same name (recreated with
    // `docker rm` and `docker run`): the commit's preconditions refuse both,
    // so stale ones are reclaimed here and live ones refused.
    let refs = [a.container.as_str(), container.name.as_str(), container.id.as_str(), container.short_id()];
    for p in rows.iter().filter(|p| reclaim::belongs_to(p, &container) || refs.contains(&p.container_ref())) {
        if reclaim::is_live(p, &host).await? {
            let whose = if reclaim::belongs_to(p, &container) {
                String::new()
            } else {
                format!(", made for another container {}", p.full_id().unwrap_or("?"))
            };
            return Err(Error::refused(format!(
                "port already attached for CONTAINER={} and INTERFACE={iface} ({} on bridge {}{whose})",
                a.container,
                p.name,
                p.bridge.as_deref().unwrap_or("?")
            )));
        }
        ctx.step(format_args!("reclaiming stale port {} (its veth is gone)", p.name));
        reclaim::remove_port(ctx, &mut ovs, &host, p).await?;
    }

    // One trip into the namespace makes both the netlink socket and the
    // socket for the ethtool ioctl there.
    let (inside, ioctl) = Netlink::inside_with(&netns, crate::ethtool::socket)
        .step(|| format!("open sockets in container \"{}\"", a.container))?;
    let port_name = host_port_name(&uuid::Uuid::new_v4());
    let netdev =
        datapath.as_deref() == Some("netdev") || datapath.is_none() && a.datapath_type.as_deref() == Some("netdev");
    let plan = Plan {
        ctx,
        a,
        container: &container,
        netns: &netns,
        host: &host,
        inside: &inside,
        ioctl: &ioctl,
        port_name: &port_name,
        netdev,
    };
    let host_index = plan.create_veth(journal).await?;
    crate::fault::point("veth-created").await;
    plan.configure_links(host_index).await?;
    crate::fault::point("links-configured").await;
    plan.commit(&mut ovs, journal, datapath.is_some()).await?;
    Ok(port_name)
}

/// Address checks that need several options at once.
fn check_addresses(a: &AddPortArgs) -> Result<()> {
    if let (Some(addr), Some(mtu)) = (a.ipaddress, a.mtu) {
        if addr.ip.is_ipv6() && mtu < 1280 {
            return Err(Error::invalid(format!("IPv6 address {addr} needs --mtu of at least 1280, not {mtu}")));
        }
    }
    let Some(gw) = a.gateway else { return Ok(()) };
    let Some(addr) = a.ipaddress else {
        return Err(Error::invalid(format!("--gateway={gw} needs --ipaddress on the same subnet")));
    };
    if gw.is_ipv4() != addr.ip.is_ipv4() {
        return Err(Error::invalid(format!("gateway {gw} is not of the same family as address {addr}")));
    }
    let net = IpNetwork::new(addr.ip, addr.prefix).map_err(|e| Error::invalid(format!("address {addr}: {e}")))?;
    // IPv6 routers are often reached by their link-local address.
    let link_local = matches!(gw, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80);
    if !net.contains(gw) && !link_local {
        return Err(Error::invalid(format!("gateway {gw} is not on the subnet of address {addr}")));
    }
    if gw == addr.ip {
        return Err(Error::invalid(format!("gateway {gw} is the interface's own address")));
    }
    Ok(())
}

struct Plan<'a> {
    ctx: &'a Ctx,
    a: &'a AddPortArgs,
    container: &'a Container,
    netns: &'a Netns,
    host: &'a Netlink,
    inside: &'a Netlink,
    /// A socket made inside the container's namespace, for ethtool.
    ioctl: &'a std::os::fd::OwnedFd,
    port_name: &'a str,
    netdev: bool,
}

impl Plan<'_> {
    /// Create the veth. If the interface name is taken inside the container by
    /// the peer of a veth that has no OVSDB row (left by a run
    /// killed half-way: we hold the lock, so nobody is working on it), remove it
    /// and try again.
    async fn create_veth(&self, journal: &Journal) -> Result<u32> {
        let (ctx, host, inside, netns, c, a, port_name) =
            (self.ctx, self.host, self.inside, self.netns, self.container, self.a, self.port_name);
        let iface = a.interface.as_str();
        let alias = host_port_alias(&c.id, iface);
        for attempt in 0..2 {
            ctx.step(format_args!("creating veth {port_name} with peer {iface} inside {}", c.name));
            journal.record(Step::Veth(port_name.to_string()));
            match host.create_veth(port_name, &alias, iface, netns, a.mtu, a.macaddress.map(|m| m.0)).await {
                Ok(index) => return Ok(index),
                Err(e) if e.is(libc::EEXIST) && attempt == 0 => {
                    if !reclaim::remove_orphan_peer(ctx, host, inside, iface).await? {
                        return Err(Error::refused(format!(
                            "interface {iface} already exists in container \"{}\"",
                            a.container
                        )));
                    }
                }
                Err(e) if e.is(libc::EEXIST) => {
                    return Err(Error::refused(format!(
                        "interface {iface} already exists in container \"{}\"",
                        a.container
                    )))
                }
                Err(e) => {
                    return Err(Error::Netlink {
                        step: format!("create veth {port_name} for {iface} in container \"{}\"", a.container),
                        source: e,
                    })
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Bring both ends up and set the container side's address and route.
    async fn configure_links(&self, host_index: u32) -> Result<()> {
        let (a, port, iface) = (self.a, self.port_name, self.a.interface.as_str());
        let cname = &self.a.container;
        if self.netdev {
            // The userspace datapath reads the veth through AF_PACKET, but the
            // host kernel still sees its frames: keep it from answering ARP
            // for host addresses and from sending IPv6 noise onto the bridge.
            for (path, value) in [
                (format!("/proc/sys/net/ipv4/conf/{port}/arp_ignore"), "8"),
                (format!("/proc/sys/net/ipv6/conf/{port}/disable_ipv6"), "1"),
            ] {
                match write_sysctl(&path, value) {
                    // A link whose MTU is below 1280 has no IPv6 at all.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.contains("ipv6") => {}
                    r => r.step(|| format!("set {path}"))?,
                }
            }
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
        }
        // The peer cannot be created up (ENOTCONN); bring it up from inside.
        self.inside.set_up(link.index).await.step(|| format!("set {iface} up in container \"{cname}\""))?;
        if let Some(addr) = a.ipaddress {
            if addr.ip.is_ipv6() {
                // Docker creates interfaces with IPv6 disabled; /proc/sys/net
                // follows the namespace of the thread that writes it.
                let path = format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6");
                self.netns
                    .run(|| write_sysctl(&path, "0"))
                    .step(|| format!("enable IPv6 on {iface} in container \"{cname}\""))?;
            }
            self.ctx.step(format_args!("adding address {addr} to {iface}"));
            self.inside
                .add_address(link.index, addr.ip, addr.prefix)
                .await
                .step(|| format!("add address {addr} to {iface} in container \"{cname}\""))?;
        }
        if let Some(gw) = a.gateway {
            self.ctx.step(format_args!("adding default route via {gw}"));
            self.inside.add_default_route(link.index, gw).await.map_err(|e| {
                if e.is(libc::EEXIST) {
                    Error::refused(format!("container \"{cname}\" already has a default {} route", family(gw)))
                } else {
                    Error::Netlink { step: format!("add default route via {gw} in container \"{cname}\""), source: e }
                }
            })?;
        }
        Ok(())
    }

    /// Commit the port to OVSDB in one guarded transaction and wait for
    /// ovs-vswitchd to take it.
    async fn commit(&self, ovs: &mut Vswitch, journal: &Journal, mut bridge_exists: bool) -> Result<()> {
        let (a, c) = (self.a, self.container);
        let iface = a.interface.as_str();
        let new = NewPort {
            bridge: a.bridge.clone(),
            name: self.port_name.to_string(),
            external_ids: vec![
                (keys::CONTAINER_ID, a.container.clone()),
                (keys::CONTAINER_IFACE, iface.to_string()),
                (keys::FULL_ID, c.id.clone()),
                (keys::NAME, c.name.clone()),
                (keys::CREATED_BY, vswitch::CREATED_BY_US.to_string()),
            ],
            tag: None,
        };
        // Whatever name the container goes by, no port may exist for it and
        // this interface: that is what keeps a concurrent upstream run (which
        // takes no lock) from attaching the same interface.
        let refs = [a.container.as_str(), c.name.as_str(), c.id.as_str(), c.short_id()];
        let absent: Vec<Absent> = vswitch::alias_conds(Some(iface), Some(&c.id), &refs)
            .into_iter()
            .map(|(_, conds)| Absent {
                table: "Interface",
                conds,
                what: format!("no port is attached for CONTAINER={} and INTERFACE={iface}", a.container),
            })
            .collect();
        let step = || format!("add port {} to bridge {}", self.port_name, a.bridge);
        let mut attempt = 0;
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
            journal.record(Step::Row(self.port_name.to_string()));
            match ovs.commit(txn, self.ctx.wait).await {
                Ok(_) => {
                    crate::fault::point("row-committed").await;
                    break;
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("bridge ") && attempt < BRIDGE_RETRIES => {
                    attempt += 1;
                    bridge_exists = !bridge_exists;
                }
                Err(OvsdbError::Precondition(what)) if what.starts_with("no port is attached") => {
                    return Err(Error::refused(format!(
                        "port already attached for CONTAINER={} and INTERFACE={iface}",
                        a.container
                    )));
                }
                Err(e) => return Err(Error::Ovsdb { step: step(), source: e }),
            }
        }
        self.ctx.step(format_args!("ovs-vswitchd applied the change"));
        self.check_applied(ovs).await
    }

    /// Once ovs-vswitchd has applied the change (unless --no-wait), check
    /// that it took the interface without error.
    async fn check_applied(&self, ovs: &Vswitch) -> Result<()> {
        if !self.ctx.wait {
            return Ok(());
        }
        check_interface(ovs, self.port_name, &self.a.bridge).await
    }
}

/// After ovs-vswitchd applied a change: did it take the interface `port`?
/// An error in `Interface.error`, or no OpenFlow port number (as when the
/// bridge's datapath could not be created), means it did not.
pub async fn check_interface(ovs: &Vswitch, port: &str, bridge: &str) -> Result<()> {
    let res = ovs
        .select(vec![Op::Select {
            table: "Interface",
            conds: vec![Cond::eq("name", port)],
            columns: vec!["error", "ofport"],
        }])
        .await
        .step(|| format!("check port {port}"))?;
    let Some(row) = data::rows(&res[0]).into_iter().next() else {
        return Err(Error::refused(format!("port {port} vanished from OVSDB")));
    };
    let failed = |why: String| Error::Ovsdb {
        step: format!("add port {port} to bridge {bridge}"),
        source: OvsdbError::Interface(why),
    };
    if let Some(error) = data::as_opt_str(&row["error"]) {
        return Err(failed(error));
    }
    match data::as_opt_int(&row["ofport"]) {
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
