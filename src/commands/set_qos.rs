//! `set-qos BRIDGE INTERFACE CONTAINER --ingress-rate=KBPS [--ingress-burst=KB]`:
//! change the rate limit of what the container sends into the bridge.
//!
//! The limit is OVS ingress policing (Interface.ingress_policing_rate and
//! _burst), which ovs-vswitchd enforces with the kernel datapath. The
//! userspace (netdev) datapath reads the veth before the kernel's ingress
//! policer would act, so there the same limit is also applied inside the
//! container, as a token bucket on the interface's egress (see
//! [`crate::netlink::Netlink::set_rate_limit`]).

use super::{find_one, Ctx};
use crate::cli::SetQosArgs;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch;

pub async fn exec(ctx: &Ctx, a: SetQosArgs) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let port = find_one(ctx, &ovs, &a.port).await?;
    let bridge = port.bridge.clone().unwrap_or_default();
    let netdev = ovs.bridge_datapath_type(&bridge).await.step(|| format!("look up bridge {bridge}"))?.as_deref()
        == Some("netdev");
    if netdev {
        let docker = ctx.docker()?;
        let c = crate::target::get(&docker, port.full_id().unwrap_or(port.container_ref())).await?;
        let iface = port.container_iface();
        let path = c
            .netns_path()
            .ok_or_else(|| Error::refused(format!("container \"{}\" has no network namespace", c.name)))?;
        let ns = crate::netns::Netns::open(&path).step(|| format!("open network namespace {path}"))?;
        let inside = crate::netlink::Netlink::inside(&ns).step(|| format!("open a netlink socket in {}", c.name))?;
        let link = inside
            .link(iface)
            .await
            .step(|| format!("look up {iface} in container \"{}\"", c.name))?
            .ok_or_else(|| Error::refused(format!("{iface} is missing in container \"{}\"", c.name)))?;
        ctx.step(format_args!("rate limit of {iface} in {}: {} kbit/s", c.name, a.ingress_rate));
        inside
            .set_rate_limit(link.index, a.ingress_rate, a.ingress_burst)
            .await
            .step(|| format!("set the rate limit of {iface} in container \"{}\"", c.name))?;
    }
    let res = ovs
        .commit(vswitch::set_policing_txn(&port.iface_uuid, a.ingress_rate, a.ingress_burst), ctx.wait)
        .await
        .step(|| format!("set the ingress policing of interface {}", port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    Ok(())
}
