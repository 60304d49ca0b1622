//! Typed helpers for the Open_vSwitch database: finding container ports,
//! building the add/delete/tag transactions, and committing a change the way
//! ovs-vsctl does (bump `next_cfg`, then wait until ovs-vswitchd reports it
//! in `cur_cfg`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::keys;
use super::ops::data;
use super::{Client, Cond, Op, OvsdbError, Precondition, Txn};

pub const DB: &str = "Open_vSwitch";

/// The Interface columns [`AttachedPort`] is read from.
const ATTACHED_COLUMNS: [&str; 7] =
    ["_uuid", "name", "external_ids", "ofport", "error", "ingress_policing_rate", "ingress_policing_burst"];

/// An Interface row that carries container external_ids, with its Port and
/// Bridge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachedPort {
    pub iface_uuid: String,
    /// The port (and interface) name, the host end of the veth.
    pub name: String,
    pub external_ids: BTreeMap<String, String>,
    pub ofport: Option<i64>,
    pub error: Option<String>,
    pub port_uuid: Option<String>,
    pub bridge: Option<String>,
    pub tag: Option<i64>,
    pub trunks: Vec<i64>,
    pub vlan_mode: Option<String>,
    /// Interface.ingress_policing_rate and _burst (kbit/s, kbit; 0: none).
    pub ingress_rate: i64,
    pub ingress_burst: i64,
}

impl AttachedPort {
    pub fn container_ref(&self) -> &str {
        self.external_ids.get(keys::iface::CONTAINER_ID).map(String::as_str).unwrap_or("")
    }
    pub fn container_iface(&self) -> &str {
        self.external_ids.get(keys::iface::CONTAINER_IFACE).map(String::as_str).unwrap_or("")
    }
    pub fn full_id(&self) -> Option<&str> {
        self.external_ids.get(keys::iface::FULL_ID).map(String::as_str)
    }
}

/// What `add-port` does about the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgePlan {
    /// It exists; the transaction requires that it still does.
    Exists,
    /// It does not; the transaction creates it (as `ovs-vsctl add-br`
    /// would) and requires that nobody else did meanwhile.
    Create { datapath_type: Option<String> },
}

/// A condition the transaction requires: no row matches `conds`.
#[derive(Debug, Clone)]
pub struct Absent {
    pub table: &'static str,
    pub conds: Vec<Cond>,
    pub what: Precondition,
}

/// The OVSDB side of a new container port.
#[derive(Debug, Clone)]
pub struct NewPort {
    pub bridge: String,
    pub name: String,
    pub external_ids: Vec<(&'static str, String)>,
    /// More external_ids, whose keys are made at run time (the record).
    pub extra_ids: Vec<(String, String)>,
    pub tag: Option<u16>,
    /// Further columns of the Port (trunks, vlan_mode) and Interface
    /// (ingress policing) rows, as OVSDB data.
    pub port_columns: serde_json::Map<String, Value>,
    pub iface_columns: serde_json::Map<String, Value>,
    /// A stale Port row (UUID) this one replaces in the same transaction,
    /// so that its record is never lost in between (see `watch`).
    pub replaces: Option<String>,
}

pub struct Vswitch {
    client: Client,
    /// ovs-vswitchd's `cur_cfg`, followed through a monitor once a change
    /// has to be waited for.
    cur_cfg: Option<i64>,
    /// Monitors opened by [`Vswitch::commit_watching`], for unique IDs (a
    /// retried transaction opens another).
    watches: u32,
}

impl Vswitch {
    pub fn new(client: Client) -> Self {
        Vswitch { client, cur_cfg: None, watches: 0 }
    }

    /// Run a read-only transaction of selects; one round trip.
    pub async fn select(&self, ops: Vec<Op>) -> Result<Vec<Value>, OvsdbError> {
        let txn = Txn { ops };
        let res = self.client.request("transact", txn.params(DB)).await?;
        txn.check(res)
    }

    /// Whether an Interface row named `name` exists.
    pub async fn has_interface(&self, name: &str) -> Result<bool, OvsdbError> {
        let res = self
            .select(vec![Op::Select {
                table: "Interface",
                conds: vec![Cond::eq("name", name)],
                columns: vec!["_uuid"],
            }])
            .await?;
        Ok(!data::rows(&res[0]).is_empty())
    }

    /// This host's `system-id` (Open_vSwitch external_ids), as ovn-controller
    /// names its chassis.
    pub async fn system_id(&self) -> Result<Option<String>, OvsdbError> {
        let res = self
            .select(vec![Op::Select { table: "Open_vSwitch", conds: vec![], columns: vec!["external_ids"] }])
            .await?;
        Ok(data::rows(&res[0]).first().and_then(|r| data::as_map(&r["external_ids"]).remove("system-id")))
    }

    /// The datapath type of an existing bridge (`""` means the default).
    pub async fn bridge_datapath_type(&self, bridge: &str) -> Result<Option<String>, OvsdbError> {
        let res = self
            .select(vec![Op::Select {
                table: "Bridge",
                conds: vec![Cond::eq("name", bridge)],
                columns: vec!["datapath_type"],
            }])
            .await?;
        Ok(data::rows(&res[0]).first().and_then(|r| r["datapath_type"].as_str().map(str::to_string)))
    }

    /// The container ports that claim one of `ips` on `bridge` (see
    /// [`keys::iface::address_key`]), in one round trip.
    pub async fn address_users(
        &self,
        bridge: &str,
        ips: &[std::net::IpAddr],
    ) -> Result<Vec<(std::net::IpAddr, AttachedPort)>, OvsdbError> {
        if ips.is_empty() {
            return Ok(Vec::new());
        }
        let ops = ips
            .iter()
            .map(|ip| Op::Select {
                table: "Interface",
                conds: vec![Cond::includes(
                    "external_ids",
                    data::map([(keys::iface::address_key(*ip).as_str(), bridge)]),
                )],
                columns: ATTACHED_COLUMNS.to_vec(),
            })
            .collect();
        let res = self.select(ops).await?;
        Ok(ips
            .iter()
            .zip(res.iter())
            .flat_map(|(ip, r)| data::rows(r).iter().filter_map(attached_port).map(|p| (*ip, p)).collect::<Vec<_>>())
            .collect())
    }

    /// Container ports whose Interface row matches `conds` (all container
    /// ports if `conds` is empty), with their Port and Bridge. Two round
    /// trips, whatever the number of ports on the bridges.
    pub async fn find_ports(&self, conds: Vec<Cond>) -> Result<Vec<AttachedPort>, OvsdbError> {
        // A full listing reads every bridge's port list along; a targeted
        // lookup asks only for the bridges of the ports it found, so its
        // cost does not grow with the number of ports on the bridges.
        let everything = conds.is_empty();
        let mut ops = vec![Op::Select { table: "Interface", conds, columns: ATTACHED_COLUMNS.to_vec() }];
        if everything {
            ops.push(Op::Select { table: "Bridge", conds: vec![], columns: vec!["name", "ports"] });
        }
        let res = self.select(ops).await?;
        let mut ports: Vec<AttachedPort> = data::rows(&res[0]).iter().filter_map(attached_port).collect();
        if ports.is_empty() {
            return Ok(ports);
        }
        let iface_uuids: Vec<&str> = ports.iter().map(|p| p.iface_uuid.as_str()).collect();
        // A full listing has every bridge's ports already.
        let located = self.locate(&iface_uuids, &["tag", "trunks", "vlan_mode"], !everything).await?;
        let mut bridge_of: BTreeMap<String, String> = BTreeMap::new();
        if everything {
            for b in data::rows(&res[1]) {
                let Some(name) = b["name"].as_str() else { continue };
                for p in data::uuids(&b["ports"]) {
                    bridge_of.insert(p, name.to_string());
                }
            }
        }
        for (p, (row, bridge)) in ports.iter_mut().zip(located) {
            let Some(row) = row else { continue };
            p.port_uuid = data::as_uuid(&row["_uuid"]).map(str::to_string);
            p.tag = data::as_opt_int(&row["tag"]);
            p.trunks = data::set_items(&row["trunks"]).iter().filter_map(|v| v.as_i64()).collect();
            p.vlan_mode = data::as_opt_str(&row["vlan_mode"]);
            p.bridge = bridge.or_else(|| p.port_uuid.as_ref().and_then(|u| bridge_of.get(u).cloned()));
        }
        Ok(ports)
    }

    /// For each Interface (by uuid): the Port that holds it (with `_uuid`
    /// and `port_columns`), and, if `with_bridges`, the name of the Bridge
    /// that holds that Port. One round trip each for Ports and Bridges,
    /// whatever the number of ports on the bridges. An Interface in no
    /// Port (about to be collected) gets (None, None).
    pub async fn locate(
        &self,
        iface_uuids: &[&str],
        port_columns: &[&'static str],
        with_bridges: bool,
    ) -> Result<Vec<(Option<Value>, Option<String>)>, OvsdbError> {
        if iface_uuids.is_empty() {
            return Ok(Vec::new());
        }
        let columns: Vec<&'static str> = std::iter::once("_uuid").chain(port_columns.iter().copied()).collect();
        let port_ops = iface_uuids
            .iter()
            .map(|u| Op::Select {
                table: "Port",
                conds: vec![Cond::includes("interfaces", data::uuid(u))],
                columns: columns.clone(),
            })
            .collect();
        let port_rows: Vec<Option<Value>> =
            self.select(port_ops).await?.iter().map(|r| data::rows(r).into_iter().next()).collect();
        let port_uuids: Vec<&str> =
            port_rows.iter().filter_map(|r| r.as_ref().and_then(|r| data::as_uuid(&r["_uuid"]))).collect();
        let mut bridge_of: BTreeMap<String, String> = BTreeMap::new();
        if with_bridges && !port_uuids.is_empty() {
            let ops = port_uuids
                .iter()
                .map(|u| Op::Select {
                    table: "Bridge",
                    conds: vec![Cond::includes("ports", data::uuid(u))],
                    columns: vec!["name"],
                })
                .collect();
            let res = self.select(ops).await?;
            for (u, r) in port_uuids.iter().zip(res.iter()) {
                if let Some(name) = data::rows(r).first().and_then(|b| b["name"].as_str().map(str::to_string)) {
                    bridge_of.insert(u.to_string(), name);
                }
            }
        }
        Ok(port_rows
            .into_iter()
            .map(|row| {
                let bridge =
                    row.as_ref().and_then(|r| data::as_uuid(&r["_uuid"])).and_then(|u| bridge_of.get(u).cloned());
                (row, bridge)
            })
            .collect())
    }

    /// Commit `txn`, which adds the interface `iface`, bump `next_cfg` in
    /// the same transaction and wait until ovs-vswitchd has applied it, as
    /// [`Vswitch::commit`] does; return what ovs-vswitchd then recorded for
    /// the interface. One conditional monitor (sent ahead of the
    /// transaction) follows both `cur_cfg` and that interface's row:
    /// ovs-vswitchd writes the interface's `ofport` or `error` in the very
    /// transaction that raises `cur_cfg`, so the update that ends the wait
    /// carries them, and no lookup is needed afterwards.
    pub async fn commit_watching(&mut self, mut txn: Txn, iface: &str) -> Result<(Vec<Value>, IfaceState), OvsdbError> {
        let cfg_index = bump_next_cfg(&mut txn);
        self.watches += 1;
        let id = format!("ovs-docker-iface-{}", self.watches);
        let params = json!([DB, id, {
            "Open_vSwitch": [{"columns": ["cur_cfg"]}],
            "Interface": [{"columns": ["ofport", "error"], "where": [["name", "==", iface]]}],
        }]);
        let monitor = self.client.send("monitor_cond", params).await?;
        let reply = self.client.request("transact", txn.params(DB)).await;
        let mut watch = Watch::default();
        watch.apply(&self.client.await_reply("monitor_cond", monitor).await?);
        let results = txn.check(reply?)?;
        let target = next_cfg_in(&results[cfg_index])?;
        let deadline = tokio::time::Instant::now() + self.client.timeout();
        while watch.cur_cfg.is_none_or(|c| c < target) {
            match self.client.next_notification(deadline).await {
                Some((method, params)) if method == "update2" && params.get(0) == Some(&json!(id)) => {
                    watch.apply(&params[1]);
                }
                // The plain cur_cfg monitor of an earlier wait on this connection.
                Some((method, params)) if method == "update" => {
                    if let Some(c) = params.get(1).and_then(cur_cfg_in) {
                        self.cur_cfg = Some(c);
                    }
                }
                Some(_) => {}
                None => return Err(OvsdbError::VswitchdTimeout),
            }
        }
        Ok((results, watch.iface))
    }

    /// Commit `txn`. With `wait`, bump `next_cfg` in the same transaction
    /// and return only once ovs-vswitchd has applied it, as ovs-vsctl does.
    pub async fn commit(&mut self, txn: Txn, wait: bool) -> Result<Vec<Value>, OvsdbError> {
        let (results, target) = self.submit(txn, wait).await?;
        if let Some(t) = target {
            self.wait_cfg(t).await?;
        }
        Ok(results)
    }

    /// Commit `txn` and, with `wait`, return the `next_cfg` to hand to
    /// [`Vswitch::wait_cfg`] later, so that other work can be done while
    /// ovs-vswitchd applies the change.
    pub async fn submit(&mut self, mut txn: Txn, wait: bool) -> Result<(Vec<Value>, Option<i64>), OvsdbError> {
        let cfg_index = wait.then(|| bump_next_cfg(&mut txn));
        // The monitor goes out first, pipelined with the transaction, so no
        // update of cur_cfg can slip between the two.
        let monitor = if wait && self.cur_cfg.is_none() {
            let params = json!([DB, "ovs-docker-cur-cfg", {"Open_vSwitch": {"columns": ["cur_cfg"]}}]);
            Some(self.client.send("monitor", params).await?)
        } else {
            None
        };
        let reply = self.client.request("transact", txn.params(DB)).await;
        if let Some(rx) = monitor {
            let initial = self.client.await_reply("monitor", rx).await?;
            self.cur_cfg = Some(cur_cfg_in(&initial).unwrap_or(0));
        }
        let results = txn.check(reply?)?;
        let target = cfg_index.map(|i| next_cfg_in(&results[i])).transpose()?;
        Ok((results, target))
    }

    /// Wait until ovs-vswitchd reports `cur_cfg` >= `target`.
    pub async fn wait_cfg(&mut self, target: i64) -> Result<(), OvsdbError> {
        let deadline = tokio::time::Instant::now() + self.client.timeout();
        loop {
            if self.cur_cfg.is_some_and(|c| c >= target) {
                return Ok(());
            }
            match self.client.next_notification(deadline).await {
                Some((method, params)) if method == "update" => {
                    if let Some(c) = params.get(1).and_then(cur_cfg_in) {
                        self.cur_cfg = Some(c);
                    }
                }
                Some(_) => {}
                None => return Err(OvsdbError::VswitchdTimeout),
            }
        }
    }
}

/// What ovs-vswitchd recorded for an interface it applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IfaceState {
    /// Whether the row exists (it may have been removed meanwhile).
    pub exists: bool,
    pub ofport: Option<i64>,
    pub error: Option<String>,
}

/// The state one conditional monitor of `cur_cfg` and one interface row
/// builds from its `update2` notifications (RFC 7047 as extended by
/// ovsdb-server(7): `initial`/`insert` give whole rows, `modify` gives the
/// new value of plain columns and, for set columns such as the optional
/// `ofport` and `error`, the elements that changed, to toggle).
#[derive(Debug, Default)]
struct Watch {
    cur_cfg: Option<i64>,
    iface: IfaceState,
    /// `ofport` and `error` as the sets they are.
    ofport: Vec<Value>,
    error: Vec<Value>,
}

impl Watch {
    fn apply(&mut self, updates: &Value) {
        let rows = |table: &str| updates.get(table).and_then(Value::as_object).into_iter().flat_map(|m| m.values());
        for row in rows("Open_vSwitch") {
            for kind in ["initial", "insert", "modify"] {
                if let Some(c) = row.get(kind).and_then(|r| r.get("cur_cfg")).and_then(Value::as_i64) {
                    self.cur_cfg = Some(c);
                }
            }
        }
        for row in rows("Interface") {
            if row.get("delete").is_some() {
                *self = Watch { cur_cfg: self.cur_cfg, ..Watch::default() };
                continue;
            }
            for kind in ["initial", "insert"] {
                if let Some(r) = row.get(kind) {
                    self.iface.exists = true;
                    self.ofport =
                        r.get("ofport").map(|v| data::set_items(v).into_iter().cloned().collect()).unwrap_or_default();
                    self.error =
                        r.get("error").map(|v| data::set_items(v).into_iter().cloned().collect()).unwrap_or_default();
                }
            }
            if let Some(r) = row.get("modify") {
                for (column, set) in [("ofport", &mut self.ofport), ("error", &mut self.error)] {
                    for changed in r.get(column).map(data::set_items).unwrap_or_default() {
                        match set.iter().position(|v| v == changed) {
                            Some(i) => {
                                set.remove(i);
                            }
                            None => set.push(changed.clone()),
                        }
                    }
                }
            }
            self.iface.ofport = self.ofport.first().and_then(Value::as_i64);
            self.iface.error = self.error.first().and_then(Value::as_str).map(str::to_string);
        }
    }
}

/// An Interface row that carries both upstream keys, as an AttachedPort
/// (Port and Bridge still unknown).
fn attached_port(r: &Value) -> Option<AttachedPort> {
    let external_ids = data::as_map(&r["external_ids"]);
    if !external_ids.contains_key(keys::iface::CONTAINER_ID) || !external_ids.contains_key(keys::iface::CONTAINER_IFACE)
    {
        return None;
    }
    Some(AttachedPort {
        iface_uuid: data::as_uuid(&r["_uuid"])?.to_string(),
        name: r["name"].as_str()?.to_string(),
        external_ids,
        ofport: data::as_opt_int(&r["ofport"]),
        error: data::as_opt_str(&r["error"]),
        ingress_rate: r["ingress_policing_rate"].as_i64().unwrap_or(0),
        ingress_burst: r["ingress_policing_burst"].as_i64().unwrap_or(0),
        // The Port's columns and the bridge are filled in by the caller.
        ..Default::default()
    })
}

/// Ask ovs-vswitchd to apply `txn` as ovs-vsctl does: raise `next_cfg` in
/// it, and read the new value back (the returned index, for
/// [`next_cfg_in`]).
fn bump_next_cfg(txn: &mut Txn) -> usize {
    txn.push(Op::Mutate { table: "Open_vSwitch", conds: vec![], mutations: json!([["next_cfg", "+=", 1]]) });
    txn.push(Op::Select { table: "Open_vSwitch", conds: vec![], columns: vec!["next_cfg"] })
}

/// The `next_cfg` read back by [`bump_next_cfg`]'s select.
fn next_cfg_in(result: &Value) -> Result<i64, OvsdbError> {
    data::rows(result)
        .first()
        .and_then(|r| r["next_cfg"].as_i64())
        .ok_or_else(|| OvsdbError::BadReply("no next_cfg in the Open_vSwitch table".into()))
}

fn cur_cfg_in(table_updates: &Value) -> Option<i64> {
    table_updates
        .get("Open_vSwitch")?
        .as_object()?
        .values()
        .filter_map(|row| row.get("new")?.get("cur_cfg")?.as_i64())
        .max()
}

/// Interface rows attached for `iface` of a container known by any of
/// `refs` (name, full ID, ID as given...): one `includes` condition each.
pub fn alias_conds(iface: Option<&str>, full_id: Option<&str>, refs: &[&str]) -> Vec<(String, Vec<Cond>)> {
    let mut out = Vec::new();
    let with_iface = |k: &str, v: &str| -> Vec<Cond> {
        let mut pairs = vec![(k, v)];
        if let Some(i) = iface {
            pairs.push((keys::iface::CONTAINER_IFACE, i));
        }
        vec![Cond::includes("external_ids", data::map(pairs))]
    };
    if let Some(id) = full_id {
        out.push((format!("{}={id}", keys::iface::FULL_ID), with_iface(keys::iface::FULL_ID, id)));
    }
    for r in refs {
        if !out.iter().any(|(w, _)| *w == format!("{}={r}", keys::iface::CONTAINER_ID)) {
            out.push((format!("{}={r}", keys::iface::CONTAINER_ID), with_iface(keys::iface::CONTAINER_ID, r)));
        }
    }
    out
}

/// The named uuid of the Port that [`add_port_txn`] inserts.
pub const NEW_PORT: &str = "port";

/// One transaction that adds the port (creating the bridge if planned),
/// guarded by the bridge's state and by every `absent` condition.
pub fn add_port_txn(port: &NewPort, bridge: &BridgePlan, absent: &[Absent]) -> Txn {
    let mut t = Txn::new();
    let bridge_rows = match bridge {
        BridgePlan::Exists => vec![json!({"name": port.bridge})],
        BridgePlan::Create { .. } => vec![],
    };
    t.push(Op::Wait {
        table: "Bridge",
        conds: vec![Cond::eq("name", port.bridge.as_str())],
        columns: vec!["name"],
        rows: bridge_rows,
        what: match bridge {
            BridgePlan::Exists => Precondition::BridgeExists(port.bridge.clone()),
            BridgePlan::Create { .. } => Precondition::BridgeAbsent(port.bridge.clone()),
        },
    });
    t.push(Op::Wait {
        table: "Interface",
        conds: vec![Cond::eq("name", port.name.as_str())],
        columns: vec!["name"],
        rows: vec![],
        what: Precondition::InterfaceNameFree(port.name.clone()),
    });
    if let Some(old) = &port.replaces {
        t.push(Op::Wait {
            table: "Port",
            conds: vec![Cond::eq("_uuid", data::uuid(old))],
            columns: vec!["_uuid"],
            rows: vec![json!({"_uuid": data::uuid(old)})],
            what: Precondition::ReplacedPortExists,
        });
    }
    for a in absent {
        t.push(Op::Wait {
            table: a.table,
            conds: a.conds.clone(),
            columns: vec!["_uuid"],
            rows: vec![],
            what: a.what.clone(),
        });
    }
    let ids = data::map(
        port.external_ids
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(port.extra_ids.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    let mut iface_row = json!({"name": port.name, "external_ids": ids});
    for (k, v) in &port.iface_columns {
        iface_row[k] = v.clone();
    }
    t.push(Op::Insert { table: "Interface", row: iface_row, uuid_name: Some("iface".into()) });
    let mut port_row = json!({"name": port.name, "interfaces": data::named("iface")});
    if let Some(tag) = port.tag {
        port_row["tag"] = json!(tag);
    }
    for (k, v) in &port.port_columns {
        port_row[k] = v.clone();
    }
    t.push(Op::Insert { table: "Port", row: port_row, uuid_name: Some("port".into()) });
    match bridge {
        BridgePlan::Exists => {
            let mut mutations = vec![json!(["ports", "insert", data::set(vec![data::named("port")])])];
            if let Some(old) = &port.replaces {
                mutations.push(json!(["ports", "delete", data::set(vec![data::uuid(old)])]));
            }
            t.push(Op::Mutate {
                table: "Bridge",
                conds: vec![Cond::eq("name", port.bridge.as_str())],
                mutations: Value::Array(mutations),
            });
        }
        BridgePlan::Create { datapath_type } => insert_bridge(
            &mut t,
            NewBridge {
                name: &port.bridge,
                datapath_type: datapath_type.as_deref(),
                iface_columns: json!({}),
                port_columns: json!({}),
                other_ports: vec![data::named("port")],
                external_ids: data::map([
                    (keys::iface::CREATED_BY, keys::CREATED_BY_US),
                    (keys::bridge::CREATED_FOR, port.name.as_str()),
                ]),
            },
        ),
    }
    t
}

/// A bridge to create in a transaction (see [`insert_bridge`]).
pub struct NewBridge<'a> {
    pub name: &'a str,
    pub datapath_type: Option<&'a str>,
    /// Columns of the bridge's own internal Interface and Port, beyond
    /// their name and type (a JSON object each).
    pub iface_columns: Value,
    pub port_columns: Value,
    /// Its other ports: rows inserted in the same transaction, by name.
    pub other_ports: Vec<Value>,
    pub external_ids: Value,
}

/// What `ovs-vsctl add-br` makes, added to `t`: the internal Interface and
/// Port named after the bridge, the Bridge row holding them (and
/// `other_ports`), and its place in Open_vSwitch.
pub fn insert_bridge(t: &mut Txn, b: NewBridge<'_>) {
    let with = |mut row: Value, extra: &Value| {
        for (k, v) in extra.as_object().into_iter().flatten() {
            row[k] = v.clone();
        }
        row
    };
    let iface = with(json!({"name": b.name, "type": "internal"}), &b.iface_columns);
    t.push(Op::Insert { table: "Interface", row: iface, uuid_name: Some("br_iface".into()) });
    let port = with(json!({"name": b.name, "interfaces": data::named("br_iface")}), &b.port_columns);
    t.push(Op::Insert { table: "Port", row: port, uuid_name: Some("br_port".into()) });
    let ports: Vec<Value> = std::iter::once(data::named("br_port")).chain(b.other_ports).collect();
    let mut row = json!({"name": b.name, "ports": data::set(ports), "external_ids": b.external_ids});
    if let Some(dp) = b.datapath_type {
        row["datapath_type"] = json!(dp);
    }
    t.push(Op::Insert { table: "Bridge", row, uuid_name: Some("bridge".into()) });
    t.push(Op::Mutate {
        table: "Open_vSwitch",
        conds: vec![],
        mutations: json!([["bridges", "insert", data::set(vec![data::named("bridge")])]]),
    });
}

/// Delete the bridge that add-port created for `port_name`, provided it
/// holds nothing but its own internal port any more. Returns the bridge's
/// uuid if a transaction is needed.
pub fn del_created_bridge_txn(bridge_row: &Value, port_name: &str) -> Option<Txn> {
    let uuid = data::as_uuid(&bridge_row["_uuid"])?;
    let ids = data::as_map(&bridge_row["external_ids"]);
    if ids.get(keys::bridge::CREATED_FOR).map(String::as_str) != Some(port_name)
        || data::uuids(&bridge_row["ports"]).len() > 1
    {
        return None;
    }
    let mut t = Txn::new();
    t.push(Op::Wait {
        table: "Bridge",
        conds: vec![Cond::eq("_uuid", data::uuid(uuid))],
        columns: vec!["ports"],
        rows: vec![json!({"ports": bridge_row["ports"]})],
        what: Precondition::BridgeHasNoOtherPort,
    });
    t.push(Op::Mutate {
        table: "Open_vSwitch",
        conds: vec![],
        mutations: json!([["bridges", "delete", data::set(vec![data::uuid(uuid)])]]),
    });
    Some(t)
}

/// Remove the port from whatever bridge holds it; its Port and Interface
/// rows are then garbage-collected. Succeeds (count 0) if already gone.
pub fn del_port_txn(port_uuid: &str) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::includes("ports", data::uuid(port_uuid))],
        mutations: json!([["ports", "delete", data::set(vec![data::uuid(port_uuid)])]]),
    });
    t
}

/// A port's VLAN configuration, as the Port row's columns hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vlan {
    /// An access port of this VLAN (Port.tag), as upstream set-vlan.
    Access(u16),
    /// A trunk of these VLANs, with an optional native (untagged) VLAN.
    Trunk { vlans: Vec<u16>, native: Option<u16> },
    /// No tag, no trunks, no mode: every VLAN, as OVS's default.
    None,
}

impl Vlan {
    /// The Port columns that say so. Empty sets clear a column.
    pub fn columns(&self) -> serde_json::Map<String, Value> {
        let empty = || data::set(vec![]);
        let (tag, trunks, mode) = match self {
            Vlan::Access(v) => (json!(v), empty(), empty()),
            Vlan::Trunk { vlans, native } => (
                native.map_or_else(empty, |n| json!(n)),
                data::set(vlans.iter().map(|v| json!(v)).collect()),
                json!(if native.is_some() { "native-untagged" } else { "trunk" }),
            ),
            Vlan::None => (empty(), empty(), empty()),
        };
        let mut m = serde_json::Map::new();
        m.insert("tag".into(), tag);
        m.insert("trunks".into(), trunks);
        m.insert("vlan_mode".into(), mode);
        m
    }
}

/// Set the VLAN configuration of a port.
pub fn set_vlan_txn(port_uuid: &str, vlan: &Vlan) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Update {
        table: "Port",
        conds: vec![Cond::eq("_uuid", data::uuid(port_uuid))],
        row: Value::Object(vlan.columns()),
    });
    t
}

/// The Interface columns of an ingress rate limit (0: none).
pub fn policing_columns(rate: u32, burst: Option<u32>) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("ingress_policing_rate".into(), json!(rate));
    // OVS takes 0 as a fixed 8000 kbit; 80% of the rate is what its
    // documentation advises, and what the netdev tbf uses too.
    m.insert("ingress_policing_burst".into(), json!(if rate == 0 { 0 } else { burst.unwrap_or(rate / 10 * 8) }));
    m
}

/// Set the ingress rate limit of an interface.
pub fn set_policing_txn(iface_uuid: &str, rate: u32, burst: Option<u32>) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Update {
        table: "Interface",
        conds: vec![Cond::eq("_uuid", data::uuid(iface_uuid))],
        row: Value::Object(policing_columns(rate, burst)),
    });
    t
}

/// The `count` of a mutate or update result.
pub fn count(result: &Value) -> i64 {
    result.get("count").and_then(Value::as_i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_port() -> NewPort {
        NewPort {
            bridge: "br0".into(),
            name: "0123456789abc_l".into(),
            external_ids: vec![
                (keys::iface::CONTAINER_ID, "web".into()),
                (keys::iface::CONTAINER_IFACE, "eth1".into()),
            ],
            extra_ids: vec![("ovs_docker_ip:10.0.0.2".into(), "br0".into())],
            tag: Some(5),
            port_columns: Default::default(),
            iface_columns: Default::default(),
            replaces: None,
        }
    }

    #[test]
    fn add_port_requires_the_bridge_and_absence_of_the_port() {
        let t = add_port_txn(&new_port(), &BridgePlan::Exists, &[]);
        let p = t.params(DB);
        assert_eq!(p[1]["op"], "wait");
        assert_eq!(p[1]["rows"], json!([{"name": "br0"}]));
        assert_eq!(p[2]["where"], json!([["name", "==", "0123456789abc_l"]]));
        assert_eq!(
            p[3]["row"]["external_ids"],
            json!(["map", [["container_id", "web"], ["container_iface", "eth1"], ["ovs_docker_ip:10.0.0.2", "br0"]]])
        );
        assert_eq!(p[4]["row"]["tag"], 5);
        assert_eq!(p[5]["op"], "mutate");
        assert_eq!(p.as_array().unwrap().len(), 6);
    }

    #[test]
    fn add_port_can_create_the_bridge_like_add_br() {
        let t = add_port_txn(&new_port(), &BridgePlan::Create { datapath_type: Some("netdev".into()) }, &[]);
        let p = t.params(DB);
        assert_eq!(p[1]["rows"], json!([]));
        let bridge = p.as_array().unwrap().iter().find(|o| o["table"] == "Bridge" && o["op"] == "insert").unwrap();
        assert_eq!(bridge["row"]["datapath_type"], "netdev");
        assert_eq!(bridge["row"]["ports"], json!(["set", [["named-uuid", "br_port"], ["named-uuid", "port"]]]));
        assert!(p.as_array().unwrap().iter().any(|o| o["table"] == "Interface" && o["row"]["type"] == "internal"));
    }

    #[test]
    fn a_replacing_port_removes_the_old_one_in_the_same_transaction() {
        let mut p = new_port();
        p.replaces = Some("0000-old".into());
        let t = add_port_txn(&p, &BridgePlan::Exists, &[]);
        let params = t.params(DB);
        let ops = params.as_array().unwrap();
        assert!(ops
            .iter()
            .any(|o| o["op"] == "wait" && o["table"] == "Port" && o["rows"][0]["_uuid"][1] == "0000-old"));
        let m = ops.iter().find(|o| o["op"] == "mutate").unwrap();
        assert_eq!(m["mutations"][1], json!(["ports", "delete", ["set", [["uuid", "0000-old"]]]]));
    }

    #[test]
    fn vlan_settings_set_or_clear_all_three_columns() {
        let trunk = Vlan::Trunk { vlans: vec![10, 20], native: Some(5) }.columns();
        assert_eq!(trunk["tag"], 5);
        assert_eq!(trunk["vlan_mode"], "native-untagged");
        assert_eq!(trunk["trunks"], json!(["set", [10, 20]]));
        let none = Vlan::None.columns();
        assert!(none.values().all(|v| *v == json!(["set", []])));
        assert_eq!(Vlan::Access(7).columns()["tag"], 7);
    }

    #[test]
    fn alias_conditions_cover_every_name_once() {
        let c = alias_conds(Some("eth1"), Some("abcd"), &["web", "abcd", "web"]);
        let whats: Vec<_> = c.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(whats, ["container_full_id=abcd", "container_id=web", "container_id=abcd"]);
    }

    #[test]
    fn cur_cfg_is_read_from_monitor_updates() {
        let u = json!({"Open_vSwitch": {"u1": {"new": {"cur_cfg": 7}}}});
        assert_eq!(cur_cfg_in(&u), Some(7));
        assert_eq!(cur_cfg_in(&json!({})), None);
    }

    #[test]
    fn a_watch_follows_cur_cfg_and_the_interface() {
        let mut w = Watch::default();
        w.apply(&json!({"Open_vSwitch": {"o": {"initial": {"cur_cfg": 5}}}}));
        assert_eq!((w.cur_cfg, w.iface.exists), (Some(5), false));
        // Our transaction inserts the row (default columns are left out).
        w.apply(&json!({"Interface": {"i": {"insert": {}}}}));
        assert_eq!(w.iface, IfaceState { exists: true, ofport: None, error: None });
        // ovs-vswitchd's transaction: the ofport and cur_cfg together.
        w.apply(
            &json!({"Interface": {"i": {"modify": {"ofport": 3}}}, "Open_vSwitch": {"o": {"modify": {"cur_cfg": 6}}}}),
        );
        assert_eq!((w.cur_cfg, w.iface.ofport), (Some(6), Some(3)));
        // A set column's modify names the elements that changed: 3 -> 4.
        w.apply(&json!({"Interface": {"i": {"modify": {"ofport": ["set", [3, 4]]}}}}));
        assert_eq!(w.iface.ofport, Some(4));
        w.apply(&json!({"Interface": {"i": {"modify": {"ofport": 4, "error": "could not open network device"}}}}));
        assert_eq!(
            w.iface,
            IfaceState { exists: true, ofport: None, error: Some("could not open network device".into()) }
        );
        w.apply(&json!({"Interface": {"i": {"delete": null}}}));
        assert_eq!((w.cur_cfg, w.iface.exists), (Some(6), false));
        // A row that already had values when the monitor started.
        w.apply(&json!({"Interface": {"i": {"initial": {"ofport": -1, "error": ["set", []]}}}}));
        assert_eq!(w.iface, IfaceState { exists: true, ofport: Some(-1), error: None });
    }
}
