//! ovs-docker: attach Docker containers to Open vSwitch bridges, natively.
//!
//! Layers, top to bottom; a module imports only from the layers below it
//! (README, "Architecture"):
//!
//! - [`cli`]: the clap definitions; [`cni`]: the CNI plugin (entered when
//!   `CNI_COMMAND` is set); [`commands`]: one file per subcommand,
//!   turning its arguments into a spec and making one call below;
//! - [`port`]: the port lifecycle (spec, attach, remove, reclaim, undo
//!   journal, OVN binding) that the CLI, [`watch`] and [`plugin`] share;
//!   [`tunnel`]; [`output`] (tables and JSON);
//! - [`context`] (OVSDB endpoint, timeout, wait), [`logging`], [`config`]
//!   (validated values), [`error`];
//! - [`ovsdb`] (our RFC 7047 client and typed helpers), [`docker`] (the
//!   Docker API), [`sys`] (netlink, namespaces, ethtool, nf_tables, locks:
//!   all the unsafe code).

/// `eprintln!` that cannot abort the command: a closed or broken standard
/// error (`ovs-docker -v add-port ... 2>&1 | head -1`) loses the line, and
/// the work goes on (`eprintln!` panics there, which would stop an add-port
/// half-way). Log records go through [`logging`]; this is for what `main`
/// says before the logger exists and for the command's final error.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// `println!` that cannot abort the command either (`ovs-docker gc | head -1`
/// must not stop gc half-way): a command's output on standard output.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}

pub mod cli;
pub mod cni;
pub mod commands;
pub mod config;
pub mod context;
pub mod docker;
pub mod error;
pub mod fault;
pub mod logging;
pub mod mirror;
pub mod output;
pub mod ovsdb;
pub mod plugin;
pub mod port;
pub mod sys;
pub mod tunnel;
pub mod watch;
