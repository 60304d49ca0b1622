//! The one logging path: everything, ours and our dependencies' (rtnetlink,
//! netlink-proto, bollard, hyper), goes through the `log` facade to this
//! logger, which writes one line per record on standard error in the style
//! of the running command:
//!
//! - a command (`add-port`, `watch`, ...): `-v` steps as
//!   `ovs-docker: [  1.234 ms] STEP` (debug records: shown with `-v`);
//!   what a command says as it goes as `ovs-docker: COMMAND: TEXT` (info
//!   and error records, such as watch's lines) and warnings as
//!   `ovs-docker: COMMAND: warning: TEXT`;
//! - the network plugin: `ovs-docker plugin: LEVEL: TEXT`, filtered by
//!   `--log-level`.
//!
//! A dependency's record names its source (`[ms] netlink_proto::...: TEXT`)
//! and shows at debug level only (`-v`, or `--log-level=debug`), warnings
//! and errors always.
//!
//! A closed or broken standard error loses the line and the work goes on.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// How lines look (see the module documentation).
#[derive(Debug, Clone)]
pub enum Style {
    /// A one-shot or long-running command of the CLI, by name.
    Command { name: &'static str, verbose: bool },
    /// The network plugin's service, at this level.
    Plugin { level: LevelFilter },
}

struct Logger {
    style: Style,
    started: Instant,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Install the logger; the first call wins (tests may call it again).
pub fn init(style: Style) {
    let max = match &style {
        Style::Command { verbose: true, .. } => LevelFilter::Debug,
        Style::Command { verbose: false, .. } => LevelFilter::Info,
        Style::Plugin { level } => *level,
    };
    let logger = LOGGER.get_or_init(|| Logger { style, started: Instant::now() });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max);
    }
}

/// Whether `target` is one of ours (module paths start with the crate's name).
fn ours(target: &str) -> bool {
    target == "ovs_docker" || target.starts_with("ovs_docker::")
}

impl Logger {
    fn line(&self, record: &Record<'_>) -> Option<String> {
        let mine = ours(record.target());
        let text = record.args();
        match &self.style {
            Style::Command { name, verbose } => match record.level() {
                Level::Debug | Level::Trace if !verbose => None,
                Level::Info if !mine && !verbose => None,
                Level::Debug | Level::Trace | Level::Info if !mine => {
                    Some(format!("ovs-docker: [{:7.3} ms] {}: {text}", self.ms(), record.target()))
                }
                Level::Debug | Level::Trace => Some(format!("ovs-docker: [{:7.3} ms] {text}", self.ms())),
                Level::Warn => Some(format!("ovs-docker: {name}: warning: {text}")),
                Level::Info | Level::Error => Some(format!("ovs-docker: {name}: {text}")),
            },
            Style::Plugin { level } => {
                if record.level() > *level || (!mine && record.level() > Level::Warn && *level < LevelFilter::Debug) {
                    return None;
                }
                let lvl = record.level().as_str().to_ascii_lowercase();
                if mine {
                    Some(format!("ovs-docker plugin: {lvl}: {text}"))
                } else {
                    Some(format!("ovs-docker plugin: {lvl}: {}: {text}", record.target()))
                }
            }
        }
    }

    fn ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(line) = self.line(record) {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(style: Style, level: Level, target: &str, text: &str) -> Option<String> {
        let logger = Logger { style, started: Instant::now() };
        let args = format_args!("{text}");
        let record = Record::builder().level(level).target(target).args(args).build();
        logger.line(&record).map(|l| l.split_once("ms]").map_or(l.clone(), |(_, rest)| format!("[ms]{rest}")))
    }

    #[test]
    fn command_lines_keep_their_formats() {
        let cmd = |verbose| Style::Command { name: "watch", verbose };
        let ours = "ovs_docker::port";
        assert_eq!(render(cmd(false), Level::Info, ours, "re-created").unwrap(), "ovs-docker: watch: re-created");
        assert_eq!(render(cmd(false), Level::Warn, ours, "MTU").unwrap(), "ovs-docker: watch: warning: MTU");
        assert_eq!(render(cmd(false), Level::Debug, ours, "step"), None);
        assert_eq!(render(cmd(true), Level::Debug, ours, "step").unwrap(), "[ms] step");
        // Dependencies: at debug level only, named.
        assert_eq!(render(cmd(false), Level::Info, "bollard::docker", "x"), None);
        assert_eq!(
            render(cmd(true), Level::Debug, "netlink_proto::codec", "x").unwrap(),
            "[ms] netlink_proto::codec: x"
        );
    }

    #[test]
    fn plugin_lines_have_levels() {
        let p = |level| Style::Plugin { level };
        let ours = "ovs_docker::plugin::driver";
        assert_eq!(
            render(p(LevelFilter::Info), Level::Info, ours, "serving").unwrap(),
            "ovs-docker plugin: info: serving"
        );
        assert_eq!(render(p(LevelFilter::Info), Level::Debug, ours, "x"), None);
        assert_eq!(render(p(LevelFilter::Info), Level::Info, "hyper::proto", "x"), None);
        assert_eq!(
            render(p(LevelFilter::Debug), Level::Debug, "hyper::proto", "x").unwrap(),
            "ovs-docker plugin: debug: hyper::proto: x"
        );
        assert_eq!(render(p(LevelFilter::Error), Level::Warn, ours, "x"), None);
    }
}
