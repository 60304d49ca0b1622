//! ovs-docker as a CNI plugin (CNI 1.0 and 1.1): when run with
//! `CNI_COMMAND` set, the binary speaks the CNI protocol instead of its
//! command line, so Podman, containerd, CRI-O and Kubernetes (through
//! Multus) attach containers to Open vSwitch with the same port records as
//! add-port ([`verbs`], [`check`]). [`conf`] reads the environment and the
//! network configuration, [`ipam`] delegates addresses to an IPAM plugin,
//! [`types`] holds the spec's error and result objects.

pub mod check;
pub mod conf;
pub mod ipam;
pub mod types;
pub mod verbs;

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Value};

use crate::context::{Ctx, DEFAULT_TIMEOUT_SECS};
use conf::{Env, Verb};
use types::{code, is_supported, CniError, CniResult, LATEST, SUPPORTED_VERSIONS};

/// Whether this process was started as a CNI plugin: `CNI_COMMAND` set and
/// no arguments (runtimes pass none), so that a shell that exported
/// `CNI_COMMAND` still runs the command line it types.
pub fn is_cni_call() -> bool {
    std::env::var_os("CNI_COMMAND").is_some() && std::env::args_os().len() <= 1
}

/// Serve one CNI call: the result (or the error object) on standard output;
/// the exit status is 0 on success and 1 on error, as the spec says.
pub fn main() -> u8 {
    crate::logging::init(crate::logging::Style::Command {
        name: "cni",
        verbose: std::env::var_os("OVS_DOCKER_CNI_VERBOSE").is_some(),
    });
    let mut stdin = Vec::new();
    let read = std::io::stdin().read_to_end(&mut stdin);
    let version = conf::version_of(&stdin).filter(|v| is_supported(v)).unwrap_or_else(|| LATEST.to_string());
    let verb = std::env::var("CNI_COMMAND").unwrap_or_default();
    let outcome = match read {
        Ok(_) => run(&verb, &stdin, &version),
        Err(e) => Err(CniError::new(code::IO_FAILURE, format!("read the network configuration: {e}"))),
    };
    match outcome {
        Ok(Some(v)) => {
            crate::out!("{v}");
            0
        }
        Ok(None) => 0,
        Err(e) => {
            crate::out!("{}", e.to_json(&version));
            log::debug!("{verb}: {}", e.msg);
            1
        }
    }
}

fn run(verb: &str, stdin: &[u8], version: &str) -> CniResult<Option<Value>> {
    let verb = Verb::parse(verb)?;
    if verb == Verb::Version {
        return Ok(Some(json!({"cniVersion": version, "supportedVersions": SUPPORTED_VERSIONS})));
    }
    let conf = conf::parse(stdin)?;
    if verb == Verb::Check && conf.cni_version.starts_with("0.3") {
        return Err(CniError::new(code::INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later".to_string()));
    }
    let env = match verb {
        Verb::Add | Verb::Del | Verb::Check => Some(Env::read(verb, &|k| std::env::var(k).ok())?),
        _ => None,
    };
    let ctx = Ctx::new(conf.ovsdb.as_deref(), None, Duration::from_secs(DEFAULT_TIMEOUT_SECS), true)
        .map_err(|e| CniError::new(code::INVALID_CONFIG, format!("\"ovsdb\": {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CniError::new(code::IO_FAILURE, format!("start the async runtime: {e}")))?;
    runtime.block_on(async {
        match (verb, &env) {
            (Verb::Add, Some(env)) => {
                let r = verbs::add(&ctx, env, &conf, stdin).await?;
                Ok(Some(serde_json::to_value(r).unwrap_or(Value::Null)))
            }
            (Verb::Del, Some(env)) => verbs::del(&ctx, env, &conf, stdin).await.map(|()| None),
            (Verb::Check, Some(env)) => check::check(&ctx, env, &conf, stdin).await.map(|()| None),
            (Verb::Gc, _) => verbs::gc(&ctx, &conf, stdin).await.map(|()| None),
            (Verb::Status, _) => verbs::status(&ctx, &conf).await.map(|()| None),
            _ => Err(CniError::new(code::INVALID_ENV, "unexpected CNI_COMMAND".to_string())),
        }
    })
}
