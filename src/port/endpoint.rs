//! A Docker network endpoint's port (the network plugin's CreateEndpoint
//! and DeleteEndpoint): the same veth naming and marking, the same rows
//! (through [`crate::ovsdb::vswitch::add_port_txn`]) and the same removal as
//! a CLI port. Unlike add-port, the peer stays in the host namespace under
//! a name of ours: Docker moves it into the container and renames it after
//! Join, out of our sight.

use super::naming::{endpoint_peer_name, host_port_alias, host_port_name, parse_host_port_alias};
use super::netdev;
use super::reclaim::{our_veths, remove_orphan_veths_checked};
use super::remove::{remove_port, Veths};
use crate::config::Mac;
use crate::context::Ctx;
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::ovsdb::keys;
use crate::ovsdb::vswitch::{add_port_txn, policing_columns, AttachedPort, BridgePlan, NewPort, Vlan, Vswitch};
use crate::ovsdb::{data, Cond};
use crate::sys::lock::PortLock;
use crate::sys::netlink::{LinkInfo, Netlink};
use crate::sys::netns::Netns;

/// The interface name in the lock and the veth mark (see
/// [`host_port_alias`]) of an endpoint: Docker names the interface in the
/// container only after Join.
pub const ENDPOINT_LOCK_IFACE: &str = "plugin";
/// Docker names the container end DST_PREFIX and a number of its choosing
/// (eth0, eth1...), after Join and out of our sight; `container_iface`
/// records the prefix, and `ovs-docker list` finds the interface by its
/// MAC ([`keys::iface::ENDPOINT_MAC`]).
pub const DST_PREFIX: &str = "eth";

/// An endpoint's port to make.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub endpoint_id: String,
    pub network_id: String,
    pub bridge: String,
    pub mtu: Option<u32>,
    /// Access VLAN of the port, or with `trunks` its native VLAN.
    pub vlan: Option<u16>,
    /// Trunked VLANs (empty: not a trunk).
    pub trunks: Vec<u16>,
    /// Rate limit of what the container sends, in kbit/s, and its burst in
    /// kbit (as add-port's `--ingress-rate` and `--ingress-burst`).
    pub ingress_rate: Option<u32>,
    pub ingress_burst: Option<u32>,
    /// A protected port (OVS's `Port.protected`) forwards to no other
    /// protected port: containers of the network do not reach each other.
    pub protected: bool,
    pub mac: Mac,
    /// The endpoint's addresses with their prefix length, as recorded.
    pub addresses: Vec<String>,
    /// `created_by` of the rows.
    pub created_by: &'static str,
    /// More external_ids of the Interface (an OVN binding's `iface-id`).
    pub extra_ids: Vec<(&'static str, String)>,
}

/// Take the endpoint's lock (held while its port is made or removed).
pub async fn lock(ctx: &Ctx, eid: &str) -> Result<PortLock> {
    PortLock::acquire(eid, ENDPOINT_LOCK_IFACE, ctx.timeout)
        .await
        .step(|| format!("lock endpoint {eid}"))?
        .ok_or_else(|| Error::refused(format!("endpoint {eid} is being worked on by another process")))
}

/// The port of endpoint `eid`, if it has one.
pub async fn find(ovs: &Vswitch, eid: &str) -> Result<Option<AttachedPort>> {
    let conds = vec![Cond::includes("external_ids", data::map([(keys::iface::ENDPOINT_ID, eid)]))];
    let ports = ovs.find_ports(conds).await.step(|| format!("look up the port of endpoint {eid}"))?;
    Ok(ports.into_iter().next())
}

/// Make the endpoint's veth and port; undone if any step fails. Call it
/// holding the endpoint's [`lock`], once [`find`] found no port.
pub async fn create(ovs: &mut Vswitch, spec: &EndpointSpec) -> Result<()> {
    let eid = spec.endpoint_id.as_str();
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    // What a crash before the commit left for this endpoint.
    for name in our_veths(&host, eid, ENDPOINT_LOCK_IFACE).await? {
        host.delete(&name).await.step(|| format!("delete veth {name} left by an interrupted run"))?;
    }
    let host_ns = Netns::current().step(|| "open the host network namespace".into())?;
    let port = host_port_name(&uuid::Uuid::new_v4());
    let peer = endpoint_peer_name(&port);
    let alias = host_port_alias(eid, ENDPOINT_LOCK_IFACE);
    let index = host
        .create_veth(&port, &alias, &peer, &host_ns, spec.mtu, Some(spec.mac.0))
        .await
        .step(|| format!("create veth {port} for endpoint {eid}"))?;
    crate::fault::point("plugin-veth-created").await;
    if let Err(e) = configure_and_commit(ovs, &host, spec, index, &port, &peer).await {
        if let Err(undo) = host.delete(&port).await {
            return Err(Error::Many(vec![
                e,
                Error::Netlink { step: format!("delete veth {port} (undo)"), source: undo },
            ]));
        }
        return Err(e);
    }
    Ok(())
}

/// Configure a new veth and commit its port.
async fn configure_and_commit(
    ovs: &mut Vswitch,
    host: &Netlink,
    spec: &EndpointSpec,
    index: u32,
    port: &str,
    peer: &str,
) -> Result<()> {
    let (eid, bridge) = (spec.endpoint_id.as_str(), spec.bridge.as_str());
    let datapath = ovs.bridge_datapath_type(bridge).await.step(|| format!("look up bridge {bridge}"))?;
    if datapath.as_deref() == Some("netdev") {
        netdev::quiet_host_end(port)?;
        // The peer is still in the host namespace: ethtool settings
        // survive Docker's move into the container.
        let sock = crate::sys::ethtool::socket().step(|| "open a socket for ethtool".into())?;
        crate::sys::ethtool::disable_tx_checksum(&sock, peer)
            .step(|| format!("turn TX checksum offload off on {peer} (needed by the netdev datapath)"))?;
    }
    host.set_up(index).await.step(|| format!("set veth {port} up"))?;
    let new = NewPort {
        bridge: bridge.to_string(),
        name: port.to_string(),
        external_ids: vec![
            (keys::iface::CONTAINER_ID, eid.to_string()),
            (keys::iface::CONTAINER_IFACE, DST_PREFIX.to_string()),
            (keys::iface::CREATED_BY, spec.created_by.to_string()),
            (keys::iface::ENDPOINT_ID, eid.to_string()),
            (keys::iface::NETWORK_ID, spec.network_id.clone()),
            (keys::iface::PEER, peer.to_string()),
            (keys::iface::ENDPOINT_MAC, spec.mac.to_string()),
            (keys::iface::ENDPOINT_ADDRESSES, spec.addresses.join(",")),
        ],
        extra_ids: spec.extra_ids.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        tag: spec.vlan,
        port_columns: port_columns(spec),
        iface_columns: spec.ingress_rate.map(|r| policing_columns(r, spec.ingress_burst)).unwrap_or_default(),
        replaces: None,
    };
    ovs.commit(add_port_txn(&new, &BridgePlan::Exists, &[]), true)
        .await
        .step(|| format!("add port {port} to bridge {bridge} for endpoint {eid}"))?;
    crate::fault::point("plugin-port-committed").await;
    Ok(())
}

/// The Port columns beyond the tag: a trunk's, and `protected`.
fn port_columns(spec: &EndpointSpec) -> serde_json::Map<String, serde_json::Value> {
    let mut columns = match spec.trunks.is_empty() {
        true => Default::default(),
        false => Vlan::Trunk { vlans: spec.trunks.clone(), native: spec.vlan }.columns(),
    };
    if spec.protected {
        columns.insert("protected".to_string(), serde_json::Value::Bool(true));
    }
    columns
}

/// On a netdev bridge, the rate limit of an endpoint's port is also set
/// inside its container (see [`netdev`]). The veth's peer loses its qdisc
/// when Docker moves it into the container after Join, so the limit is set
/// there, on the interface that carries the endpoint's MAC, once it has
/// arrived. Returns false while it has not (or the endpoint has no
/// sandbox yet); an interface that already has its limit is left alone, so
/// that this can be repeated (the plugin does so at start and periodically,
/// from what OVSDB records).
pub async fn limit_inside(p: &AttachedPort) -> Result<bool> {
    let Some((inside, link)) = link_inside(p).await? else { return Ok(false) };
    let (eid, sandbox) = (endpoint_of(p), p.external_ids.get(keys::iface::SANDBOX).cloned().unwrap_or_default());
    let rate = p.ingress_rate.max(0) as u32;
    let limited =
        inside.has_rate_limit(link.index).await.step(|| format!("look up the qdisc of {} in {sandbox}", link.name))?;
    if rate > 0 && !limited {
        let burst = Some(p.ingress_burst.max(0) as u32).filter(|b| *b > 0);
        inside
            .set_rate_limit(link.index, rate, burst)
            .await
            .step(|| format!("set the rate limit of {} of endpoint {eid} in {sandbox}", link.name))?;
        log::info!("rate limit of endpoint {eid} ({} in its container): {rate} kbit/s", link.name);
    }
    Ok(true)
}

fn endpoint_of(p: &AttachedPort) -> &str {
    p.external_ids.get(keys::iface::ENDPOINT_ID).map(String::as_str).unwrap_or_default()
}

/// The interface of endpoint port `p` inside its container, with a
/// netlink socket there: Docker names it (eth0, eth1...) out of our sight,
/// so it is found by the endpoint's MAC in the sandbox recorded at Join.
/// None while it is not there (not joined yet, not moved yet, or the
/// container gone).
pub async fn link_inside(p: &AttachedPort) -> Result<Option<(Netlink, LinkInfo)>> {
    let eid = endpoint_of(p);
    let ids = &p.external_ids;
    let (Some(sandbox), Some(mac)) = (ids.get(keys::iface::SANDBOX), ids.get(keys::iface::ENDPOINT_MAC)) else {
        return Ok(None);
    };
    let Ok(mac) = mac.parse::<Mac>() else { return Ok(None) };
    let ns = match Netns::open(sandbox) {
        Ok(ns) => ns,
        // The container is gone, and its interface with it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Not there yet: Docker makes the sandbox file at Join and
        // bind-mounts the namespace onto it only once runc has made the
        // container's (its setkey hook), moving the interface in then.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return Ok(None),
        Err(e) => return Err(e).step(|| format!("open network namespace {sandbox} of endpoint {eid}")),
    };
    let inside = Netlink::inside(&ns).step(|| format!("open a netlink socket in {sandbox}"))?;
    let links = inside.links().await.step(|| format!("list the links in {sandbox}"))?;
    Ok(links.into_iter().find(|l| l.mac == Some(mac.0)).map(|l| (inside, l)))
}

/// The ports of container `c`'s endpoints (the network plugin's), or with
/// `iface` the one whose interface is named so inside the container.
pub async fn ports_of_container(ovs: &Vswitch, c: &Container, iface: Option<&str>) -> Result<Vec<AttachedPort>> {
    let mut ports = Vec::new();
    for eid in &c.endpoint_ids {
        let Some(p) = find(ovs, eid).await? else { continue };
        if let Some(want) = iface {
            if link_inside(&p).await?.is_none_or(|(_, l)| l.name != want) {
                continue;
            }
        }
        ports.push(p);
    }
    Ok(ports)
}

/// [`limit_inside`] as soon as Docker has moved the interface into the
/// container (it does so after Join answered), waiting at most `within`.
pub async fn limit_inside_once_moved(p: &AttachedPort, within: std::time::Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + within;
    while !limit_inside(p).await? {
        if std::time::Instant::now() > deadline {
            return Err(Error::refused(format!(
                "the interface of port {} did not arrive in its container within {within:?}: its rate limit \
                 is set inside by the next periodic check",
                p.name
            )));
        }
        // The container's first process starts right after the move: look
        // often, for the window without a limit to stay a few milliseconds.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Remove the endpoint's port and veth, and any veth a killed run left
/// for it; already gone is success.
pub async fn delete(ctx: &Ctx, eid: &str) -> Result<()> {
    let _lock = lock(ctx, eid).await?;
    let mut ovs = ctx.vswitch().await?;
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    if let Some(p) = find(&ovs, eid).await? {
        remove_port(ctx, &mut ovs, &host, &p, &Veths::Now).await?;
    }
    for name in our_veths(&host, eid, ENDPOINT_LOCK_IFACE).await? {
        host.delete(&name).await.step(|| format!("delete veth {name} of endpoint {eid}"))?;
    }
    Ok(())
}

/// Delete the veths made for an endpoint that never got its OVSDB row
/// (the plugin was killed in between; Docker, told the call failed, never
/// deletes such an endpoint). A held lock means a call in progress, in
/// this process or another: left alone. Returns how many were deleted.
pub async fn sweep_orphans(ctx: &Ctx) -> Result<usize> {
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let links = host.links().await.step(|| "list host links".into())?;
    let mut removed = 0;
    for l in links {
        let Some((eid, iface)) = l.alias.as_deref().and_then(parse_host_port_alias) else { continue };
        if iface != ENDPOINT_LOCK_IFACE {
            continue;
        }
        let Some(_lock) = PortLock::try_acquire(eid, iface).step(|| format!("lock endpoint {eid}"))? else {
            continue;
        };
        if remove_orphan_veths_checked(ctx, &host, &l.name, false).await? {
            log::info!("deleted veth {} of endpoint {eid}, left by a killed plugin", l.name);
            removed += 1;
        }
    }
    Ok(removed)
}

/// The MAC of an endpoint that Docker gave none: derived from its IPv4
/// address as Docker's bridge driver does (02:42 and the four bytes), so a
/// restarted container, which gets a new endpoint but keeps its address,
/// keeps its MAC too and its peers' ARP caches stay right. Random (locally
/// administered) without an IPv4 address.
pub fn mac_for(address: &str) -> Mac {
    match address.split('/').next().and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()) {
        Some(ip) => {
            let o = ip.octets();
            Mac([0x02, 0x42, o[0], o[1], o[2], o[3]])
        }
        None => {
            let b = uuid::Uuid::new_v4().into_bytes();
            Mac([0x02, b[0], b[1], b[2], b[3], b[4]])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_follow_the_ipv4_address() {
        assert_eq!(mac_for("10.20.0.2/24").to_string(), "02:42:0a:14:00:02");
        let random = mac_for("");
        assert_eq!(random.0[0], 0x02);
        assert_ne!(random, mac_for(""));
    }

    /// Docker makes the sandbox file at Join and bind-mounts the container's
    /// namespace onto it later: until then the interface is "not there
    /// yet", and the waiter keeps waiting rather than giving up.
    #[tokio::test]
    async fn a_sandbox_not_yet_mounted_is_waited_for() {
        let dir = std::env::temp_dir().join(format!("ovs-docker-sandbox-{}", std::process::id()));
        std::fs::write(&dir, b"").unwrap();
        let p = AttachedPort {
            name: "0123456789abc_l".into(),
            external_ids: [
                (keys::iface::SANDBOX.to_string(), dir.display().to_string()),
                (keys::iface::ENDPOINT_MAC.to_string(), "02:42:0a:14:00:02".to_string()),
            ]
            .into(),
            ingress_rate: 1000,
            ..Default::default()
        };
        assert!(matches!(link_inside(&p).await, Ok(None)));
        assert!(!limit_inside(&p).await.unwrap());
        let e = limit_inside_once_moved(&p, std::time::Duration::from_millis(50)).await.unwrap_err();
        assert!(e.to_string().contains("did not arrive in its container"), "{e}");
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn the_peer_is_named_after_the_host_end() {
        assert_eq!(endpoint_peer_name("0123456789abc_l"), "0123456789abc_c");
    }
}
