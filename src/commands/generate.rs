//! The hidden `generate DIR` command: the man page and shell completions,
//! made from the clap definition so they cannot drift from the options.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Context, Result};

/// Every generated file, as (path relative to the repository, contents).
pub fn generated_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let cmd = Cli::command();
    out.push(("man/ovs-docker.1".to_string(), man_page(&cmd)));
    for (shell, file) in
        [(Shell::Bash, "ovs-docker.bash"), (Shell::Zsh, "_ovs-docker"), (Shell::Fish, "ovs-docker.fish")]
    {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "ovs-docker", &mut buf);
        out.push((format!("completions/{file}"), buf));
    }
    out
}

/// clap_mangen renders the top level; each command's arguments (nested
/// ones too: `tunnel add`...), what `list` shows, the exit status and the
/// environment are added as sections of their own, so that one page holds
/// everything `--help` says.
fn man_page(cmd: &clap::Command) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = man.render_title(&mut buf);
    let _ = man.render_name_section(&mut buf);
    let _ = man.render_synopsis_section(&mut buf);
    let _ = man.render_description_section(&mut buf);
    let _ = man.render_options_section(&mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    text.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        command_entry(&mut text, sub, "ovs-docker");
    }
    list_output(&mut text);
    text.push_str(&exit_status());
    text.push_str(concat!(
        ".SH ENVIRONMENT\n",
        ".TP\n.B OVS_RUNDIR\nWhere the default OVSDB socket db.sock lives (default /var/run/openvswitch).\n",
        ".TP\n.B DOCKER_HOST\nThe Docker daemon: unix://PATH or tcp://HOST:PORT (default unix:///var/run/docker.sock).\n",
        ".SH \"SEE ALSO\"\n",
        "ovs-vsctl(8), ovs-vswitchd(8), docker(1)\n",
    ));
    text.into_bytes()
}

/// One command: its usage, description, arguments and examples; then its
/// own subcommands, each as an entry of its own.
fn command_entry(text: &mut String, sub: &clap::Command, parent: &str) {
    let bin = format!("{parent} {}", sub.get_name());
    if sub.has_subcommands() {
        let about = sub.get_long_about().or(sub.get_about()).map(|a| a.to_string()).unwrap_or_default();
        text.push_str(&format!(".TP\n.B {} <COMMAND>\n{}\n", roff(&bin), roff(&about)));
        for nested in sub.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            command_entry(text, nested, &bin);
        }
        return;
    }
    let mut usage = sub.clone().bin_name(&bin);
    let line = usage.render_usage().to_string();
    text.push_str(&format!(".TP\n.B {}\n", roff(line.trim_start_matches("Usage: "))));
    let about = sub.get_long_about().or(sub.get_about()).map(|a| a.to_string()).unwrap_or_default();
    text.push_str(&format!("{}\n", roff(&about)));
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help") {
        let name = match arg.get_long() {
            // A flag takes no value: no `=VALUE` after it.
            Some(l) if !arg.get_action().takes_values() => format!("--{l}"),
            Some(l) => format!(
                "--{l}={}",
                arg.get_value_names().and_then(|v| v.first()).map(|v| v.to_string()).unwrap_or_default()
            ),
            None => arg.get_id().to_string().to_uppercase(),
        };
        let mut help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let values: Vec<String> =
            arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
        if !values.is_empty() && arg.get_action().takes_values() {
            help.push_str(&format!(" [possible values: {}]", values.join(", ")));
        }
        text.push_str(&format!(".RS\n.TP\n.B {}\n{}\n.RE\n", roff(&name), roff(&help)));
    }
    if let Some(after) = sub.get_after_help() {
        text.push_str(&format!(".RS\n.PP\n{}\n.RE\n", roff(&after.to_string()).replace('\n', "\n.br\n")));
    }
}

/// What `list` shows: its states and the keys of its JSON rows.
fn list_output(text: &mut String) {
    use crate::output::list::{JSON_KEYS, STATES};
    text.push_str(".SH \"LIST STATES\"\nThe STATE column of list, and the state key of its JSON rows:\n");
    for (state, meaning) in STATES {
        text.push_str(&format!(".TP\n.B {}\n{}\n", roff(state), roff(meaning)));
    }
    text.push_str(".SH \"LIST JSON\"\nlist \\-\\-format json prints an array of objects with these keys:\n");
    for (key, ty, meaning) in JSON_KEYS {
        text.push_str(&format!(".TP\n.B {}\n({}) {}\n", roff(key), roff(ty), roff(meaning)));
    }
}

/// The exit status section: the same words as README's table.
fn exit_status() -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_CODES {
        s.push_str(&format!(".TP\n.B {code}\n{}\n", roff(meaning)));
    }
    s
}

/// Exit codes and what each means, per command where it matters.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        0,
        "Everything asked for was done. del-ports of a container that has no port on the bridge succeeds \
        (as upstream; a warning says so when Docker does not know the container either).",
    ),
    (
        1,
        "Refused: no such container, port, tunnel, mirror or bridge (list, gc, del-port, del-ports, tunnel \
        and mirror refuse a BRIDGE that does not exist), port already attached, container not running, \
        paused or on the host network.",
    ),
    (
        2,
        "Invalid arguments, or no command at all (the usage is printed on standard error), or a batch file \
        that cannot be read; nothing was changed.",
    ),
    (
        3,
        "A daemon (ovsdb-server, ovs-vswitchd, dockerd) or the kernel failed or was out of reach; what was \
        done was undone.",
    ),
];

fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    // A line starting with . or ' would be a roff request.
    s.lines()
        .map(|l| if l.starts_with('.') || l.starts_with('\'') { format!("\\&{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn generate(dir: &Path) -> Result<()> {
    for (rel, contents) in generated_files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).step(|| format!("create {}", parent.display()))?;
        }
        std::fs::write(&path, contents).step(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed man page and completions must be what the current
    /// clap definition generates: run `cargo run -- generate .` after
    /// changing an option.
    #[test]
    fn committed_man_page_and_completions_are_fresh() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (rel, want) in generated_files() {
            let have = std::fs::read(root.join(&rel)).unwrap_or_default();
            assert!(have == want, "{rel} is stale or missing: run `cargo run -- generate .` and commit the result");
        }
    }

    /// README's exit code table says what the man page says.
    #[test]
    fn readme_exit_codes_match_the_man_page() {
        let readme = include_str!("../../README.md");
        for (code, meaning) in EXIT_CODES {
            assert!(readme.contains(&format!("| {code} | {meaning} |")), "README's row for exit code {code} differs");
        }
    }

    /// The man page holds the nested commands and their options.
    #[test]
    fn man_page_holds_nested_commands() {
        let page = String::from_utf8(man_page(&Cli::command())).unwrap();
        for want in [
            "ovs\\-docker tunnel add",
            "ovs\\-docker tunnel del",
            "ovs\\-docker tunnel list",
            "\\-\\-if\\-exists",
            "LIST JSON",
            "endpoint_id",
            "not joined",
        ] {
            assert!(page.contains(want), "man page lacks {want}");
        }
    }
}
