//! `set-vlan BRIDGE INTERFACE CONTAINER VLAN`: make the port an access port
//! of VLAN (Port.tag), as upstream does; with `--trunk=LIST` a trunk (VLAN
//! then being the native, untagged one), with `--clear` no VLAN at all.

use crate::cli::SetVlanArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::ovsdb::vswitch::Vlan;

pub async fn exec(ctx: &Ctx, a: SetVlanArgs) -> Result<()> {
    let vlan = match (&a.trunk, a.vlan) {
        (Some(t), native) => Vlan::Trunk { vlans: t.0.clone(), native },
        (None, Some(v)) => Vlan::Access(v),
        // cli::normalize requires VLAN, --trunk or --clear.
        (None, None) => Vlan::None,
    };
    crate::port::settings::set_vlan(ctx, &super::address(&a.port), &vlan).await
}
