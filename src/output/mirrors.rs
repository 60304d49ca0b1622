//! The table of `mirror list`.

use super::print_columns;
use crate::mirror::MirrorView;

pub fn print_table(ms: &[MirrorView]) {
    let header = ["BRIDGE", "MIRROR", "TO", "FROM", "DIRECTION", "VLAN", "PACKETS"];
    let dash = |s: Option<String>| s.unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            vec![
                m.bridge.clone(),
                m.name.clone(),
                dash(m.to.clone()),
                if m.all { "*".into() } else { m.from.join(",") },
                m.direction.to_string(),
                if m.vlans.is_empty() {
                    "-".into()
                } else {
                    m.vlans.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
                },
                dash(m.tx_packets.map(|n| n.to_string())),
            ]
        })
        .collect();
    print_columns(&header, &cells);
}
