//! Typed errors. Every variant names the step that failed and the object it
//! failed on, so `main` can print one line and pick an exit code.

use std::io;

/// Where a failure came from decides the exit code (see README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The arguments were refused before anything was changed.
    Usage,
    /// The request was valid but could not be carried out (not found,
    /// already attached, container not running...).
    Refused,
    /// A daemon (OVSDB, ovs-vswitchd, Docker) or the kernel failed or was out
    /// of reach.
    System,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(String),

    #[error("{0}")]
    Refused(String),

    #[error("{step}: {source}")]
    Ovsdb {
        step: String,
        #[source]
        source: crate::ovsdb::OvsdbError,
    },

    #[error("{step}: {source}")]
    Netlink {
        step: String,
        #[source]
        source: crate::sys::netlink::NetlinkError,
    },

    #[error("{step}: {message}")]
    Docker { step: String, message: String },

    #[error("{step}: {source}")]
    Io {
        step: String,
        #[source]
        source: io::Error,
    },

    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the command; what it had
    /// done was undone.
    #[error("interrupted by signal {0}")]
    Interrupted(i32),

    /// A batch in which at least one line failed (each was reported with
    /// its line number); carries the first failure for the exit code.
    #[error("at least one line failed (see above); first: {0}")]
    Batch(Box<Error>),

    /// Several independent failures (teardown carries on after the first).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<Error>),
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn refused(msg: impl Into<String>) -> Self {
        Error::Refused(msg.into())
    }

    /// Ok if `errors` is empty, the error itself if there is one, else all
    /// of them (for work that carries on after a failure).
    pub fn all(mut errors: Vec<Error>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }

    pub fn io(step: impl Into<String>, source: io::Error) -> Self {
        Error::Io { step: step.into(), source }
    }

    /// The signal that interrupted the command, if one did (also when the
    /// undo that followed failed too).
    pub fn signal(&self) -> Option<i32> {
        match self {
            Error::Interrupted(sig) => Some(*sig),
            Error::Many(list) => list.first().and_then(Error::signal),
            Error::Batch(first) => first.signal(),
            _ => None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) => Kind::Usage,
            Error::Refused(_) => Kind::Refused,
            Error::Batch(first) => first.kind(),
            Error::Many(list) => list.iter().map(Error::kind).max_by_key(|k| *k as u8).unwrap_or(Kind::System),
            _ => Kind::System,
        }
    }

    /// Exit code documented in README and the man page.
    pub fn exit_code(&self) -> i32 {
        if let Some(sig) = self.signal() {
            return 128 + sig;
        }
        if let Error::Batch(first) = self {
            return first.exit_code();
        }
        match self.kind() {
            Kind::Refused => 1,
            Kind::Usage => 2,
            Kind::System => 3,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach the name of a step to a lower-level error.
pub trait Context<T> {
    fn step(self, step: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, crate::ovsdb::OvsdbError> {
    fn step(self, step: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Ovsdb { step: step(), source })
    }
}

impl<T> Context<T> for std::result::Result<T, crate::sys::netlink::NetlinkError> {
    fn step(self, step: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Netlink { step: step(), source })
    }
}

impl<T> Context<T> for io::Result<T> {
    fn step(self, step: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io { step: step(), source })
    }
}
