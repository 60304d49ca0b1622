//! The port lifecycle: what a container port is ([`spec`]), how it is
//! attached ([`attach`], [`commit`]), found ([`find`]), judged
//! ([`status`]), removed ([`remove`]), reclaimed after a restart or a crash
//! ([`reclaim`], [`gc`]), undone when a run fails ([`journal`]), bound to
//! OVN ([`ovn`]) and served to Docker as an endpoint ([`endpoint`]).
//! add-port, del-port(s), gc, list, batch, watch and the network plugin
//! all go through here.
//!
//! A port is its OVSDB rows (with the record of how it was made, see
//! [`record`]) and a veth pair, the host end named and marked as
//! [`naming`] says.

pub mod attach;
pub mod commit;
pub mod endpoint;
pub mod find;
pub mod gc;
pub mod journal;
pub mod naming;
mod netdev;
pub mod ovn;
pub mod reclaim;
pub mod record;
pub mod remove;
pub mod settings;
pub mod spec;
pub mod status;
pub mod target;

pub use attach::{add, add_in_batch, reattach, Attached};
pub use commit::{check_interface, Carry};
pub use remove::{remove_all, remove_one, remove_port, Veths};
pub use spec::{OvnSpec, PortSpec};

use crate::config::IfName;

/// A container interface's port on a bridge, as del-port, set-vlan and
/// set-qos name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortAddress {
    pub bridge: String,
    pub interface: IfName,
    /// The container (name, ID or prefix), or `netns:PATH` / `pid:PID`.
    pub reference: String,
}
