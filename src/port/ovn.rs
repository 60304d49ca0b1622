//! OVN bindings of container ports, for add-port `--iface-id`, `--wait-ovn`
//! and `--ovn-nb`/`--ovn-switch`, and their removal by del-port.
//!
//! ovn-controller binds an OVS Interface to the logical switch port named by
//! its `external_ids:iface-id`, and reports the binding done by setting
//! `external_ids:ovn-installed=true`. The logical switch port itself lives
//! in the northbound database; with `--ovn-nb` we create it there (with the
//! interface's real MAC and addresses) and record on the Interface where,
//! so that del-port deletes exactly what add-port created.

use std::net::IpAddr;
use std::time::Duration;

use super::journal::{delete_lsp, Journal, Step};
use super::spec::{OvnSpec, PortSpec};
use crate::config::Mac;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::keys;
use crate::ovsdb::northbound::{self, Northbound};
use crate::ovsdb::vswitch::{AttachedPort, Vswitch};
use crate::ovsdb::{data, Cond, Op, OvsdbError, Precondition};

/// Keys ovn-controller writes about the port as it installed it: a new
/// port that replaces an old row (see `watch`) must not inherit them, or
/// it would look installed before ovn-controller has seen it.
pub fn is_state_of_old_port(key: &str) -> bool {
    key.starts_with(keys::iface::OVN_INSTALLED)
}

/// What marks a logical switch port as made for a container's interface
/// (`ovs_docker_port` in its external_ids): the container's full ID and the
/// interface, which stay the same when `watch` re-creates the OVS port
/// under a new name after a restart.
pub fn owner_mark(full_id: &str, iface: &str) -> String {
    format!("{full_id}/{iface}")
}

/// How often `--wait-ovn` looks at the Interface row.
const POLL: Duration = Duration::from_millis(50);

/// The OVN side of an add-port, once the veth exists: create the logical
/// switch port if asked (journalled, so a later failure deletes it), and
/// return the external_ids that bind the Interface to it, for the same
/// transaction that adds the port.
pub async fn bind(
    ctx: &Ctx,
    a: &PortSpec,
    mac: Option<Mac>,
    journal: &Journal,
    port: &str,
    owner: &str,
) -> Result<Vec<(&'static str, String)>> {
    let args = &a.ovn;
    let Some(lsp) = &args.iface_id else { return Ok(Vec::new()) };
    let mac = mac.map(|m| m.to_string());
    let addresses: Vec<IpAddr> = a.addresses.iter().map(|x| x.ip).collect();
    let mut ids = vec![(keys::iface::IFACE_ID, lsp.clone())];
    if let Some(m) = &mac {
        ids.push((keys::iface::ATTACHED_MAC, m.clone()));
    }
    let (Some(db), Some(switch)) = (&args.nb, &args.switch) else { return Ok(ids) };
    let Some(mac) = mac else {
        return Err(Error::refused(format!("the interface of port {port} has no MAC: cannot create OVN port {lsp}")));
    };
    let endpoint = ctx.remote(db)?;
    ctx.step(format_args!("creating logical switch port {lsp} on {switch} in {endpoint}"));
    let nb = Northbound::connect(&endpoint, ctx.timeout)
        .await
        .step(|| format!("connect to the OVN northbound database {endpoint}"))?;
    let addrs = std::iter::once(mac).chain(addresses.iter().map(IpAddr::to_string)).collect::<Vec<_>>().join(" ");
    let switches = nb.switches(switch).await.step(|| format!("look up logical switch {switch} in {endpoint}"))?;
    let [sw] = switches.as_slice() else {
        return Err(Error::refused(format!(
            "{} logical switches are named {switch} in {endpoint}: expected one",
            switches.len()
        )));
    };
    journal.record(Step::NbLsp { db: db.clone(), name: lsp.clone(), owner: owner.to_string() });
    match nb.transact(northbound::create_lsp_txn(switch, &sw.uuid, lsp, &addrs, owner)).await {
        Ok(_) => {}
        Err(OvsdbError::Precondition(Precondition::SwitchExists(_))) => {
            return Err(Error::refused(format!("logical switch {switch} was removed meanwhile from {endpoint}")));
        }
        Err(OvsdbError::Precondition(_)) => {
            // Sent again to a new cluster leader after the first copy was
            // committed? Then the port is there, ours, as asked.
            let done =
                nb.has_our_lsp(lsp, owner, &addrs).await.step(|| format!("look up logical switch port {lsp}"))?;
            if !done {
                return Err(Error::refused(format!("logical switch port {lsp} already exists in {endpoint}")));
            }
        }
        Err(e) => {
            return Err(Error::Ovsdb { step: format!("create logical switch port {lsp} on {switch}"), source: e })
        }
    }
    ids.push((keys::iface::LSP_CREATED_IN, db.clone()));
    Ok(ids)
}

/// With `--wait-ovn`: wait until ovn-controller has installed the port.
pub async fn wait_installed(ctx: &Ctx, args: &OvnSpec, ovs: &Vswitch, port: &str) -> Result<()> {
    let (true, Some(lsp)) = (args.wait, &args.iface_id) else { return Ok(()) };
    ctx.step(format_args!("waiting for ovn-controller to install port {port} ({lsp})"));
    let deadline = tokio::time::Instant::now() + ctx.timeout;
    loop {
        let res = ovs
            .select(vec![Op::Select {
                table: "Interface",
                conds: vec![Cond::eq("name", port)],
                columns: vec!["external_ids"],
            }])
            .await
            .step(|| format!("read port {port}"))?;
        let Some(row) = data::rows(&res[0]).into_iter().next() else {
            return Err(Error::refused(format!("port {port} vanished from OVSDB")));
        };
        if data::as_map(&row["external_ids"]).get(keys::iface::OVN_INSTALLED).is_some_and(|v| v == "true") {
            ctx.step(format_args!("ovn-controller installed port {port}"));
            return Ok(());
        }
        if tokio::time::Instant::now() + POLL > deadline {
            return Err(Error::io(
                format!("wait for ovn-controller to install port {port} (iface-id {lsp})"),
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "not installed within --timeout (is ovn-controller running, and does the logical switch port exist?)",
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// del-port: delete the logical switch port that add-port created for `p`,
/// if it did. Done before the port itself is removed, so that a failure
/// leaves everything in place for a retry.
pub async fn release(ctx: &Ctx, p: &AttachedPort) -> Result<()> {
    let (Some(db), Some(lsp)) =
        (p.external_ids.get(keys::iface::LSP_CREATED_IN), p.external_ids.get(keys::iface::IFACE_ID))
    else {
        return Ok(());
    };
    let owner = owner_mark(p.full_id().unwrap_or(p.container_ref()), p.container_iface());
    delete_lsp(ctx, db, lsp, &owner).await
}

/// What `list` says of a port's OVN binding: the logical port, and whether
/// ovn-controller has installed it.
pub fn binding(p: &AttachedPort) -> Option<(String, bool)> {
    let lsp = p.external_ids.get(keys::iface::IFACE_ID)?;
    Some((lsp.clone(), p.external_ids.get(keys::iface::OVN_INSTALLED).is_some_and(|v| v == "true")))
}
