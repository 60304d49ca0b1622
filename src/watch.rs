//! `watch [--once]`: keep container ports across container restarts.
//!
//! A container that stops loses its network namespace and with it the veth
//! of each port; the OVSDB row stays, stale, with the record add-port
//! stored in it (see [`crate::port::record`]). When the container starts again,
//! each such port is re-created from its row, and the new row replaces the
//! old one in a single transaction, so a watcher killed at any moment loses
//! nothing: on start it reconciles every recorded port with what is running
//! before it follows Docker's events (subscribed from a time taken before
//! that scan, so no event falls in between).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;

use crate::context::Ctx;
use crate::docker::DockerClient;
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::AttachedPort;
use crate::ovsdb::{data, keys, Cond};
use crate::port::find::short;
use crate::port::record::Record;
use crate::port::target::Target;
use crate::port::{reclaim, remove_port, Carry, PortSpec, Veths};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;
use crate::sys::signals::Signals;

/// Reconcile every recorded port with what Docker runs; then, unless
/// `once`, follow Docker's events until SIGINT or SIGTERM.
pub async fn run(ctx: &Ctx, once: bool) -> Result<()> {
    let docker = ctx.docker()?;
    let mut signals = Signals::install();
    if once {
        return reconcile(ctx, &docker, &mut signals).await;
    }
    say(format_args!("watching Docker events"));
    // After Docker went away: 1 s, doubling up to 30 s while it stays away.
    let mut pause = Duration::from_secs(1);
    loop {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Err(e) = reconcile(ctx, &docker, &mut signals).await {
            if e.signal().is_some() {
                return Ok(());
            }
            say(format_args!("reconcile: {e}"));
        }
        let mut events = docker.container_events(since);
        loop {
            let next = tokio::select! {
                ev = events.next() => ev,
                _ = signals.recv() => return Ok(()),
            };
            let (action, id) = match next {
                Some(Ok(ev)) => {
                    pause = Duration::from_secs(1);
                    ev
                }
                Some(Err(e)) => {
                    say(format_args!("{e}; reconnecting"));
                    break;
                }
                None => break,
            };
            ctx.step(format_args!("event {action} {id}"));
            let result = match action.as_str() {
                "start" => match ports_of(ctx, &id).await {
                    Ok(ports) => restore(ctx, &docker, &id, ports, &mut signals).await,
                    Err(e) => Err(e),
                },
                "destroy" => match ports_of(ctx, &id).await {
                    Ok(ports) => forget(ctx, &id, ports).await,
                    Err(e) => Err(e),
                },
                _ => Ok(()),
            };
            if let Err(e) = result {
                if e.signal().is_some() {
                    return Ok(());
                }
                say(format_args!("{action} of container {}: {e}", short(&id)));
            }
        }
        // Docker went away or restarted: wait a little, then scan again.
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = signals.recv() => return Ok(()),
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// One line of what the watcher does (`ovs-docker: watch: ...`).
fn say(what: std::fmt::Arguments<'_>) {
    log::info!("{what}");
}

/// Our ports with a record: the ones the watcher looks after.
fn persistent(p: &AttachedPort) -> bool {
    p.external_ids.get(keys::iface::CREATED_BY).is_some_and(|v| v == keys::CREATED_BY_US)
        && p.full_id().is_some_and(|id| Target::parse(id).is_docker())
}

/// Bring every recorded port in line with what Docker runs now.
async fn reconcile(ctx: &Ctx, docker: &DockerClient, signals: &mut Signals) -> Result<()> {
    let ovs = ctx.vswitch().await?;
    let (ports, containers) = tokio::join!(ovs.find_ports(vec![]), docker.all());
    let ports = ports.step(|| "list container ports in OVSDB".into())?;
    let containers = containers?;
    let mut by_container: std::collections::BTreeMap<String, Vec<AttachedPort>> = Default::default();
    for p in ports.into_iter().filter(persistent) {
        by_container.entry(p.full_id().unwrap_or_default().to_string()).or_default().push(p);
    }
    let mut errors = Vec::new();
    for (id, ports) in by_container {
        let id = id.as_str();
        let result = match containers.iter().find(|c| c.id == id) {
            // Docker was asked at the same time as OVSDB: a container made
            // (and given a port) in between is not in that list. Ask again.
            None if docker.find(id).await?.is_none() => forget(ctx, id, ports).await,
            None => Ok(()),
            Some(c) if c.running => restore(ctx, docker, id, ports, signals).await,
            Some(_) => Ok(()),
        };
        if let Err(e) = result {
            if e.signal().is_some() {
                return Err(e);
            }
            errors.push(e);
        }
    }
    Error::all(errors)
}

/// The ports recorded for the container with this full ID.
async fn ports_of(ctx: &Ctx, id: &str) -> Result<Vec<AttachedPort>> {
    let ovs = ctx.vswitch().await?;
    let ports = ovs
        .find_ports(vec![Cond::includes("external_ids", data::map([(keys::iface::FULL_ID, id)]))])
        .await
        .step(|| format!("look up the ports of container {}", short(id)))?;
    Ok(ports.into_iter().filter(persistent).collect())
}

/// Re-create the persistent ports of a container that (re)started and has
/// lost their veths.
async fn restore(
    ctx: &Ctx,
    docker: &DockerClient,
    id: &str,
    ports: Vec<AttachedPort>,
    signals: &mut Signals,
) -> Result<()> {
    if ports.is_empty() {
        return Ok(());
    }
    let Some(c) = docker.find(id).await?.filter(|c| c.running) else { return Ok(()) };
    let Some(path) = c.netns_path() else { return Ok(()) };
    let ns = Netns::open(&path).step(|| format!("open network namespace {path} of {}", c.name))?;
    let inside = Netlink::inside(&ns).step(|| format!("open a netlink socket in container {}", c.name))?;
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let mut errors = Vec::new();
    for p in ports {
        let record = Record::from_external_ids(&p.external_ids);
        // Live means: the veth ends in the container's namespace of now (an
        // old namespace may linger after a restart, and its veth with it).
        if !record.persist || p.bridge.is_none() || reclaim::is_live_in(&p, &host, &inside).await? {
            continue;
        }
        let Some(spec) = PortSpec::recreate(&p, &c) else {
            say(format_args!("port {} of container {}: its record cannot be rebuilt; left alone", p.name, c.name));
            continue;
        };
        match crate::port::reattach(ctx, &spec, &Carry::new(&p), signals).await {
            Ok(done) => say(format_args!(
                "re-created port {} for container {} interface {} on bridge {}",
                done.port,
                c.name,
                p.container_iface(),
                p.bridge.as_deref().unwrap_or_default()
            )),
            Err(e) if e.signal().is_some() => return Err(e),
            Err(e) => errors.push(e),
        }
    }
    Error::all(errors)
}

/// Remove the ports of a container that Docker removed.
async fn forget(ctx: &Ctx, id: &str, ports: Vec<AttachedPort>) -> Result<()> {
    if ports.is_empty() {
        return Ok(());
    }
    let mut ovs = ctx.vswitch().await?;
    let host = Netlink::host().step(|| "open a netlink socket".into())?;
    let mut errors = Vec::new();
    for p in ports {
        let Some(_lock) = PortLock::try_acquire(id, p.container_iface()).step(|| format!("lock {}", short(id)))? else {
            continue;
        };
        match remove_port(ctx, &mut ovs, &host, &p, &Veths::Now).await {
            Ok(()) => say(format_args!(
                "removed port {} of removed container {} (interface {}, bridge {})",
                p.name,
                p.external_ids.get(keys::iface::NAME).map_or(short(id), String::as_str),
                p.container_iface(),
                p.bridge.as_deref().unwrap_or("-")
            )),
            Err(e) => errors.push(e),
        }
    }
    Error::all(errors)
}
