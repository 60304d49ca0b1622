//! Port mirrors (the Mirror table): a Bridge's `mirrors` hold them; their
//! port columns are weak references, which OVSDB drops by itself when a
//! Port goes.

use serde_json::{json, Value};

use super::keys;
use super::vswitch::Vswitch;
use super::{data, Cond, Op, OvsdbError, Precondition, Txn};

/// A Mirror row and the bridge that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRow {
    pub uuid: String,
    pub name: String,
    pub bridge: String,
    pub select_all: bool,
    /// Ports whose received packets (what their container sends) are copied.
    pub select_src: Vec<String>,
    /// Ports whose sent packets (what their container receives) are copied.
    pub select_dst: Vec<String>,
    pub select_vlan: Vec<i64>,
    pub output: Option<String>,
    pub created_by: Option<String>,
    /// Packets sent to the output port (statistics:tx_packets).
    pub tx_packets: Option<i64>,
}

impl MirrorRow {
    /// Whether the mirror refers to the Port `port_uuid`, and how.
    pub fn uses(&self, port_uuid: &str) -> Vec<MirrorColumn> {
        let mut out = Vec::new();
        if self.select_src.iter().any(|u| u == port_uuid) {
            out.push(MirrorColumn::SelectSrc);
        }
        if self.select_dst.iter().any(|u| u == port_uuid) {
            out.push(MirrorColumn::SelectDst);
        }
        if self.output.as_deref() == Some(port_uuid) {
            out.push(MirrorColumn::Output);
        }
        out
    }
}

/// A port column of a Mirror row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorColumn {
    SelectSrc,
    SelectDst,
    Output,
}

impl MirrorColumn {
    pub fn name(self) -> &'static str {
        match self {
            MirrorColumn::SelectSrc => "select_src_port",
            MirrorColumn::SelectDst => "select_dst_port",
            MirrorColumn::Output => "output_port",
        }
    }
}

/// A mirror to add.
#[derive(Debug, Clone)]
pub struct NewMirror {
    pub bridge: String,
    pub name: String,
    pub output: String,
    /// None: every port of the bridge (select_all).
    pub select_src: Option<Vec<String>>,
    pub select_dst: Option<Vec<String>>,
    pub vlan: Option<u16>,
}

impl Vswitch {
    /// Every mirror (of `bridge`, if given), with its bridge.
    pub async fn mirrors(&self, bridge: Option<&str>) -> Result<Vec<MirrorRow>, OvsdbError> {
        let conds = bridge.map(|b| vec![Cond::eq("name", b)]).unwrap_or_default();
        let res = self
            .select(vec![
                Op::Select { table: "Bridge", conds, columns: vec!["name", "mirrors"] },
                Op::Select { table: "Mirror", conds: vec![], columns: MIRROR_COLUMNS.to_vec() },
            ])
            .await?;
        let mut out = Vec::new();
        let mirrors = data::rows(&res[1]);
        for b in data::rows(&res[0]) {
            let bridge = b["name"].as_str().unwrap_or_default();
            for u in data::uuids(&b["mirrors"]) {
                if let Some(m) = mirrors.iter().find(|m| data::as_uuid(&m["_uuid"]) == Some(u.as_str())) {
                    out.push(mirror_row(m, bridge));
                }
            }
        }
        out.sort_by(|x, y| (&x.bridge, &x.name).cmp(&(&y.bridge, &y.name)));
        Ok(out)
    }

    /// The mirrors that refer to the Port `port_uuid`.
    pub async fn mirrors_using(&self, port_uuid: &str) -> Result<Vec<MirrorRow>, OvsdbError> {
        Ok(self.mirrors(None).await?.into_iter().filter(|m| !m.uses(port_uuid).is_empty()).collect())
    }
}

const MIRROR_COLUMNS: [&str; 9] = [
    "_uuid",
    "name",
    "select_all",
    "select_src_port",
    "select_dst_port",
    "select_vlan",
    "output_port",
    "external_ids",
    "statistics",
];

fn mirror_row(m: &Value, bridge: &str) -> MirrorRow {
    let ints = |v: &Value| data::set_items(v).iter().filter_map(|x| x.as_i64()).collect();
    MirrorRow {
        uuid: data::as_uuid(&m["_uuid"]).unwrap_or_default().to_string(),
        name: m["name"].as_str().unwrap_or_default().to_string(),
        bridge: bridge.to_string(),
        select_all: m["select_all"].as_bool().unwrap_or(false),
        select_src: data::uuids(&m["select_src_port"]),
        select_dst: data::uuids(&m["select_dst_port"]),
        select_vlan: ints(&m["select_vlan"]),
        output: data::uuids(&m["output_port"]).into_iter().next(),
        created_by: data::as_map(&m["external_ids"]).get(keys::iface::CREATED_BY).cloned(),
        tx_packets: statistic(&m["statistics"], "tx_packets"),
    }
}

/// One integer of a string-to-integer map column.
fn statistic(v: &Value, key: &str) -> Option<i64> {
    let pairs = v.get(1)?.as_array()?;
    pairs.iter().find(|p| p.get(0).and_then(Value::as_str) == Some(key)).and_then(|p| p.get(1)?.as_i64())
}

/// Add the mirror `m` to its bridge, requiring that the bridge's mirrors
/// are still `mirrors_as_read` (so that no mirror of that name appeared
/// meanwhile) and that every port still exists.
pub fn add_mirror_txn(m: &NewMirror, mirrors_as_read: &[String]) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Wait {
        table: "Bridge",
        conds: vec![Cond::eq("name", m.bridge.as_str())],
        columns: vec!["mirrors"],
        rows: vec![json!({"mirrors": data::set(mirrors_as_read.iter().map(|u| data::uuid(u)).collect())})],
        what: Precondition::BridgeUnchanged(m.bridge.clone()),
    });
    let ports = std::iter::once(&m.output).chain(m.select_src.iter().flatten()).chain(m.select_dst.iter().flatten());
    for p in ports {
        t.push(Op::Wait {
            table: "Port",
            conds: vec![Cond::eq("_uuid", data::uuid(p))],
            columns: vec!["_uuid"],
            rows: vec![json!({"_uuid": data::uuid(p)})],
            what: Precondition::PortExists(p.clone()),
        });
    }
    let set = |ports: &Option<Vec<String>>| data::set(ports.iter().flatten().map(|u| data::uuid(u)).collect());
    let mut row = json!({
        "name": m.name,
        "output_port": data::uuid(&m.output),
        "select_src_port": set(&m.select_src),
        "select_dst_port": set(&m.select_dst),
        "external_ids": data::map([(keys::iface::CREATED_BY, keys::CREATED_BY_US)]),
    });
    if m.select_src.is_none() && m.select_dst.is_none() {
        row["select_all"] = json!(true);
    }
    if let Some(v) = m.vlan {
        row["select_vlan"] = json!(v);
    }
    t.push(Op::Insert { table: "Mirror", row, uuid_name: Some("mirror".into()) });
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("name", m.bridge.as_str())],
        mutations: json!([["mirrors", "insert", data::set(vec![data::named("mirror")])]]),
    });
    t
}

/// Remove the mirror `mirror_uuid` from `bridge` (the row is then garbage-collected).
pub fn del_mirror_ops(t: &mut Txn, bridge_cond: Cond, mirror_uuid: &str) {
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![bridge_cond],
        mutations: json!([["mirrors", "delete", data::set(vec![data::uuid(mirror_uuid)])]]),
    });
}

/// In `t`, which replaces the Port `old` by the one inserted as the named
/// uuid `new`: make every mirror that used `old` use `new` instead.
pub fn move_mirror_refs(t: &mut Txn, mirrors: &[MirrorRow], old: &str, new: &str) {
    for m in mirrors {
        for col in m.uses(old) {
            t.push(Op::Mutate {
                table: "Mirror",
                conds: vec![Cond::eq("_uuid", data::uuid(&m.uuid))],
                mutations: json!([
                    [col.name(), "delete", data::set(vec![data::uuid(old)])],
                    [col.name(), "insert", data::set(vec![data::named(new)])]
                ]),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_of_everything_selects_all() {
        let m = NewMirror {
            bridge: "br0".into(),
            name: "m".into(),
            output: "o".into(),
            select_src: None,
            select_dst: None,
            vlan: Some(5),
        };
        let p = add_mirror_txn(&m, &["x".into()]).params("Open_vSwitch");
        let insert = p.as_array().unwrap().iter().find(|o| o["op"] == "insert").unwrap();
        assert_eq!(insert["row"]["select_all"], true);
        assert_eq!(insert["row"]["select_vlan"], 5);
        assert_eq!(insert["row"]["output_port"], json!(["uuid", "o"]));
        assert_eq!(p[1]["rows"], json!([{"mirrors": ["set", [["uuid", "x"]]]}]));
    }

    #[test]
    fn references_move_to_the_new_port() {
        let m = MirrorRow {
            uuid: "m1".into(),
            name: "m".into(),
            bridge: "br0".into(),
            select_all: false,
            select_src: vec!["old".into()],
            select_dst: vec!["other".into()],
            select_vlan: vec![],
            output: Some("old".into()),
            created_by: None,
            tx_packets: None,
        };
        assert_eq!(m.uses("old"), [MirrorColumn::SelectSrc, MirrorColumn::Output]);
        let mut t = Txn::new();
        move_mirror_refs(&mut t, &[m], "old", "port");
        let p = t.params("Open_vSwitch");
        assert_eq!(p.as_array().unwrap().len(), 3);
        assert_eq!(p[2]["mutations"][1], json!(["output_port", "insert", ["set", [["named-uuid", "port"]]]]));
        assert_eq!(statistic(&json!(["map", [["tx_packets", 7]]]), "tx_packets"), Some(7));
    }
}
