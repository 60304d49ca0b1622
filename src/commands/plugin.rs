//! `plugin [--name NAME] [--socket PATH] [--datapath-type TYPE] [--ovn-nb DB]`: serve the
//! Docker network driver (see [`crate::plugin`]) until SIGTERM or SIGINT.

use crate::cli::PluginArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::plugin::server::{serve, Options};

pub async fn exec(ctx: &Ctx, a: PluginArgs) -> Result<()> {
    let ovn_nb = a.ovn_nb.as_deref().map(|s| ctx.remote(s)).transpose()?;
    serve(ctx, Options { name: a.name, socket: a.socket, datapath_type: a.datapath_type, ovn_nb }).await
}
