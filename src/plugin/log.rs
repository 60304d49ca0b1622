//! Levelled log lines on standard error, for a long-running plugin (the
//! one-shot commands use `-v` instead).

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

pub fn set_level(l: Level) {
    LEVEL.store(l as u8, Ordering::Relaxed);
}

pub fn enabled(l: Level) -> bool {
    l as u8 <= LEVEL.load(Ordering::Relaxed)
}

pub fn log(l: Level, what: std::fmt::Arguments<'_>) {
    if enabled(l) {
        let name = match l {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        };
        crate::say!("ovs-docker plugin: {name}: {what}");
    }
}

pub fn error(what: std::fmt::Arguments<'_>) {
    log(Level::Error, what)
}
pub fn warn(what: std::fmt::Arguments<'_>) {
    log(Level::Warn, what)
}
pub fn info(what: std::fmt::Arguments<'_>) {
    log(Level::Info, what)
}
pub fn debug(what: std::fmt::Arguments<'_>) {
    log(Level::Debug, what)
}
