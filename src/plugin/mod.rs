//! The Docker network plugin (`ovs-docker plugin`): a libnetwork remote
//! network driver that puts containers on Open vSwitch bridges, on top of
//! the port layer ([`crate::port`]).
//!
//! - [`server`]: the HTTP server on the plugin socket (hyper);
//! - [`protocol`]: the JSON bodies of the driver protocol;
//! - [`endpoint_options`]: an endpoint's own settings (`--driver-opt`);
//! - [`network`]: a network's settings, from Docker's request to the
//!   external_ids of its Bridge row and back;
//! - [`driver`]: the dispatch of calls and the endpoint handlers, and
//!   [`networks`]: the network handlers; stateless (everything is read back
//!   from OVSDB, the kernel and nf_tables), both on [`Driver`].

pub mod driver;
pub mod endpoint_options;
pub mod ipam;
pub mod network;
pub mod networks;
pub mod ovn;
pub mod ovn_sweep;
pub mod protocol;
pub mod server;

use crate::context::Ctx;

/// The "interface" part of the lock held on a network while CreateNetwork
/// makes it, or an endpoint checks its host side (see [`crate::sys::lock`]).
pub const NETWORK_LOCK: &str = "network";

/// The network driver. It keeps no state of its own: a network is its
/// Bridge row (external_ids), an endpoint its Port/Interface row, a NAT
/// rule is found by its comment.
pub struct Driver {
    pub ctx: Ctx,
    /// The name Docker knows the driver by (`docker network create -d NAME`).
    pub name: String,
    /// Datapath type of the bridges the plugin creates (the user's, or
    /// [`crate::sys::default_datapath_type`]).
    pub datapath_type: String,
    /// The OVN northbound database of mode=ovn networks and of the IPAM
    /// driver (`--ovn-nb`); None: both are refused.
    pub ovn_nb: Option<crate::ovsdb::Remote>,
    /// The session to `ovn_nb`, made by the first call that needs it and
    /// kept: it connects when a request needs it, to the new leader of a
    /// cluster too, by itself.
    pub nb_session: tokio::sync::OnceCell<crate::ovsdb::northbound::Northbound>,
}
