//! What a container restart or a killed run leaves behind, and how it is
//! removed: a *stale port* (an OVSDB row whose veth is gone, as after every
//! container restart) and an *orphan veth* (a veth we made whose OVSDB row
//! was never written, as after a run killed between the two).

use super::naming::{is_host_port_name, parse_host_port_alias};
use crate::context::Ctx;
use crate::docker::Container;
use crate::error::{Context, Result};
use crate::ovsdb::keys;
use crate::ovsdb::vswitch::AttachedPort;
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;

/// Whether the port row was made for this very container (by us: its full
/// ID; by upstream: the reference it recorded names this container).
pub fn belongs_to(p: &AttachedPort, c: &Container) -> bool {
    match p.full_id() {
        Some(id) => id == c.id,
        None => c.is_named_by(p.container_ref()),
    }
}

/// The container a port row belongs to, among `containers`: by full ID for
/// ours; for upstream's, an exact name or ID first, and only then an ID
/// prefix (Docker resolves names before prefixes, and a short name may look
/// like the start of another container's ID).
pub fn owner<'a>(p: &AttachedPort, containers: &'a [Container]) -> Option<&'a Container> {
    // The network plugin's ports: the container that holds the endpoint.
    if let Some(ep) = p.external_ids.get(keys::iface::ENDPOINT_ID) {
        return containers.iter().find(|c| c.endpoint_ids.contains(ep));
    }
    if let Some(id) = p.full_id() {
        return containers.iter().find(|c| c.id == id);
    }
    let r = p.container_ref().strip_prefix('/').unwrap_or(p.container_ref());
    containers.iter().find(|c| c.name == r || c.id == r).or_else(|| containers.iter().find(|c| c.is_named_by(r)))
}

/// A port is live while its host veth exists: a container that stops or
/// restarts loses its namespace, and the veth pair with it.
pub async fn is_live(p: &AttachedPort, host: &Netlink) -> Result<bool> {
    Ok(host.link(&p.name).await.step(|| format!("look up veth {}", p.name))?.is_some())
}

/// As [`is_live`], for a port of the container whose namespace `inside`
/// is: its veth must also end there, as `container_iface`. After a restart
/// the container has a new namespace, while the old one (and the veth in
/// it) may linger as long as something holds it, a TCP socket for one.
pub async fn is_live_in(p: &AttachedPort, host: &Netlink, inside: &Netlink) -> Result<bool> {
    let Some(host_end) = host.link(&p.name).await.step(|| format!("look up veth {}", p.name))? else {
        return Ok(false);
    };
    let iface = p.container_iface();
    let peer = inside.link(iface).await.step(|| format!("look up {iface} in the container"))?;
    Ok(peer.is_some_and(|l| l.is_veth && l.peer_index == Some(host_end.index)))
}

/// Host links that we created for `full_id`/`iface` (see
/// [`super::naming::host_port_alias`]).
pub async fn our_veths(host: &Netlink, full_id: &str, iface: &str) -> Result<Vec<String>> {
    Ok(marked_veths(host, &[full_id]).await?.into_iter().filter(|(_, _, i)| i == iface).map(|(n, _, _)| n).collect())
}

/// Host links marked as ours for any of `ids` (a container's full ID, or
/// the reference an upstream port recorded): (name, id, interface).
pub async fn marked_veths(host: &Netlink, ids: &[&str]) -> Result<Vec<(String, String, String)>> {
    let links = host.links().await.step(|| "list host links".into())?;
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let (id, iface) = l.alias.as_deref().and_then(parse_host_port_alias)?;
            ids.contains(&id).then(|| (l.name.clone(), id.to_string(), iface.to_string()))
        })
        .collect())
}

/// Delete every veth marked for one of `ids` that has no OVSDB row and
/// whose lock is free (a run killed half-way, e.g. del-ports between
/// removing rows and deleting veths). Returns how many were deleted.
pub async fn remove_marked_orphans(ctx: &Ctx, host: &Netlink, ids: &[&str]) -> Result<usize> {
    let mut removed = 0;
    for (name, id, iface) in marked_veths(host, ids).await? {
        let Some(_lock) = PortLock::try_acquire(&id, &iface).step(|| format!("lock {id}/{iface}"))? else { continue };
        if remove_orphan_veths_checked(ctx, host, &name, false).await? {
            ctx.step(format_args!("deleted orphan veth {name} left by an interrupted run"));
            removed += 1;
        }
    }
    Ok(removed)
}

/// Delete the veths we made for `full_id`/`iface` that have no OVSDB row.
/// Call it only while holding that port's lock: then none of them can be a
/// run in progress. Returns how many were deleted.
pub async fn remove_orphan_veths(ctx: &Ctx, host: &Netlink, full_id: &str, iface: &str) -> Result<usize> {
    let names = our_veths(host, full_id, iface).await?;
    if names.is_empty() {
        return Ok(0);
    }
    let mut removed = 0;
    for name in names {
        ctx.step(format_args!("deleting orphan veth {name} left by an interrupted run"));
        if remove_orphan_veths_checked(ctx, host, &name, false).await? {
            removed += 1;
        }
    }
    Ok(removed)
}

/// If `iface` inside the container is the peer of a host veth named like
/// ours or upstream's (`<13 hex>_l`) that has no OVSDB row, delete that veth
/// and return true. This finds what a run killed between creating the veth
/// and committing its row left, marked or not. Call it only while holding
/// the port's lock. (Upstream moves its peer into the container only after
/// writing the row, so its runs in progress are never taken for orphans.)
pub async fn remove_orphan_peer(ctx: &Ctx, host: &Netlink, inside: &Netlink, iface: &str) -> Result<bool> {
    let Some(link) = inside.link(iface).await.step(|| format!("look up {iface} in the container"))? else {
        return Ok(false);
    };
    let Some(peer) = link.peer_index.filter(|_| link.is_veth) else { return Ok(false) };
    let Some(host_end) = host.link_by_index(peer).await.step(|| format!("look up the peer of {iface}"))? else {
        return Ok(false);
    };
    // Only the host end of *this* pair: a veth whose peer is our interface
    // (an index alone could name an unrelated link if the pair's other end
    // lives in a third namespace).
    if !is_host_port_name(&host_end.name) || !host_end.is_veth || host_end.peer_index != Some(link.index) {
        return Ok(false);
    }
    ctx.step(format_args!("found orphan veth {} (peer of {iface}) left by an interrupted run", host_end.name));
    remove_orphan_veths_checked(ctx, host, &host_end.name, false).await
}

/// Delete the host veth `name` if it still has no OVSDB row (or, with
/// `dry_run`, only say whether it would be). Call it holding the lock.
pub async fn remove_orphan_veths_checked(ctx: &Ctx, host: &Netlink, name: &str, dry_run: bool) -> Result<bool> {
    let ovs = ctx.vswitch().await?;
    if ovs.has_interface(name).await.step(|| format!("look up interface {name}"))? {
        return Ok(false);
    }
    if dry_run {
        return Ok(true);
    }
    host.delete(name).await.step(|| format!("delete orphan veth {name}"))
}
