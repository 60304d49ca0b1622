//! One file per subcommand; this file holds what they share: the context
//! built from the global options, and how a port is matched to a container.

mod add_port;
mod batch;
mod del_port;
mod gc;
mod generate;
mod list;
mod ovn;
mod plugin;
pub(crate) mod reclaim;
mod set_qos;
mod set_vlan;
pub mod tunnel;
mod undo;
mod watch;

use std::time::Duration;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::docker::{Container, DockerClient};
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::{self, AttachedPort, Vswitch};
use crate::ovsdb::{Client, Cond, Endpoint};

pub use generate::generate;

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::new(&cli.global)?;
    let result = match cli.command {
        Command::AddPort(a) => add_port::exec(&ctx, a).await.map(drop),
        Command::DelPort(a) => del_port::exec_one(&ctx, a).await,
        Command::DelPorts(a) => del_port::exec_all(&ctx, a).await,
        Command::SetVlan(a) => set_vlan::exec(&ctx, a).await,
        Command::SetQos(a) => set_qos::exec(&ctx, a).await,
        Command::Watch(a) => watch::exec(&ctx, a).await,
        Command::List(a) => list::exec(&ctx, a).await,
        Command::Gc(a) => gc::exec(&ctx, a).await,
        Command::Batch(a) => batch::exec(&ctx, a).await,
        Command::Generate { dir } => generate(&dir),
        Command::Plugin(a) => plugin::exec(&ctx, a).await,
        Command::Tunnel(t) => tunnel::exec(&ctx, t).await,
    };
    ctx.step(format_args!("done"));
    result
}

/// What every command needs from the global options.
#[derive(Clone)]
pub struct Ctx {
    pub db: Endpoint,
    pub timeout: Duration,
    pub wait: bool,
    pub verbose: bool,
    /// When the command started, for the times -v prints.
    pub started: std::time::Instant,
    /// In a batch: host veths whose deletion is deferred to one bulk
    /// deletion at the end (see `reclaim::remove_port`).
    pub deferred_veths: Option<std::rc::Rc<std::cell::RefCell<Vec<String>>>>,
}

impl Ctx {
    pub fn new(g: &GlobalArgs) -> Result<Self> {
        let spec = g.db.clone().unwrap_or_else(Endpoint::default_spec);
        let db = Endpoint::parse(&spec).map_err(Error::invalid)?;
        Ok(Ctx {
            db,
            timeout: g.timeout(),
            wait: !g.no_wait,
            verbose: g.verbose,
            started: std::time::Instant::now(),
            deferred_veths: None,
        })
    }

    pub async fn vswitch(&self) -> Result<Vswitch> {
        self.step(format_args!("connecting to ovsdb-server at {}", self.db));
        let client = Client::connect(&self.db, self.timeout).await.step(|| "connect to OVSDB".into())?;
        Ok(Vswitch::new(client))
    }

    pub fn docker(&self) -> Result<DockerClient> {
        DockerClient::connect(self.timeout)
    }

    /// With -v, say what is being done, and when (milliseconds since start).
    pub fn step(&self, what: std::fmt::Arguments<'_>) {
        if self.verbose {
            crate::say!("ovs-docker: [{:7.3} ms] {what}", self.started.elapsed().as_secs_f64() * 1e3);
        }
    }
}

/// Whether `port` belongs to the container the user named `reference`,
/// which Docker resolved to `container` (None when Docker does not know it:
/// the container is gone and only its ports remain).
pub fn port_matches(port: &AttachedPort, reference: &str, container: Option<&Container>) -> bool {
    let recorded = port.container_ref();
    if recorded == reference {
        return true;
    }
    match (container, port.full_id()) {
        // Ours: the full ID is authoritative.
        (Some(c), Some(full)) => full == c.id,
        // Upstream's: only the reference as it was typed is recorded.
        (Some(c), None) => c.is_named_by(recorded),
        (None, Some(full)) => {
            reference.len() >= 4 && full.starts_with(reference)
                || port.external_ids.get(vswitch::keys::NAME).is_some_and(|n| n == reference)
        }
        (None, None) => false,
    }
}

/// The container ports attached for `reference` (and `iface`, if given),
/// from every bridge, with the container as Docker sees it now.
pub async fn find_attached(
    ctx: &Ctx,
    ovs: &Vswitch,
    docker: &DockerClient,
    reference: &str,
    iface: Option<&str>,
) -> Result<(Option<Container>, Vec<AttachedPort>)> {
    let conds = match iface {
        Some(i) => vec![Cond::includes("external_ids", crate::ovsdb::data::map([(vswitch::keys::CONTAINER_IFACE, i)]))],
        None => vec![],
    };
    let (container, ports) = tokio::join!(crate::target::find(docker, reference), ovs.find_ports(conds));
    let container = container?;
    let ports = ports.step(|| "look up container ports in OVSDB".into())?;
    ctx.step(format_args!(
        "container \"{reference}\" is {}",
        container
            .as_ref()
            .map(|c| format!("{} ({})", c.name, c.short_id()))
            .unwrap_or_else(|| "unknown to Docker".into())
    ));
    let mine = ports.into_iter().filter(|p| port_matches(p, reference, container.as_ref())).collect();
    Ok((container, mine))
}

/// The port of `r.interface` of `r`'s target on `r.bridge`.
pub async fn find_one(ctx: &Ctx, ovs: &Vswitch, r: &crate::cli::PortRef) -> Result<AttachedPort> {
    let (iface, reference) = (r.interface.as_str(), r.target.reference());
    let docker = ctx.docker()?;
    let (_, ports) = find_attached(ctx, ovs, &docker, &reference, Some(iface)).await?;
    ports.into_iter().find(|x| x.bridge.as_deref() == Some(r.bridge.as_str())).ok_or_else(|| {
        Error::refused(format!(
            "no port attached for CONTAINER={reference} and INTERFACE={iface} on bridge {}",
            r.bridge
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn port(ids: &[(&str, &str)]) -> AttachedPort {
        AttachedPort {
            iface_uuid: "u".into(),
            name: "0123456789abc_l".into(),
            external_ids: ids.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            ofport: None,
            error: None,
            port_uuid: None,
            bridge: None,
            tag: None,
            trunks: vec![],
            vlan_mode: None,
            ingress_rate: 0,
            ingress_burst: 0,
        }
    }

    fn web() -> Container {
        Container {
            id: format!("c474a0e2830e{}", "0".repeat(52)),
            name: "web1".into(),
            status: "running".into(),
            running: true,
            paused: false,
            restarting: false,
            pid: None,
            network_mode: "none".into(),
            sandbox_key: None,
            endpoint_ids: vec![],
        }
    }

    #[test]
    fn upstream_ports_match_by_any_alias() {
        let c = web();
        let by_name = port(&[("container_id", "web1"), ("container_iface", "eth1")]);
        let by_id = port(&[("container_id", "c474a0e2830e"), ("container_iface", "eth1")]);
        for r in ["web1", "c474a0e2830e", c.id.as_str()] {
            assert!(port_matches(&by_name, r, Some(&c)), "{r}");
            assert!(port_matches(&by_id, r, Some(&c)), "{r}");
        }
        let other = port(&[("container_id", "db1"), ("container_iface", "eth1")]);
        assert!(!port_matches(&other, "web1", Some(&c)));
    }

    #[test]
    fn our_ports_match_by_full_id() {
        let c = web();
        let ours = port(&[
            ("container_id", "web1"),
            ("container_iface", "eth1"),
            ("container_full_id", &c.id),
            ("container_name", "web1"),
        ]);
        assert!(port_matches(&ours, "c474a0e2830e", Some(&c)));
        // A new container that took the old one's name is another container...
        let mut newer = web();
        newer.id = format!("d{}", "1".repeat(63));
        assert!(!port_matches(&ours, "d111", Some(&newer)));
        // ...but the reference as typed still finds the old port.
        assert!(port_matches(&ours, "web1", Some(&newer)));
        // Gone from Docker: found by ID prefix or by recorded name.
        assert!(port_matches(&ours, "c474a0e2", None));
        assert!(!port_matches(&ours, "c47", None));
    }
}
