//! What state each container port is in, as `list` shows it and `gc`
//! judges it: what OVSDB records, what Docker says of the container, and
//! what the kernel holds (the host veth, the interface inside).

use std::collections::HashSet;

use super::find::port_matches;
use super::reclaim::owner;
use super::target::{self, Target};
use crate::context::Ctx;
use crate::docker::{Container, DockerClient};
use crate::error::{Context, Result};
use crate::ovsdb::keys;
use crate::ovsdb::vswitch::AttachedPort;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;

/// The container side of a port, read inside its namespace.
#[derive(Debug, Clone, Default)]
pub struct Inside {
    /// The interface's name when it is not the recorded one (the network
    /// plugin's: Docker names it, we find it by its MAC).
    pub interface: Option<String>,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    /// Addresses with their prefix length, link-local IPv6 left out.
    pub addresses: Vec<String>,
}

/// A container port and its state.
#[derive(Debug, Clone)]
pub struct PortStatus {
    pub port: AttachedPort,
    /// Its container as Docker (or the namespace file) says now.
    pub container: Option<Container>,
    /// ok, container gone, container stopped, link missing, interface
    /// missing, no OpenFlow port, not joined (network plugin), unknown, or
    /// error: MESSAGE.
    pub state: String,
    /// The first three states: what add-port reclaims and gc removes.
    pub stale: bool,
    pub inside: Inside,
}

/// Every container port (on `bridge`, of the target `container` names, if
/// given) with its state, sorted by bridge, container and interface.
/// `container` is what CONTAINER takes elsewhere (name, ID, ID prefix) or a
/// recorded namespace reference (`netns:PATH`, `pid:PID`).
pub async fn survey(ctx: &Ctx, bridge: Option<&str>, container: Option<&str>) -> Result<Vec<PortStatus>> {
    let docker = ctx.docker()?;
    let ovs = ctx.vswitch().await?;
    if let Some(b) = bridge {
        super::find::require_bridge(&ovs, b).await?;
    }
    let (ports, containers) = tokio::join!(ovs.find_ports(vec![]), docker.all());
    let mut ports = ports.step(|| "list container ports in OVSDB".into())?;
    let containers = target::with_namespaces(containers?, ports.iter().map(AttachedPort::container_ref));
    if let Some(b) = bridge {
        ports.retain(|p| p.bridge.as_deref() == Some(b));
    }
    if let Some(r) = container {
        let wanted = Wanted::resolve(&docker, r).await?;
        ports.retain(|p| wanted.matches(p, owner(p, &containers)));
    }
    ports.sort_by(|x, y| {
        (&x.bridge, x.container_ref(), x.container_iface()).cmp(&(&y.bridge, y.container_ref(), y.container_iface()))
    });
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let host_links: HashSet<String> =
        host.links().await.step(|| "list host links".into())?.into_iter().map(|l| l.name).collect();
    let mut out = Vec::with_capacity(ports.len());
    for p in ports {
        let c = owner(&p, &containers).cloned();
        out.push(status(&p, c.as_ref(), &host_links, &docker).await);
    }
    Ok(out)
}

/// The target `list --container` (or `--netns`, `--pid`) asks about.
struct Wanted<'a> {
    reference: &'a str,
    /// Docker's container, for a container reference it knows.
    container: Option<Container>,
    /// The namespace, for a namespace reference that can be opened: ports
    /// recorded under another path (or a PID) of the same namespace are
    /// its ports too.
    netns: Option<Netns>,
}

impl<'a> Wanted<'a> {
    async fn resolve(docker: &DockerClient, reference: &'a str) -> Result<Wanted<'a>> {
        let t = Target::parse(reference);
        if t.is_docker() {
            return Ok(Wanted { reference, container: docker.find(reference).await?, netns: None });
        }
        Ok(Wanted { reference, container: None, netns: namespace_of(t) })
    }

    fn matches(&self, p: &AttachedPort, owner: Option<&Container>) -> bool {
        if let Some(ns) = &self.netns {
            let recorded = Target::parse(p.container_ref());
            return p.container_ref() == self.reference
                || (!recorded.is_docker() && namespace_of(recorded).is_some_and(|n| n.same_as(ns)));
        }
        // The network plugin's ports are owned through their endpoint.
        let owned = |c: &Container| owner.is_some_and(|o| o.id == c.id);
        port_matches(p, self.reference, self.container.as_ref()) || self.container.as_ref().is_some_and(owned)
    }
}

/// The namespace a `netns:`/`pid:` reference names, if it can be opened.
fn namespace_of(t: Target<'_>) -> Option<Netns> {
    match t {
        Target::Docker(_) => None,
        Target::Netns(path) => Netns::open(path).ok(),
        Target::Pid(pid) => Netns::open(format!("/proc/{pid}/ns/net")).ok(),
    }
}

async fn status(
    p: &AttachedPort,
    c: Option<&Container>,
    host_links: &HashSet<String>,
    docker: &DockerClient,
) -> PortStatus {
    let mut inside = Inside::default();
    let plugin_port = p.external_ids.contains_key(keys::iface::NETWORK_ID);
    let state = match c {
        // The network plugin's: Docker lists the endpoint only once the
        // container has started (and the port is Docker's to remove).
        None if plugin_port && host_links.contains(&p.name) => "not joined".into(),
        None if plugin_port => "link missing".into(),
        None => "container gone".into(),
        Some(c) if !c.running && !c.paused => "container stopped".into(),
        Some(_) if !host_links.contains(&p.name) => "link missing".into(),
        Some(_) if p.error.is_some() => format!("error: {}", p.error.as_deref().unwrap_or_default()),
        // ovs-vswitchd has not (or could not) put it in the datapath.
        Some(_) if p.ofport.is_none_or(|n| n <= 0) => "no OpenFlow port".into(),
        Some(c) => match read_inside(docker, c, p.container_iface(), plugin_mac(p), &mut inside).await {
            Ok(true) => "ok".into(),
            Ok(false) => "interface missing".into(),
            Err(e) => {
                log::debug!("cannot read {} in {}: {e}", p.container_iface(), c.name);
                "unknown".into()
            }
        },
    };
    let stale = matches!(state.as_str(), "container gone" | "container stopped" | "link missing");
    PortStatus { port: p.clone(), container: c.cloned(), state, stale, inside }
}

/// The MAC the network plugin gave the container end of port `p`.
fn plugin_mac(p: &AttachedPort) -> Option<&str> {
    p.external_ids.get(keys::iface::ENDPOINT_ID)?;
    p.external_ids.get(keys::iface::ENDPOINT_MAC).map(String::as_str)
}

/// Fill MAC, MTU and addresses from inside the container; false when the
/// interface is not there.
async fn read_inside(
    docker: &DockerClient,
    c: &Container,
    iface: &str,
    plugin_mac: Option<&str>,
    r: &mut Inside,
) -> Result<bool> {
    let Some(full) = target::find(docker, &c.id).await? else { return Ok(false) };
    let Some(path) = full.netns_path() else { return Ok(false) };
    let ns = Netns::open(&path).step(|| format!("open network namespace {path}"))?;
    let nl = Netlink::inside(&ns).step(|| format!("open a netlink socket in container \"{}\"", c.name))?;
    let mut link = nl.link(iface).await.step(|| format!("look up {iface} in container \"{}\"", c.name))?;
    // The network plugin's ports: Docker chose the name, the plugin the MAC.
    if let (None, Some(mac)) = (&link, plugin_mac) {
        let links = nl.links().await.step(|| format!("list links in container \"{}\"", c.name))?;
        link = links.into_iter().find(|l| l.mac.is_some_and(|m| crate::config::Mac(m).to_string() == mac));
        if let Some(l) = &link {
            r.interface = Some(l.name.clone());
        }
    }
    let Some(link) = link else { return Ok(false) };
    r.mac = link.mac;
    r.mtu = link.mtu;
    r.addresses = nl
        .addresses(link.index)
        .await
        .step(|| format!("list addresses of {iface}"))?
        .into_iter()
        .filter(|(ip, _)| !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80))
        .map(|(ip, plen)| format!("{ip}/{plen}"))
        .collect();
    Ok(true)
}

/// Why a container port is stale, or None if it is in use.
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
