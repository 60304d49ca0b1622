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
    let mut man = Vec::new();
    let cmd = Cli::command();
    // Writing to a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd.clone()).render(&mut man);
    out.push(("man/ovs-docker.1".to_string(), man));
    for (shell, file) in [(Shell::Bash, "ovs-docker.bash"), (Shell::Zsh, "_ovs-docker"), (Shell::Fish, "ovs-docker.fish")] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "ovs-docker", &mut buf);
        out.push((format!("completions/{file}"), buf));
    }
    out
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
