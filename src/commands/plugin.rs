//! `plugin [--name NAME] [--socket PATH] [--datapath-type TYPE] [--ovn-nb DB]`: serve the
//! Docker network driver (see [`crate::plugin`]) until SIGTERM or SIGINT.

use crate::cli::PluginArgs;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::ovsdb::Endpoint;
use crate::plugin::server::{serve, Options};

pub async fn exec(ctx: &Ctx, a: PluginArgs) -> Result<()> {
    let ovn_nb = a.ovn_nb.as_deref().map(Endpoint::parse).transpose().map_err(Error::invalid)?;
    serve(ctx, Options { name: a.name, socket: a.socket, datapath_type: a.datapath_type, ovn_nb }).await
}
