//! `watch [--once]`: keep container ports across container restarts (see
//! [`crate::watch`]).

use crate::cli::WatchArgs;
use crate::context::Ctx;
use crate::error::Result;

pub async fn exec(ctx: &Ctx, a: WatchArgs) -> Result<()> {
    crate::watch::run(ctx, a.once).await
}
