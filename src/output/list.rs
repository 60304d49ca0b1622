//! The rows of `list`: their JSON form (a stable interface) and their table.

use serde::Serialize;

use super::print_columns;
use crate::config::{Mac, Trunks};
use crate::ovsdb::keys;
use crate::ovsdb::tunnels::Tunnel;
use crate::ovsdb::vswitch::AttachedPort;
use crate::port::record::Record;
use crate::port::status::PortStatus;
use crate::port::target::Target;

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
    /// Row kind, tunnel settings, OVN binding.
    #[serde(flatten)]
    pub extra: ListExtra,
}

/// Extra keys of `list` rows (flattened into them): what kind of row it is,
/// a tunnel's settings, and a container port's OVN binding. Added keys
/// only, so consumers of the existing ones are unaffected.
#[derive(Debug, Default, Serialize)]
pub struct ListExtra {
    /// `container` or `tunnel`.
    pub kind: &'static str,
    pub tunnel_type: Option<String>,
    pub remote_ip: Option<String>,
    pub key: Option<String>,
    /// The OVN logical switch port the port is bound to (external_ids:iface-id).
    pub iface_id: Option<String>,
    /// `installed` once ovn-controller reports it (ovn-installed), else `pending`.
    pub ovn: Option<&'static str>,
}

impl ListExtra {
    pub fn container(p: &AttachedPort) -> Self {
        let binding = crate::port::ovn::binding(p);
        ListExtra {
            kind: "container",
            ovn: binding.as_ref().map(|(_, up)| if *up { "installed" } else { "pending" }),
            iface_id: binding.map(|(lsp, _)| lsp),
            ..Default::default()
        }
    }

    pub fn tunnel(t: &Tunnel) -> Self {
        ListExtra {
            kind: "tunnel",
            tunnel_type: Some(t.kind.clone()),
            remote_ip: t.remote_ip.clone(),
            key: t.key.clone(),
            ..Default::default()
        }
    }
}

impl Row {
    /// The row of a container port, from what OVSDB records and what its
    /// status says.
    pub fn port(st: &PortStatus) -> Row {
        let p = &st.port;
        let c = st.container.as_ref();
        let record = Record::from_external_ids(&p.external_ids);
        let ours = p.external_ids.get(keys::iface::CREATED_BY).is_some_and(|v| v == keys::CREATED_BY_US);
        Row {
            bridge: p.bridge.clone().unwrap_or_default(),
            port: p.name.clone(),
            container: p.container_ref().to_string(),
            container_name: c.map(|c| c.name.clone()),
            container_id: c.map(|c| c.short_id().to_string()),
            interface: st.inside.interface.clone().unwrap_or_else(|| p.container_iface().to_string()),
            vlan: p.tag,
            trunks: Trunks(p.trunks.iter().map(|v| *v as u16).collect()).to_string(),
            mac: st.inside.mac.map(|m| Mac(m).to_string()),
            mtu: st.inside.mtu,
            addresses: st.inside.addresses.clone(),
            gateways: record.gateways.iter().map(ToString::to_string).collect(),
            routes: record.routes.iter().map(ToString::to_string).collect(),
            ingress_rate: p.ingress_rate,
            ingress_burst: p.ingress_burst,
            persist: ours && record.persist && Target::parse(p.container_ref()).is_docker(),
            state: st.state.clone(),
            stale: st.stale,
            extra: ListExtra::container(p),
        }
    }

    /// The row of a tunnel (in JSON only; the table lists tunnels apart).
    pub fn tunnel(t: &Tunnel) -> Row {
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
}

/// Print container port rows as a table.
pub fn print_table(rows: &[Row]) {
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
    print_columns(&header, &cells);
}
