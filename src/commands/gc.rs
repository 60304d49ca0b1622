//! `gc [BRIDGE] [--dry-run]` (see [`crate::port::gc`]): one line on
//! standard output per object removed.

use crate::cli::GcArgs;
use crate::context::Ctx;
use crate::error::Result;

pub async fn exec(ctx: &Ctx, a: GcArgs) -> Result<()> {
    crate::port::gc::collect(ctx, a.bridge.as_deref(), a.dry_run, &mut |line| crate::out!("{line}")).await
}
