//! `set-qos BRIDGE INTERFACE CONTAINER --ingress-rate=KBPS [--ingress-burst=KB]`:
//! change the rate limit of what the container sends into the bridge.
//!
//! The limit is OVS ingress policing (Interface.ingress_policing_rate and
//! _burst), which ovs-vswitchd enforces with the kernel datapath. The
//! userspace (netdev) datapath reads the veth before the kernel's ingress
//! policer would act, so there the same limit is also applied inside the
//! container, as a token bucket on the interface's egress (see
//! [`crate::netlink::Netlink::set_rate_limit`]). OVSDB, which `watch`
//! restores from, is changed first; if the container side then fails, the
//! old values go back.

use super::{find_one, Ctx};
use crate::cli::SetQosArgs;
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::ovsdb::vswitch;

pub async fn exec(ctx: &Ctx, a: SetQosArgs) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let found = find_one(ctx, &ovs, &a.port).await?;
    let key = found.full_id().unwrap_or(found.container_ref()).to_string();
    let iface = found.container_iface().to_string();
    let _lock = PortLock::acquire(&key, &iface, ctx.timeout)
        .await
        .step(|| format!("lock {key}/{iface}"))?
        .ok_or_else(|| Error::refused(format!("another ovs-docker is still working on {key}/{iface}")))?;
    // Read again under the lock: what we change is what is there now.
    let port = find_one(ctx, &ovs, &a.port).await?;
    let bridge = port.bridge.clone().unwrap_or_default();
    let netdev = ovs.bridge_datapath_type(&bridge).await.step(|| format!("look up bridge {bridge}"))?.as_deref()
        == Some("netdev");
    let set = |rate: u32, burst: Option<u32>| vswitch::set_policing_txn(&port.iface_uuid, rate, burst);
    let res = ovs
        .commit(set(a.ingress_rate, a.ingress_burst), ctx.wait)
        .await
        .step(|| format!("set the ingress policing of interface {}", port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    if !netdev {
        return Ok(());
    }
    if let Err(e) = limit_inside(ctx, &port, a.ingress_rate, a.ingress_burst).await {
        let (rate, burst) = (port.ingress_rate.max(0) as u32, port.ingress_burst.max(0) as u32);
        let restored = ovs.commit(set(rate, Some(burst)), false).await;
        return match restored {
            Ok(_) => Err(e),
            Err(r) => Err(Error::Many(vec![
                e,
                Error::Ovsdb { step: format!("undo: restore the ingress policing of {}", port.name), source: r },
            ])),
        };
    }
    Ok(())
}

/// The same limit inside the container, for the netdev datapath.
async fn limit_inside(ctx: &Ctx, port: &vswitch::AttachedPort, rate: u32, burst: Option<u32>) -> Result<()> {
    let docker = ctx.docker()?;
    let c = crate::target::get(&docker, port.full_id().unwrap_or(port.container_ref())).await?;
    let iface = port.container_iface();
    let path =
        c.netns_path().ok_or_else(|| Error::refused(format!("container \"{}\" has no network namespace", c.name)))?;
    let ns = crate::netns::Netns::open(&path).step(|| format!("open network namespace {path}"))?;
    let inside = crate::netlink::Netlink::inside(&ns).step(|| format!("open a netlink socket in {}", c.name))?;
    let link = inside
        .link(iface)
        .await
        .step(|| format!("look up {iface} in container \"{}\"", c.name))?
        .ok_or_else(|| Error::refused(format!("{iface} is missing in container \"{}\"", c.name)))?;
    ctx.step(format_args!("rate limit of {iface} in {}: {rate} kbit/s", c.name));
    inside
        .set_rate_limit(link.index, rate, burst)
        .await
        .step(|| format!("set the rate limit of {iface} in container \"{}\"", c.name))
}
