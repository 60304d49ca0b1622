//! `set-vlan BRIDGE INTERFACE CONTAINER VLAN`: make the port an access port
//! of VLAN (Port.tag), as upstream does; with `--trunk=LIST` a trunk (VLAN
//! then being the native, untagged one), with `--clear` no VLAN at all.

use super::{find_one, Ctx};
use crate::cli::SetVlanArgs;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::{self, Vlan};

pub async fn exec(ctx: &Ctx, a: SetVlanArgs) -> Result<()> {
    let vlan = match (&a.trunk, a.vlan, a.clear) {
        (Some(t), native, _) => Vlan::Trunk { vlans: t.0.clone(), native },
        (None, Some(v), _) => Vlan::Access(v),
        // clap requires VLAN, --trunk or --clear.
        (None, None, _) => Vlan::None,
    };
    let mut ovs = ctx.vswitch().await?;
    let port = find_one(ctx, &ovs, &a.port).await?;
    let uuid =
        port.port_uuid.as_deref().ok_or_else(|| Error::refused(format!("interface {} has no port", port.name)))?;
    ctx.step(format_args!("setting {vlan:?} on port {}", port.name));
    let res = ovs
        .commit(vswitch::set_vlan_txn(uuid, &vlan), ctx.wait)
        .await
        .step(|| format!("set the VLAN of port {}", port.name))?;
    if vswitch::count(&res[0]) != 1 {
        return Err(Error::refused(format!("port {} was removed meanwhile", port.name)));
    }
    Ok(())
}
