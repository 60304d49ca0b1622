//! What every run needs from the global options: where OVSDB is, how long
//! to wait for any daemon, and whether to wait for ovs-vswitchd to apply a
//! change. The CLI's commands, the plugin and watch each hold one.
//!
//! Steps are logged through the `log` facade (see `logging`):
//! `ctx.step(...)` is `log::debug!`, shown with `-v`.

use std::time::Duration;

use crate::docker::DockerClient;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::Vswitch;
use crate::ovsdb::{Client, Endpoint};

/// The default of `--timeout`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub db: Endpoint,
    pub timeout: Duration,
    /// Wait for ovs-vswitchd to apply each change (not `--no-wait`).
    pub wait: bool,
}

impl Ctx {
    /// `db`: an OVSDB endpoint as `--db` takes it (None: the default socket).
    pub fn new(db: Option<&str>, timeout: Duration, wait: bool) -> Result<Self> {
        let spec = db.map_or_else(Endpoint::default_spec, str::to_string);
        let db = Endpoint::parse(&spec).map_err(Error::invalid)?;
        Ok(Ctx { db, timeout, wait })
    }

    /// This context without waiting for ovs-vswitchd (a batch waits once at its end).
    pub fn no_wait(&self) -> Self {
        Ctx { wait: false, ..self.clone() }
    }

    pub async fn vswitch(&self) -> Result<Vswitch> {
        self.step(format_args!("connecting to ovsdb-server at {}", self.db));
        let client = Client::connect(&self.db, self.timeout).await.step(|| "connect to OVSDB".into())?;
        Ok(Vswitch::new(client))
    }

    pub fn docker(&self) -> Result<DockerClient> {
        DockerClient::connect(self.timeout)
    }

    /// Say what is being done (a debug record: `-v` shows it, with the time).
    pub fn step(&self, what: std::fmt::Arguments<'_>) {
        log::debug!("{what}");
    }
}
