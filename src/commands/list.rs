//! `list [BRIDGE] [--container CONTAINER] [--format table|json]`: one row
//! per container port, with what Docker and the kernel say about it now
//! (see [`crate::port::status`]), and our tunnels.

use crate::cli::{Format, ListArgs};
use crate::context::Ctx;
use crate::error::Result;
use crate::output::list::{print_table, Row};

pub async fn exec(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let target = a.target();
    let ports = crate::port::status::survey(ctx, a.bridge.as_deref(), target.as_deref()).await?;
    let rows: Vec<Row> = ports.iter().map(Row::port).collect();
    // Our tunnels too, unless the listing is about one container.
    let mut tunnels = Vec::new();
    if target.is_none() {
        tunnels = crate::tunnel::list(ctx, a.bridge.as_deref()).await?;
        tunnels.retain(|t| t.is_ours());
    }
    match a.format {
        Format::Json => {
            let all: Vec<Row> = rows.into_iter().chain(tunnels.iter().map(Row::tunnel)).collect();
            crate::output::print_json(&all)
        }
        Format::Table => {
            print_table(&rows);
            if !tunnels.is_empty() {
                crate::out!();
                crate::output::tunnels::print_table(&tunnels, false);
            }
            Ok(())
        }
    }
}
