//! ovs-docker: attach Docker containers to Open vSwitch bridges, natively.
//!
//! The binary (`main.rs`) only parses and maps errors to exit codes; the
//! work happens in [`commands`], on top of the OVSDB client ([`ovsdb`]),
//! rtnetlink ([`netlink`], [`netns`]) and the Docker API ([`docker`]).

/// `eprintln!` that cannot abort the command: a closed or broken standard
/// error (`ovs-docker -v add-port ... 2>&1 | head -1`) loses the line, and
/// the work goes on (`eprintln!` panics there, which would stop an add-port
/// half-way).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// `println!` that cannot abort the command either (`ovs-docker gc | head -1`
/// must not stop gc half-way).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}

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
