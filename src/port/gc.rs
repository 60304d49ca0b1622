//! `gc`: remove what containers that stopped or went away, and runs that
//! were killed, left behind.
//!
//! Only container ports (Interface rows with `container_id` and
//! `container_iface`, ours or upstream's) and veths we marked as ours are
//! ever considered; tunnels, physical, internal and other tools' ports are
//! never touched. A port whose lock is held belongs to a run in progress
//! and is skipped.

use std::collections::HashSet;

use super::find::{container_label, short};
use super::naming::parse_host_port_alias;
use super::reclaim::{owner, remove_orphan_veths_checked};
use super::remove::{remove_port, Veths};
use super::status::{plugin_stale_reason, stale_reason};
use super::target;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::keys;
use crate::ovsdb::vswitch::AttachedPort;
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;

/// Remove every stale port (on `bridge` only, if given) and, with no
/// bridge given, every orphan veth; `report` gets one line per object
/// removed (with `dry_run`: that would be removed, and nothing is).
pub async fn collect(ctx: &Ctx, bridge: Option<&str>, dry_run: bool, report: &mut dyn FnMut(String)) -> Result<()> {
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    if let Some(b) = bridge {
        super::find::require_bridge(&ovs, b).await?;
    }
    let (ports, containers) = tokio::join!(ovs.find_ports(vec![]), docker.all());
    let ports = ports.step(|| "list container ports in OVSDB".into())?;
    let containers = target::with_namespaces(containers?, ports.iter().map(AttachedPort::container_ref));
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let links = host.links().await.step(|| "list host links".into())?;
    let link_names: HashSet<&str> = links.iter().map(|l| l.name.as_str()).collect();
    // Ports of the network plugin belong to a Docker network, not to a
    // container: they are judged by their network and their veth.
    let networks: HashSet<String> = if ports.iter().any(|p| p.external_ids.contains_key(keys::iface::NETWORK_ID)) {
        docker.network_ids().await?.into_iter().collect()
    } else {
        HashSet::new()
    };
    let verb = if dry_run { "would remove" } else { "removed" };
    let mut errors = Vec::new();

    for p in ports.iter().filter(|p| bridge.is_none_or(|b| p.bridge.as_deref() == Some(b))) {
        let owner = owner(p, &containers);
        let reason = match p.external_ids.get(keys::iface::NETWORK_ID) {
            Some(net) => plugin_stale_reason(p, networks.contains(net), &link_names),
            None => stale_reason(p, owner, &link_names),
        };
        let Some(reason) = reason else { continue };
        let key = p.full_id().or(owner.map(|c| c.id.as_str())).unwrap_or(p.container_ref());
        let Some(_lock) = PortLock::try_acquire(key, p.container_iface()).step(|| format!("lock {key}"))? else {
            ctx.step(format_args!("skipping port {}: another ovs-docker is working on it", p.name));
            continue;
        };
        if !dry_run {
            if let Err(e) = remove_port(ctx, &mut ovs, &host, p, &Veths::Now).await {
                errors.push(e);
                continue;
            }
        }
        report(format!(
            "{verb} port {} on bridge {} (container {}, interface {}): {reason}",
            p.name,
            p.bridge.as_deref().unwrap_or("-"),
            container_label(p, owner),
            p.container_iface()
        ));
    }

    // Veths we made whose row was never written (a run killed in between).
    // They are on no bridge, so only a gc of every bridge removes them.
    if bridge.is_none() {
        let rows: HashSet<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        for l in &links {
            let Some((id, iface)) = l.alias.as_deref().and_then(parse_host_port_alias) else { continue };
            if rows.contains(l.name.as_str()) {
                continue;
            }
            let Some(_lock) = PortLock::try_acquire(id, iface).step(|| format!("lock {id}"))? else { continue };
            // Re-check under the lock: the run may have committed meanwhile.
            if !remove_orphan_veths_checked(ctx, &host, &l.name, dry_run).await? {
                continue;
            }
            let who = containers.iter().find(|c| c.id == id).map_or(short(id), |c| c.name.as_str());
            report(format!("{verb} orphan veth {} (container {who}, interface {iface}): no OVSDB row", l.name));
        }
    }
    Error::all(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_ports_are_judged_by_network_and_veth_only() {
        let p = AttachedPort {
            iface_uuid: "u".into(),
            name: "0123456789abc_l".into(),
            external_ids: [(keys::iface::NETWORK_ID.to_string(), "n1".to_string())].into_iter().collect(),
            ofport: Some(1),
            bridge: Some("br0".into()),
            ..Default::default()
        };
        let live: HashSet<&str> = ["0123456789abc_l"].into_iter().collect();
        assert_eq!(plugin_stale_reason(&p, true, &live), None);
        assert_eq!(plugin_stale_reason(&p, false, &live), Some("network gone"));
        assert_eq!(plugin_stale_reason(&p, true, &HashSet::new()), Some("link missing"));
    }
}
