use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use ovs_docker::cli::{Cli, Command, LogLevel};
use ovs_docker::logging::Style;

fn main() -> ExitCode {
    // Run by a container runtime as a CNI plugin: the protocol, not the CLI.
    if ovs_docker::cni::is_cni_call() {
        return ExitCode::from(ovs_docker::cni::main());
    }
    // No command is a usage error (upstream printed its usage and exited
    // 0, which hid a forgotten argument from scripts): the usage goes to
    // standard error and the status is 2.
    if std::env::args_os().len() <= 1 {
        ovs_docker::say!("{}", Cli::command().render_help().to_string().trim_end());
        return ExitCode::from(2);
    }
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    if let Err(message) = ovs_docker::cli::normalize(&mut cli.command) {
        let cmd = command_name(&cli);
        ovs_docker::say!("ovs-docker: {cmd}: {message} (see 'ovs-docker {cmd} --help')");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            ovs_docker::say!("ovs-docker: start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let command = command_name(&cli);
    ovs_docker::logging::init(match &cli.command {
        Command::Plugin(p) => Style::Plugin { level: plugin_level(p.log_level) },
        _ => Style::Command { name: command, verbose: cli.global.verbose },
    });
    match runtime.block_on(ovs_docker::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            ovs_docker::say!("ovs-docker: {command}: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn command_name(cli: &Cli) -> &'static str {
    ovs_docker::commands::name(&cli.command)
}

fn plugin_level(l: LogLevel) -> log::LevelFilter {
    match l {
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
    }
}

/// Help and version go to stdout as clap prints them; a usage error is one
/// line, like every other error, and exits 2.
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let message = ovs_docker::cli::usage_message(&e);
    match subcommand_path() {
        Some(cmd) => ovs_docker::say!("ovs-docker: {cmd}: {message} (see 'ovs-docker {cmd} --help')"),
        None => ovs_docker::say!("ovs-docker: {message} (see 'ovs-docker --help')"),
    }
    ExitCode::from(2)
}

/// The (nested) subcommand the arguments name, such as `tunnel add`: the
/// words that are subcommand names, each of the one before (global
/// options may come before the first).
fn subcommand_path() -> Option<String> {
    let mut cmd = Cli::command();
    let mut path = Vec::new();
    // args_os: an argument may not be UTF-8 at all.
    let mut option_value = false;
    for arg in std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()) {
        // Global options (`--timeout 3`, `-v`) may come before the first.
        let skip = std::mem::replace(&mut option_value, matches!(arg.as_str(), "--db" | "--timeout"));
        if path.is_empty() && (skip || arg.starts_with('-')) {
            continue;
        }
        let Some(sub) = cmd.find_subcommand(&arg).cloned() else { break };
        path.push(arg);
        cmd = sub;
    }
    (!path.is_empty()).then(|| path.join(" "))
}
