//! CHECK: the interface is still as ADD made it. Reports a port that is
//! missing, on another bridge, in error or on another VLAN; a veth that is
//! gone on either side; and a MAC, MTU or address that differs from the
//! configuration and the previous result.

use super::conf::{Env, NetConf};
use super::ipam;
use super::types::{code, CniError, CniResult, CniResultBody};
use super::verbs::{attachment_ports, connect, existing_netns, host_netlink};
use crate::context::Ctx;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;

fn wrong(m: String) -> CniError {
    CniError::new(code::REFUSED, m)
}

pub async fn check(ctx: &Ctx, env: &Env, conf: &NetConf, stdin: &[u8]) -> CniResult<()> {
    let prev = conf
        .prev_result
        .clone()
        .ok_or_else(|| CniError::new(code::INVALID_CONFIG, "CHECK needs \"prevResult\"".to_string()))?;
    let prev: CniResultBody = serde_json::from_value(prev)
        .map_err(|e| CniError::new(code::DECODE_FAILURE, format!("decode \"prevResult\": {e}")))?;
    let netns = existing_netns(env)?;
    let ovs = connect(ctx).await?;
    let iface = env.ifname.as_str();
    let ports = attachment_ports(&ovs, env, conf).await?;
    let who = format!("interface {iface} of container {} on network {}", env.container_id, conf.name);
    let p = match ports.as_slice() {
        [] => return Err(wrong(format!("{who} has no port"))),
        [p] => p,
        _ => return Err(wrong(format!("{who} has {} ports", ports.len()))),
    };
    if p.bridge.as_deref() != Some(conf.bridge.as_str()) {
        return Err(wrong(format!(
            "the port of {who} is on bridge {}, not {}",
            p.bridge.as_deref().unwrap_or("(none)"),
            conf.bridge
        )));
    }
    if let Some(e) = p.error.as_deref().filter(|e| !e.is_empty()) {
        return Err(wrong(format!("port {} of {who}: Open vSwitch says: {e}", p.name)));
    }
    let want_tag = conf.vlan.map(i64::from);
    let want_trunks: Vec<i64> = conf.trunks.iter().map(|v| i64::from(*v)).collect();
    if p.tag != want_tag || p.trunks != want_trunks {
        return Err(wrong(format!(
            "port {} of {who} has VLAN {:?} trunks {:?}, the configuration says {want_tag:?} {want_trunks:?}",
            p.name, p.tag, p.trunks
        )));
    }
    let host = host_netlink()?;
    let io = |what: String| {
        move |e: crate::sys::netlink::NetlinkError| CniError::new(code::IO_FAILURE, format!("{what}: {e}"))
    };
    let host_end = host.link(&p.name).await.map_err(io(format!("look up veth {}", p.name)))?;
    let host_end = host_end.ok_or_else(|| wrong(format!("veth {} of {who} is gone", p.name)))?;
    let ns = Netns::open(netns).map_err(|e| CniError::new(code::IO_FAILURE, format!("open {netns}: {e}")))?;
    let inside = Netlink::inside(&ns).map_err(io(format!("open a netlink socket in {netns}")))?;
    let link = inside.link(iface).await.map_err(io(format!("look up {iface} in {netns}")))?;
    let link = link.ok_or_else(|| wrong(format!("{who}: {iface} is missing from {netns}")))?;
    if !(link.is_veth && link.peer_index == Some(host_end.index)) {
        return Err(wrong(format!("{who}: {iface} in {netns} is not the peer of veth {}", p.name)));
    }
    if let (Some(want), Some(have)) = (conf.mtu, link.mtu) {
        if want != have {
            return Err(wrong(format!("{who}: MTU {have}, the configuration says {want}")));
        }
    }
    check_against_result(&inside, &link, &prev, iface, &who).await?;
    match &conf.ipam {
        Some(kind) => ipam::exec(kind, "CHECK", stdin).map(drop),
        None => Ok(()),
    }
}

/// The MAC and addresses the previous result gave the interface.
async fn check_against_result(
    inside: &Netlink,
    link: &crate::sys::netlink::LinkInfo,
    prev: &CniResultBody,
    iface: &str,
    who: &str,
) -> CniResult<()> {
    let have_mac = link.mac.map(|m| crate::config::Mac(m).to_string()).unwrap_or_default();
    let index = prev.interfaces.iter().position(|i| i.name == iface && !i.sandbox.is_empty());
    if let Some(i) = index.map(|i| &prev.interfaces[i]) {
        if !i.mac.is_empty() && !i.mac.eq_ignore_ascii_case(&have_mac) {
            return Err(wrong(format!("{who}: MAC {have_mac}, the previous result says {}", i.mac)));
        }
    }
    let have = inside
        .addresses(link.index)
        .await
        .map_err(|e| CniError::new(code::IO_FAILURE, format!("list the addresses of {iface}: {e}")))?;
    for ip in prev.ips.iter().filter(|ip| ip.interface.is_none() || ip.interface == index) {
        let want: crate::config::IfAddr = ip
            .address
            .parse()
            .map_err(|e: String| CniError::new(code::DECODE_FAILURE, format!("\"prevResult\": {e}")))?;
        if !have.contains(&(want.ip, want.prefix)) {
            return Err(wrong(format!("{who}: address {want} is missing")));
        }
    }
    Ok(())
}
