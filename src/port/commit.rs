//! The last step of an attach: the port's rows, in one OVSDB transaction
//! guarded by preconditions (the bridge as planned, no port for the
//! container's interface under any of its names, the addresses unused),
//! then ovs-vswitchd's verdict on the interface.

use std::net::IpAddr;

use serde_json::json;

use super::journal::{Journal, Step};
use super::ovn::is_state_of_old_port;
use super::record::Record;
use super::spec::PortSpec;
use crate::config::Mac;
use crate::context::Ctx;
use crate::docker::Container;
use crate::error::{Context, Error, Result};
use crate::ovsdb::mirrors::move_mirror_refs;
use crate::ovsdb::vswitch::{self, Absent, AttachedPort, BridgePlan, IfaceState, NewPort, Vswitch};
use crate::ovsdb::{data, keys, Cond, Op, OvsdbError, Precondition};

/// Bridge-state preconditions can fail when another run creates the bridge
/// at the same moment; such a transaction is retried with fresh state.
const BRIDGE_RETRIES: usize = 5;

/// What a port re-created for a restarted container keeps of its stale
/// row (see `watch`): the row is replaced in the transaction that adds the
/// new one, so the record is never lost, even if the watcher is killed.
#[derive(Debug, Clone)]
pub struct Carry {
    /// `container_id` as first recorded (the reference the user typed).
    pub reference: String,
    pub old: AttachedPort,
}

impl Carry {
    pub fn new(old: &AttachedPort) -> Self {
        Carry { reference: old.container_ref().to_string(), old: old.clone() }
    }

    /// The MAC the old port's interface had.
    pub fn recorded_mac(&self) -> Option<Mac> {
        Record::from_external_ids(&self.old.external_ids).mac
    }

    pub fn removed_meanwhile(&self, iface: &str) -> Error {
        Error::refused(format!("port for CONTAINER={} INTERFACE={iface} was removed meanwhile", self.reference))
    }
}

/// Everything the rows of a new port are made of.
pub struct NewRow<'a> {
    pub spec: &'a PortSpec,
    /// `container_id` to record.
    pub reference: &'a str,
    pub container: &'a Container,
    pub port_name: &'a str,
    pub carry: Option<&'a Carry>,
    /// The interface's MAC, recorded.
    pub mac: Option<Mac>,
    /// The OVN binding's external_ids.
    pub ovn_ids: Vec<(&'static str, String)>,
}

impl NewRow<'_> {
    /// The Port and Interface rows.
    pub fn port(&self) -> NewPort {
        let (spec, c) = (self.spec, self.container);
        let mut new = NewPort {
            bridge: spec.bridge.clone(),
            name: self.port_name.to_string(),
            external_ids: vec![
                (keys::iface::CONTAINER_ID, self.reference.to_string()),
                (keys::iface::CONTAINER_IFACE, spec.interface.to_string()),
                (keys::iface::FULL_ID, c.id.clone()),
                (keys::iface::NAME, c.name.clone()),
                (keys::iface::CREATED_BY, keys::CREATED_BY_US.to_string()),
            ]
            .into_iter()
            .chain(self.ovn_ids.iter().cloned())
            .collect(),
            extra_ids: spec
                .record(self.mac)
                .to_external_ids(&spec.bridge)
                .into_iter()
                .chain(spec.extra_ids.iter().cloned())
                .collect(),
            tag: spec.vlan,
            port_columns: match spec.trunks.is_empty() {
                true => Default::default(),
                false => vswitch::Vlan::Trunk { vlans: spec.trunks.clone(), native: spec.vlan }.columns(),
            },
            iface_columns: spec
                .ingress_rate
                .map(|rate| vswitch::policing_columns(rate, spec.ingress_burst))
                .unwrap_or_default(),
            replaces: None,
        };
        if let Some(carry) = self.carry {
            carry_over(&mut new, &carry.old);
        }
        new
    }

    /// Whatever name the container goes by, no port may exist for it and
    /// this interface: that is what keeps a concurrent upstream run (which
    /// takes no lock) from attaching the same interface. A replaced row is
    /// the one exception. Unless forced, no other port on the bridge may
    /// claim one of the addresses.
    pub fn preconditions(&self) -> Vec<Absent> {
        let (spec, c, reference) = (self.spec, self.container, self.reference);
        let iface = spec.interface.as_str();
        let refs = [reference, c.name.as_str(), c.id.as_str(), c.short_id()];
        let not_replaced = self.carry.map(|k| Cond::ne("_uuid", data::uuid(&k.old.iface_uuid)));
        let mut absent: Vec<Absent> = vswitch::alias_conds(Some(iface), Some(&c.id), &refs)
            .into_iter()
            .map(|(_, conds)| Absent {
                table: "Interface",
                conds: conds.into_iter().chain(not_replaced.clone()).collect(),
                what: Precondition::PortAbsent { reference: reference.to_string(), iface: iface.to_string() },
            })
            .collect();
        if !spec.force {
            for addr in &spec.addresses {
                let key = super::record::address_key(addr.ip);
                absent.push(Absent {
                    table: "Interface",
                    conds: vec![Cond::includes("external_ids", data::map([(key.as_str(), spec.bridge.as_str())]))]
                        .into_iter()
                        .chain(not_replaced.clone())
                        .collect(),
                    what: Precondition::AddressUnused { ip: addr.ip, bridge: spec.bridge.clone() },
                });
            }
        }
        absent
    }
}

/// A re-created port: everything else the old row carried goes along (keys
/// of other tools included, not OVN's state of the old port), its VLAN
/// settings to the letter (a hand-set vlan_mode included) and its policing.
fn carry_over(new: &mut NewPort, old: &AttachedPort) {
    for (k, v) in old.external_ids.iter().filter(|(k, _)| !is_state_of_old_port(k)) {
        if !new.external_ids.iter().any(|(nk, _)| nk == k) && !new.extra_ids.iter().any(|(nk, _)| nk == k) {
            new.extra_ids.push((k.clone(), v.clone()));
        }
    }
    if old.tag.is_some() || !old.trunks.is_empty() || old.vlan_mode.is_some() {
        new.tag = None;
        let empty = || data::set(vec![]);
        new.port_columns.insert("tag".into(), old.tag.map_or_else(empty, |t| json!(t)));
        new.port_columns.insert("trunks".into(), data::set(old.trunks.iter().map(|t| json!(t)).collect()));
        new.port_columns.insert("vlan_mode".into(), old.vlan_mode.as_ref().map_or_else(empty, |m| json!(m)));
    }
    if old.ingress_rate > 0 {
        new.iface_columns = vswitch::policing_columns(old.ingress_rate as u32, Some(old.ingress_burst as u32));
    }
    new.replaces = old.port_uuid.clone();
}

/// Commit the port to OVSDB in one guarded transaction and, unless
/// `--no-wait`, wait for ovs-vswitchd to take it.
pub async fn commit(
    ctx: &Ctx,
    ovs: &mut Vswitch,
    journal: &Journal,
    row: &NewRow<'_>,
    mut bridge_exists: bool,
) -> Result<()> {
    let (spec, port) = (row.spec, row.port_name);
    let (new, absent) = (row.port(), row.preconditions());
    // A re-created port takes the old one's place in its mirrors too.
    let replaced = row.carry.and_then(|c| c.old.port_uuid.as_deref());
    let mirrors = match replaced {
        Some(u) => ovs.mirrors_using(u).await.step(|| format!("look up the mirrors of port {}", row.port_name))?,
        None => Vec::new(),
    };
    let mut attempt = 0;
    let applied = loop {
        let plan = if bridge_exists {
            BridgePlan::Exists
        } else {
            BridgePlan::Create { datapath_type: spec.datapath_type.clone() }
        };
        let mut txn = vswitch::add_port_txn(&new, &plan, &absent);
        if let Some(old) = replaced {
            move_mirror_refs(&mut txn, &mirrors, old, vswitch::NEW_PORT);
        }
        let creating = if bridge_exists { "" } else { " (creating the bridge)" };
        ctx.step(format_args!("adding port {port} to bridge {}{creating}", spec.bridge));
        if !bridge_exists {
            journal.record(Step::Bridge { bridge: spec.bridge.clone(), port: port.to_string() });
        }
        // A re-created port's row stays even if a later step fails: it
        // holds the record, and its missing veth makes it stale, to be
        // re-created again.
        if row.carry.is_none() {
            journal.record(Step::Row(port.to_string()));
        }
        let committed = if ctx.wait {
            ovs.commit_watching(txn, port).await.map(|(_, state)| Some(state))
        } else {
            ovs.commit(txn, false).await.map(|_| None)
        };
        match committed {
            Ok(state) => {
                crate::fault::point("row-committed").await;
                break state;
            }
            Err(OvsdbError::Precondition(Precondition::BridgeExists(_) | Precondition::BridgeAbsent(_)))
                if attempt < BRIDGE_RETRIES =>
            {
                attempt += 1;
                bridge_exists = !bridge_exists;
            }
            Err(e) => return Err(refusal(row, e)),
        }
    };
    // Unless --no-wait: did ovs-vswitchd take the interface?
    match applied {
        Some(state) => {
            ctx.step(format_args!("ovs-vswitchd applied the change"));
            judge_interface(&state, port, &spec.bridge)
        }
        None => Ok(()),
    }
}

/// What a failed commit tells the user.
fn refusal(row: &NewRow<'_>, e: OvsdbError) -> Error {
    let (reference, iface, bridge) = (row.reference, row.spec.interface.as_str(), row.spec.bridge.as_str());
    match e {
        OvsdbError::Precondition(Precondition::PortAbsent { .. }) => {
            Error::refused(format!("port already attached for CONTAINER={reference} and INTERFACE={iface}"))
        }
        OvsdbError::Precondition(Precondition::ReplacedPortExists) => {
            Error::refused(format!("port for CONTAINER={reference} INTERFACE={iface} was removed meanwhile"))
        }
        OvsdbError::Precondition(Precondition::AddressUnused { ip, .. }) => address_in_use(ip, bridge, None),
        e => Error::Ovsdb { step: format!("add port {} to bridge {bridge}", row.port_name), source: e },
    }
}

/// An address that another port on the bridge holds.
pub(super) fn address_in_use(ip: IpAddr, bridge: &str, user: Option<&AttachedPort>) -> Error {
    let by = user.map_or(String::new(), |p| {
        let who = super::find::container_label(p, None);
        format!(" (port {}, CONTAINER={who} INTERFACE={})", p.name, p.container_iface())
    });
    Error::refused(format!("address {ip} is already used on bridge {bridge}{by}; --force adds it anyway"))
}

/// After ovs-vswitchd applied a change: did it take the interface `port`?
/// (Looked up; [`Vswitch::commit_watching`] gives the same without a lookup.)
pub async fn check_interface(ovs: &Vswitch, port: &str, bridge: &str) -> Result<()> {
    let res = ovs
        .select(vec![Op::Select {
            table: "Interface",
            conds: vec![Cond::eq("name", port)],
            columns: vec!["error", "ofport"],
        }])
        .await
        .step(|| format!("check port {port}"))?;
    let state = match data::rows(&res[0]).into_iter().next() {
        Some(row) => IfaceState {
            exists: true,
            ofport: data::as_opt_int(&row["ofport"]),
            error: data::as_opt_str(&row["error"]),
        },
        None => IfaceState::default(),
    };
    judge_interface(&state, port, bridge)
}

/// An error in `Interface.error`, or no OpenFlow port number (as when the
/// bridge's datapath could not be created), means ovs-vswitchd did not take
/// the interface.
fn judge_interface(state: &IfaceState, port: &str, bridge: &str) -> Result<()> {
    if !state.exists {
        return Err(Error::refused(format!("port {port} vanished from OVSDB")));
    }
    let failed = |why: String| Error::Ovsdb {
        step: format!("add port {port} to bridge {bridge}"),
        source: OvsdbError::Interface(why),
    };
    if let Some(error) = &state.error {
        return Err(failed(error.clone()));
    }
    match state.ofport {
        Some(n) if n > 0 => Ok(()),
        _ => Err(failed(
            "it got no OpenFlow port (is the bridge's datapath type usable here? see ovs-vswitchd's log)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container() -> Container {
        Container::running(&format!("c474a0e2830e{}", "0".repeat(52)), "web1")
    }

    fn spec() -> PortSpec {
        let mut s = PortSpec::new("br0", "eth1".parse().unwrap(), "web1");
        s.addresses = vec!["10.0.0.2/24".parse().unwrap()];
        s.vlan = Some(7);
        s
    }

    /// The rows of a fresh (not re-created) port for `c`.
    fn fresh_row<'a>(s: &'a PortSpec, c: &'a Container) -> NewRow<'a> {
        NewRow {
            spec: s,
            reference: "web1",
            container: c,
            port_name: "0123456789abc_l",
            carry: None,
            mac: None,
            ovn_ids: vec![],
        }
    }

    fn ids(p: &NewPort) -> std::collections::BTreeMap<String, String> {
        p.external_ids.iter().map(|(k, v)| (k.to_string(), v.clone())).chain(p.extra_ids.iter().cloned()).collect()
    }

    #[test]
    fn a_new_port_carries_upstreams_keys_ours_and_its_record() {
        let (s, c) = (spec(), container());
        let row = fresh_row(&s, &c);
        let p = row.port();
        let ids = ids(&p);
        assert_eq!(ids["container_id"], "web1");
        assert_eq!(ids["container_iface"], "eth1");
        assert_eq!(ids["container_full_id"], c.id);
        assert_eq!(ids["created_by"], "ovs-docker");
        assert_eq!(ids["ovs_docker_ip:10.0.0.2"], "br0");
        assert_eq!((p.tag, p.replaces.as_deref()), (Some(7), None));
        // One condition per name the container goes by, and one per address.
        let pre = row.preconditions();
        assert!(pre.iter().any(|a| matches!(&a.what, Precondition::AddressUnused { bridge, .. } if bridge == "br0")));
        assert_eq!(pre.iter().filter(|a| matches!(a.what, Precondition::PortAbsent { .. })).count(), 4);
        let mut forced = s.clone();
        forced.force = true;
        let row = NewRow { spec: &forced, ..row };
        assert!(!row.preconditions().iter().any(|a| matches!(a.what, Precondition::AddressUnused { .. })));
    }

    #[test]
    fn trunks_and_extra_ids_go_into_the_new_rows() {
        let (mut s, c) = (spec(), container());
        s.trunks = vec![20, 30];
        s.extra_ids = vec![("cni_network".into(), "net1".into())];
        let row = fresh_row(&s, &c);
        let p = row.port();
        assert_eq!(ids(&p)["cni_network"], "net1");
        assert_eq!(p.port_columns["trunks"], json!(["set", [20, 30]]));
        assert_eq!(p.port_columns["vlan_mode"], "native-untagged");
        assert_eq!(p.port_columns["tag"], 7);
    }

    #[test]
    fn a_recreated_port_replaces_the_old_row_and_keeps_its_settings() {
        let (s, c) = (spec(), container());
        let old = AttachedPort {
            iface_uuid: "i-old".into(),
            name: "aaaaaaaaaaaaa_l".into(),
            external_ids: [
                ("container_id", "web"),
                ("other_tool", "x"),
                ("ovn-installed", "true"),
                ("iface-id", "lsp1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ofport: None,
            error: None,
            port_uuid: Some("p-old".into()),
            bridge: Some("br0".into()),
            tag: None,
            trunks: vec![10, 20],
            vlan_mode: Some("trunk".into()),
            ingress_rate: 500,
            ingress_burst: 400,
        };
        let carry = Carry::new(&old);
        assert_eq!(carry.reference, "web");
        let row = NewRow {
            spec: &s,
            reference: "web",
            container: &c,
            port_name: "0123456789abc_l",
            carry: Some(&carry),
            mac: None,
            ovn_ids: vec![],
        };
        let p = row.port();
        let ids = ids(&p);
        assert_eq!((ids["other_tool"].as_str(), ids["iface-id"].as_str()), ("x", "lsp1"));
        assert!(!ids.contains_key("ovn-installed"));
        assert_eq!(p.tag, None);
        assert_eq!(p.port_columns["trunks"], json!(["set", [10, 20]]));
        assert_eq!(p.port_columns["vlan_mode"], "trunk");
        assert_eq!(p.iface_columns["ingress_policing_rate"], 500);
        assert_eq!(p.replaces.as_deref(), Some("p-old"));
        // The replaced row does not count against the new one.
        assert!(row.preconditions().iter().all(|a| a.conds.iter().any(|c| c.0 == "_uuid" && c.1 == "!=")));
    }

    #[test]
    fn ovs_vswitchd_must_give_the_interface_an_openflow_port() {
        let ok = IfaceState { exists: true, ofport: Some(3), error: None };
        assert!(judge_interface(&ok, "p", "br0").is_ok());
        let none = IfaceState { exists: true, ofport: Some(-1), error: None };
        assert!(judge_interface(&none, "p", "br0").unwrap_err().to_string().contains("no OpenFlow port"));
        let err = IfaceState { exists: true, ofport: None, error: Some("could not open network device".into()) };
        assert!(judge_interface(&err, "p", "br0").unwrap_err().to_string().contains("could not open network device"));
        assert_eq!(judge_interface(&IfaceState::default(), "p", "br0").unwrap_err().exit_code(), 1);
    }
}
