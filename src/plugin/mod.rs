//! The Docker network plugin (`ovs-docker plugin`): a libnetwork remote
//! network driver that puts containers on Open vSwitch bridges.
//!
//! - [`protocol`]: the JSON bodies of the driver protocol;
//! - [`network`]: a network's settings, from Docker's request to the
//!   external_ids of its Bridge row and back;
//! - [`driver`]: the handlers, stateless (everything is read back from
//!   OVSDB, the kernel and nf_tables);
//! - [`nat`]: the masquerade and isolation rules, in nf_tables;
//! - [`log`]: levelled lines on standard error.
//!
//! The HTTP server and the socket live in `commands::plugin`.

pub mod driver;
pub mod log;
pub mod nat;
pub mod network;
pub mod protocol;

/// A driver name: it becomes a file name under /run/docker/plugins and
/// what users type after `-d`.
pub fn parse_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("invalid driver name \"{}\": letters, digits, _ . - only", s.escape_default()))
    }
}
