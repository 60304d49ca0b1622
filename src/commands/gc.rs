//! `gc [BRIDGE] [--dry-run]`: remove what containers that stopped or went
//! away, and runs that were killed, left behind.
//!
//! Only container ports (Interface rows with `container_id` and
//! `container_iface`, ours or upstream's) and veths we marked as ours are
//! ever considered; tunnels, physical, internal and other tools' ports are
//! never touched. A port whose lock is held belongs to a run in progress
//! and is skipped.

use std::collections::HashSet;

use super::{reclaim, Ctx};
use crate::cli::GcArgs;
use crate::config::parse_host_port_alias;
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netlink::Netlink;
use crate::ovsdb::vswitch::{keys, AttachedPort};

pub async fn exec(ctx: &Ctx, a: GcArgs) -> Result<()> {
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (ports, containers) = tokio::join!(ovs.find_ports(vec![]), docker.all());
    let ports = ports.step(|| "list container ports in OVSDB".into())?;
    let containers = crate::target::with_namespaces(containers?, ports.iter().map(AttachedPort::container_ref));
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let links = host.links().await.step(|| "list host links".into())?;
    let link_names: HashSet<&str> = links.iter().map(|l| l.name.as_str()).collect();
    // Ports of the network plugin belong to a Docker network, not to a
    // container: they are judged by their network and their veth.
    let networks: HashSet<String> = if ports.iter().any(|p| p.external_ids.contains_key(keys::NETWORK_ID)) {
        docker.network_ids().await?.into_iter().collect()
    } else {
        HashSet::new()
    };
    let verb = if a.dry_run { "would remove" } else { "removed" };
    let mut errors = Vec::new();

    for p in ports.iter().filter(|p| a.bridge.as_ref().is_none_or(|b| p.bridge.as_ref() == Some(b))) {
        let owner = owner(p, &containers);
        let reason = match p.external_ids.get(keys::NETWORK_ID) {
            Some(net) => plugin_stale_reason(p, networks.contains(net), &link_names),
            None => stale_reason(p, owner, &link_names),
        };
        let Some(reason) = reason else { continue };
        let key = p.full_id().or(owner.map(|c| c.id.as_str())).unwrap_or(p.container_ref());
        let Some(_lock) = PortLock::try_acquire(key, p.container_iface()).step(|| format!("lock {key}"))? else {
            ctx.step(format_args!("skipping port {}: another ovs-docker is working on it", p.name));
            continue;
        };
        if !a.dry_run {
            if let Err(e) = reclaim::remove_port(ctx, &mut ovs, &host, p).await {
                errors.push(e);
                continue;
            }
        }
        crate::out!(
            "{verb} port {} on bridge {} (container {}, interface {}): {reason}",
            p.name,
            p.bridge.as_deref().unwrap_or("-"),
            p.container_ref(),
            p.container_iface()
        );
    }

    // Veths we made whose row was never written (a run killed in between).
    // They are on no bridge, so only a gc of every bridge removes them.
    if a.bridge.is_none() {
        let rows: HashSet<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        for l in &links {
            let Some((id, iface)) = l.alias.as_deref().and_then(parse_host_port_alias) else { continue };
            if rows.contains(l.name.as_str()) {
                continue;
            }
            let Some(_lock) = PortLock::try_acquire(id, iface).step(|| format!("lock {id}"))? else { continue };
            // Re-check under the lock: the run may have committed meanwhile.
            if !reclaim::remove_orphan_veths_checked(ctx, &host, &l.name, a.dry_run).await? {
                continue;
            }
            crate::out!("{verb} orphan veth {} (container {id}, interface {iface}): no OVSDB row", l.name);
        }
    }
    Error::all(errors)
}

fn owner<'a>(p: &AttachedPort, containers: &'a [Container]) -> Option<&'a Container> {
    reclaim::owner(p, containers)
}

/// Why the port is stale, or None if it is in use.
pub fn stale_reason(p: &AttachedPort, owner: Option<&Container>, links: &HashSet<&str>) -> Option<&'static str> {
    match owner {
        None => Some("container gone"),
        Some(c) if !c.running && !c.paused => Some("container stopped"),
        Some(_) if !links.contains(p.name.as_str()) => Some("link missing"),
        Some(_) => None,
    }
}

/// Why a port of the network plugin is stale, or None if it may be in use.
/// The container is not asked: while it starts Docker does not list the
/// endpoint yet. A container that is gone took the veth with its namespace.
pub fn plugin_stale_reason(p: &AttachedPort, network_exists: bool, links: &HashSet<&str>) -> Option<&'static str> {
    if !network_exists {
        Some("network gone")
    } else if !links.contains(p.name.as_str()) {
        Some("link missing")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_ports_are_judged_by_network_and_veth_only() {
        let p = AttachedPort {
            iface_uuid: "u".into(),
            name: "0123456789abc_l".into(),
            external_ids: [(keys::NETWORK_ID.to_string(), "n1".to_string())].into_iter().collect(),
            ofport: Some(1),
            error: None,
            port_uuid: None,
            bridge: Some("br0".into()),
            tag: None,
            trunks: vec![],
            vlan_mode: None,
            ingress_rate: 0,
            ingress_burst: 0,
        };
        let live: HashSet<&str> = ["0123456789abc_l"].into_iter().collect();
        assert_eq!(plugin_stale_reason(&p, true, &live), None);
        assert_eq!(plugin_stale_reason(&p, false, &live), Some("network gone"));
        assert_eq!(plugin_stale_reason(&p, true, &HashSet::new()), Some("link missing"));
    }
}
