//! The network plugin's rows: a Docker network is its Bridge row, whose
//! external_ids carry the network's ID and settings ([`keys::bridge`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::keys;
use super::vswitch::{insert_bridge, NewBridge, Vswitch};
use super::{data, Cond, Op, OvsdbError, Precondition, Txn};

/// A bridge as the plugin reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeRow {
    pub uuid: String,
    pub name: String,
    pub external_ids: BTreeMap<String, String>,
}

impl BridgeRow {
    fn from_row(row: &Value) -> Self {
        BridgeRow {
            uuid: data::as_uuid(&row["_uuid"]).unwrap_or_default().to_string(),
            name: row["name"].as_str().unwrap_or_default().to_string(),
            external_ids: data::as_map(&row["external_ids"]),
        }
    }

    /// Whether the network plugin made the bridge (and deletes it with its
    /// network), rather than being given an existing one.
    pub fn made_by_plugin(&self) -> bool {
        self.external_ids.get(keys::bridge::CREATED_BY).map(String::as_str) == Some(keys::CREATED_BY_PLUGIN)
    }

    /// The Docker network it carries, if any.
    pub fn network_id(&self) -> Option<&str> {
        self.external_ids.get(keys::bridge::NETWORK_ID).map(String::as_str)
    }
}

const BRIDGE_COLUMNS: [&str; 3] = ["_uuid", "name", "external_ids"];

impl Vswitch {
    /// The bridge that carries Docker network `id`.
    pub async fn network_bridge(&self, id: &str) -> Result<Option<BridgeRow>, OvsdbError> {
        self.bridge_where(Cond::includes("external_ids", data::map([(keys::bridge::NETWORK_ID, id)]))).await
    }

    /// The bridge named `name`.
    pub async fn bridge_named(&self, name: &str) -> Result<Option<BridgeRow>, OvsdbError> {
        self.bridge_where(Cond::eq("name", name)).await
    }

    async fn bridge_where(&self, cond: Cond) -> Result<Option<BridgeRow>, OvsdbError> {
        let res = self
            .select(vec![Op::Select { table: "Bridge", conds: vec![cond], columns: BRIDGE_COLUMNS.to_vec() }])
            .await?;
        Ok(data::rows(&res[0]).first().map(BridgeRow::from_row))
    }

    /// Every bridge.
    pub async fn bridges(&self) -> Result<Vec<BridgeRow>, OvsdbError> {
        let res =
            self.select(vec![Op::Select { table: "Bridge", conds: vec![], columns: BRIDGE_COLUMNS.to_vec() }]).await?;
        Ok(data::rows(&res[0]).iter().map(BridgeRow::from_row).collect())
    }

    /// The uuid of the Port named `name`.
    pub async fn port_uuid(&self, name: &str) -> Result<Option<String>, OvsdbError> {
        let res = self
            .select(vec![Op::Select { table: "Port", conds: vec![Cond::eq("name", name)], columns: vec!["_uuid"] }])
            .await?;
        Ok(data::rows(&res[0]).first().and_then(|r| data::as_uuid(&r["_uuid"]).map(str::to_string)))
    }
}

/// A network's bridge to make, or to take over.
pub struct NetworkBridge<'a> {
    pub name: &'a str,
    /// The network's external_ids (ID and settings).
    pub ids: Vec<(&'static str, String)>,
    /// A host interface to add to it as a port (flat mode's uplink).
    pub uplink: Option<&'a str>,
    /// When the bridge exists: as it was read (the transaction requires it
    /// unchanged). None: the transaction creates it, marked as the plugin's.
    pub existing: Option<&'a BridgeRow>,
    pub datapath_type: Option<&'a str>,
    /// Columns of a new bridge's internal Interface (mtu_request) and Port (tag).
    pub mtu: Option<u32>,
    pub vlan: Option<u16>,
}

/// Create the bridge of a network (as `ovs-vsctl add-br` would), or record
/// the network on an existing one, in one transaction.
pub fn create_network_txn(b: &NetworkBridge<'_>) -> Txn {
    let mut t = Txn::new();
    let mut new_ports = Vec::new();
    if let Some(up) = b.uplink {
        t.push(Op::Wait {
            table: "Interface",
            conds: vec![Cond::eq("name", up)],
            columns: vec!["name"],
            rows: vec![],
            what: Precondition::NotAPort(up.to_string()),
        });
        t.push(Op::Insert { table: "Interface", row: json!({"name": up}), uuid_name: Some("bind_iface".into()) });
        t.push(Op::Insert {
            table: "Port",
            row: json!({"name": up, "interfaces": data::named("bind_iface")}),
            uuid_name: Some("bind_port".into()),
        });
        new_ports.push(data::named("bind_port"));
    }
    let name = b.name;
    let mut ids = b.ids.clone();
    match b.existing {
        Some(row) => {
            t.push(Op::Wait {
                table: "Bridge",
                conds: vec![Cond::eq("name", name)],
                columns: vec!["external_ids"],
                rows: vec![
                    json!({"external_ids": data::map(row.external_ids.iter().map(|(k, v)| (k.as_str(), v.as_str())))}),
                ],
                what: Precondition::BridgeUnchanged(name.to_string()),
            });
            let map = data::map(ids.iter().map(|(k, v)| (*k, v.as_str())));
            let mut mutations = vec![json!(["external_ids", "insert", map])];
            if !new_ports.is_empty() {
                mutations.push(json!(["ports", "insert", data::set(new_ports)]));
            }
            t.push(Op::Mutate { table: "Bridge", conds: vec![Cond::eq("name", name)], mutations: json!(mutations) });
        }
        None => {
            t.push(Op::Wait {
                table: "Bridge",
                conds: vec![Cond::eq("name", name)],
                columns: vec!["name"],
                rows: vec![],
                what: Precondition::BridgeAbsent(name.to_string()),
            });
            ids.push((keys::bridge::CREATED_BY, keys::CREATED_BY_PLUGIN.to_string()));
            // The gateway sits on the internal port: on the network's
            // VLAN, or it would receive the containers' frames tagged.
            insert_bridge(
                &mut t,
                NewBridge {
                    name,
                    datapath_type: b.datapath_type,
                    iface_columns: b.mtu.map_or_else(|| json!({}), |m| json!({"mtu_request": m})),
                    port_columns: b.vlan.map_or_else(|| json!({}), |tag| json!({"tag": tag})),
                    other_ports: new_ports,
                    external_ids: data::map(ids.iter().map(|(k, v)| (*k, v.as_str()))),
                },
            );
        }
    }
    t
}

/// Remove a network from its bridge `row`: the bridge itself if the plugin
/// made it, else the network's external_ids and its uplink port (`uplink_port`, a Port uuid).
pub fn delete_network_txn(row: &BridgeRow, uplink_port: Option<&str>) -> Txn {
    let mut t = Txn::new();
    if row.made_by_plugin() {
        t.push(Op::Mutate {
            table: "Open_vSwitch",
            conds: vec![],
            mutations: json!([["bridges", "delete", data::set(vec![data::uuid(&row.uuid)])]]),
        });
        return t;
    }
    let mut mutations = vec![];
    if let Some(u) = uplink_port {
        mutations.push(json!(["ports", "delete", data::set(vec![data::uuid(u)])]));
    }
    let keys: Vec<Value> =
        std::iter::once(keys::bridge::NETWORK_ID).chain(keys::bridge::NETWORK_SETTINGS).map(|k| json!(k)).collect();
    mutations.push(json!(["external_ids", "delete", data::set(keys)]));
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("_uuid", data::uuid(&row.uuid))],
        mutations: json!(mutations),
    });
    t
}

/// Set (or replace) one external_ids key of an Interface.
pub fn set_iface_id_txn(iface_uuid: &str, key: &str, value: &str) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Mutate {
        table: "Interface",
        conds: vec![Cond::eq("_uuid", data::uuid(iface_uuid))],
        mutations: json!([
            ["external_ids", "delete", data::set(vec![json!(key)])],
            ["external_ids", "insert", data::map([(key, value)])]
        ]),
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ids: &[(&str, &str)]) -> BridgeRow {
        BridgeRow {
            uuid: "b1".into(),
            name: "br-app".into(),
            external_ids: ids.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn a_network_of_its_own_takes_its_bridge_with_it() {
        let t = delete_network_txn(&row(&[("created_by", "ovs-docker-plugin"), ("docker_network_id", "n")]), None);
        let p = t.params("Open_vSwitch");
        assert_eq!(p[1]["table"], "Open_vSwitch");
        assert_eq!(p[1]["mutations"][0], json!(["bridges", "delete", ["set", [["uuid", "b1"]]]]));
        // On someone else's bridge: only what the network added goes.
        let t = delete_network_txn(&row(&[("docker_network_id", "n")]), Some("up1"));
        let p = t.params("Open_vSwitch");
        assert_eq!(p[1]["table"], "Bridge");
        assert_eq!(p[1]["mutations"][0], json!(["ports", "delete", ["set", [["uuid", "up1"]]]]));
        assert_eq!(p[1]["mutations"][1][2][1].as_array().unwrap().len(), 1 + keys::bridge::NETWORK_SETTINGS.len());
    }

    #[test]
    fn an_existing_bridge_must_be_unchanged() {
        let existing = row(&[("a", "b")]);
        let b = NetworkBridge {
            name: "br-app",
            ids: vec![(keys::bridge::NETWORK_ID, "n".into())],
            uplink: Some("eth9"),
            existing: Some(&existing),
            datapath_type: None,
            mtu: None,
            vlan: None,
        };
        let t = create_network_txn(&b);
        let whats: Vec<_> = t
            .ops
            .iter()
            .filter_map(|o| if let Op::Wait { what, .. } = o { Some(what.clone()) } else { None })
            .collect();
        assert_eq!(whats, [Precondition::NotAPort("eth9".into()), Precondition::BridgeUnchanged("br-app".into())]);
    }
}
