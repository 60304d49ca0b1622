//! Port mirrors (`mirror add|del|list`): a copy of the traffic of some
//! container ports (or of every port of a bridge) sent out of another
//! container's port, for an IDS or a capture. A mirror is an OVS Mirror
//! row on the bridge; its ports are weak references, so removing a port
//! updates the mirrors by itself (see `port::remove`, which also removes a
//! mirror whose output port goes, and says so), and `watch` moves them to
//! a port it re-creates (see `port::commit`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::ContainerPort;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::mirrors::{add_mirror_txn, del_mirror_ops, MirrorRow, NewMirror};
use crate::ovsdb::vswitch::{AttachedPort, Vswitch};
use crate::ovsdb::{data, keys, Cond, Op, OvsdbError, Precondition, Txn};
use crate::port::endpoint::ports_of_container;
use crate::port::find::{find_attached, require_bridge};

/// Which traffic of a mirrored port is copied, seen from its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the container receives (OVS: packets output to the port).
    In,
    /// What the container sends (OVS: packets received on the port).
    Out,
    Both,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Both => "both",
        }
    }
}

/// A mirror to add.
#[derive(Debug, Clone)]
pub struct MirrorSpec {
    pub bridge: String,
    pub name: String,
    /// The container interface that receives the copies.
    pub to: ContainerPort,
    /// The containers (or their interfaces) mirrored; empty: every port.
    pub from: Vec<ContainerPort>,
    pub direction: Direction,
    /// Only this VLAN's traffic.
    pub vlan: Option<u16>,
}

/// A mirror as `mirror list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorView {
    pub bridge: String,
    pub name: String,
    /// The output: CONTAINER:IFACE of a container port, else the port's name.
    pub to: Option<String>,
    /// The mirrored ports, the same way; empty when `all` is true.
    pub from: Vec<String>,
    /// Every port of the bridge is mirrored.
    pub all: bool,
    /// in, out or both, seen from the mirrored containers (none: its
    /// mirrored ports were all removed).
    pub direction: &'static str,
    pub vlans: Vec<i64>,
    /// Packets sent to the output port so far.
    pub tx_packets: Option<i64>,
    pub created_by: Option<String>,
}

/// The ports of `c` on `bridge` (all of the container's, or its interface's).
async fn ports_of(ctx: &Ctx, ovs: &Vswitch, bridge: &str, c: &ContainerPort) -> Result<Vec<AttachedPort>> {
    let docker = ctx.docker()?;
    let iface = c.interface.as_ref().map(|i| i.as_str());
    let (container, mut ports) = find_attached(ctx, ovs, &docker, &c.container, iface).await?;
    // The network plugin's ports are the container's through its
    // endpoints, and their interfaces are named by Docker.
    if let Some(container) = &container {
        ports.extend(ports_of_container(ovs, container, iface).await?);
    }
    let mut here: Vec<AttachedPort> =
        ports.into_iter().filter(|p| p.bridge.as_deref() == Some(bridge) && p.port_uuid.is_some()).collect();
    here.sort_by(|a, b| a.iface_uuid.cmp(&b.iface_uuid));
    here.dedup_by(|a, b| a.iface_uuid == b.iface_uuid);
    if here.is_empty() {
        return Err(Error::refused(format!("no port of {c} on bridge {bridge}")));
    }
    Ok(here)
}

/// Add the mirror `m`, in one transaction.
pub async fn add(ctx: &Ctx, m: &MirrorSpec) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let bridge = m.bridge.as_str();
    require_bridge(&ovs, bridge).await?;
    let existing = ovs.mirrors(Some(bridge)).await.step(|| format!("look up the mirrors of bridge {bridge}"))?;
    if existing.iter().any(|x| x.name == m.name) {
        return Err(Error::refused(format!("bridge {bridge} already has a mirror named {}", m.name)));
    }
    let to = ports_of(ctx, &ovs, bridge, &m.to).await?;
    let [output] = to.as_slice() else {
        return Err(Error::refused(format!("{} has {} ports on bridge {bridge}: expected one", m.to, to.len())));
    };
    let output_uuid = output.port_uuid.clone().unwrap_or_default();
    let mut sources = Vec::new();
    for f in &m.from {
        for p in ports_of(ctx, &ovs, bridge, f).await? {
            if p.port_uuid.as_deref() == Some(output_uuid.as_str()) {
                return Err(Error::invalid(format!("{f}: the port of --to cannot be mirrored into itself")));
            }
            sources.extend(p.port_uuid);
        }
    }
    sources.sort();
    sources.dedup();
    let mut new = NewMirror {
        bridge: m.bridge.clone(),
        name: m.name.clone(),
        output: output_uuid,
        select_src: None,
        select_dst: None,
        vlan: m.vlan,
    };
    if m.from.is_empty() && m.direction != Direction::Both {
        // Every port, one way: OVS's select_all copies both ways, so name them all.
        sources = bridge_ports(&ovs, bridge).await?.into_iter().filter(|u| *u != new.output).collect();
    }
    if !m.from.is_empty() || m.direction != Direction::Both {
        let side = |d: Direction| {
            if m.direction == d || m.direction == Direction::Both {
                sources.clone()
            } else {
                Vec::new()
            }
        };
        new.select_src = Some(side(Direction::Out));
        new.select_dst = Some(side(Direction::In));
    }
    let as_read: Vec<String> = existing.iter().map(|x| x.uuid.clone()).collect();
    ctx.step(format_args!("adding mirror {} to bridge {bridge}", m.name));
    match ovs.commit(add_mirror_txn(&new, &as_read), ctx.wait).await {
        Ok(_) => revalidate(ctx).await,
        Err(OvsdbError::Precondition(Precondition::BridgeUnchanged(_))) => {
            Err(Error::refused(format!("the mirrors of bridge {bridge} changed meanwhile; try again")))
        }
        Err(OvsdbError::Precondition(Precondition::PortExists(_))) => {
            Err(Error::refused(format!("a port of mirror {} was removed meanwhile", m.name)))
        }
        Err(e) => Err(Error::Ovsdb { step: format!("add mirror {} to bridge {bridge}", m.name), source: e }),
    }
}

/// The Ports of `bridge` (uuids).
async fn bridge_ports(ovs: &Vswitch, bridge: &str) -> Result<Vec<String>> {
    let res = ovs
        .select(vec![Op::Select { table: "Bridge", conds: vec![Cond::eq("name", bridge)], columns: vec!["ports"] }])
        .await
        .step(|| format!("look up the ports of bridge {bridge}"))?;
    Ok(data::rows(&res[0]).first().map(|b| data::uuids(&b["ports"])).unwrap_or_default())
}

/// Delete the mirror `name` from `bridge`.
pub async fn del(ctx: &Ctx, bridge: &str, name: &str) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let mirrors = ovs.mirrors(Some(bridge)).await.step(|| format!("look up the mirrors of bridge {bridge}"))?;
    let Some(m) = mirrors.iter().find(|m| m.name == name) else {
        require_bridge(&ovs, bridge).await?;
        return Err(Error::refused(format!("no mirror named {name} on bridge {bridge}")));
    };
    let mut t = Txn::new();
    del_mirror_ops(&mut t, Cond::eq("name", bridge), &m.uuid);
    ctx.step(format_args!("removing mirror {name} from bridge {bridge}"));
    ovs.commit(t, ctx.wait).await.step(|| format!("remove mirror {name} from bridge {bridge}"))?;
    revalidate(ctx).await
}

/// Make the datapath follow a mirror change at once. ovs-vswitchd (3.1)
/// applies a new or removed Mirror to new flows only: flows it has cached
/// in the datapath keep their old actions until they expire (seen: a pair
/// of containers that kept talking got no copies at all). So the cached
/// flows are purged, as `ovs-appctl revalidator/purge` does; each is set
/// up again by its next packet. Not with --no-wait, nor for an OVSDB
/// that is not local.
async fn revalidate(ctx: &Ctx) -> Result<()> {
    if !ctx.wait || !matches!(ctx.db, crate::ovsdb::Endpoint::Unix(_)) {
        return Ok(());
    }
    ctx.step(format_args!("purging ovs-vswitchd's cached datapath flows"));
    crate::ovsdb::unixctl::vswitchd("revalidator/purge", ctx.timeout)
        .await
        .map(drop)
        .step(|| "make ovs-vswitchd revalidate its flows (revalidator/purge)".into())
}

/// Every mirror (on `bridge`, if given), its ports named by container.
pub async fn list(ctx: &Ctx, bridge: Option<&str>) -> Result<Vec<MirrorView>> {
    let ovs = ctx.vswitch().await?;
    if let Some(b) = bridge {
        require_bridge(&ovs, b).await?;
    }
    let (mirrors, ports) = tokio::join!(ovs.mirrors(bridge), ovs.find_ports(vec![]));
    let mirrors = mirrors.step(|| "list mirrors".into())?;
    let ports = ports.step(|| "list container ports".into())?;
    let mut names: BTreeMap<String, String> = ports
        .iter()
        .filter_map(|p| {
            let who = p.external_ids.get(keys::iface::NAME).map_or(p.container_ref(), String::as_str);
            Some((p.port_uuid.clone()?, format!("{who}:{}", p.container_iface())))
        })
        .collect();
    let mirrored = |u: &String| {
        mirrors.iter().any(|m| m.output.as_ref() == Some(u) || m.select_src.contains(u) || m.select_dst.contains(u))
    };
    let endpoints: Vec<&AttachedPort> = ports
        .iter()
        .filter(|p| p.external_ids.contains_key(keys::iface::ENDPOINT_ID) && p.port_uuid.as_ref().is_some_and(mirrored))
        .collect();
    if !endpoints.is_empty() {
        name_endpoints(ctx, &endpoints, &mut names).await;
    }
    // Other ports (internal, physical, tunnels) by their name.
    let unknown: Vec<String> = mirrors
        .iter()
        .flat_map(|m| m.select_src.iter().chain(&m.select_dst).chain(&m.output))
        .filter(|u| !names.contains_key(*u))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        let ops = unknown
            .iter()
            .map(|u| Op::Select { table: "Port", conds: vec![Cond::eq("_uuid", data::uuid(u))], columns: vec!["name"] })
            .collect();
        let res = ovs.select(ops).await.step(|| "look up mirrored ports".into())?;
        for (u, r) in unknown.iter().zip(res.iter()) {
            if let Some(n) = data::rows(r).first().and_then(|p| p["name"].as_str().map(str::to_string)) {
                names.insert(u.clone(), n);
            }
        }
    }
    Ok(mirrors.iter().map(|m| view(m, &names)).collect())
}

/// Name the network plugin's ports `endpoints` as CONTAINER:IFACE, as
/// `mirror add` takes them: the container that holds the endpoint, and the
/// name Docker gave its interface. One that cannot be resolved (not
/// joined, its container gone, Docker unreachable) keeps its recorded
/// name: a listing does not fail for a name.
async fn name_endpoints(ctx: &Ctx, endpoints: &[&AttachedPort], names: &mut BTreeMap<String, String>) {
    let containers = match ctx.docker() {
        Ok(docker) => docker.all().await,
        Err(e) => Err(e),
    };
    let containers = match containers {
        Ok(c) => c,
        Err(e) => return log::debug!("cannot name the network plugin's mirrored ports: {e}"),
    };
    for p in endpoints {
        let (Some(c), Some(uuid)) = (crate::port::reclaim::owner(p, &containers), &p.port_uuid) else { continue };
        match crate::port::endpoint::link_inside(p).await {
            Ok(Some((_, link))) => {
                names.insert(uuid.clone(), format!("{}:{}", c.name, link.name));
            }
            Ok(None) => {}
            Err(e) => log::debug!("cannot name port {}: {e}", p.name),
        }
    }
}

fn view(m: &MirrorRow, names: &BTreeMap<String, String>) -> MirrorView {
    let name = |u: &String| names.get(u).cloned().unwrap_or_else(|| u.clone());
    let mut from: Vec<String> = m.select_src.iter().chain(&m.select_dst).map(name).collect();
    from.sort();
    from.dedup();
    let direction = match (m.select_all, m.select_src.is_empty(), m.select_dst.is_empty()) {
        (true, _, _) | (false, false, false) => "both",
        (false, false, true) => "out",
        (false, true, false) => "in",
        // Its ports are gone: it copies nothing.
        (false, true, true) => "none",
    };
    MirrorView {
        bridge: m.bridge.clone(),
        name: m.name.clone(),
        to: m.output.as_ref().map(name),
        from: if m.select_all { Vec::new() } else { from },
        all: m.select_all,
        direction,
        vlans: m.select_vlan.clone(),
        tx_packets: m.tx_packets,
        created_by: m.created_by.clone(),
    }
}
