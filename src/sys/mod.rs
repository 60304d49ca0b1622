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
