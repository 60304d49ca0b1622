//! The driver's HTTP server: the libnetwork remote-driver protocol on a
//! unix socket, until SIGTERM or SIGINT.
//!
//! HTTP comes from hyper (already in the tree through bollard): dockerd
//! speaks HTTP/1.1 with keep-alive and chunked bodies to plugins, which a
//! hand-written parser would have to get right too. Connections are served
//! concurrently on one thread (a LocalSet): the handlers spend their time
//! waiting on OVSDB and the kernel, not computing.

use std::convert::Infallible;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;
use tokio::net::UnixListener;
use tokio::signal::unix::{signal, SignalKind};

use super::protocol::{ErrorResponse, CONTENT_TYPE};
use super::Driver;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};

/// Where dockerd looks for legacy plugins.
pub const PLUGIN_DIR: &str = "/run/docker/plugins";
/// Docker's requests are small; anything bigger is not Docker.
const MAX_BODY: usize = 1 << 20;
/// A client that has not sent its request headers, or its body, by then is
/// dropped: it must not hold a connection (and its memory) for ever.
/// Docker sends a request in one go.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the host side of the networks (gateways, NAT, and the rules
/// in Docker's FORWARD chain, which a dockerd restart or an
/// `nft flush ruleset` takes away without telling us) is checked.
const HEAL_EVERY: Duration = Duration::from_secs(5);

/// How the plugin is served.
#[derive(Debug, Clone)]
pub struct Options {
    /// The driver name Docker knows (`docker network create -d NAME`).
    pub name: String,
    /// The socket [default: /run/docker/plugins/NAME.sock].
    pub socket: Option<PathBuf>,
    /// Datapath type of the bridges the plugin creates.
    pub datapath_type: Option<String>,
    /// The OVN northbound database (mode=ovn and the IPAM driver).
    pub ovn_nb: Option<crate::ovsdb::Remote>,
}

/// Serve the driver until SIGTERM or SIGINT.
pub async fn serve(ctx: &Ctx, a: Options) -> Result<()> {
    let path = a.socket.clone().unwrap_or_else(|| PathBuf::from(format!("{PLUGIN_DIR}/{}.sock", a.name)));
    let mut term = signal(SignalKind::terminate()).step(|| "install the SIGTERM handler".into())?;
    let mut int = signal(SignalKind::interrupt()).step(|| "install the SIGINT handler".into())?;
    let listener = bind(&path).await?;
    let (datapath_type, why) = match &a.datapath_type {
        Some(t) => (t.clone(), "--datapath-type"),
        None => (crate::sys::default_datapath_type().to_string(), datapath_reason()),
    };
    log::info!(
        "serving network driver \"{}\" on {} (new bridges: datapath type {datapath_type}, {why})",
        a.name,
        path.display(),
    );
    let driver = Rc::new(Driver {
        ctx: ctx.clone(),
        name: a.name.clone(),
        datapath_type,
        ovn_nb: a.ovn_nb.clone(),
        nb_session: Default::default(),
    });
    match driver.restore_host_state().await {
        Ok(0) => {}
        Ok(n) => log::info!("host side (gateways, forwarding, NAT) of {n} networks checked"),
        Err(e) => log::warn!("cannot restore the host side of the networks: {e}"),
    }
    match driver.sweep_stale_rules().await {
        Ok(0) => {}
        Ok(n) => log::info!("removed {n} firewall rules of networks that are gone"),
        Err(e) => log::warn!("cannot remove the firewall rules of gone networks: {e}"),
    }
    // What a plugin killed half-way through a CreateEndpoint left.
    if let Err(e) = crate::port::endpoint::sweep_orphans(ctx).await {
        log::warn!("cannot sweep veths left by a killed plugin: {e}");
    }
    let local = tokio::task::LocalSet::new();
    // Whether a sweep of what killed mode=ovn calls left is running.
    let sweeping = Rc::new(std::cell::Cell::new(false));
    // Whether a check of the host side of the networks is running.
    let restoring = Rc::new(std::cell::Cell::new(false));
    let mut heal = tokio::time::interval(HEAL_EVERY);
    heal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = local
        .run_until(async {
            loop {
                tokio::select! {
                    _ = heal.tick() => {
                        // Each one at a time: a stuck ovsdb-server or an
                        // unreachable northbound database holds a run for up
                        // to --timeout, and they would pile up.
                        let d = driver.clone();
                        spawn_unless_running(&restoring, async move {
                            if let Err(e) = d.restore_host_state().await {
                                log::warn!("check of the host side of the networks: {e}");
                            }
                        });
                        // The first tick is at once: this is also the sweep
                        // at start, without holding up the socket.
                        let d = driver.clone();
                        spawn_unless_running(&sweeping, async move {
                            // Quietly: the northbound database may be away for a while.
                            if let Err(e) = d.sweep_ovn().await {
                                log::debug!("sweep of the northbound records: {e}");
                            }
                        });
                    }
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let d = driver.clone();
                            tokio::task::spawn_local(serve_connection(d, stream));
                        }
                        Err(e) => log::warn!("accept a connection on {}: {e}", path.display()),
                    },
                    _ = term.recv() => break Ok(()),
                    _ = int.recv() => break Ok(()),
                }
            }
        })
        .await;
    // A later start would clear a stale socket anyway; this is tidiness.
    let _ = std::fs::remove_file(&path);
    log::info!("stopped");
    result
}

fn datapath_reason() -> &'static str {
    match crate::sys::default_datapath_type() {
        "system" => "the openvswitch kernel module is loaded",
        _ => "no openvswitch kernel module: userspace datapath",
    }
}

/// Listen on `path`, readable and writable by root only. A socket file left
/// by a killed plugin is replaced; a live one (another plugin serving) is
/// refused.
async fn bind(path: &Path) -> Result<UnixListener> {
    let shown = path.display();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).step(|| format!("create {}", dir.display()))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if tokio::net::UnixStream::connect(path).await.is_ok() {
                return Err(Error::refused(format!("{shown}: another process is serving on this socket")));
            }
            std::fs::remove_file(path).step(|| format!("remove the stale socket {shown}"))?;
        }
        Ok(_) => return Err(Error::refused(format!("{shown} exists and is not a socket"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(format!("look at {shown}"), e)),
    }
    let listener = crate::sys::socket::listen_private(path).step(|| format!("listen on {shown}"))?;
    listener.set_nonblocking(true).step(|| format!("listen on {shown}"))?;
    UnixListener::from_std(listener).step(|| format!("listen on {shown}"))
}

/// Run `task` on the local set unless the previous run flagged by
/// `running` is still going.
fn spawn_unless_running(running: &Rc<std::cell::Cell<bool>>, task: impl std::future::Future<Output = ()> + 'static) {
    if running.replace(true) {
        return;
    }
    let flag = running.clone();
    tokio::task::spawn_local(async move {
        task.await;
        flag.set(false);
    });
}

async fn serve_connection(driver: Rc<Driver>, stream: tokio::net::UnixStream) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper::service::service_fn(move |req| {
        let d = driver.clone();
        async move { Ok::<_, Infallible>(handle(&d, req).await) }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(REQUEST_TIMEOUT);
    if let Err(e) = http.serve_connection(io, service).await {
        log::debug!("connection ended: {e}");
    }
}

async fn handle(driver: &Driver, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    // By characters, bounded: the path is the client's, not Docker's.
    let method: String = req.uri().path().trim_start_matches('/').chars().take(100).collect();
    if req.method() != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, &ErrorResponse { err: format!("{method}: use POST") });
    }
    let body = match tokio::time::timeout(REQUEST_TIMEOUT, Limited::new(req.into_body(), MAX_BODY).collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Err(_) => {
            log::warn!("{method}: the body did not come within {REQUEST_TIMEOUT:?}");
            return reply(
                StatusCode::REQUEST_TIMEOUT,
                &ErrorResponse { err: format!("{method}: body not sent in time") },
            );
        }
        Ok(Err(e)) => {
            log::warn!("{method}: cannot read the request body: {e}");
            return reply(StatusCode::BAD_REQUEST, &ErrorResponse { err: format!("{method}: read the body: {e}") });
        }
    };
    let ids = ids_of(&body);
    let Some(result) = driver.call(&method, &body).await else {
        log::debug!("{method}{ids}: not implemented (404)");
        return reply(StatusCode::NOT_FOUND, &ErrorResponse { err: format!("{method} is not implemented") });
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(v) => {
            log::debug!("{method}{ids}: ok in {ms:.1} ms");
            reply(StatusCode::OK, &v)
        }
        Err(e) => {
            // Docker shows `Err` to the user (as "remote: ..."), so it says
            // which call failed on what.
            let text = format!("ovs-docker plugin: {method}: {e}");
            log::error!("{method}{ids}: failed in {ms:.1} ms: {e}");
            // The IPAM protocol names the field `Error` (libnetwork
            // ipams/remote/api), the network driver's `Err`.
            if method.starts_with("IpamDriver.") {
                return reply(StatusCode::OK, &serde_json::json!({ "Error": text }));
            }
            reply(StatusCode::OK, &ErrorResponse { err: text })
        }
    }
}

/// " network=... endpoint=..." for the log line of a request.
fn ids_of(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return String::new() };
    let mut s = String::new();
    for (key, name) in [("NetworkID", "network"), ("EndpointID", "endpoint")] {
        if let Some(id) = v.get(key).and_then(Value::as_str) {
            // By characters: a request may carry any ID, ASCII or not.
            s.push_str(&format!(" {name}={}", id.chars().take(12).collect::<String>()));
        }
    }
    s
}

fn reply(status: StatusCode, body: &impl serde::Serialize) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(CONTENT_TYPE));
    r
}
