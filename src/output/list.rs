//! The rows of `list`: their JSON form (a stable interface) and their table.

use serde::Serialize;

use super::print_columns;
use crate::config::{Mac, Trunks};
use crate::ovsdb::keys;
use crate::ovsdb::tunnels::Tunnel;
use crate::ovsdb::vswitch::AttachedPort;
use crate::port::find::short;
use crate::port::record::Record;
use crate::port::status::PortStatus;
use crate::port::target::Target;

/// Every key of a `list --format json` row: (key, JSON type, meaning). The
/// man page prints this table and a test holds README and [`Row`] to it.
pub const JSON_KEYS: &[(&str, &str, &str)] = &[
    ("bridge", "string", "the bridge"),
    ("port", "string", "the OVS port (the host end of the veth)"),
    ("container", "string", "the container as recorded at add time (name, ID, netns:PATH or pid:PID); for a network plugin port its container's name, or empty while not joined"),
    ("container_name", "string or null", "the container's name now (null: unknown to Docker)"),
    ("container_id", "string or null", "its short (12-digit) ID now"),
    ("interface", "string", "the interface inside the container"),
    ("vlan", "number or null", "the access VLAN (Port.tag), or with trunks the native VLAN"),
    ("trunks", "array of numbers", "the trunked VLANs (empty: not a trunk)"),
    ("mac", "string or null", "the interface's MAC, read inside the container, else as recorded"),
    ("mtu", "number or null", "its MTU, likewise"),
    ("addresses", "array of strings", "its addresses as ADDRESS/PLEN, likewise (link-local IPv6 left out)"),
    ("gateways", "array of strings", "the default gateways recorded by add-port"),
    ("routes", "array of strings", "the further routes recorded by add-port (DEST/PLEN or DEST/PLEN,via=GW)"),
    ("ingress_rate", "number", "the rate limit in kbit/s (0: none)"),
    ("ingress_burst", "number", "its burst in kbit"),
    ("persist", "boolean", "whether watch re-creates the port when its container restarts"),
    ("state", "string", "the state (see LIST STATES)"),
    ("stale", "boolean", "a stale port: what add-port reclaims and gc removes"),
    ("kind", "string", "container or tunnel"),
    ("tunnel_type", "string or null", "a tunnel's type: vxlan, gre, geneve"),
    ("remote_ip", "string or null", "a tunnel's remote address"),
    ("key", "string or null", "a tunnel's key (VNI)"),
    ("iface_id", "string or null", "the OVN logical switch port the port is bound to"),
    ("ovn", "string or null", "installed or pending: the OVN binding's state"),
    ("endpoint_id", "string or null", "the Docker endpoint of a network plugin port"),
];

/// The states of a container port in `list`: (state, meaning).
pub const STATES: &[(&str, &str)] = &[
    ("ok", "attached and working"),
    ("container stopped", "stale: the container is not running (its port keeps its settings)"),
    ("container gone", "stale: Docker no longer knows the container, or the namespace is gone"),
    ("link missing", "stale: the host end of the veth is gone"),
    ("interface missing", "the interface is gone from the container"),
    ("no OpenFlow port", "ovs-vswitchd has not, or could not, put the port in the datapath"),
    ("error: MESSAGE", "ovs-vswitchd's error for the interface"),
    ("unknown", "the interface could not be read inside the container (-v says why)"),
    ("not joined", "a network plugin port whose container Docker does not list (yet)"),
];

/// One row of the listing; the JSON field names are a stable interface.
#[derive(Debug, Serialize)]
pub struct Row {
    pub bridge: String,
    pub port: String,
    /// The container as recorded when the port was added (`container_id`);
    /// for a port of the network plugin, its container's name once Docker
    /// lists it, else empty (see `endpoint_id`).
    pub container: String,
    pub container_name: Option<String>,
    pub container_id: Option<String>,
    pub interface: String,
    /// The access VLAN (Port.tag), or with `trunks` the native VLAN.
    pub vlan: Option<i64>,
    /// Trunked VLANs, each one (empty: not a trunk).
    pub trunks: Vec<u16>,
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
    /// The Docker endpoint of a port of the network plugin.
    pub endpoint_id: Option<String>,
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
            endpoint_id: p.external_ids.get(keys::iface::ENDPOINT_ID).cloned(),
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
        let plugin = p.external_ids.contains_key(keys::iface::ENDPOINT_ID);
        Row {
            bridge: p.bridge.clone().unwrap_or_default(),
            port: p.name.clone(),
            container: match (plugin, c) {
                (false, _) => p.container_ref().to_string(),
                (true, Some(c)) => c.name.clone(),
                (true, None) => String::new(),
            },
            container_name: c.map(|c| c.name.clone()),
            container_id: c.map(|c| c.short_id().to_string()),
            interface: st.inside.interface.clone().unwrap_or_else(|| p.container_iface().to_string()),
            vlan: p.tag,
            trunks: p.trunks.iter().map(|v| *v as u16).collect(),
            mac: st.inside.mac.map(|m| Mac(m).to_string()).or_else(|| recorded_mac(p, &record)),
            mtu: st.inside.mtu.or(record.mtu),
            addresses: if st.inside.mac.is_some() {
                st.inside.addresses.clone()
            } else {
                recorded_addresses(p, &record)
            },
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
            trunks: Vec::new(),
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

/// The MAC recorded with a port (by add-port, or the plugin's endpoint):
/// what `list` shows when the interface cannot be read (a stopped
/// container keeps its settings and gets them back on restart).
fn recorded_mac(p: &AttachedPort, record: &Record) -> Option<String> {
    record.mac.map(|m| m.to_string()).or_else(|| p.external_ids.get(keys::iface::ENDPOINT_MAC).cloned())
}

/// The addresses recorded with a port, as [`recorded_mac`].
fn recorded_addresses(p: &AttachedPort, record: &Record) -> Vec<String> {
    if !record.addresses.is_empty() {
        return record.addresses.iter().map(ToString::to_string).collect();
    }
    let plugin = p.external_ids.get(keys::iface::ENDPOINT_ADDRESSES).map(String::as_str).unwrap_or_default();
    plugin.split(',').filter(|a| !a.is_empty()).map(str::to_string).collect()
}

/// A rate limit as the table shows it: `1000kbit/s`, or `-` for none.
fn rate_cell(r: &Row) -> String {
    match r.ingress_rate {
        0 => "-".into(),
        rate => format!("{rate}kbit/s"),
    }
}

/// Print container port rows as a table.
pub fn print_table(rows: &[Row]) {
    let mut header =
        vec!["BRIDGE", "PORT", "CONTAINER", "ID", "INTERFACE", "VLAN", "MAC", "ADDRESSES", "RATE", "STATE"];
    // The OVN column only when some port is bound to OVN.
    let ovn = rows.iter().any(|r| r.extra.iface_id.is_some());
    if ovn {
        header.insert(9, "OVN");
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.bridge.clone(),
                r.port.clone(),
                r.container_name
                    .clone()
                    .or_else(|| Some(r.container.clone()).filter(|c| !c.is_empty()))
                    .unwrap_or_else(|| {
                        r.extra.endpoint_id.as_deref().map_or("-".into(), |e| format!("endpoint {}", short(e)))
                    }),
                r.container_id.clone().unwrap_or_else(|| "-".into()),
                r.interface.clone(),
                vlan_cell(r.vlan, &r.trunks),
                r.mac.clone().unwrap_or_else(|| "-".into()),
                if r.addresses.is_empty() { "-".into() } else { r.addresses.join(",") },
                rate_cell(r),
                if r.stale { format!("stale: {}", r.state) } else { r.state.clone() },
            ];
            if ovn {
                let binding = match (&r.extra.iface_id, r.extra.ovn) {
                    (Some(lsp), Some(state)) => format!("{lsp}:{state}"),
                    _ => "-".into(),
                };
                cells.insert(9, binding);
            }
            cells
        })
        .collect();
    print_columns(&header, &cells);
}

/// VLAN settings as the table shows them: `10`, `trunk 10,20-30`,
/// `5+trunk 10,20`, or `-`.
fn vlan_cell(vlan: Option<i64>, trunks: &[u16]) -> String {
    let t = Trunks(trunks.to_vec()).to_string();
    match (vlan, t.as_str()) {
        (None, "") => "-".into(),
        (Some(v), "") => v.to_string(),
        (None, t) => format!("trunk {t}"),
        (Some(v), t) => format!("{v}+trunk {t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented keys are exactly the keys a row has.
    #[test]
    fn json_keys_are_documented() {
        let t = Tunnel {
            bridge: "br0".into(),
            port: "vxlan-0a000002".into(),
            kind: "vxlan".into(),
            remote_ip: Some("10.0.0.2".into()),
            key: None,
            created_by: Some("ovs-docker".into()),
            state: "ok".into(),
            port_uuid: "u".into(),
        };
        let v = serde_json::to_value(Row::tunnel(&t)).unwrap();
        let mut have: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want: Vec<&str> = JSON_KEYS.iter().map(|k| k.0).collect();
        have.sort_unstable();
        want.sort_unstable();
        assert_eq!(have, want);
        assert!(v["trunks"].is_array());
    }

    /// README documents every key with its type, and every state.
    #[test]
    fn readme_documents_keys_and_states() {
        let readme = include_str!("../../README.md");
        for (key, ty, _) in JSON_KEYS {
            assert!(readme.contains(&format!("| `{key}` | {ty} |")), "README lacks the row of key {key} ({ty})");
        }
        for (state, _) in STATES {
            assert!(readme.contains(&format!("`{state}`")), "README lacks state {state}");
        }
    }
}
