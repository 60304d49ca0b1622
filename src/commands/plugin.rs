//! `plugin [--name NAME] [--socket PATH] [--datapath-type TYPE]`: serve the
//! Docker network driver (see [`crate::plugin`]) until SIGTERM or SIGINT.

use crate::cli::PluginArgs;
use crate::context::Ctx;
use crate::error::Result;
use crate::plugin::server::{serve, Options};

pub async fn exec(ctx: &Ctx, a: PluginArgs) -> Result<()> {
    serve(ctx, Options { name: a.name, socket: a.socket, datapath_type: a.datapath_type }).await
}
