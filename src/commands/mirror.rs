//! `mirror add|del|list` (see [`crate::mirror`]).

use crate::cli::{Direction, Format, MirrorCommand};
use crate::context::Ctx;
use crate::error::Result;
use crate::mirror::{self, MirrorSpec};

pub fn name(m: &MirrorCommand) -> &'static str {
    match m {
        MirrorCommand::Add(_) => "mirror add",
        MirrorCommand::Del(_) => "mirror del",
        MirrorCommand::List(_) => "mirror list",
    }
}

pub async fn exec(ctx: &Ctx, m: MirrorCommand) -> Result<()> {
    match m {
        MirrorCommand::Add(a) => {
            let direction = match a.direction {
                Direction::In => mirror::Direction::In,
                Direction::Out => mirror::Direction::Out,
                Direction::Both => mirror::Direction::Both,
            };
            let spec = MirrorSpec { bridge: a.bridge, name: a.name, to: a.to, from: a.from, direction, vlan: a.vlan };
            mirror::add(ctx, &spec).await
        }
        MirrorCommand::Del(d) => mirror::del(ctx, &d.bridge, &d.name).await,
        MirrorCommand::List(l) => {
            let ms = mirror::list(ctx, l.bridge.as_deref()).await?;
            match l.format {
                Format::Json => crate::output::print_json(&ms),
                Format::Table => {
                    crate::output::mirrors::print_table(&ms);
                    Ok(())
                }
            }
        }
    }
}
