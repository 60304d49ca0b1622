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
use crate::ovsdb::{Client, Endpoint, Remote, Tls, TlsFiles};

/// The default of `--timeout`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub db: Endpoint,
    /// The files of `--private-key`, `--certificate` and `--ca-cert`, read.
    pub tls: Option<Tls>,
    pub timeout: Duration,
    /// Wait for ovs-vswitchd to apply each change (not `--no-wait`).
    pub wait: bool,
}

impl Ctx {
    /// `db`: an OVSDB endpoint as `--db` takes it (None: the default
    /// socket); `tls`: the files for `ssl:` endpoints, read now, so that a
    /// bad file is reported before anything is done.
    pub fn new(db: Option<&str>, tls: Option<&TlsFiles>, timeout: Duration, wait: bool) -> Result<Self> {
        let spec = db.map_or_else(Endpoint::default_spec, str::to_string);
        let db = Endpoint::parse(&spec).map_err(Error::invalid)?;
        let tls = tls.map(Tls::load).transpose().map_err(Error::invalid)?;
        if matches!(db, Endpoint::Ssl(_)) && tls.is_none() {
            return Err(Error::invalid(format!("--db {db} needs --private-key, --certificate and --ca-cert")));
        }
        Ok(Ctx { db, tls, timeout, wait })
    }

    /// A database given as a list of remotes (`--ovn-nb`), with our TLS files.
    pub fn remote(&self, spec: &str) -> Result<Remote> {
        Remote::parse(spec, self.tls.as_ref()).map_err(Error::invalid)
    }

    /// This context without waiting for ovs-vswitchd (a batch waits once at its end).
    pub fn no_wait(&self) -> Self {
        Ctx { wait: false, ..self.clone() }
    }

    pub async fn vswitch(&self) -> Result<Vswitch> {
        self.step(format_args!("connecting to ovsdb-server at {}", self.db));
        let client =
            Client::connect(&self.db, self.tls.as_ref(), self.timeout).await.step(|| "connect to OVSDB".into())?;
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
