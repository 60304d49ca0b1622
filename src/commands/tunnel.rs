//! `tunnel add|del|list` (see [`crate::tunnel`]).

use crate::cli::{Format, TunnelCommand};
use crate::context::Ctx;
use crate::error::Result;
use crate::port::journal::{guarded, Journal};
use crate::sys::signals::Signals;
use crate::tunnel::{TunnelDeletion, TunnelSpec};

pub fn name(t: &TunnelCommand) -> &'static str {
    match t {
        TunnelCommand::Add(_) => "tunnel add",
        TunnelCommand::Del(_) => "tunnel del",
        TunnelCommand::List(_) => "tunnel list",
    }
}

pub async fn exec(ctx: &Ctx, t: TunnelCommand) -> Result<()> {
    match t {
        TunnelCommand::Add(a) => {
            let spec = TunnelSpec { bridge: a.bridge, remote_ip: a.remote_ip, kind: a.kind, key: a.key, name: a.name };
            crate::tunnel::check(&spec)?;
            let journal = Journal::default();
            let mut signals = Signals::install();
            guarded(ctx, &journal, &mut signals, crate::tunnel::add(ctx, &spec, &journal)).await
        }
        TunnelCommand::Del(a) => {
            let d = TunnelDeletion { bridge: a.bridge, target: a.target, kind: a.kind, if_exists: a.if_exists };
            crate::tunnel::del(ctx, &d).await
        }
        TunnelCommand::List(a) => {
            let ts = crate::tunnel::list(ctx, a.bridge.as_deref()).await?;
            match a.format {
                Format::Json => crate::output::print_json(&ts),
                Format::Table => {
                    crate::output::tunnels::print_table(&ts, true);
                    Ok(())
                }
            }
        }
    }
}
