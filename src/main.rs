use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use ovs_docker::cli::Cli;

fn main() -> ExitCode {
    // As upstream: no arguments prints the usage and succeeds.
    if std::env::args_os().len() <= 1 {
        let _ = Cli::command().print_help();
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ovs-docker: start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let command = command_name(&cli);
    match runtime.block_on(ovs_docker::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovs-docker: {command}: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn command_name(cli: &Cli) -> &'static str {
    use ovs_docker::cli::Command::*;
    match cli.command {
        AddPort(_) => "add-port",
        DelPort(_) => "del-port",
        DelPorts(_) => "del-ports",
        SetVlan(_) => "set-vlan",
        List(_) => "list",
        Gc(_) => "gc",
        Generate { .. } => "generate",
    }
}
