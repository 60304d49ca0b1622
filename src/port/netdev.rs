//! What a veth needs on a `netdev` (userspace datapath) bridge.
//!
//! The userspace datapath reads the veth through AF_PACKET, but the host
//! kernel still sees its frames; it never completes partial checksums; and
//! OVS's ingress policing acts in the kernel after it has already read the
//! frame.

use std::io;
use std::os::fd::OwnedFd;

use super::spec::PortSpec;
use crate::context::Ctx;
use crate::error::{Context, Result};
use crate::sys::netlink::{LinkInfo, Netlink};
use crate::sys::netns::{host_net_sysctl, write_sysctl};

/// Keep the host end `port` from answering ARP for host addresses and from
/// sending IPv6 noise onto the bridge.
pub fn quiet_host_end(port: &str) -> Result<()> {
    for (path, value) in [
        (host_net_sysctl(&format!("ipv4/conf/{port}/arp_ignore")), "8"),
        (host_net_sysctl(&format!("ipv6/conf/{port}/disable_ipv6")), "1"),
    ] {
        match write_sysctl(&path, value) {
            // A link whose MTU is below 1280 has no IPv6 at all.
            Err(e) if e.kind() == io::ErrorKind::NotFound && path.contains("ipv6") => {}
            r => r.step(|| format!("set {path}"))?,
        }
    }
    Ok(())
}

/// The container end: TX checksum offload off (else TCP fails while ping
/// works), and the rate limit applied inside as a token bucket.
pub async fn prepare_container_end(
    ctx: &Ctx,
    inside: &Netlink,
    ioctl: &OwnedFd,
    link: &LinkInfo,
    spec: &PortSpec,
    cname: &str,
) -> Result<()> {
    let iface = link.name.as_str();
    crate::sys::ethtool::disable_tx_checksum(ioctl, iface).step(|| {
        format!("turn TX checksum offload off on {iface} in container \"{cname}\" (needed by the netdev datapath)")
    })?;
    if let Some(rate) = spec.ingress_rate.filter(|r| *r > 0) {
        ctx.step(format_args!("limiting {iface} to {rate} kbit/s"));
        inside
            .set_rate_limit(link.index, rate, spec.ingress_burst)
            .await
            .step(|| format!("set the rate limit of {iface} in container \"{cname}\""))?;
    }
    Ok(())
}
