//! `del-port BRIDGE INTERFACE CONTAINER` and `del-ports BRIDGE CONTAINER`.
//!
//! Each port is removed under its lock, veth first and row second (see
//! [`reclaim::remove_port`]). A veth or a row that is already gone counts
//! as removed, so a repeated or concurrent deletion never fails half-way;
//! other failures are collected and the remaining ports are still removed.

use super::{find_attached, reclaim, Ctx};
use crate::cli::{DelPortsArgs, PortRef};
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netlink::Netlink;
use crate::ovsdb::vswitch::AttachedPort;

pub async fn exec_one(ctx: &Ctx, a: PortRef) -> Result<()> {
    let iface = a.interface.as_str();
    let reference = a.target.reference();
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
    remove(ctx, &mut ovs, &host, container.as_ref(), &reference, &here).await
}

pub async fn exec_all(ctx: &Ctx, a: DelPortsArgs) -> Result<()> {
    let reference = a.target.reference();
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (container, ports) = find_attached(ctx, &ovs, &docker, &reference, None).await?;
    let here: Vec<_> = ports.into_iter().filter(|p| p.bridge.as_deref() == Some(a.bridge.as_str())).collect();
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let result = if here.is_empty() {
        // As upstream: nothing to remove is not an error.
        ctx.step(format_args!("no port of container \"{}\" on bridge {}", reference, a.bridge));
        Ok(())
    } else {
        remove(ctx, &mut ovs, &host, container.as_ref(), &reference, &here).await
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
    let Ok(ns) = crate::netns::Netns::open(&path) else { return Ok(false) };
    let inside = Netlink::inside(&ns).step(|| format!("open a netlink socket in container \"{}\"", c.name))?;
    reclaim::remove_orphan_peer(ctx, host, &inside, iface).await
}

/// Remove each port under its lock; carry on after a failure.
async fn remove(
    ctx: &Ctx,
    ovs: &mut crate::ovsdb::vswitch::Vswitch,
    host: &Netlink,
    container: Option<&Container>,
    reference: &str,
    ports: &[AttachedPort],
) -> Result<()> {
    let mut errors = Vec::new();
    for p in ports {
        // The same key add-port locks: the container's full ID.
        let key = p.full_id().or(container.map(|c| c.id.as_str())).unwrap_or(reference);
        let lock = PortLock::acquire(key, p.container_iface(), ctx.timeout).await;
        let result = match lock {
            Ok(Some(_lock)) => reclaim::remove_port(ctx, ovs, host, p).await,
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
