//! `set-vlan BRIDGE INTERFACE CONTAINER VLAN`: make the port an access port
//! of VLAN (Port.tag), as upstream does.

use super::{find_attached, Ctx};
use crate::cli::SetVlanArgs;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch;

pub async fn exec(ctx: &Ctx, a: SetVlanArgs) -> Result<()> {
    let p = &a.port;
    let iface = p.interface.as_str();
    let docker = ctx.docker()?;
    let mut ovs = ctx.vswitch().await?;
    let (_, ports) = find_attached(ctx, &ovs, &docker, &p.container, Some(iface)).await?;
    let port = ports.iter().find(|x| x.bridge.as_deref() == Some(p.bridge.as_str())).ok_or_else(|| {
        Error::refused(format!(
            "no port attached for CONTAINER={} and INTERFACE={iface} on bridge {}",
            p.container, p.bridge
        ))
    })?;
    let uuid =
        port.port_uuid.as_deref().ok_or_else(|| Error::refused(format!("interface {} has no port", port.name)))?;
    ctx.step(format_args!("setting tag {} on port {}", a.vlan, port.name));
    let res = ovs
        .commit(vswitch::set_tag_txn(uuid, a.vlan), ctx.wait)
        .await
        .step(|| format!("set VLAN {} on port {}", a.vlan, port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    Ok(())
}
