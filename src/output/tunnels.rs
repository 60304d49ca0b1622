//! The table of tunnel ports (`tunnel list`, and under `list`).

use super::print_columns;
use crate::ovsdb::tunnels::Tunnel;

/// Print tunnels as a table (`by`: with the CREATED_BY column).
pub fn print_table(ts: &[Tunnel], by: bool) {
    let mut header = vec!["BRIDGE", "TUNNEL", "TYPE", "REMOTE_IP", "KEY"];
    if by {
        header.push("CREATED_BY");
    }
    header.push("STATE");
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = ts
        .iter()
        .map(|t| {
            let mut row = vec![t.bridge.clone(), t.port.clone(), t.kind.clone(), dash(&t.remote_ip), dash(&t.key)];
            if by {
                row.push(dash(&t.created_by));
            }
            row.push(t.state.clone());
            row
        })
        .collect();
    print_columns(&header, &cells);
}
