//! `del-port BRIDGE INTERFACE CONTAINER` and `del-ports BRIDGE CONTAINER`.
//!
//! The OVSDB rows go first, in one transaction, then the veths. A veth or a
//! row that is already gone counts as removed, so a repeated or concurrent
//! deletion never fails half-way; other failures are collected and the
//! remaining ports are still removed.

use super::{find_attached, Ctx};
use crate::cli::{DelPortsArgs, PortRef};
use crate::error::{Context, Error, Result};
use crate::netlink::Netlink;
use crate::ovsdb::vswitch::{self, AttachedPort};
use crate::ovsdb::Txn;

pub async fn exec_one(ctx: &Ctx, a: PortRef) -> Result<()> {
    let iface = a.interface.as_str();
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (_, ports) = find_attached(ctx, &ovs, &docker, &a.container, Some(iface)).await?;
    let (here, elsewhere): (Vec<_>, Vec<_>) =
        ports.into_iter().partition(|p| p.bridge.as_deref() == Some(a.bridge.as_str()));
    if here.is_empty() {
        return Err(Error::refused(match elsewhere.first() {
            Some(p) => format!(
                "the port for CONTAINER={} and INTERFACE={iface} is on bridge {}, not {}",
                a.container,
                p.bridge.as_deref().unwrap_or("(none)"),
                a.bridge
            ),
            None => {
                format!("no port attached for CONTAINER={} and INTERFACE={iface} on bridge {}", a.container, a.bridge)
            }
        }));
    }
    remove(ctx, &mut ovs, &here).await
}

pub async fn exec_all(ctx: &Ctx, a: DelPortsArgs) -> Result<()> {
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (_, ports) = find_attached(ctx, &ovs, &docker, &a.container, None).await?;
    let here: Vec<_> = ports.into_iter().filter(|p| p.bridge.as_deref() == Some(a.bridge.as_str())).collect();
    if here.is_empty() {
        // As upstream: nothing to remove is not an error.
        ctx.step(format_args!("no port of container \"{}\" on bridge {}", a.container, a.bridge));
        return Ok(());
    }
    remove(ctx, &mut ovs, &here).await
}

/// Remove the ports' rows in one transaction, then their veths.
async fn remove(ctx: &Ctx, ovs: &mut vswitch::Vswitch, ports: &[AttachedPort]) -> Result<()> {
    let mut txn = Txn::new();
    for p in ports {
        if let Some(u) = &p.port_uuid {
            txn.ops.extend(vswitch::del_port_txn(u).ops);
        }
    }
    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
    ctx.step(format_args!("removing port(s) {} from OVSDB", names.join(", ")));
    ovs.commit(txn, ctx.wait).await.step(|| format!("remove port(s) {}", names.join(", ")))?;

    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let mut errors = Vec::new();
    for name in names {
        ctx.step(format_args!("deleting veth {name}"));
        // The host end's peer inside the container goes with it; a link
        // already gone (container stopped or removed) is fine.
        if let Err(e) = host.delete(name).await {
            errors.push(Error::Netlink { step: format!("delete veth {name}"), source: e });
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}
