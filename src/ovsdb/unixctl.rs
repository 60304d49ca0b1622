//! ovs-vswitchd's control socket (what `ovs-appctl` speaks): JSON-RPC on
//! `$OVS_RUNDIR/ovs-vswitchd.PID.ctl`, through the same client as OVSDB.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Client, Endpoint, OvsdbError};

/// The rundir of the local Open vSwitch (`OVS_RUNDIR`, as the OVS tools take it).
fn rundir() -> String {
    std::env::var("OVS_RUNDIR").unwrap_or_else(|_| "/var/run/openvswitch".to_string())
}

/// The control socket of the local ovs-vswitchd.
pub fn vswitchd_socket() -> std::io::Result<String> {
    let dir = rundir();
    let pid = std::fs::read_to_string(format!("{dir}/ovs-vswitchd.pid"))?;
    Ok(format!("{dir}/ovs-vswitchd.{}.ctl", pid.trim()))
}

/// Run the unixctl command `method` of the local ovs-vswitchd.
pub async fn vswitchd(method: &str, timeout: Duration) -> Result<Value, OvsdbError> {
    let path = vswitchd_socket()
        .map_err(|e| OvsdbError::Connect { endpoint: format!("{}/ovs-vswitchd.pid", rundir()), source: e })?;
    let client = Client::connect(&Endpoint::Unix(path), None, timeout).await?;
    client.request(method, json!([])).await
}
