//! Tunnel ports (VXLAN, GRE, Geneve...) as OVSDB holds them: an Interface
//! of a tunnel type with `options:remote_ip` (and `options:key`), in a Port
//! of a bridge.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::keys;
use super::vswitch::Vswitch;
use super::{data, Cond, Op, OvsdbError, Precondition, Txn};

/// Interface types that are tunnels (OVS has a few more kinds of tunnel
/// than `tunnel add` makes).
const TUNNEL_TYPES: [&str; 7] = ["vxlan", "gre", "geneve", "ip6gre", "stt", "gtpu", "bareudp"];

/// A tunnel port as found in OVSDB.
#[derive(Debug, Clone, Serialize)]
pub struct Tunnel {
    pub bridge: String,
    pub port: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub remote_ip: Option<String>,
    pub key: Option<String>,
    /// Who made it (`ovs-docker` for ours), from external_ids:created_by.
    pub created_by: Option<String>,
    /// ok, no OpenFlow port, or error: MESSAGE.
    pub state: String,
    /// The Port row, for `tunnel del`.
    #[serde(skip)]
    pub port_uuid: String,
}

impl Tunnel {
    pub fn is_ours(&self) -> bool {
        self.created_by.as_deref() == Some(keys::CREATED_BY_US)
    }
}

/// Every tunnel port (on `bridge` only, if given). One round trip when
/// there is none, which is the common case for add-port's MTU check, and
/// one pass over the Interface table (the `type` column has no index):
/// what is neither a plain system port nor an internal one (the bulk of any
/// large bridge) is read, and the tunnels kept.
impl Vswitch {
    pub async fn tunnels(&self, bridge: Option<&str>) -> Result<Vec<Tunnel>, OvsdbError> {
        let ovs = self;
        let res = ovs
            .select(vec![Op::Select {
                table: "Interface",
                conds: vec![Cond::ne("type", ""), Cond::ne("type", "internal")],
                columns: vec!["_uuid", "name", "type", "options", "external_ids", "ofport", "error"],
            }])
            .await?;
        let ifaces: Vec<serde_json::Value> = res
            .iter()
            .flat_map(data::rows)
            .filter(|i| i["type"].as_str().is_some_and(|t| TUNNEL_TYPES.contains(&t)))
            .collect();
        if ifaces.is_empty() {
            return Ok(Vec::new());
        }
        // Each interface's Port, then each Port's Bridge, in one transaction each.
        let uuids: Vec<&str> = ifaces.iter().map(|i| data::as_uuid(&i["_uuid"]).unwrap_or_default()).collect();
        let located = ovs.locate(&uuids, &[], true).await?;
        let mut out = Vec::new();
        // An Interface in no Port, or a Port on no bridge, is on no bridge.
        for (i, (port, bridge_name)) in ifaces.iter().zip(located) {
            let (Some(port), Some(bridge_name)) = (port, bridge_name) else { continue };
            if bridge.is_some_and(|want| want != bridge_name) {
                continue;
            }
            let options: BTreeMap<String, String> = data::as_map(&i["options"]);
            let ids = data::as_map(&i["external_ids"]);
            let error = data::as_opt_str(&i["error"]);
            let state = match (error, data::as_opt_int(&i["ofport"])) {
                (Some(e), _) => format!("error: {e}"),
                (None, Some(n)) if n > 0 => "ok".into(),
                _ => "no OpenFlow port".into(),
            };
            out.push(Tunnel {
                bridge: bridge_name,
                port: i["name"].as_str().unwrap_or_default().to_string(),
                kind: i["type"].as_str().unwrap_or_default().to_string(),
                remote_ip: options.get("remote_ip").cloned(),
                key: options.get("key").cloned(),
                created_by: ids.get(keys::iface::CREATED_BY).cloned(),
                state,
                port_uuid: data::as_uuid(&port["_uuid"]).unwrap_or_default().to_string(),
            });
        }
        Ok(out)
    }
}

/// Add the tunnel port, requiring that the bridge exists and the name is free.
pub fn add_tunnel_txn(bridge: &str, name: &str, kind: &str, options: &[(&str, &str)]) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Wait {
        table: "Bridge",
        conds: vec![Cond::eq("name", bridge)],
        columns: vec!["name"],
        rows: vec![json!({"name": bridge})],
        what: Precondition::BridgeExists(bridge.to_string()),
    });
    t.push(Op::Wait {
        table: "Interface",
        conds: vec![Cond::eq("name", name)],
        columns: vec!["name"],
        rows: vec![],
        what: Precondition::InterfaceNameFree(name.to_string()),
    });
    t.push(Op::Insert {
        table: "Interface",
        row: json!({
            "name": name,
            "type": kind,
            "options": data::map(options.iter().copied()),
            "external_ids": data::map([(keys::iface::CREATED_BY, keys::CREATED_BY_US)]),
        }),
        uuid_name: Some("iface".into()),
    });
    t.push(Op::Insert {
        table: "Port",
        row: json!({"name": name, "interfaces": data::named("iface")}),
        uuid_name: Some("port".into()),
    });
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("name", bridge)],
        mutations: json!([["ports", "insert", data::set(vec![data::named("port")])]]),
    });
    t
}

/// Remove the ports `port_uuids` (tunnels) from `bridge`.
pub fn del_ports_txn(bridge: &str, port_uuids: &[&str]) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("name", bridge)],
        mutations: json!([["ports", "delete", data::set(port_uuids.iter().map(|u| data::uuid(u)).collect())]]),
    });
    t
}
