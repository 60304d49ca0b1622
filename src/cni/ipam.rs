//! Delegating addresses to an IPAM plugin, as the spec says: the plugin
//! named by `ipam.type` is looked up in `CNI_PATH` and run with our
//! environment (CNI_COMMAND possibly changed) and our standard input.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::types::{code, CniError, CniResult, CniResultBody};

/// The IPAM plugin `kind`, found in `CNI_PATH`.
fn find(kind: &str) -> CniResult<PathBuf> {
    let path = std::env::var("CNI_PATH").unwrap_or_default();
    if path.is_empty() {
        return Err(CniError::new(code::INVALID_ENV, format!("CNI_PATH is not set: cannot find IPAM plugin {kind}")));
    }
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join(kind))
        .find(|p| p.is_file())
        .ok_or_else(|| CniError::new(code::INVALID_CONFIG, format!("IPAM plugin {kind} not found in CNI_PATH {path}")))
}

/// Run IPAM `kind` for `verb` ("ADD", "DEL", ...) with `stdin`; its
/// standard output on success. Its own error object is passed on.
pub fn exec(kind: &str, verb: &str, stdin: &[u8]) -> CniResult<Vec<u8>> {
    let plugin = find(kind)?;
    let failed =
        |e: std::io::Error| CniError::new(code::IO_FAILURE, format!("run IPAM plugin {}: {e}", plugin.display()));
    let mut child = Command::new(&plugin)
        .env("CNI_COMMAND", verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(failed)?;
    if let Some(mut input) = child.stdin.take() {
        // A plugin that exits without reading is judged by its exit status.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().map_err(failed)?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    #[derive(serde::Deserialize)]
    struct Failure {
        code: Option<u32>,
        msg: Option<String>,
        details: Option<String>,
    }
    let said = serde_json::from_slice::<Failure>(&out.stdout).ok();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let (c, msg, details) = match said {
        Some(f) => (f.code.unwrap_or(code::IO_FAILURE), f.msg.unwrap_or_default(), f.details.unwrap_or(stderr)),
        None => (code::IO_FAILURE, format!("exited with {}", out.status), stderr),
    };
    Err(CniError::new(c, format!("IPAM plugin {kind} {verb}: {msg}")).with_details(details))
}

/// IPAM ADD: the addresses, routes and DNS it gave.
pub fn add(kind: &str, stdin: &[u8]) -> CniResult<CniResultBody> {
    let out = exec(kind, "ADD", stdin)?;
    serde_json::from_slice(&out).map_err(|e| {
        CniError::new(code::DECODE_FAILURE, format!("decode the result of IPAM plugin {kind}: {e}"))
            .with_details(String::from_utf8_lossy(&out).into_owned())
    })
}
