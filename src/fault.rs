//! Fault injection for the reliability tests: stop the process at a named
//! step, the way a crash or an operator's kill would. Compiled in only with
//! the `fault-injection` cargo feature (scripts/test.sh turns it on); in
//! any other build [`point`] does nothing and reads no environment.
//!
//! `OVS_DOCKER_CRASH_AT=STEP` kills the process with SIGKILL when it reaches
//! STEP; `OVS_DOCKER_PAUSE_AT=STEP` sleeps there for a minute so that a test
//! can send a signal at that exact point. Steps: `veth-created`,
//! `links-configured`, `row-committed` (add-port); `row-removed` (the port's
//! row is gone, its veth not yet) and `veth-deleted` (del-port, del-ports,
//! gc, and add-port reclaiming a stale port); `plugin-bridge-committed`,
//! `plugin-veth-created`, `plugin-port-committed` (the network plugin's
//! CreateNetwork and CreateEndpoint).

#[cfg(feature = "fault-injection")]
pub async fn point(step: &str) {
    if std::env::var_os("OVS_DOCKER_CRASH_AT").is_some_and(|v| v == step) {
        let _ = nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL);
    }
    if std::env::var_os("OVS_DOCKER_PAUSE_AT").is_some_and(|v| v == step) {
        log::info!("paused at {step}");
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub async fn point(_step: &str) {}
