//! `list [BRIDGE] [--container CONTAINER] [--format table|json]`: one row per
//! container port, with what Docker and the kernel say about it now.

use std::collections::HashSet;

use serde::Serialize;

use super::tunnel::{self, ListExtra};
use super::{port_matches, Ctx};
use crate::cli::{Format, ListArgs};
use crate::config::Mac;
use crate::docker::Container;
use crate::error::{Context, Result};
use crate::netlink::Netlink;
use crate::netns::Netns;
use crate::ovsdb::vswitch::AttachedPort;

/// One row of the listing; the JSON field names are a stable interface.
#[derive(Debug, Serialize)]
pub struct Row {
    pub bridge: String,
    pub port: String,
    /// The container as recorded when the port was added.
    pub container: String,
    pub container_name: Option<String>,
    pub container_id: Option<String>,
    pub interface: String,
    /// The access VLAN (Port.tag), or with `trunks` the native VLAN.
    pub vlan: Option<i64>,
    /// Trunked VLANs, as in 10,20-30 (empty: not a trunk).
    pub trunks: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub addresses: Vec<String>,
    /// Recorded by add-port: default gateways and further routes.
    pub gateways: Vec<String>,
    pub routes: Vec<String>,
    /// Ingress rate limit in kbit/s and burst in kbit (0: none).
    pub ingress_rate: i64,
    pub ingress_burst: i64,
    /// Whether `watch` re-creates the port when its container restarts.
    pub persist: bool,
    /// ok, container gone, container stopped, link missing, interface
    /// missing, no OpenFlow port, not joined (network plugin), or error: MESSAGE.
    pub state: String,
    /// The first three states: what add-port reclaims and gc removes.
    pub stale: bool,
    /// Row kind, tunnel settings, OVN binding (see tunnel.rs).
    #[serde(flatten)]
    pub extra: ListExtra,
}

pub async fn exec(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let docker = ctx.docker()?;
    let ovs = ctx.vswitch().await?;
    let (ports, containers) = tokio::join!(ovs.find_ports(vec![]), docker.all());
    let mut ports = ports.step(|| "list container ports in OVSDB".into())?;
    let containers = crate::target::with_namespaces(containers?, ports.iter().map(AttachedPort::container_ref));
    if let Some(b) = &a.bridge {
        ports.retain(|p| p.bridge.as_deref() == Some(b.as_str()));
    }
    if let Some(r) = &a.container {
        let target = docker.find(r).await?;
        ports.retain(|p| port_matches(p, r, target.as_ref()));
    }
    ports.sort_by(|x, y| {
        (&x.bridge, x.container_ref(), x.container_iface()).cmp(&(&y.bridge, y.container_ref(), y.container_iface()))
    });

    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let host_links: HashSet<String> =
        host.links().await.step(|| "list host links".into())?.into_iter().map(|l| l.name).collect();
    let mut rows = Vec::with_capacity(ports.len());
    for p in &ports {
        let c = owner(p, &containers);
        rows.push(row(ctx, p, c, &host_links, &docker).await);
    }
    // Our tunnels too, unless the listing is about one container.
    let mut tunnels = Vec::new();
    if a.container.is_none() {
        tunnels = tunnel::tunnels(&ovs, a.bridge.as_deref()).await.step(|| "list tunnel ports in OVSDB".into())?;
        tunnels.retain(tunnel::Tunnel::is_ours);
        tunnels.sort_by(|x, y| (&x.bridge, &x.port).cmp(&(&y.bridge, &y.port)));
    }
    match a.format {
        Format::Json => {
            rows.extend(tunnels.iter().map(tunnel_row));
            let text =
                serde_json::to_string_pretty(&rows).map_err(|e| crate::error::Error::io("encode JSON", e.into()))?;
            crate::out!("{text}");
        }
        Format::Table => {
            print_table(&rows);
            if !tunnels.is_empty() {
                crate::out!();
                tunnel::print_table(&tunnels, false);
            }
        }
    }
    Ok(())
}

fn tunnel_row(t: &tunnel::Tunnel) -> Row {
    Row {
        bridge: t.bridge.clone(),
        port: t.port.clone(),
        container: String::new(),
        container_name: None,
        container_id: None,
        interface: String::new(),
        vlan: None,
        trunks: String::new(),
        mac: None,
        mtu: None,
        addresses: Vec::new(),
        gateways: Vec::new(),
        routes: Vec::new(),
        ingress_rate: 0,
        ingress_burst: 0,
        persist: false,
        state: t.state.clone(),
        stale: false,
        extra: ListExtra::tunnel(t),
    }
}

fn owner<'a>(p: &AttachedPort, containers: &'a [Container]) -> Option<&'a Container> {
    super::reclaim::owner(p, containers)
}

async fn row(
    ctx: &Ctx,
    p: &AttachedPort,
    c: Option<&Container>,
    host_links: &HashSet<String>,
    docker: &crate::docker::DockerClient,
) -> Row {
    let record = crate::record::Record::from_external_ids(&p.external_ids);
    let ours = p.external_ids.get(crate::ovsdb::vswitch::keys::CREATED_BY).is_some_and(|v| v == "ovs-docker");
    let mut r = Row {
        bridge: p.bridge.clone().unwrap_or_default(),
        port: p.name.clone(),
        container: p.container_ref().to_string(),
        container_name: c.map(|c| c.name.clone()),
        container_id: c.map(|c| c.short_id().to_string()),
        interface: p.container_iface().to_string(),
        vlan: p.tag,
        trunks: crate::config::Trunks(p.trunks.iter().map(|v| *v as u16).collect()).to_string(),
        mac: None,
        mtu: None,
        addresses: Vec::new(),
        gateways: record.gateways.iter().map(ToString::to_string).collect(),
        routes: record.routes.iter().map(ToString::to_string).collect(),
        ingress_rate: p.ingress_rate,
        ingress_burst: p.ingress_burst,
        persist: ours && record.persist && crate::target::Target::parse(p.container_ref()).is_docker(),
        state: String::new(),
        stale: false,
        extra: ListExtra::container(p),
    };
    let plugin_port = p.external_ids.contains_key(crate::ovsdb::vswitch::keys::NETWORK_ID);
    r.state = match c {
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
        Some(c) => match inspect_inside(docker, c, p.container_iface(), plugin_mac(p), &mut r).await {
            Ok(true) => "ok".into(),
            Ok(false) => "interface missing".into(),
            Err(e) => {
                ctx.step(format_args!("cannot read {} in {}: {e}", p.container_iface(), c.name));
                "unknown".into()
            }
        },
    };
    r.stale = matches!(r.state.as_str(), "container gone" | "container stopped" | "link missing");
    r
}

/// The MAC the network plugin gave the container end of port `p`.
fn plugin_mac(p: &AttachedPort) -> Option<&str> {
    p.external_ids.get(crate::ovsdb::vswitch::keys::ENDPOINT_ID)?;
    p.external_ids.get(crate::plugin::driver::endpoint_keys::MAC).map(String::as_str)
}

/// Fill MAC, MTU and addresses from inside the container; false when the
/// interface is not there.
async fn inspect_inside(
    docker: &crate::docker::DockerClient,
    c: &Container,
    iface: &str,
    plugin_mac: Option<&str>,
    r: &mut Row,
) -> Result<bool> {
    let Some(full) = crate::target::find(docker, &c.id).await? else { return Ok(false) };
    let Some(path) = full.netns_path() else { return Ok(false) };
    let ns = Netns::open(&path).step(|| format!("open network namespace {path}"))?;
    let nl = Netlink::inside(&ns).step(|| format!("open a netlink socket in container \"{}\"", c.name))?;
    let mut link = nl.link(iface).await.step(|| format!("look up {iface} in container \"{}\"", c.name))?;
    // The network plugin's ports: Docker chose the name, the plugin the MAC.
    if let (None, Some(mac)) = (&link, plugin_mac) {
        let links = nl.links().await.step(|| format!("list links in container \"{}\"", c.name))?;
        link = links.into_iter().find(|l| l.mac.is_some_and(|m| Mac(m).to_string() == mac));
        if let Some(l) = &link {
            r.interface = l.name.clone();
        }
    }
    let Some(link) = link else { return Ok(false) };
    r.mac = link.mac.map(|m| Mac(m).to_string());
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

fn print_table(rows: &[Row]) {
    let mut header = vec!["BRIDGE", "PORT", "CONTAINER", "ID", "INTERFACE", "VLAN", "MAC", "ADDRESSES", "STATE"];
    // The OVN column only when some port is bound to OVN.
    let ovn = rows.iter().any(|r| r.extra.iface_id.is_some());
    if ovn {
        header.insert(8, "OVN");
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.bridge.clone(),
                r.port.clone(),
                r.container_name.clone().unwrap_or_else(|| r.container.clone()),
                r.container_id.clone().unwrap_or_else(|| "-".into()),
                r.interface.clone(),
                match (r.vlan, r.trunks.as_str()) {
                    (None, "") => "-".into(),
                    (Some(v), "") => v.to_string(),
                    (None, t) => format!("trunk {t}"),
                    (Some(v), t) => format!("{v}+trunk {t}"),
                },
                r.mac.clone().unwrap_or_else(|| "-".into()),
                if r.addresses.is_empty() { "-".into() } else { r.addresses.join(",") },
                if r.stale { format!("stale: {}", r.state) } else { r.state.clone() },
            ];
            if ovn {
                let binding = match (&r.extra.iface_id, r.extra.ovn) {
                    (Some(lsp), Some(state)) => format!("{lsp}:{state}"),
                    _ => "-".into(),
                };
                cells.insert(8, binding);
            }
            cells
        })
        .collect();
    tunnel::print_columns(&header, &cells);
}
