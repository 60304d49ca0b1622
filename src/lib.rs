//! ovs-docker: attach Docker containers to Open vSwitch bridges, natively.
//!
//! The binary (`main.rs`) only parses and maps errors to exit codes; the
//! work happens in [`commands`], on top of the OVSDB client ([`ovsdb`]),
//! rtnetlink ([`netlink`], [`netns`]) and the Docker API ([`docker`]).

pub mod cli;
pub mod commands;
pub mod config;
pub mod docker;
pub mod error;
pub mod ethtool;
pub mod fault;
pub mod lock;
pub mod netlink;
pub mod netns;
pub mod ovsdb;
pub mod plugin;
pub mod record;
pub mod target;
