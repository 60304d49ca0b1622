//! The kernel, spoken to directly: rtnetlink ([`netlink`]), network
//! namespaces ([`netns`]), ethtool ioctls ([`ethtool`]), nf_tables by
//! netlink ([`nftables`]), per-port locks on abstract unix sockets
//! ([`lock`]) and the signals that stop a command ([`signals`]).
//!
//! Every `unsafe` block of the crate lives here. Nothing in this layer
//! knows about ports, containers or OVSDB: it imports no other module of
//! the crate.

pub mod ethtool;
pub mod lock;
pub mod netlink;
pub mod netns;
pub mod nftables;
pub mod signals;
pub mod socket;

/// Where the kernel shows its openvswitch module once loaded.
const OVS_KERNEL_MODULE: &str = "/sys/module/openvswitch";

/// The datapath type for a bridge whose user named none: the kernel's
/// (`system`) when the openvswitch module is loaded, else the userspace one
/// (`netdev`), which works wherever ovs-vswitchd runs. A `system` bridge
/// without the module gets no internal port, and carries nothing.
pub fn default_datapath_type() -> &'static str {
    if std::path::Path::new(OVS_KERNEL_MODULE).exists() {
        "system"
    } else {
        "netdev"
    }
}
