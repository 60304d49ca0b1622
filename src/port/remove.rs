//! Removing ports (`del-port`, `del-ports`, and every other removal: gc,
//! watch, the plugin, add-port reclaiming a stale port).
//!
//! Each port is removed under its lock, its row first and its veth second,
//! the veth marked as ours beforehand (see [`remove_port`]). A veth or a
//! row that is already gone counts as removed, so a repeated or concurrent
//! deletion never fails half-way; other failures are collected and the
//! remaining ports are still removed.

use std::cell::RefCell;

use super::find::find_attached;
use super::naming::{host_port_alias, parse_host_port_alias};
use super::reclaim;
use super::PortAddress;
use crate::context::Ctx;
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::ovsdb::mirrors::{del_mirror_ops, MirrorRow};
use crate::ovsdb::vswitch::{del_port_txn, AttachedPort, Vswitch};
use crate::ovsdb::{Cond, Txn};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;

/// When the veths of removed ports are deleted.
#[derive(Debug, Default)]
pub enum Veths {
    /// Each as its port goes.
    #[default]
    Now,
    /// Collected here, for the caller to delete all at once (a batch).
    Defer(RefCell<Vec<String>>),
}

/// Remove a port: its row, then its veth, the kernel's deletion of the veth
/// (15 to 20 ms) overlapping ovs-vswitchd's removal of the port. The veth
/// is marked as ours first (see [`host_port_alias`]), so a
/// run killed between the two leaves an orphan veth that gc and the next
/// add-port or del-port recognise and remove.
///
/// With [`Veths::Defer`] (a batch) the veth deletions are collected, to be
/// done together at the end (one kernel grace period for all).
pub async fn remove_port(ctx: &Ctx, ovs: &mut Vswitch, host: &Netlink, p: &AttachedPort, veths: &Veths) -> Result<()> {
    // The OVN logical port add-port created, first: if that fails, all stays for a retry.
    super::ovn::release(ctx, p).await?;
    // The mirrors that use the port, looked up while the kernel is asked.
    let (present, mirrors) = tokio::join!(host.link(&p.name), async {
        match &p.port_uuid {
            Some(u) => ovs.mirrors_using(u).await,
            None => Ok(Vec::new()),
        }
    });
    let present = present.step(|| format!("look up veth {}", p.name))?;
    let mirrors = mirrors.step(|| format!("look up the mirrors of port {}", p.name))?;
    if let Some(link) = &present {
        if link.alias.as_deref().and_then(parse_host_port_alias).is_none() {
            let id = p.full_id().unwrap_or(p.container_ref());
            let alias = host_port_alias(id, p.container_iface());
            host.set_alias(link.index, &alias).await.step(|| format!("mark veth {}", p.name))?;
        }
    }
    let mut target = None;
    if let Some(u) = &p.port_uuid {
        ctx.step(format_args!("removing port {} from OVSDB", p.name));
        let txn = without_port_txn(u, &mirrors);
        target = ovs.submit(txn, ctx.wait).await.step(|| format!("remove port {} from OVSDB", p.name))?.1;
        tell_mirrors(p, u, &mirrors);
    }
    crate::fault::point("row-removed").await;
    if present.is_some() {
        if let Veths::Defer(deferred) = veths {
            deferred.borrow_mut().push(p.name.clone());
        } else {
            ctx.step(format_args!("deleting veth {}", p.name));
            host.delete(&p.name).await.step(|| format!("delete veth {}", p.name))?;
            crate::fault::point("veth-deleted").await;
        }
    }
    if let Some(t) = target {
        ctx.step(format_args!("waiting for ovs-vswitchd to remove port {}", p.name));
        ovs.wait_cfg(t).await.step(|| format!("remove port {} from OVSDB", p.name))?;
    }
    Ok(())
}

/// Remove the Port `port_uuid`, and in the same transaction every mirror
/// whose output it is (a mirror without output would copy nothing).
/// Mirrors that only select it lose it by themselves (weak references).
fn without_port_txn(port_uuid: &str, mirrors: &[MirrorRow]) -> Txn {
    let mut t = del_port_txn(port_uuid);
    for m in mirrors.iter().filter(|m| m.output.as_deref() == Some(port_uuid)) {
        del_mirror_ops(&mut t, Cond::eq("name", m.bridge.as_str()), &m.uuid);
    }
    t
}

/// Say what removing the port did to the mirrors that used it.
fn tell_mirrors(p: &AttachedPort, port_uuid: &str, mirrors: &[MirrorRow]) {
    for m in mirrors {
        if m.output.as_deref() == Some(port_uuid) {
            log::warn!("mirror {} on bridge {} removed: its output port {} was removed", m.name, m.bridge, p.name);
        } else {
            log::warn!("mirror {} on bridge {} no longer mirrors port {}", m.name, m.bridge, p.name);
        }
    }
}

/// `del-port`: remove the port of `at.interface` of `at.reference` on
/// `at.bridge`, or the veth a killed run left for it.
pub async fn remove_one(ctx: &Ctx, at: &PortAddress, veths: &Veths) -> Result<()> {
    let a = at;
    let iface = a.interface.as_str();
    let reference = a.reference.clone();
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (container, ports) = find_attached(ctx, &ovs, &docker, &reference, Some(iface)).await?;
    let (here, elsewhere): (Vec<_>, Vec<_>) =
        ports.into_iter().partition(|p| p.bridge.as_deref() == Some(a.bridge.as_str()));
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    if here.is_empty() {
        // A run killed between creating the veth and writing its row leaves
        // a veth and no row: remove it, that is what was asked.
        if let Some(c) = &container {
            if remove_orphan(ctx, &host, c, iface).await? {
                return Ok(());
            }
        }
        if elsewhere.is_empty() {
            super::find::require_bridge(&ovs, &a.bridge).await?;
        }
        return Err(Error::refused(match elsewhere.first() {
            Some(p) => format!(
                "the port for CONTAINER={} and INTERFACE={iface} is on bridge {}, not {}",
                reference,
                p.bridge.as_deref().unwrap_or("(none)"),
                a.bridge
            ),
            None => {
                format!("no port attached for CONTAINER={} and INTERFACE={iface} on bridge {}", reference, a.bridge)
            }
        }));
    }
    remove(ctx, &mut ovs, &host, container.as_ref(), &reference, &here, veths).await
}

/// `del-ports`: remove every port of `reference` on `bridge` (none is not
/// an error), and finish what a killed del-ports left.
pub async fn remove_all(ctx: &Ctx, bridge: &str, reference: &str, veths: &Veths) -> Result<()> {
    let reference = reference.to_string();
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (container, ports) = find_attached(ctx, &ovs, &docker, &reference, None).await?;
    let here: Vec<_> = ports.into_iter().filter(|p| p.bridge.as_deref() == Some(bridge)).collect();
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let result = if here.is_empty() {
        // As upstream: nothing to remove is not an error. But a bridge that
        // does not exist is a mistake, not "nothing", and a container
        // nobody knows is said on standard error.
        super::find::require_bridge(&ovs, bridge).await?;
        if container.is_none() {
            log::warn!("no container \"{reference}\" and no port of it on bridge {bridge}: nothing to remove");
        }
        ctx.step(format_args!("no port of container \"{reference}\" on bridge {bridge}"));
        Ok(())
    } else {
        remove(ctx, &mut ovs, &host, container.as_ref(), &reference, &here, veths).await
    };
    // A del-ports killed between removing rows and deleting veths left
    // marked veths without rows: finish its work.
    let mut ids = vec![reference.as_str()];
    if let Some(c) = &container {
        ids.extend([c.id.as_str(), c.name.as_str()]);
    }
    reclaim::remove_marked_orphans(ctx, &host, &ids).await?;
    result
}

/// Remove the veth a killed add-port left for `iface` of `c`, if any.
async fn remove_orphan(ctx: &Ctx, host: &Netlink, c: &Container, iface: &str) -> Result<bool> {
    let Some(_lock) = PortLock::acquire(&c.id, iface, ctx.timeout).await.step(|| format!("lock {}/{iface}", c.name))?
    else {
        return Ok(false);
    };
    if reclaim::remove_orphan_veths(ctx, host, &c.id, iface).await? > 0 {
        return Ok(true);
    }
    let Some(path) = c.netns_path().filter(|_| c.running) else { return Ok(false) };
    let Ok(ns) = Netns::open(&path) else { return Ok(false) };
    let inside = Netlink::inside(&ns).step(|| format!("open a netlink socket in container \"{}\"", c.name))?;
    reclaim::remove_orphan_peer(ctx, host, &inside, iface).await
}

/// Remove each port under its lock; carry on after a failure.
async fn remove(
    ctx: &Ctx,
    ovs: &mut Vswitch,
    host: &Netlink,
    container: Option<&Container>,
    reference: &str,
    ports: &[AttachedPort],
    veths: &Veths,
) -> Result<()> {
    let mut errors = Vec::new();
    for p in ports {
        // The same key add-port locks: the container's full ID.
        let key = p.full_id().or(container.map(|c| c.id.as_str())).unwrap_or(reference);
        let lock = PortLock::acquire(key, p.container_iface(), ctx.timeout).await;
        let result = match lock {
            Ok(Some(_lock)) => remove_port(ctx, ovs, host, p, veths).await,
            Ok(None) => Err(Error::refused(format!(
                "another ovs-docker is still working on CONTAINER={reference} and INTERFACE={}",
                p.container_iface()
            ))),
            Err(e) => Err(Error::io(format!("lock {reference}/{}", p.container_iface()), e)),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Error::all(errors)
}
