//! Undoing a command that failed or was interrupted half-way.
//!
//! Each step is recorded *before* it is attempted, so an interruption at any
//! await point (even between the kernel doing the work and its answer
//! arriving) still leaves a record of it. Every undo step is idempotent: it
//! removes the object by name if it exists.

use std::cell::RefCell;

use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::northbound::Northbound;
use crate::ovsdb::{data, vswitch, Cond, Op, OvsdbError};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::signals::Signals;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A veth whose host end has this name (its peer goes with it).
    Veth(String),
    /// OVSDB Port and Interface rows with this name.
    Row(String),
    /// A bridge add-port created for the port `port` (marked so in its
    /// external_ids); removed only if nothing else was added to it.
    Bridge { bridge: String, port: String },
    /// An OVN logical switch port `name` created in the northbound
    /// database `db`, marked with `owner` (see `super::ovn::owner_mark`).
    NbLsp { db: String, name: String, owner: String },
}

#[derive(Debug, Default)]
pub struct Journal {
    steps: RefCell<Vec<Step>>,
    /// The port's lock, held until the undo is over: while it is held,
    /// nobody can see (and act on) what is being undone.
    lock: RefCell<Option<PortLock>>,
}

impl Journal {
    pub fn record(&self, step: Step) {
        self.steps.borrow_mut().push(step);
    }

    /// Drop the last record of `step`: it turned out not to be ours to undo
    /// (a concurrent run made that object).
    pub fn forget(&self, step: &Step) {
        let mut steps = self.steps.borrow_mut();
        if let Some(i) = steps.iter().rposition(|s| s == step) {
            steps.remove(i);
        }
    }

    /// Keep `lock` until [`Journal::release`].
    pub fn hold(&self, lock: PortLock) {
        *self.lock.borrow_mut() = Some(lock);
    }

    pub fn release(&self) {
        self.lock.borrow_mut().take();
    }

    /// Undo every recorded step, newest first, carrying on after failures.
    pub async fn undo(&self, ctx: &Ctx) -> Result<()> {
        let steps: Vec<Step> = self.steps.borrow_mut().drain(..).rev().collect();
        let mut errors = Vec::new();
        for step in steps {
            ctx.step(format_args!("undoing: {step:?}"));
            let r = match &step {
                Step::Veth(name) => undo_veth(name).await,
                Step::Row(name) => remove_rows(ctx, name).await,
                Step::Bridge { bridge, port } => remove_created_bridge(ctx, bridge, port).await,
                Step::NbLsp { db, name, owner } => delete_lsp(ctx, db, name, owner).await,
            };
            if let Err(e) = r {
                errors.push(e);
            }
        }
        Error::all(errors)
    }
}

/// Delete the logical switch port `lsp` of `db` if we made it for `owner`
/// (see `super::ovn::owner_mark`); already gone is success.
pub async fn delete_lsp(ctx: &Ctx, db: &str, lsp: &str, owner: &str) -> Result<()> {
    let endpoint = ctx.remote(db)?;
    ctx.step(format_args!("deleting logical switch port {lsp} from {endpoint}"));
    let step = || format!("delete logical switch port {lsp} from {endpoint}");
    let nb = Northbound::connect(&endpoint, ctx.timeout).await.step(step)?;
    nb.delete_our_lsp(lsp, owner).await.step(step)
}

async fn undo_veth(name: &str) -> Result<()> {
    let host = Netlink::host().step(|| "undo: open a netlink socket".into())?;
    host.delete(name).await.step(|| format!("undo: delete veth {name}"))?;
    Ok(())
}

/// Remove the Port named `name` from whichever bridge holds it (a
/// container port or a tunnel: any Port this run inserted).
pub async fn remove_rows(ctx: &Ctx, name: &str) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let res = ovs
        .select(vec![Op::Select { table: "Port", conds: vec![Cond::eq("name", name)], columns: vec!["_uuid"] }])
        .await
        .step(|| format!("undo: look up port {name}"))?;
    for row in data::rows(&res[0]) {
        if let Some(u) = data::as_uuid(&row["_uuid"]) {
            ovs.commit(vswitch::del_port_txn(u), false)
                .await
                .step(|| format!("undo: remove port {name} from OVSDB"))?;
        }
    }
    Ok(())
}

async fn remove_created_bridge(ctx: &Ctx, bridge: &str, port: &str) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let res = ovs
        .select(vec![Op::Select {
            table: "Bridge",
            conds: vec![Cond::eq("name", bridge)],
            columns: vec!["_uuid", "ports", "external_ids"],
        }])
        .await
        .step(|| format!("undo: look up bridge {bridge}"))?;
    let Some(row) = data::rows(&res[0]).into_iter().next() else { return Ok(()) };
    let Some(txn) = vswitch::del_created_bridge_txn(&row, port) else { return Ok(()) };
    match ovs.commit(txn, false).await {
        // Someone added a port meanwhile: the bridge is theirs now too.
        Ok(_) | Err(OvsdbError::Precondition(_)) => Ok(()),
        Err(e) => Err(Error::Ovsdb { step: format!("undo: delete bridge {bridge}"), source: e }),
    }
}

/// Run `work` with `journal`; if it fails or one of `signals` arrives, undo
/// what the journal recorded (still holding the port's lock) and return the
/// first error.
pub async fn guarded<T, F>(ctx: &Ctx, journal: &Journal, signals: &mut Signals, work: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let result = tokio::select! {
        r = work => r,
        sig = signals.recv() => Err(Error::Interrupted(sig)),
    };
    let result = match result {
        Ok(v) => Ok(v),
        Err(e) => match journal.undo(ctx).await {
            Ok(()) => Err(e),
            Err(undo) => Err(Error::Many(vec![e, undo])),
        },
    };
    journal.release();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_drops_the_last_record_of_a_step_only() {
        let j = Journal::default();
        j.record(Step::Veth("a_l".into()));
        j.record(Step::Row("a_l".into()));
        j.record(Step::Row("b_l".into()));
        j.record(Step::Row("a_l".into()));
        j.forget(&Step::Row("a_l".into()));
        assert_eq!(*j.steps.borrow(), [Step::Veth("a_l".into()), Step::Row("a_l".into()), Step::Row("b_l".into())]);
        j.forget(&Step::Row("zzz".into()));
        assert_eq!(j.steps.borrow().len(), 3);
    }

    #[test]
    fn the_lock_is_held_until_released() {
        let id = format!("journal-test-{}", std::process::id());
        let j = Journal::default();
        j.hold(PortLock::try_acquire(&id, "eth1").unwrap().unwrap());
        assert!(PortLock::try_acquire(&id, "eth1").unwrap().is_none());
        j.release();
        assert!(PortLock::try_acquire(&id, "eth1").unwrap().is_some());
    }
}
