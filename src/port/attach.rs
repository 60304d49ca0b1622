//! Attaching a port: what `add-port` does, what `watch` does again after a
//! restart, and what each add-port line of a batch does.
//!
//! Order of work: the spec is validated; Docker is asked for the container
//! while OVSDB is asked about the bridge (and the addresses' users, refused
//! here before anything is changed); the port's lock is taken; then, at
//! once, this interface's rows are looked up, the sockets inside the
//! container made and the veth created (peer directly in the container
//! under its final name). If the rows show a live port, the creation has
//! failed on the peer's name and the run is refused; if they show stale
//! state to clean up (a restart, a crash), the new veth is deleted again,
//! the old state reclaimed and the veth made anew, so a kill while
//! reclaiming leaves nothing new. Then the veth is configured and one
//! guarded OVSDB transaction is committed last (see [`super::commit`]).
//! Every step is journalled first; a failure or a signal undoes them.

use std::os::fd::OwnedFd;

use super::commit::{address_in_use, Carry};
use super::journal::{guarded, Journal, Step};
use super::naming::{host_port_alias, host_port_name};
use super::reclaim::{self, belongs_to};
use super::remove::{remove_port, Veths};
use super::spec::{family, PortSpec};
use super::{netdev, ovn, target};
use crate::config::Mac;
use crate::context::Ctx;
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::ovsdb::tunnels::Tunnel;
use crate::ovsdb::vswitch::{AttachedPort, Vswitch};
use crate::ovsdb::{data, keys, Cond, OvsdbError};
use crate::sys::lock::PortLock;
use crate::sys::netlink::{Netlink, NetlinkError};
use crate::sys::netns::{write_sysctl, Netns};
use crate::sys::signals::Signals;

/// A port attached.
#[derive(Debug)]
pub struct Attached {
    /// The port's name (the host end of the veth).
    pub port: String,
    /// The bridge's tunnels, looked up on the way (for the MTU warning).
    pub tunnels: std::result::Result<Vec<Tunnel>, OvsdbError>,
}

/// Attach `spec` on its own: undone on failure or on SIGINT, SIGTERM or SIGHUP.
pub async fn add(ctx: &Ctx, spec: &PortSpec) -> Result<Attached> {
    validate(ctx, spec)?;
    let journal = Journal::default();
    let mut signals = Signals::install();
    guarded(ctx, &journal, &mut signals, attach(ctx, spec, &journal, None)).await
}

/// As [`add`], within a batch: the batch's signals, and a journal the
/// batch keeps so that it can still undo the line after its final check.
pub async fn add_in_batch(ctx: &Ctx, spec: &PortSpec, journal: &Journal, signals: &mut Signals) -> Result<Attached> {
    validate(ctx, spec)?;
    guarded(ctx, journal, signals, attach(ctx, spec, journal, None)).await
}

/// Everything that can be checked before anything is changed: the spec,
/// and that the northbound remotes can be reached with our TLS files.
fn validate(ctx: &Ctx, spec: &PortSpec) -> Result<()> {
    spec.validate()?;
    spec.ovn.nb.as_deref().map(|nb| ctx.remote(nb)).transpose().map(drop)
}

/// Re-create the port `carry.old` describes, as `spec` (see
/// [`PortSpec::recreate`]) says.
pub async fn reattach(ctx: &Ctx, spec: &PortSpec, carry: &Carry, signals: &mut Signals) -> Result<Attached> {
    let journal = Journal::default();
    guarded(ctx, &journal, signals, attach(ctx, spec, &journal, Some(carry))).await
}

/// What is known once Docker and OVSDB have answered.
struct Found {
    container: Container,
    ovs: Vswitch,
    /// The bridge's datapath type; None: no such bridge.
    datapath: Option<String>,
    tunnels: std::result::Result<Vec<Tunnel>, OvsdbError>,
}

async fn attach(ctx: &Ctx, spec: &PortSpec, journal: &Journal, carry: Option<&Carry>) -> Result<Attached> {
    // The reference recorded: as typed, or as first recorded when re-created.
    let reference = carry.map_or(spec.target.as_str(), |c| c.reference.as_str());
    let found = look_up(ctx, spec, reference, carry).await?;
    let (container, mut ovs) = (&found.container, found.ovs);
    let netns = open_netns(container, reference)?;
    let iface = spec.interface.as_str();
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
    let mac = spec.mac.or_else(|| carry.and_then(|c| c.recorded_mac()));
    let plan = Plan {
        ctx,
        spec,
        reference,
        carry,
        container,
        netns: &netns,
        host: &host,
        port_name: &port_name,
        mac,
        alias: host_port_alias(&container.id, iface),
        netdev: found.datapath.as_deref() == Some("netdev")
            || found.datapath.is_none() && spec.datapath_type.as_deref() == Some("netdev"),
    };
    let (inside, ioctl, created) = plan.start(&mut ovs, journal).await?;
    let host_index = plan.created_veth(created, &inside).await?;
    crate::fault::point("veth-created").await;
    let mac = plan.configure_links(host_index, &inside, &ioctl).await?;
    crate::fault::point("links-configured").await;
    // The OVN binding, and the commit that makes it all one port.
    let owner = ovn::owner_mark(&container.id, iface);
    let ovn_ids = ovn::bind(ctx, spec, mac, journal, &port_name, &owner).await?;
    let row = super::commit::NewRow { spec, reference, container, port_name: &port_name, carry, mac, ovn_ids };
    super::commit::commit(ctx, &mut ovs, journal, &row, found.datapath.is_some()).await?;
    ovn::wait_installed(ctx, &spec.ovn, &ovs, &port_name).await?;
    Ok(Attached { port: port_name, tunnels: found.tunnels })
}

/// Ask Docker for the container while OVSDB is asked about the bridge: its
/// datapath, who uses the addresses asked for (checked again by the commit,
/// so a late change cannot slip through), its tunnels. What concerns this
/// interface's rows is read once its lock is held.
async fn look_up(ctx: &Ctx, spec: &PortSpec, reference: &str, carry: Option<&Carry>) -> Result<Found> {
    let docker = ctx.docker()?;
    let ips: Vec<_> = spec.addresses.iter().map(|x| x.ip).collect();
    let (container, bridge) = tokio::join!(target::get(&docker, &spec.target), async {
        let ovs = ctx.vswitch().await?;
        let (datapath, users, tunnels) = tokio::join!(
            ovs.bridge_datapath_type(&spec.bridge),
            ovs.address_users(&spec.bridge, &ips),
            ovs.tunnels(Some(&spec.bridge))
        );
        Ok::<_, Error>((ovs, datapath, users, tunnels))
    });
    let container = container?;
    let (ovs, datapath, users, tunnels) = bridge?;
    ctx.step(format_args!("container \"{reference}\" is {} ({})", container.name, container.short_id()));
    if let Some(why) = container.refusal(reference) {
        return Err(Error::refused(why));
    }
    let users = users.step(|| format!("look up the addresses used on bridge {}", spec.bridge))?;
    let datapath = datapath.step(|| format!("look up bridge {}", spec.bridge))?;
    ctx.step(format_args!(
        "bridge {} is {}",
        spec.bridge,
        datapath.as_deref().map_or("missing", |d| if d.is_empty() { "system" } else { d })
    ));
    if !spec.force {
        // The rows reclaimed later (this very interface of this container)
        // and the replaced one do not count.
        let replaced = carry.map(|c| c.old.iface_uuid.as_str());
        let reclaimed =
            |p: &AttachedPort| is_mine(p, &container, reference) && p.container_iface() == spec.interface.as_str();
        if let Some((ip, p)) = users.iter().find(|(_, p)| !(reclaimed(p) || Some(p.iface_uuid.as_str()) == replaced)) {
            return Err(address_in_use(*ip, &spec.bridge, Some(p)));
        }
    }
    Ok(Found { container, ovs, datapath, tunnels })
}

/// Rows for this container, and rows recorded under one of its names for an
/// older container of the same name (recreated with `docker rm` and
/// `docker run`): the commit's preconditions refuse both, so stale ones
/// are reclaimed and live ones refused.
fn is_mine(p: &AttachedPort, c: &Container, reference: &str) -> bool {
    let refs = [reference, c.name.as_str(), c.id.as_str(), c.short_id()];
    belongs_to(p, c) || refs.contains(&p.container_ref())
}

fn open_netns(container: &Container, reference: &str) -> Result<Netns> {
    let ns_path = container
        .netns_path()
        .ok_or_else(|| Error::refused(format!("container \"{reference}\" has no network namespace")))?;
    let netns =
        Netns::open(&ns_path).step(|| format!("open network namespace {ns_path} of container \"{reference}\""))?;
    let host_ns = Netns::current().step(|| "open the host network namespace".into())?;
    if netns.same_as(&host_ns) {
        return Err(Error::refused(format!("container \"{reference}\" uses the host's network namespace")));
    }
    Ok(netns)
}

/// The first attempt to create the veth: None when it was not made (or
/// deleted again to clean up first).
type FirstVeth = Option<std::result::Result<u32, NetlinkError>>;

/// What one attach works with, once the container and the bridge are known.
struct Plan<'a> {
    ctx: &'a Ctx,
    spec: &'a PortSpec,
    /// `container_id` to record.
    reference: &'a str,
    carry: Option<&'a Carry>,
    container: &'a Container,
    netns: &'a Netns,
    host: &'a Netlink,
    port_name: &'a str,
    /// The MAC asked for (or kept by a re-created port).
    mac: Option<Mac>,
    /// The mark of the host end (see [`host_port_alias`]).
    alias: String,
    netdev: bool,
}

impl Plan<'_> {
    async fn create(&self) -> std::result::Result<u32, NetlinkError> {
        let (iface, spec) = (self.spec.interface.as_str(), self.spec);
        self.ctx
            .step(format_args!("creating veth {} with peer {iface} inside {}", self.port_name, self.container.name));
        self.host.create_veth(self.port_name, &self.alias, iface, self.netns, spec.mtu, self.mac.map(|m| m.0)).await
    }

    /// Three things at once: ovsdb-server looks up this interface's rows,
    /// the kernel creates the veth (most likely needed: if a live port
    /// holds the interface, its peer's name makes the creation fail and
    /// nothing is made), and a short-lived thread makes the sockets inside
    /// the container. Then the rows are judged: live ones refuse the run,
    /// stale ones are reclaimed. Returns the sockets inside and the veth.
    async fn start(&self, ovs: &mut Vswitch, journal: &Journal) -> Result<(Netlink, OwnedFd, FirstVeth)> {
        let iface = self.spec.interface.as_str();
        journal.record(Step::Veth(self.port_name.to_string()));
        let (rows, created, inside) = tokio::join!(
            ovs.find_ports(vec![Cond::includes("external_ids", data::map([(keys::iface::CONTAINER_IFACE, iface)]))]),
            self.create(),
            async { Netlink::inside_with(self.netns, crate::sys::ethtool::socket) }
        );
        let rows = rows.step(|| "look up container ports in OVSDB".into())?;
        let (inside, ioctl) = inside.step(|| format!("open sockets in container \"{}\"", self.reference))?;
        if let Some(carry) = self.carry {
            // Removed meanwhile (del-port between the watcher's look and our
            // lock): there is nothing to re-create.
            if !rows.iter().any(|p| p.iface_uuid == carry.old.iface_uuid) {
                return Err(carry.removed_meanwhile(iface));
            }
        }
        let created = self.reclaim(ovs, &rows, &inside, Some(created)).await?;
        Ok((inside, ioctl, created))
    }

    /// Judge the rows found for this interface: refuse a live port of this
    /// container, reclaim stale ones (deleting the early veth first, so that
    /// a kill while reclaiming leaves nothing new).
    async fn reclaim(
        &self,
        ovs: &mut Vswitch,
        rows: &[AttachedPort],
        inside: &Netlink,
        mut created: FirstVeth,
    ) -> Result<FirstVeth> {
        let (c, host) = (self.container, self.host);
        let replaced = self.carry.map(|k| k.old.iface_uuid.as_str());
        for p in rows.iter().filter(|p| is_mine(p, c, self.reference)) {
            // A row of this container is live only if its veth ends in the
            // container's namespace of now: after a restart, a lingering old
            // namespace (held by a TCP socket) keeps the old veth for a while.
            let live = if belongs_to(p, c) {
                reclaim::is_live_in(p, host, inside).await?
            } else {
                reclaim::is_live(p, host).await?
            };
            if !live && matches!(created, Some(Ok(_))) {
                host.delete(self.port_name).await.step(|| format!("delete veth {}", self.port_name))?;
                created = None;
            }
            if Some(p.iface_uuid.as_str()) == replaced {
                if host.link(&p.name).await.step(|| format!("look up veth {}", p.name))?.is_some() {
                    self.ctx.step(format_args!("deleting veth {} of the container's previous namespace", p.name));
                    host.delete(&p.name).await.step(|| format!("delete veth {}", p.name))?;
                }
                continue;
            }
            if live {
                return Err(self.already_attached(p));
            }
            self.ctx.step(format_args!("reclaiming stale port {} (its veth is gone)", p.name));
            remove_port(self.ctx, ovs, host, p, &Veths::Now).await?;
        }
        Ok(created)
    }

    fn already_attached(&self, p: &AttachedPort) -> Error {
        let whose = if belongs_to(p, self.container) {
            String::new()
        } else {
            format!(", made for another container {}", super::find::container_label(p, None))
        };
        Error::refused(format!(
            "port already attached for CONTAINER={} and INTERFACE={} ({} on bridge {}{whose})",
            self.reference,
            self.spec.interface,
            p.name,
            p.bridge.as_deref().unwrap_or("?")
        ))
    }

    /// The veth, given the first attempt to create it. If the interface
    /// name was taken inside the container by the peer of a veth that has
    /// no OVSDB row (left by a run killed half-way: we hold the lock, so
    /// nobody is working on it), remove that and try once more.
    async fn created_veth(&self, first: FirstVeth, inside: &Netlink) -> Result<u32> {
        let (iface, reference) = (self.spec.interface.as_str(), self.reference);
        let taken = || Error::refused(format!("interface {iface} already exists in container \"{reference}\""));
        let failed = |e| Error::Netlink {
            step: format!("create veth {} for {iface} in container \"{reference}\"", self.port_name),
            source: e,
        };
        let first = match first {
            Some(r) => r,
            None => self.create().await,
        };
        match first {
            Ok(index) => Ok(index),
            Err(e) if e.is(libc::EEXIST) => {
                if !reclaim::remove_orphan_peer(self.ctx, self.host, inside, iface).await? {
                    return Err(taken());
                }
                match self.create().await {
                    Ok(index) => Ok(index),
                    Err(e) if e.is(libc::EEXIST) => Err(taken()),
                    Err(e) => Err(failed(e)),
                }
            }
            Err(e) => Err(failed(e)),
        }
    }

    /// Bring both ends up and set the container side's rate limit,
    /// addresses and routes. Returns the interface's MAC, to be recorded.
    async fn configure_links(&self, host_index: u32, inside: &Netlink, ioctl: &OwnedFd) -> Result<Option<Mac>> {
        let (spec, port, iface, cname) = (self.spec, self.port_name, self.spec.interface.as_str(), self.reference);
        if self.netdev {
            netdev::quiet_host_end(port)?;
        }
        self.host.set_up(host_index).await.step(|| format!("set veth {port} up"))?;
        let link = inside
            .link(iface)
            .await
            .step(|| format!("look up {iface} in container \"{cname}\""))?
            .ok_or_else(|| Error::refused(format!("{iface} vanished from container \"{cname}\"")))?;
        if self.netdev {
            netdev::prepare_container_end(self.ctx, inside, ioctl, &link, spec, cname).await?;
        }
        // The peer cannot be created up (ENOTCONN); bring it up from inside.
        inside.set_up(link.index).await.step(|| format!("set {iface} up in container \"{cname}\""))?;
        if spec.addresses.iter().any(|x| x.ip.is_ipv6()) {
            // Docker creates interfaces with IPv6 disabled; /proc/sys/net
            // follows the namespace of the thread that writes it.
            let path = format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6");
            self.netns
                .run(|| write_sysctl(&path, "0"))
                .step(|| format!("enable IPv6 on {iface} in container \"{cname}\""))?;
        }
        self.add_addresses_and_routes(inside, link.index).await?;
        Ok(link.mac.map(Mac))
    }

    async fn add_addresses_and_routes(&self, inside: &Netlink, index: u32) -> Result<()> {
        let (spec, iface, cname) = (self.spec, self.spec.interface.as_str(), self.reference);
        for addr in &spec.addresses {
            self.ctx.step(format_args!("adding address {addr} to {iface}"));
            inside
                .add_address(index, addr.ip, addr.prefix)
                .await
                .step(|| format!("add address {addr} to {iface} in container \"{cname}\""))?;
        }
        for gw in &spec.gateways {
            self.ctx.step(format_args!("adding default route via {gw}"));
            inside.add_default_route(index, *gw).await.map_err(|e| {
                if e.is(libc::EEXIST) {
                    Error::refused(format!("container \"{cname}\" already has a default {} route", family(*gw)))
                } else {
                    Error::Netlink { step: format!("add default route via {gw} in container \"{cname}\""), source: e }
                }
            })?;
        }
        for r in &spec.routes {
            self.ctx.step(format_args!("adding route {r}"));
            inside.add_route(index, r.dest, r.via).await.map_err(|e| {
                if e.is(libc::EEXIST) {
                    Error::refused(format!("container \"{cname}\" already has a route to {}", r.dest))
                } else {
                    Error::Netlink { step: format!("add route {r} in container \"{cname}\""), source: e }
                }
            })?;
        }
        Ok(())
    }
}
