//! The OVN northbound database, through the same OVSDB client: creating and
//! deleting the logical switch port of a container port (what
//! `ovn-nbctl lsp-add` and `lsp-set-addresses`, and `lsp-del`, do), without
//! forking ovn-nbctl.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::keys;
use super::ops::data;
use super::{Cond, Op, OvsdbError, Precondition, Remote, Session, Txn};

pub const DB: &str = "OVN_Northbound";

/// The northbound database, on its only server or its cluster's leader.
pub struct Northbound {
    session: Session,
}

/// A logical switch port as read.
#[derive(Debug, Clone)]
pub struct LspRow {
    pub uuid: String,
    pub name: String,
    pub external_ids: BTreeMap<String, String>,
    /// "MAC IP..." entries (none while an address is only reserved).
    pub addresses: Vec<String>,
}

/// The columns [`LspRow`] is read from.
pub(super) const LSP_COLUMNS: [&str; 4] = ["_uuid", "name", "external_ids", "addresses"];

impl LspRow {
    pub(super) fn from_row(r: &Value) -> Self {
        LspRow {
            uuid: data::as_uuid(&r["_uuid"]).unwrap_or_default().to_string(),
            name: r["name"].as_str().unwrap_or_default().to_string(),
            external_ids: data::as_map(&r["external_ids"]),
            addresses: data::set_items(&r["addresses"]).iter().filter_map(|v| v.as_str()).map(str::to_string).collect(),
        }
    }

    /// What the port was made for: a Docker endpoint ID, or `reserved/TOKEN`.
    pub fn owner(&self) -> Option<&str> {
        self.external_ids.get(keys::lsp::FOR_PORT).map(String::as_str)
    }
}

/// A one-operation transaction selecting `columns` of the rows of `table` matching `cond`.
pub(super) fn select(table: &'static str, cond: Cond, columns: Vec<&'static str>) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Select { table, conds: vec![cond], columns });
    t
}

impl Northbound {
    pub async fn connect(db: &Remote, timeout: std::time::Duration) -> Result<Self, OvsdbError> {
        Ok(Northbound { session: Session::open(db, DB, timeout).await? })
    }

    /// Connect only when the first request needs it (see [`Session::lazy`]).
    pub fn lazy(db: &Remote, timeout: std::time::Duration) -> Self {
        Northbound { session: Session::lazy(db, DB, timeout) }
    }

    pub async fn transact(&self, txn: Txn) -> Result<Vec<Value>, OvsdbError> {
        let res = self.session.request("transact", txn.params(DB)).await?;
        txn.check(res)
    }

    /// The logical switch port named `name`.
    pub async fn lsp(&self, name: &str) -> Result<Option<LspRow>, OvsdbError> {
        let res = self.transact(select("Logical_Switch_Port", Cond::eq("name", name), LSP_COLUMNS.into())).await?;
        Ok(data::rows(&res[0]).first().map(LspRow::from_row))
    }

    /// The uuid of the logical switch port `name` if we made it for `owner`.
    pub async fn our_lsp(&self, name: &str, owner: &str) -> Result<Option<String>, OvsdbError> {
        Ok(self.lsp(name).await?.filter(|l| l.owner() == Some(owner)).map(|l| l.uuid))
    }

    /// Whether the logical switch port `name` exists, made for `owner`,
    /// with exactly `addresses`: what a create sent again after a lost
    /// reply finds when the first copy was committed.
    pub async fn has_our_lsp(&self, name: &str, owner: &str, addresses: &str) -> Result<bool, OvsdbError> {
        let lsp = self.lsp(name).await?;
        Ok(lsp.is_some_and(|l| l.owner() == Some(owner) && l.addresses == [addresses]))
    }

    /// Delete the logical switch port `name` if we made it for `owner`;
    /// already gone is success.
    pub async fn delete_our_lsp(&self, name: &str, owner: &str) -> Result<(), OvsdbError> {
        if let Some(uuid) = self.our_lsp(name, owner).await? {
            self.transact(del_lsp_txn(&uuid)).await?;
        }
        Ok(())
    }
}

/// Create the logical switch port `name` on the switch `switch` (whose
/// row is `switch_uuid`: names are not unique in this table, so the caller
/// looked it up and found exactly one) with `addresses` ("MAC IP..."),
/// marked as made for `owner` (see `keys::lsp::FOR_PORT`). The transaction
/// requires that this switch still exists under its name and that no port
/// of that name does.
pub fn create_lsp_txn(switch: &str, switch_uuid: &str, name: &str, addresses: &str, owner: &str) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Wait {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(switch_uuid))],
        columns: vec!["name"],
        rows: vec![json!({"name": switch})],
        what: Precondition::SwitchExists(switch.to_string()),
    });
    t.push(Op::Wait {
        table: "Logical_Switch_Port",
        conds: vec![Cond::eq("name", name)],
        columns: vec!["name"],
        rows: vec![],
        what: Precondition::LspNameFree(name.to_string()),
    });
    t.push(Op::Insert {
        table: "Logical_Switch_Port",
        row: json!({
            "name": name,
            "addresses": data::set(vec![json!(addresses)]),
            "external_ids": data::map([(keys::iface::CREATED_BY, crate::ovsdb::keys::CREATED_BY_US), (keys::lsp::FOR_PORT, owner)]),
        }),
        uuid_name: Some("lsp".into()),
    });
    t.push(Op::Mutate {
        table: "Logical_Switch",
        conds: vec![Cond::eq("_uuid", data::uuid(switch_uuid))],
        mutations: json!([["ports", "insert", data::set(vec![data::named("lsp")])]]),
    });
    t
}

/// Delete a logical switch port: take it off its switch, and the row (not a
/// root table) is garbage-collected.
pub fn del_lsp_txn(lsp_uuid: &str) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Mutate {
        table: "Logical_Switch",
        conds: vec![Cond::includes("ports", data::uuid(lsp_uuid))],
        mutations: json!([["ports", "delete", data::set(vec![data::uuid(lsp_uuid)])]]),
    });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsp_creation_requires_the_switch_and_a_free_name() {
        let p = create_lsp_txn("ls1", "u-ls1", "web1", "02:00:00:00:00:01 10.0.0.2", "abc/eth1").params(DB);
        assert_eq!(p[0], "OVN_Northbound");
        assert_eq!(p[1]["where"], json!([["_uuid", "==", ["uuid", "u-ls1"]]]));
        assert_eq!(p[1]["rows"], json!([{"name": "ls1"}]));
        assert_eq!(p[2]["where"], json!([["name", "==", "web1"]]));
        assert_eq!(p[2]["rows"], json!([]));
        assert_eq!(p[3]["row"]["addresses"], json!(["set", ["02:00:00:00:00:01 10.0.0.2"]]));
        assert_eq!(
            p[3]["row"]["external_ids"],
            json!(["map", [["created_by", "ovs-docker"], ["ovs_docker_port", "abc/eth1"]]])
        );
        assert_eq!(p[4]["where"], json!([["_uuid", "==", ["uuid", "u-ls1"]]]));
        assert_eq!(p[4]["mutations"], json!([["ports", "insert", ["set", [["named-uuid", "lsp"]]]]]));
    }

    #[test]
    fn lsp_deletion_takes_it_off_its_switch() {
        let p = del_lsp_txn("u1").params(DB);
        assert_eq!(p[1]["where"], json!([["ports", "includes", ["uuid", "u1"]]]));
    }
}
