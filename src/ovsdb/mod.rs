//! OVSDB (RFC 7047): JSON-RPC framing and client, the operations of a
//! transaction, and typed helpers for the Open_vSwitch database.

mod client;
mod framing;
pub mod keys;
pub mod mirrors;
pub mod networks;
pub mod northbound;
mod ops;
pub mod ovn_networks;
mod session;
mod tls;
pub mod tunnels;
pub mod unixctl;
pub mod vswitch;

pub use client::{Client, Endpoint, PendingReply};
pub use framing::{FrameError, Framer};
pub use ops::{data, Cond, Op, Precondition, Txn};
pub use session::{Remote, Session};
pub use tls::{Tls, TlsFiles};

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum OvsdbError {
    #[error("cannot connect to ovsdb-server at {endpoint}: {source}")]
    Connect {
        endpoint: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ovsdb-server at {endpoint} did not answer the {what} within --timeout")]
    Timeout { endpoint: String, what: String },
    #[error("ovsdb-server at {endpoint} closed the connection")]
    Closed { endpoint: String },
    #[error("connection to ovsdb-server at {endpoint} failed: {source}")]
    Io {
        endpoint: String,
        #[source]
        source: std::io::Error,
    },
    #[error("protocol error from ovsdb-server at {endpoint}: {message}")]
    Protocol { endpoint: String, message: String },
    #[error("ovsdb-server at {endpoint} does not lead its cluster")]
    NotLeader { endpoint: String },
    #[error("ovsdb-server at {endpoint} does not serve the database {db}")]
    NotServed { endpoint: String, db: String },
    #[error("no leader of {remote} answered within --timeout (last: {last})")]
    NoLeader { remote: String, last: String },
    #[error("ovsdb-server at {endpoint} refused the request: {message}")]
    Rpc { endpoint: String, message: String },
    /// A `wait` operation of ours failed: the state changed under us.
    #[error("precondition failed: {0}")]
    Precondition(Precondition),
    #[error("transaction failed: {0}")]
    Transaction(String),
    #[error("ovs-vswitchd did not apply the change within --timeout (is ovs-vswitchd running?)")]
    VswitchdTimeout,
    #[error("unexpected reply from ovsdb-server: {0}")]
    BadReply(String),
    /// ovs-vswitchd applied the change but could not use the interface.
    #[error("ovs-vswitchd could not use the interface: {0}")]
    Interface(String),
}

impl OvsdbError {
    /// Whether TLS refused a certificate, ours or the server's: trying
    /// again will not help.
    pub fn is_tls_refusal(&self) -> bool {
        match self {
            OvsdbError::Connect { source, .. } | OvsdbError::Io { source, .. } => tls::is_refusal(source),
            _ => false,
        }
    }

    /// A copy for each waiter when one connection failure ends many requests.
    pub(crate) fn duplicate(&self) -> Self {
        use OvsdbError::*;
        match self {
            Connect { endpoint, source } => {
                Connect { endpoint: endpoint.clone(), source: std::io::Error::new(source.kind(), source.to_string()) }
            }
            Io { endpoint, source } => {
                Io { endpoint: endpoint.clone(), source: std::io::Error::new(source.kind(), source.to_string()) }
            }
            Timeout { endpoint, what } => Timeout { endpoint: endpoint.clone(), what: what.clone() },
            Closed { endpoint } => Closed { endpoint: endpoint.clone() },
            Protocol { endpoint, message } => Protocol { endpoint: endpoint.clone(), message: message.clone() },
            Rpc { endpoint, message } => Rpc { endpoint: endpoint.clone(), message: message.clone() },
            NotLeader { endpoint } => NotLeader { endpoint: endpoint.clone() },
            NotServed { endpoint, db } => NotServed { endpoint: endpoint.clone(), db: db.clone() },
            NoLeader { remote, last } => NoLeader { remote: remote.clone(), last: last.clone() },
            Precondition(m) => Precondition(m.clone()),
            Transaction(m) => Transaction(m.clone()),
            VswitchdTimeout => VswitchdTimeout,
            BadReply(m) => BadReply(m.clone()),
            Interface(m) => Interface(m.clone()),
        }
    }
}

/// Render an OVSDB error object (`{"error": ..., "details": ...}`) or any
/// other JSON error value as one line.
pub(crate) fn error_text(e: &Value) -> String {
    match (e.get("error").and_then(Value::as_str), e.get("details").and_then(Value::as_str)) {
        (Some(err), Some(details)) if !details.is_empty() => format!("{err} ({details})"),
        (Some(err), _) => err.to_string(),
        _ => match e.as_str() {
            Some(s) => s.to_string(),
            None => e.to_string(),
        },
    }
}
