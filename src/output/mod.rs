//! What commands print: tables for people, JSON for scripts. Only output
//! goes here; what is shown is decided by the layers below.

pub mod list;
pub mod mirrors;
pub mod tunnels;

use serde::Serialize;

use crate::error::{Error, Result};

/// `value` as pretty-printed JSON on standard output.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::io("encode JSON", e.into()))?;
    crate::out!("{text}");
    Ok(())
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
pub fn print_columns(header: &[&str], cells: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        crate::out!("{}", s.trim_end());
    };
    line(header.to_vec());
    for row in cells {
        line(row.iter().map(String::as_str).collect());
    }
}
