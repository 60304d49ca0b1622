//! The network plugin's mode=ovn rows in the OVN northbound database: a
//! Docker network is a logical switch shared by every host that creates it,
//! its gateway a port of a logical router, each address a logical switch
//! port named `SWITCH:IP` (reserved by the IPAM driver, then claimed by the
//! endpoint with its MAC).
//!
//! Every change is one transaction guarded by `wait` operations on what was
//! read, so that two hosts never both succeed where one should, and a
//! transaction replayed after a lost reply either fails its precondition
//! (the caller reads again and finds its own work done) or changes nothing.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::northbound::{select, LspRow, Northbound, LSP_COLUMNS};
use super::{data, keys, Cond, Op, OvsdbError, Precondition, Txn};

/// A logical switch as read.
#[derive(Debug, Clone)]
pub struct SwitchRow {
    pub uuid: String,
    pub external_ids: BTreeMap<String, String>,
}

impl SwitchRow {
    fn from_row(r: &Value) -> Self {
        SwitchRow {
            uuid: data::as_uuid(&r["_uuid"]).unwrap_or_default().to_string(),
            external_ids: data::as_map(&r["external_ids"]),
        }
    }

    /// The hosts (system-ids) that use the switch.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.external_ids.keys().filter_map(|k| k.strip_prefix(keys::ovn::HOST_PREFIX))
    }
}

/// A logical router as read.
#[derive(Debug, Clone)]
pub struct RouterRow {
    pub uuid: String,
    pub external_ids: BTreeMap<String, String>,
    pub ports: Vec<String>,
}

/// A logical router port as read: its name and its networks
/// ("IP/PREFIX", the gateway addresses it answers for).
#[derive(Debug, Clone)]
pub struct RouterPortRow {
    pub name: String,
    pub networks: Vec<String>,
}

/// The name of the logical switch port that holds address `ip` of `switch`.
pub fn address_lsp(switch: &str, ip: std::net::IpAddr) -> String {
    format!("{switch}:{ip}")
}

/// The name of the switch's port towards its router, and of the router's port.
pub fn router_lsp(switch: &str) -> String {
    format!("{switch}:router")
}
pub fn router_port(switch: &str) -> String {
    format!("lrp-{switch}")
}

/// The key of a host's use of a switch.
pub fn host_key(system_id: &str) -> String {
    format!("{}{system_id}", keys::ovn::HOST_PREFIX)
}

fn ids_value(ids: &BTreeMap<String, String>) -> Value {
    data::map(ids.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

impl Northbound {
    /// The logical switch named `name` (names are not unique in this table:
    /// more than one is refused by the caller as someone else's).
    pub async fn switches(&self, name: &str) -> Result<Vec<SwitchRow>, OvsdbError> {
        let res =
            self.transact(select("Logical_Switch", Cond::eq("name", name), vec!["_uuid", "external_ids"])).await?;
        Ok(data::rows(&res[0]).iter().map(SwitchRow::from_row).collect())
    }

    /// The logical switches the plugin made (mode=ovn networks).
    pub async fn plugin_switches(&self) -> Result<Vec<(String, SwitchRow)>, OvsdbError> {
        let cond = Cond::includes("external_ids", data::map([created_by()]));
        let res = self.transact(select("Logical_Switch", cond, vec!["_uuid", "name", "external_ids"])).await?;
        Ok(data::rows(&res[0])
            .iter()
            .map(|r| (r["name"].as_str().unwrap_or_default().to_string(), SwitchRow::from_row(r)))
            .collect())
    }

    /// The address ports that host `system_id` reserved or claimed.
    pub async fn host_lsps(&self, system_id: &str) -> Result<Vec<LspRow>, OvsdbError> {
        let cond = Cond::includes("external_ids", data::map([(keys::ovn::HOST, system_id)]));
        let res = self.transact(select("Logical_Switch_Port", cond, LSP_COLUMNS.into())).await?;
        Ok(data::rows(&res[0]).iter().map(LspRow::from_row).collect())
    }

    /// The logical routers named `name`.
    pub async fn routers(&self, name: &str) -> Result<Vec<RouterRow>, OvsdbError> {
        let cols = vec!["_uuid", "external_ids", "ports"];
        let res = self.transact(select("Logical_Router", Cond::eq("name", name), cols)).await?;
        Ok(data::rows(&res[0])
            .iter()
            .map(|r| RouterRow {
                uuid: data::as_uuid(&r["_uuid"]).unwrap_or_default().to_string(),
                external_ids: data::as_map(&r["external_ids"]),
                ports: data::uuids(&r["ports"]),
            })
            .collect())
    }

    /// The ports of router `r`: one select per port, in one transaction,
    /// rather than the whole table.
    pub async fn router_ports(&self, r: &RouterRow) -> Result<Vec<RouterPortRow>, OvsdbError> {
        if r.ports.is_empty() {
            return Ok(Vec::new());
        }
        let mut t = Txn::new();
        for uuid in &r.ports {
            let conds = vec![Cond::eq("_uuid", data::uuid(uuid))];
            t.push(Op::Select { table: "Logical_Router_Port", conds, columns: vec!["name", "networks"] });
        }
        let res = self.transact(t).await?;
        Ok(res
            .iter()
            .flat_map(data::rows)
            .map(|row| RouterPortRow {
                name: row["name"].as_str().unwrap_or_default().to_string(),
                networks: data::set_items(&row["networks"])
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect(),
            })
            .collect())
    }

    /// The uuid of the logical router port `name`.
    pub async fn router_port_uuid(&self, name: &str) -> Result<Option<String>, OvsdbError> {
        let res = self.transact(select("Logical_Router_Port", Cond::eq("name", name), vec!["_uuid"])).await?;
        Ok(data::rows(&res[0]).first().and_then(|r| data::as_uuid(&r["_uuid"]).map(str::to_string)))
    }

    /// The address ports of switch `switch` (see [`address_lsp`]).
    pub async fn address_lsps(&self, switch: &str) -> Result<Vec<LspRow>, OvsdbError> {
        let cond = Cond::includes("external_ids", data::map([(keys::ovn::SWITCH, switch)]));
        let res = self.transact(select("Logical_Switch_Port", cond, LSP_COLUMNS.into())).await?;
        Ok(data::rows(&res[0]).iter().map(LspRow::from_row).collect())
    }

    /// The logical switch ports made for endpoint `eid` (one, normally).
    pub async fn endpoint_lsps(&self, eid: &str) -> Result<Vec<LspRow>, OvsdbError> {
        let cond = Cond::includes("external_ids", data::map([(keys::lsp::FOR_PORT, eid)]));
        let res = self.transact(select("Logical_Switch_Port", cond, LSP_COLUMNS.into())).await?;
        Ok(data::rows(&res[0]).iter().map(LspRow::from_row).collect())
    }
}

/// A logical switch to make, with its router port.
#[derive(Clone, Copy)]
pub struct NewSwitch<'a> {
    pub name: &'a str,
    /// Subnet and gateway with its prefix length (`10.30.0.0/24`, `10.30.0.1/24`).
    pub subnet: &'a str,
    pub gateway: &'a str,
    /// The router's name, and its row if it exists (else it is made).
    pub router: &'a str,
    pub router_row: Option<&'a RouterRow>,
    /// The router port's MAC.
    pub mac: &'a str,
    /// This host's use: [`host_key`] and the Docker network ID.
    pub host_key: &'a str,
    pub network_id: &'a str,
}

fn wait_absent(table: &'static str, name: &str, what: Precondition) -> Op {
    Op::Wait { table, conds: vec![Cond::eq("name", name)], columns: vec!["name"], rows: vec![], what }
}

fn wait_switch(uuid: &str, name: &str) -> Op {
    Op::Wait {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(uuid))],
        columns: vec!["name"],
        rows: vec![json!({"name": name})],
        what: Precondition::SwitchExists(name.to_string()),
    }
}

fn wait_router_ports(r: &RouterRow, name: &str) -> Op {
    Op::Wait {
        table: "Logical_Router",
        conds: vec![Cond::eq("_uuid", data::uuid(&r.uuid))],
        columns: vec!["ports"],
        rows: vec![json!({"ports": data::set(r.ports.iter().map(|u| data::uuid(u)).collect())})],
        what: Precondition::RouterUnchanged(name.to_string()),
    }
}

fn created_by() -> (&'static str, &'static str) {
    (keys::iface::CREATED_BY, keys::CREATED_BY_PLUGIN)
}

/// Make the switch (none of its name may exist), its router port, and the
/// router if it does not exist (none of its name may either), with this
/// host's use recorded: one transaction.
pub fn create_switch_txn(s: &NewSwitch<'_>) -> Txn {
    let mut t = Txn::new();
    t.push(wait_absent("Logical_Switch", s.name, Precondition::SwitchAbsent(s.name.to_string())));
    let router = match s.router_row {
        // Its name, and its ports as they were when the caller checked
        // that none of them routes this subnet.
        Some(r) => {
            t.push(Op::Wait {
                table: "Logical_Router",
                conds: vec![Cond::eq("_uuid", data::uuid(&r.uuid))],
                columns: vec!["name", "ports"],
                rows: vec![
                    json!({"name": s.router, "ports": data::set(r.ports.iter().map(|u| data::uuid(u)).collect())}),
                ],
                what: Precondition::RouterUnchanged(s.router.to_string()),
            });
            data::uuid(&r.uuid)
        }
        None => {
            t.push(wait_absent("Logical_Router", s.router, Precondition::RouterAbsent(s.router.to_string())));
            t.push(Op::Insert {
                table: "Logical_Router",
                row: json!({"name": s.router, "external_ids": data::map([created_by()])}),
                uuid_name: Some("lr".into()),
            });
            data::named("lr")
        }
    };
    let lrp = router_port(s.name);
    t.push(Op::Insert {
        table: "Logical_Router_Port",
        row: json!({"name": lrp, "mac": s.mac, "networks": data::set(vec![json!(s.gateway)]),
                    "external_ids": data::map([created_by()])}),
        uuid_name: Some("lrp".into()),
    });
    t.push(Op::Mutate {
        table: "Logical_Router",
        conds: vec![Cond::eq("_uuid", router)],
        mutations: json!([["ports", "insert", data::set(vec![data::named("lrp")])]]),
    });
    t.push(Op::Insert {
        table: "Logical_Switch_Port",
        row: json!({"name": router_lsp(s.name), "type": "router", "addresses": data::set(vec![json!("router")]),
                    "options": data::map([("router-port", lrp.as_str())]),
                    "external_ids": data::map([created_by()])}),
        uuid_name: Some("rlsp".into()),
    });
    let ids = [
        created_by(),
        (keys::ovn::SUBNET, s.subnet),
        (keys::ovn::GATEWAY, s.gateway),
        (keys::ovn::ROUTER, s.router),
        (s.host_key, s.network_id),
    ];
    t.push(Op::Insert {
        table: "Logical_Switch",
        row: json!({"name": s.name, "ports": data::set(vec![data::named("rlsp")]), "external_ids": data::map(ids)}),
        uuid_name: None,
    });
    t
}

/// Record (again) this host's use of an existing switch; a no-op if done.
pub fn join_switch_txn(uuid: &str, name: &str, host_key: &str, network_id: &str) -> Txn {
    let mut t = Txn::new();
    t.push(wait_switch(uuid, name));
    t.push(Op::Mutate {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(uuid))],
        mutations: json!([
            ["external_ids", "delete", data::set(vec![json!(host_key)])],
            ["external_ids", "insert", data::map([(host_key, network_id)])]
        ]),
    });
    t
}

/// Remove this host's use of a switch that other hosts still use; a
/// no-op if done. Requires the use records as read, so that the last two
/// hosts leaving at once do not both think another one stays.
pub fn leave_switch_txn(sw: &SwitchRow, name: &str, host_key: &str) -> Txn {
    let mut t = Txn::new();
    t.push(wait_switch_ids(sw, name));
    t.push(Op::Mutate {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(&sw.uuid))],
        mutations: json!([["external_ids", "delete", data::set(vec![json!(host_key)])]]),
    });
    t
}

fn wait_switch_ids(sw: &SwitchRow, name: &str) -> Op {
    Op::Wait {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(&sw.uuid))],
        columns: vec!["external_ids"],
        rows: vec![json!({"external_ids": ids_value(&sw.external_ids)})],
        what: Precondition::SwitchUnchanged(name.to_string()),
    }
}

/// The last host leaves: delete the switch (its ports go with it), its
/// router port, and the router if the plugin made it and no other port
/// is left on it. Requires the switch's use records and the router's
/// ports as read.
pub fn remove_switch_txn(sw: &SwitchRow, name: &str, router: Option<(&RouterRow, &str)>, lrp: Option<&str>) -> Txn {
    let mut t = Txn::new();
    t.push(wait_switch_ids(sw, name));
    t.push(Op::Delete { table: "Logical_Switch", conds: vec![Cond::eq("_uuid", data::uuid(&sw.uuid))] });
    let Some((r, rname)) = router else { return t };
    t.push(wait_router_ports(r, rname));
    let others = r.ports.iter().filter(|p| Some(p.as_str()) != lrp).count();
    let ours = r.external_ids.get(keys::iface::CREATED_BY).map(String::as_str) == Some(keys::CREATED_BY_PLUGIN);
    if others == 0 && ours {
        t.push(Op::Delete { table: "Logical_Router", conds: vec![Cond::eq("_uuid", data::uuid(&r.uuid))] });
    } else if let Some(lrp) = lrp {
        t.push(Op::Mutate {
            table: "Logical_Router",
            conds: vec![Cond::eq("_uuid", data::uuid(&r.uuid))],
            mutations: json!([["ports", "delete", data::set(vec![data::uuid(lrp)])]]),
        });
    }
    t
}

/// An endpoint's MAC and address on an address port.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub mac: &'a str,
    pub ip: std::net::IpAddr,
}

impl Binding<'_> {
    fn addresses(&self) -> Value {
        data::set(vec![json!(format!("{} {}", self.mac, self.ip))])
    }
}

/// Requires that no port of `switch` has `mac` (MACs are unique per
/// switch, as the address ports make addresses).
fn wait_mac_free(switch: &str, mac: &str) -> Op {
    Op::Wait {
        table: "Logical_Switch_Port",
        conds: vec![Cond::includes("external_ids", data::map([(keys::ovn::SWITCH, switch), (keys::ovn::MAC, mac)]))],
        columns: vec!["name"],
        rows: vec![],
        what: Precondition::MacFree { mac: mac.to_string(), switch: switch.to_string() },
    }
}

/// A new address port `name` on switch `switch` (row `switch_uuid`): with
/// the endpoint's MAC and address, or none for a reservation. The name is
/// the address, so that the `wait` on it makes the address the caller's
/// alone.
pub fn add_address_lsp_txn(
    switch_uuid: &str,
    switch: &str,
    name: &str,
    binding: Option<Binding<'_>>,
    ids: &[(&str, &str)],
) -> Txn {
    let mut t = Txn::new();
    t.push(wait_switch(switch_uuid, switch));
    t.push(wait_absent("Logical_Switch_Port", name, Precondition::LspNameFree(name.to_string())));
    let mut all = vec![created_by(), (keys::ovn::SWITCH, switch)];
    all.extend_from_slice(ids);
    if let Some(b) = &binding {
        t.push(wait_mac_free(switch, b.mac));
        all.push((keys::ovn::MAC, b.mac));
    }
    t.push(Op::Insert {
        table: "Logical_Switch_Port",
        row: json!({"name": name, "addresses": binding.map_or_else(|| data::set(vec![]), |b| b.addresses()),
                    "external_ids": data::map(all)}),
        uuid_name: Some("lsp".into()),
    });
    t.push(Op::Mutate {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(switch_uuid))],
        mutations: json!([["ports", "insert", data::set(vec![data::named("lsp")])]]),
    });
    t
}

/// An endpoint takes a reserved address port of `switch`: its MAC and
/// address, and its ID as owner. Requires the port as read (still the
/// reservation) and the MAC free on the switch.
pub fn claim_lsp_txn(lsp: &LspRow, switch: &str, binding: Binding<'_>, eid: &str) -> Txn {
    let mut t = Txn::new();
    t.push(wait_mac_free(switch, binding.mac));
    t.push(Op::Wait {
        table: "Logical_Switch_Port",
        conds: vec![Cond::eq("_uuid", data::uuid(&lsp.uuid))],
        columns: vec!["external_ids"],
        rows: vec![json!({"external_ids": ids_value(&lsp.external_ids)})],
        what: Precondition::LspUnchanged(lsp.name.clone()),
    });
    let mut ids = lsp.external_ids.clone();
    ids.insert(keys::lsp::FOR_PORT.to_string(), eid.to_string());
    ids.insert(keys::ovn::MAC.to_string(), binding.mac.to_string());
    t.push(Op::Update {
        table: "Logical_Switch_Port",
        conds: vec![Cond::eq("_uuid", data::uuid(&lsp.uuid))],
        row: json!({"addresses": binding.addresses(), "external_ids": ids_value(&ids)}),
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> RouterRow {
        RouterRow {
            uuid: "r1".into(),
            external_ids: [("created_by".to_string(), keys::CREATED_BY_PLUGIN.to_string())].into_iter().collect(),
            ports: vec!["p1".into()],
        }
    }

    #[test]
    fn a_new_switch_requires_its_name_free_and_makes_the_router_if_absent() {
        let s = NewSwitch {
            name: "web",
            subnet: "10.30.0.0/24",
            gateway: "10.30.0.1/24",
            router: "rt",
            router_row: None,
            mac: "02:43:0a:1e:00:01",
            host_key: "ovs_docker_host:h1",
            network_id: "n1",
        };
        let p = create_switch_txn(&s).params(super::super::northbound::DB);
        assert_eq!(p[1]["op"], "wait");
        assert_eq!(p[1]["table"], "Logical_Switch");
        assert_eq!(p[1]["rows"], json!([]));
        assert_eq!(p[2]["table"], "Logical_Router");
        assert_eq!(p[3]["op"], "insert");
        let r = router();
        let p = create_switch_txn(&NewSwitch { router_row: Some(&r), ..s }).params("x");
        // The router's ports as read: an overlapping subnet added meanwhile
        // fails this, and the caller checks again.
        assert_eq!(p[2]["columns"], json!(["name", "ports"]));
        assert_eq!(p[2]["rows"], json!([{"name": "rt", "ports": ["set", [["uuid", "p1"]]]}]));
        assert!(p.as_array().unwrap().iter().all(|o| o["table"] != "Logical_Router" || o["op"] != "insert"));
    }

    #[test]
    fn the_last_host_removes_a_router_only_when_it_is_ours_and_empty() {
        let sw = SwitchRow { uuid: "s1".into(), external_ids: BTreeMap::new() };
        let r = router();
        let p = remove_switch_txn(&sw, "web", Some((&r, "rt")), Some("p1")).params("x");
        assert_eq!(p[4]["op"], "delete");
        let mut shared = router();
        shared.ports.push("p2".into());
        let p = remove_switch_txn(&sw, "web", Some((&shared, "rt")), Some("p1")).params("x");
        assert_eq!(p[4]["mutations"], json!([["ports", "delete", ["set", [["uuid", "p1"]]]]]));
    }

    #[test]
    fn an_address_port_requires_its_name_free() {
        let p = add_address_lsp_txn("s1", "web", "web:10.30.0.2", None, &[("k", "v")]).params("x");
        assert_eq!(p[2]["where"], json!([["name", "==", "web:10.30.0.2"]]));
        assert_eq!(p[3]["row"]["addresses"], json!(["set", []]));
        let l = LspRow {
            uuid: "l1".into(),
            name: "web:10.30.0.2".into(),
            external_ids: BTreeMap::new(),
            addresses: Vec::new(),
        };
        let b = Binding { mac: "02:42:0a:1e:00:02", ip: "10.30.0.2".parse().unwrap() };
        let p = claim_lsp_txn(&l, "web", b, "e1").params("x");
        assert_eq!(
            p[1]["where"],
            json!([["external_ids", "includes", ["map", [["ovs_docker_switch", "web"], ["ovs_docker_mac", b.mac]]]]])
        );
        assert_eq!(p[2]["rows"], json!([{"external_ids": ["map", []]}]));
        assert_eq!(p[3]["row"]["addresses"], json!(["set", ["02:42:0a:1e:00:02 10.30.0.2"]]));
        assert_eq!(p[3]["row"]["external_ids"], json!(["map", [["ovs_docker_mac", b.mac], ["ovs_docker_port", "e1"]]]));
    }
}
