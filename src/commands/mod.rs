//! One file per subcommand: each turns its clap arguments into the spec of
//! the layer below and makes one call. What they share lives below them
//! ([`crate::port`], [`crate::tunnel`], [`crate::output`], [`crate::context`]).

mod add_port;
mod batch;
mod del_port;
mod gc;
mod generate;
mod list;
mod mirror;
mod plugin;
mod set_qos;
mod set_vlan;
mod tunnel;
mod watch;

use crate::cli::{Cli, Command, PortRef};
use crate::context::Ctx;
use crate::error::Result;
use crate::port::PortAddress;

pub use generate::{generate, generated_files};

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let ctx = Ctx::new(g.db.as_deref(), g.tls().as_ref(), g.timeout(), !g.no_wait)?;
    let result = match cli.command {
        Command::AddPort(a) => add_port::exec(&ctx, a).await,
        Command::DelPort(a) => del_port::exec_one(&ctx, a, &Default::default()).await,
        Command::DelPorts(a) => del_port::exec_all(&ctx, a, &Default::default()).await,
        Command::SetVlan(a) => set_vlan::exec(&ctx, a).await,
        Command::SetQos(a) => set_qos::exec(&ctx, a).await,
        Command::Watch(a) => watch::exec(&ctx, a).await,
        Command::List(a) => list::exec(&ctx, a).await,
        Command::Gc(a) => gc::exec(&ctx, a).await,
        Command::Batch(a) => batch::exec(&ctx, a).await,
        Command::Generate { dir } => generate(&dir),
        Command::Plugin(a) => plugin::exec(&ctx, a).await,
        Command::Tunnel(t) => tunnel::exec(&ctx, t).await,
        Command::Mirror(m) => mirror::exec(&ctx, m).await,
    };
    ctx.step(format_args!("done"));
    result
}

/// The name a command is reported under (`ovs-docker NAME: ...`).
pub fn name(c: &Command) -> &'static str {
    match c {
        Command::AddPort(_) => "add-port",
        Command::DelPort(_) => "del-port",
        Command::DelPorts(_) => "del-ports",
        Command::SetVlan(_) => "set-vlan",
        Command::SetQos(_) => "set-qos",
        Command::Watch(_) => "watch",
        Command::List(_) => "list",
        Command::Gc(_) => "gc",
        Command::Batch(_) => "batch",
        Command::Generate { .. } => "generate",
        Command::Plugin(_) => "plugin",
        Command::Tunnel(t) => tunnel::name(t),
        Command::Mirror(m) => mirror::name(m),
    }
}

fn address(r: &PortRef) -> PortAddress {
    PortAddress { bridge: r.bridge.clone(), interface: r.interface.clone(), reference: r.target.reference() }
}
