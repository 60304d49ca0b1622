//! `add-port BRIDGE INTERFACE CONTAINER [options]` (see [`crate::port::attach`]).

use crate::cli::AddPortArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::port::{OvnSpec, PortSpec};

pub async fn exec(ctx: &Ctx, a: AddPortArgs) -> Result<()> {
    let spec = spec(a);
    let done = crate::port::add(ctx, &spec).await?;
    crate::tunnel::warn_mtu(done.tunnels, &spec.bridge, spec.interface.as_str(), spec.mtu);
    Ok(())
}

/// The port add-port's arguments describe.
pub fn spec(a: AddPortArgs) -> PortSpec {
    let target = a.reference();
    PortSpec {
        bridge: a.bridge,
        interface: a.interface,
        target,
        addresses: a.ipaddress,
        gateways: a.gateway,
        routes: a.route,
        mac: a.macaddress,
        mtu: a.mtu,
        // Used only if add-port creates the bridge.
        datapath_type: a.datapath_type.or_else(|| Some(crate::sys::default_datapath_type().to_string())),
        vlan: a.vlan,
        trunks: Vec::new(),
        ingress_rate: a.ingress_rate,
        ingress_burst: a.ingress_burst,
        persist: !a.no_persist,
        force: a.force,
        ovn: OvnSpec { iface_id: a.ovn.iface_id, wait: a.ovn.wait_ovn, nb: a.ovn.ovn_nb, switch: a.ovn.ovn_switch },
        extra_ids: Vec::new(),
    }
}
