//! Transaction operations (RFC 7047 section 5.2) and the OVSDB data notation.

use serde_json::{json, Value};

use super::OvsdbError;

/// One `where` clause: column, function, value.
#[derive(Debug, Clone)]
pub struct Cond(pub &'static str, pub &'static str, pub Value);

impl Cond {
    pub fn eq(column: &'static str, value: impl Into<Value>) -> Self {
        Cond(column, "==", value.into())
    }
    pub fn ne(column: &'static str, value: impl Into<Value>) -> Self {
        Cond(column, "!=", value.into())
    }
    pub fn includes(column: &'static str, value: Value) -> Self {
        Cond(column, "includes", value)
    }
    fn to_json(&self) -> Value {
        json!([self.0, self.1, self.2])
    }
}

fn conds(c: &[Cond]) -> Value {
    Value::Array(c.iter().map(Cond::to_json).collect())
}

#[derive(Debug, Clone)]
pub enum Op {
    Select {
        table: &'static str,
        conds: Vec<Cond>,
        columns: Vec<&'static str>,
    },
    Insert {
        table: &'static str,
        row: Value,
        uuid_name: Option<String>,
    },
    Update {
        table: &'static str,
        conds: Vec<Cond>,
        row: Value,
    },
    Mutate {
        table: &'static str,
        conds: Vec<Cond>,
        mutations: Value,
    },
    Delete {
        table: &'static str,
        conds: Vec<Cond>,
    },
    /// Fails the transaction unless the selected rows equal `rows` right
    /// now. `what` is what was required, as a value: the server itself only
    /// says "timed out", and the caller matches on it.
    Wait {
        table: &'static str,
        conds: Vec<Cond>,
        columns: Vec<&'static str>,
        rows: Vec<Value>,
        what: Precondition,
    },
    Comment(String),
}

impl Op {
    fn to_json(&self) -> Value {
        match self {
            Op::Select { table, conds: c, columns } => {
                json!({"op": "select", "table": table, "where": conds(c), "columns": columns})
            }
            Op::Insert { table, row, uuid_name } => {
                let mut v = json!({"op": "insert", "table": table, "row": row});
                if let Some(n) = uuid_name {
                    v["uuid-name"] = json!(n);
                }
                v
            }
            Op::Update { table, conds: c, row } => {
                json!({"op": "update", "table": table, "where": conds(c), "row": row})
            }
            Op::Mutate { table, conds: c, mutations } => {
                json!({"op": "mutate", "table": table, "where": conds(c), "mutations": mutations})
            }
            Op::Delete { table, conds: c } => json!({"op": "delete", "table": table, "where": conds(c)}),
            Op::Wait { table, conds: c, columns, rows, .. } => json!({
                "op": "wait", "table": table, "where": conds(c), "columns": columns,
                "until": "==", "rows": rows, "timeout": 0
            }),
            Op::Comment(text) => json!({"op": "comment", "comment": text}),
        }
    }
}

/// What a `wait` operation of ours required. A failed transaction says
/// which one failed, and on what, as this value (see [`OvsdbError::Precondition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The bridge exists.
    BridgeExists(String),
    /// No bridge of this name exists yet.
    BridgeAbsent(String),
    /// The bridge's columns are as they were read.
    BridgeUnchanged(String),
    /// The bridge of a Docker network still exists.
    NetworkBridgeExists { bridge: String, network: String },
    /// No port was added to the bridge since it was read.
    BridgeHasNoOtherPort,
    /// No Interface has this name.
    InterfaceNameFree(String),
    /// This host interface is not a port of any bridge yet.
    NotAPort(String),
    /// No port is attached for the container (under any of its names) and interface.
    PortAbsent { reference: String, iface: String },
    /// No other port on the bridge claims the address.
    AddressUnused { ip: std::net::IpAddr, bridge: String },
    /// The stale port a re-created one replaces still exists.
    ReplacedPortExists,
    /// The Port (by uuid) still exists.
    PortExists(String),
    /// The logical switch exists (OVN northbound).
    SwitchExists(String),
    /// No logical switch port has this name (OVN northbound).
    LspNameFree(String),
    /// No logical switch has this name yet (OVN northbound).
    SwitchAbsent(String),
    /// No logical router has this name yet (OVN northbound).
    RouterAbsent(String),
    /// The logical switch's use records are as they were read.
    SwitchUnchanged(String),
    /// The logical router's ports are as they were read.
    RouterUnchanged(String),
    /// The logical switch port is as it was read.
    LspUnchanged(String),
    /// No other port of the logical switch has this MAC.
    MacFree { mac: String, switch: String },
}

impl std::fmt::Display for Precondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Precondition::*;
        match self {
            BridgeExists(b) => write!(f, "bridge {b} exists"),
            BridgeAbsent(b) => write!(f, "bridge {b} does not exist yet"),
            BridgeUnchanged(b) => write!(f, "bridge {b} is unchanged"),
            NetworkBridgeExists { bridge, network } => write!(f, "bridge {bridge} of network {network} still exists"),
            BridgeHasNoOtherPort => write!(f, "no port was added to the bridge meanwhile"),
            InterfaceNameFree(n) => write!(f, "no interface is named {n}"),
            NotAPort(n) => write!(f, "{n} is not a port yet"),
            PortAbsent { reference, iface } => {
                write!(f, "no port is attached for CONTAINER={reference} and INTERFACE={iface}")
            }
            AddressUnused { ip, bridge } => write!(f, "address {ip} is unused on bridge {bridge}"),
            ReplacedPortExists => write!(f, "the replaced port still exists"),
            PortExists(u) => write!(f, "port {u} still exists"),
            SwitchExists(s) => write!(f, "logical switch {s} exists"),
            LspNameFree(n) => write!(f, "no logical switch port is named {n}"),
            SwitchAbsent(s) => write!(f, "no logical switch is named {s} yet"),
            RouterAbsent(r) => write!(f, "no logical router is named {r} yet"),
            SwitchUnchanged(s) => write!(f, "logical switch {s} is unchanged"),
            RouterUnchanged(r) => write!(f, "logical router {r} is unchanged"),
            LspUnchanged(n) => write!(f, "logical switch port {n} is unchanged"),
            MacFree { mac, switch } => write!(f, "no other port of logical switch {switch} has MAC {mac}"),
        }
    }
}

/// The operations of one atomic transaction on one database.
#[derive(Debug, Clone, Default)]
pub struct Txn {
    pub ops: Vec<Op>,
}

impl Txn {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an operation; returns its index in the result list.
    pub fn push(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    pub fn params(&self, db: &str) -> Value {
        let mut p = vec![json!(db)];
        p.extend(self.ops.iter().map(Op::to_json));
        Value::Array(p)
    }

    /// Check a `transact` result: every operation must have succeeded and
    /// the list must be complete. On failure the first error is returned,
    /// with a failed `wait` turned into the condition it stood for.
    pub fn check(&self, result: Value) -> Result<Vec<Value>, OvsdbError> {
        let Value::Array(results) = result else {
            return Err(OvsdbError::BadReply(format!("transact result is not an array: {result}")));
        };
        for (i, r) in results.iter().enumerate() {
            let Some(err) = r.get("error").filter(|e| !e.is_null()) else { continue };
            return Err(match self.ops.get(i) {
                Some(Op::Wait { what, .. }) => OvsdbError::Precondition(what.clone()),
                _ => OvsdbError::Transaction(super::error_text(&json!({
                    "error": err, "details": r.get("details").cloned().unwrap_or(Value::Null)
                }))),
            });
        }
        if results.len() < self.ops.len() {
            return Err(OvsdbError::BadReply(format!(
                "transact returned {} results for {} operations",
                results.len(),
                self.ops.len()
            )));
        }
        Ok(results)
    }
}

/// Building and reading values in OVSDB's JSON notation.
pub mod data {
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    pub fn uuid(u: &str) -> Value {
        json!(["uuid", u])
    }
    pub fn named(n: &str) -> Value {
        json!(["named-uuid", n])
    }
    pub fn set(items: Vec<Value>) -> Value {
        json!(["set", items])
    }
    pub fn map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        let pairs: Vec<Value> = pairs.into_iter().map(|(k, v)| json!([k, v])).collect();
        json!(["map", pairs])
    }

    /// The atoms of a set column: a bare atom is a one-element set.
    pub fn set_items(v: &Value) -> Vec<&Value> {
        match v.as_array() {
            Some(a) if a.len() == 2 && a[0] == "set" => a[1].as_array().map(|x| x.iter().collect()).unwrap_or_default(),
            _ if v.is_null() => Vec::new(),
            _ => vec![v],
        }
    }

    pub fn as_uuid(v: &Value) -> Option<&str> {
        match v.as_array() {
            Some(a) if a.len() == 2 && a[0] == "uuid" => a[1].as_str(),
            _ => None,
        }
    }

    pub fn uuids(v: &Value) -> Vec<String> {
        set_items(v).into_iter().filter_map(as_uuid).map(str::to_string).collect()
    }

    /// A string-to-string map column; other entries are ignored.
    pub fn as_map(v: &Value) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(a) = v.as_array() {
            if a.len() == 2 && a[0] == "map" {
                for pair in a[1].as_array().into_iter().flatten() {
                    if let (Some(k), Some(val)) =
                        (pair.get(0).and_then(Value::as_str), pair.get(1).and_then(Value::as_str))
                    {
                        out.insert(k.to_string(), val.to_string());
                    }
                }
            }
        }
        out
    }

    /// An optional integer column (`["set", []]` when empty).
    pub fn as_opt_int(v: &Value) -> Option<i64> {
        set_items(v).first().and_then(|x| x.as_i64())
    }

    /// An optional string column.
    pub fn as_opt_str(v: &Value) -> Option<String> {
        set_items(v).first().and_then(|x| x.as_str()).map(str::to_string)
    }

    /// The rows of a `select` result.
    pub fn rows(result: &Value) -> Vec<Value> {
        result.get("rows").and_then(Value::as_array).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_render_as_rfc7047() {
        let mut t = Txn::new();
        t.push(Op::Wait {
            table: "Bridge",
            conds: vec![Cond::eq("name", "br0")],
            columns: vec!["name"],
            rows: vec![json!({"name": "br0"})],
            what: Precondition::BridgeExists("br0".into()),
        });
        t.push(Op::Insert { table: "Interface", row: json!({"name": "p_l"}), uuid_name: Some("i".into()) });
        t.push(Op::Mutate { table: "Open_vSwitch", conds: vec![], mutations: json!([["next_cfg", "+=", 1]]) });
        assert_eq!(
            t.params("Open_vSwitch"),
            json!(["Open_vSwitch",
                {"op":"wait","table":"Bridge","where":[["name","==","br0"]],"columns":["name"],"until":"==","rows":[{"name":"br0"}],"timeout":0},
                {"op":"insert","table":"Interface","row":{"name":"p_l"},"uuid-name":"i"},
                {"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["next_cfg","+=",1]]}])
        );
    }

    fn two_ops() -> Txn {
        let mut t = Txn::new();
        t.push(Op::Wait {
            table: "Interface",
            conds: vec![],
            columns: vec!["name"],
            rows: vec![],
            what: Precondition::PortAbsent { reference: "web".into(), iface: "eth1".into() },
        });
        t.push(Op::Insert { table: "Port", row: json!({}), uuid_name: None });
        t
    }

    #[test]
    fn a_failed_wait_names_its_condition() {
        let e = two_ops().check(json!([{"error": "timed out"}, {"error": null}])).unwrap_err();
        assert_eq!(e.to_string(), "precondition failed: no port is attached for CONTAINER=web and INTERFACE=eth1");
        assert!(matches!(e, OvsdbError::Precondition(Precondition::PortAbsent { ref iface, .. }) if iface == "eth1"));
    }

    #[test]
    fn a_commit_error_after_the_operations_fails_the_transaction() {
        let e = two_ops()
            .check(json!([{}, {"uuid": ["uuid", "x"]}, {"error": "referential integrity violation", "details": "cannot delete Port"}]))
            .unwrap_err();
        assert!(
            matches!(e, OvsdbError::Transaction(ref m) if m.contains("referential integrity violation (cannot delete Port)")),
            "{e}"
        );
    }

    #[test]
    fn a_short_result_list_is_a_failure() {
        assert!(matches!(two_ops().check(json!([{}])), Err(OvsdbError::BadReply(_))));
        assert!(matches!(two_ops().check(json!({"x": 1})), Err(OvsdbError::BadReply(_))));
        assert_eq!(two_ops().check(json!([{}, {"uuid": ["uuid", "u"]}])).unwrap().len(), 2);
    }

    #[test]
    fn data_notation_round_trips() {
        use data::*;
        let m = map([("container_id", "c1"), ("container_iface", "eth1")]);
        assert_eq!(m, json!(["map", [["container_id", "c1"], ["container_iface", "eth1"]]]));
        assert_eq!(as_map(&m).get("container_iface").map(String::as_str), Some("eth1"));
        assert_eq!(as_opt_int(&json!(["set", []])), None);
        assert_eq!(as_opt_int(&json!(10)), Some(10));
        assert_eq!(uuids(&json!(["uuid", "a"])), vec!["a"]);
        assert_eq!(uuids(&json!(["set", [["uuid", "a"], ["uuid", "b"]]])), vec!["a", "b"]);
        // Malformed shapes read as empty, never panic.
        for v in [json!(null), json!(["map"]), json!(["set", 3]), json!([1, 2, 3]), json!({"a": 1})] {
            let _ = (as_map(&v), uuids(&v), as_opt_int(&v), as_opt_str(&v), rows(&v));
        }
    }
}
