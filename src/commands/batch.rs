//! `batch FILE` (`-` for standard input): one command per line, as `ip
//! -batch` reads them.
//!
//! Every line is parsed before anything is done: one bad line and nothing
//! runs. Then the lines run in order in one process, each with the same
//! all-or-nothing rules as the command on its own, but without waiting for
//! ovs-vswitchd: the batch waits once, at the end, for all its changes, and
//! then checks that ovs-vswitchd took every port it added (a port it
//! refused is removed again and its line reported as failed). A failing
//! line is reported with its number and the others still run; a signal
//! stops the batch after undoing the line in progress.

use std::io::Read;

use clap::Parser;

use super::{add_port, del_port, gc, list, set_qos, set_vlan, tunnel};
use crate::cli::{BatchArgs, Command};
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::port::journal::Journal;
use crate::port::{check_interface, Veths};
use crate::sys::netlink::Netlink;
use crate::sys::signals::Signals;

/// One line of a batch: a command without global options.
#[derive(Debug, Parser)]
#[command(no_binary_name = true, disable_help_flag = true, disable_version_flag = true)]
struct Line {
    #[command(subcommand)]
    command: Command,
}

pub async fn exec(ctx: &Ctx, a: BatchArgs) -> Result<()> {
    let text = read_input(&a.file)?;
    let lines = parse(&text)?;
    // One set of handlers for the whole batch, so that a signal is never
    // lost between lines or swallowed during a line that is not add-port.
    let mut signals = Signals::install();
    // The veths of removed ports are deleted together at the end, and
    // ovs-vswitchd is waited for once, at the end too.
    let veths = Veths::Defer(Default::default());
    let run_ctx = ctx.no_wait();
    let mut first_error: Option<Error> = None;
    let mut added: Vec<Added> = Vec::new();
    for (number, command) in lines {
        let name = super::name(&command);
        let result = match command {
            Command::AddPort(args) => {
                let journal = Journal::default();
                let spec = add_port::spec(args);
                crate::port::add_in_batch(&run_ctx, &spec, &journal, &mut signals)
                    .await
                    .map(|done| added.push(Added { number, port: done.port, bridge: spec.bridge.clone(), journal }))
            }
            other => tokio::select! {
                r = run_line(&run_ctx, other, &veths) => r,
                sig = signals.recv() => Err(Error::Interrupted(sig)),
            },
        };
        if let Err(e) = result {
            log::error!("line {number}: {name}: {e}");
            let stop = e.signal().is_some();
            first_error.get_or_insert(e);
            if stop {
                break;
            }
        }
    }
    // Whatever happened, the veths that del-port lines removed from OVSDB
    // are deleted (each is marked as ours, so even a kill here is healed).
    let names: Vec<String> = match &veths {
        Veths::Defer(deferred) => deferred.borrow_mut().drain(..).collect(),
        Veths::Now => Vec::new(),
    };
    if !names.is_empty() {
        ctx.step(format_args!("deleting {} veths at once", names.len()));
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if let Err(e) = host.delete_many(&names).await.step(|| format!("delete veths {}", names.join(", "))) {
            first_error.get_or_insert(e);
        }
    }
    if ctx.wait && first_error.as_ref().is_none_or(|e| e.signal().is_none()) {
        let checked = tokio::select! {
            r = wait_and_check(ctx, &added) => r,
            sig = signals.recv() => Err(Error::Interrupted(sig)),
        };
        if let Err(e) = checked {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        None => Ok(()),
        Some(e) => Err(Error::Batch(Box::new(e))),
    }
}

/// A port an add-port line added, with that line's journal, so that the
/// line can still be undone if ovs-vswitchd refuses the port at the end.
struct Added {
    number: usize,
    port: String,
    bridge: String,
    journal: Journal,
}

async fn run_line(ctx: &Ctx, command: Command, veths: &Veths) -> Result<()> {
    match command {
        Command::DelPort(args) => del_port::exec_one(ctx, args, veths).await,
        Command::DelPorts(args) => del_port::exec_all(ctx, args, veths).await,
        Command::SetVlan(args) => set_vlan::exec(ctx, args).await,
        Command::SetQos(args) => set_qos::exec(ctx, args).await,
        Command::List(args) => list::exec(ctx, args).await,
        Command::Gc(args) => gc::exec(ctx, args).await,
        Command::Tunnel(t) => tunnel::exec(ctx, t).await,
        Command::Mirror(m) => super::mirror::exec(ctx, m).await,
        // add-port runs on its own; parse() refuses the others.
        other @ (Command::AddPort(_)
        | Command::Batch(_)
        | Command::Watch(_)
        | Command::Generate { .. }
        | Command::Plugin(_)) => Err(Error::invalid(format!("{} cannot be used inside a batch", super::name(&other)))),
    }
}

/// One wait for every change of the batch, then check each port added
/// (and not removed again by a later line); undo the lines whose port
/// ovs-vswitchd refused.
async fn wait_and_check(ctx: &Ctx, added: &[Added]) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    ctx.step(format_args!("waiting for ovs-vswitchd to apply the batch"));
    ovs.commit(crate::ovsdb::Txn::new(), true).await.step(|| "wait for ovs-vswitchd to apply the batch".into())?;
    let mut errors = Vec::new();
    for line in added {
        // A later line of the batch may have removed it again.
        if !ovs.has_interface(&line.port).await.step(|| format!("look up port {}", line.port))? {
            continue;
        }
        if let Err(e) = check_interface(&ovs, &line.port, &line.bridge).await {
            log::error!("line {}: add-port: {e}", line.number);
            errors.push(e);
            if let Err(undo) = line.journal.undo(ctx).await {
                errors.push(undo);
            }
        }
    }
    Error::all(errors)
}

fn read_input(file: &std::path::Path) -> Result<String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).step(|| "read the batch from standard input".into())?;
    } else {
        // A file that cannot be read is the user's to fix: a usage error.
        text = std::fs::read_to_string(file)
            .map_err(|e| Error::invalid(format!("cannot read batch file {}: {e}", file.display())))?;
    }
    Ok(text)
}

/// Parse every line; all errors are reported, with line numbers, before
/// anything is done.
fn parse(text: &str) -> Result<Vec<(usize, Command)>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let words = match split_words(raw) {
            Ok(w) => w,
            Err(e) => {
                errors.push(format!("line {number}: {e}"));
                continue;
            }
        };
        if words.is_empty() {
            continue;
        }
        match Line::try_parse_from(&words) {
            Ok(Line {
                command: Command::Batch(_) | Command::Watch(_) | Command::Generate { .. } | Command::Plugin(_),
            }) => {
                errors.push(format!("line {number}: {} cannot be used inside a batch", words[0]));
            }
            Ok(mut line) => match crate::cli::normalize(&mut line.command) {
                Ok(()) => out.push((number, line.command)),
                Err(e) => errors.push(format!("line {number}: {e}")),
            },
            Err(e) => {
                errors.push(format!("line {number}: {}", crate::cli::usage_message(&e)));
            }
        }
    }
    if errors.is_empty() {
        return Ok(out);
    }
    for e in &errors {
        log::error!("{e}");
    }
    Err(Error::invalid(format!("{} line(s) could not be parsed; nothing was run", errors.len())))
}

/// Split a line into words as a POSIX shell would, without expansions
/// (shlex): white space separates, '...' is literal, "..." allows \" and
/// \\, a backslash escapes the next character, and # starts a comment
/// between words.
fn split_words(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut lexer = shlex::Shlex::new(line);
    let words: Vec<String> = lexer.by_ref().collect();
    if lexer.had_error {
        return Err("unterminated quote or trailing backslash".into());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(split_words("add-port br0 eth1 c1 --ipaddress=10.0.0.2/24").unwrap().len(), 5);
        assert_eq!(
            split_words("  a   'b c'  \"d \\\"e\\\"\" f\\ g  # comment").unwrap(),
            ["a", "b c", "d \"e\"", "f g"]
        );
        assert_eq!(split_words("# only a comment").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("a#b").unwrap(), ["a#b"]);
        assert!(split_words("a 'b").is_err());
        assert!(split_words("a \"b").is_err());
        assert!(split_words("a \\").is_err());
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "add-port br0 eth1 c1\n\n# comment\nadd-port br0 eth1\nset-vlan br0 eth1 c1 5000\nbatch x\n--db=unix:/x list\n";
        let e = parse(text).unwrap_err().to_string();
        assert_eq!(e, "4 line(s) could not be parsed; nothing was run");
    }

    #[test]
    fn good_lines_parse_in_order() {
        let cmds =
            parse("add-port br0 eth1 c1 --mtu 1400\ndel-port br0 eth1 c1\n  \nset-vlan br0 eth1 c1 5\n").unwrap();
        let numbers: Vec<usize> = cmds.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 4]);
        assert!(matches!(cmds[0].1, Command::AddPort(ref a) if a.mtu == Some(1400)));
    }
}
