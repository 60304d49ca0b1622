//! Changing a port's settings: its VLAN (`set-vlan`: access port of a VLAN
//! through Port.tag, as upstream does; a trunk, with an optional native
//! VLAN; or none) and its rate limit (`set-qos`).
//!
//! Rate limits: the limit is OVS ingress policing (Interface.ingress_policing_rate and
//! _burst), which ovs-vswitchd enforces with the kernel datapath. The
//! userspace (netdev) datapath reads the veth before the kernel's ingress
//! policer would act, so there the same limit is also applied inside the
//! container, as a token bucket on the interface's egress (see
//! [`crate::sys::netlink::Netlink::set_rate_limit`]). OVSDB, which `watch`
//! restores from, is changed first; if the container side then fails, the
//! old values go back.

use super::find::find_one;
use super::PortAddress;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::{self, Vlan};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;

/// `set-vlan`: make the port at `at` an access port, a trunk, or neither.
pub async fn set_vlan(ctx: &Ctx, at: &PortAddress, vlan: &Vlan) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let port = find_one(ctx, &ovs, at).await?;
    let uuid =
        port.port_uuid.as_deref().ok_or_else(|| Error::refused(format!("interface {} has no port", port.name)))?;
    ctx.step(format_args!("setting {vlan:?} on port {}", port.name));
    let res = ovs
        .commit(vswitch::set_vlan_txn(uuid, vlan), ctx.wait)
        .await
        .step(|| format!("set the VLAN of port {}", port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    Ok(())
}

/// `set-qos`: limit what the container of the port at `at` sends into the
/// bridge to `rate` kbit/s (0: no limit) with `burst` kbit of burst.
pub async fn set_qos(ctx: &Ctx, at: &PortAddress, rate: u32, burst: Option<u32>) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let found = find_one(ctx, &ovs, at).await?;
    let key = found.full_id().unwrap_or(found.container_ref()).to_string();
    let iface = found.container_iface().to_string();
    let _lock = PortLock::acquire(&key, &iface, ctx.timeout)
        .await
        .step(|| format!("lock {key}/{iface}"))?
        .ok_or_else(|| Error::refused(format!("another ovs-docker is still working on {key}/{iface}")))?;
    // Read again under the lock: what we change is what is there now.
    let port = find_one(ctx, &ovs, at).await?;
    let bridge = port.bridge.clone().unwrap_or_default();
    let netdev = ovs.bridge_datapath_type(&bridge).await.step(|| format!("look up bridge {bridge}"))?.as_deref()
        == Some("netdev");
    let set = |rate: u32, burst: Option<u32>| vswitch::set_policing_txn(&port.iface_uuid, rate, burst);
    let res = ovs
        .commit(set(rate, burst), ctx.wait)
        .await
        .step(|| format!("set the ingress policing of interface {}", port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    if !netdev {
        return Ok(());
    }
    if let Err(e) = limit_inside(ctx, &port, rate, burst).await {
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
    let c = super::target::get(&docker, port.full_id().unwrap_or(port.container_ref())).await?;
    let iface = port.container_iface();
    let path =
        c.netns_path().ok_or_else(|| Error::refused(format!("container \"{}\" has no network namespace", c.name)))?;
    let ns = Netns::open(&path).step(|| format!("open network namespace {path}"))?;
    let inside = Netlink::inside(&ns).step(|| format!("open a netlink socket in {}", c.name))?;
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
