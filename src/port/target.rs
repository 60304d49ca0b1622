//! What a port is attached to: a Docker container (by name, ID or ID
//! prefix), or, for other runtimes, a network namespace file (`--netns`) or
//! a process's namespace (`--pid`). The latter two are recorded in OVSDB as
//! `container_id` = `netns:PATH` or `pid:PID` (Docker names cannot hold a
//! `:`), and are represented in memory as a [`Container`] whose ID is that
//! reference, so that locking, listing and cleaning treat every port alike.

use crate::docker::{Container, DockerClient};
use crate::error::{Error, Result};

const NETNS: &str = "netns:";
const PID: &str = "pid:";

/// A reference as recorded in `container_id`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Docker(&'a str),
    Netns(&'a str),
    Pid(u32),
}

impl<'a> Target<'a> {
    pub fn parse(reference: &'a str) -> Target<'a> {
        if let Some(path) = reference.strip_prefix(NETNS) {
            Target::Netns(path)
        } else if let Some(pid) = reference.strip_prefix(PID).and_then(|p| p.parse().ok()) {
            Target::Pid(pid)
        } else {
            Target::Docker(reference)
        }
    }

    pub fn is_docker(&self) -> bool {
        matches!(self, Target::Docker(_))
    }

    /// The namespace as a container-like value, if it still exists.
    pub fn probe(&self) -> Option<Container> {
        let (path, pid, exists) = match *self {
            Target::Docker(_) => return None,
            Target::Netns(path) => (path.to_string(), None, std::path::Path::new(path).exists()),
            // The process, not its namespace link: that one may be
            // unreadable, which opening it will then say.
            Target::Pid(pid) => {
                (format!("/proc/{pid}/ns/net"), Some(pid), std::path::Path::new(&format!("/proc/{pid}")).exists())
            }
        };
        exists.then(|| Container {
            id: self.reference(),
            name: self.reference(),
            status: "running".into(),
            running: true,
            paused: false,
            restarting: false,
            pid,
            network_mode: "none".into(),
            sandbox_key: Some(path),
            endpoint_ids: vec![],
        })
    }

    pub fn reference(&self) -> String {
        match self {
            Target::Docker(r) => r.to_string(),
            Target::Netns(path) => format!("{NETNS}{path}"),
            Target::Pid(pid) => format!("{PID}{pid}"),
        }
    }
}

/// The reference recorded for `--netns PATH` / `--pid PID` / CONTAINER.
pub fn reference(container: Option<&str>, netns: Option<&str>, pid: Option<u32>) -> String {
    match (container, netns, pid) {
        (_, Some(path), _) => Target::Netns(path).reference(),
        (_, _, Some(pid)) => Target::Pid(pid).reference(),
        (Some(c), _, _) => c.to_string(),
        // clap requires one of the three.
        (None, None, None) => String::new(),
    }
}

/// The target as it is now: Docker's view of a container, or the namespace.
pub async fn get(docker: &DockerClient, reference: &str) -> Result<Container> {
    let t = Target::parse(reference);
    match t {
        Target::Docker(r) => docker.get(r).await,
        Target::Netns(path) => {
            t.probe().ok_or_else(|| Error::refused(format!("network namespace {path} does not exist")))
        }
        Target::Pid(pid) => t.probe().ok_or_else(|| Error::refused(format!("no process {pid}"))),
    }
}

/// As [`get`], None when the target does not exist (any more).
pub async fn find(docker: &DockerClient, reference: &str) -> Result<Option<Container>> {
    match Target::parse(reference) {
        Target::Docker(r) => docker.find(r).await,
        t => Ok(t.probe()),
    }
}

/// Docker's containers plus the namespaces that the given recorded
/// references name and that still exist: what port owners are looked up in.
pub fn with_namespaces<'a>(
    mut containers: Vec<Container>,
    references: impl Iterator<Item = &'a str>,
) -> Vec<Container> {
    let mut seen = std::collections::BTreeSet::new();
    for r in references {
        let t = Target::parse(r);
        if !t.is_docker() && seen.insert(r) {
            containers.extend(t.probe());
        }
    }
    containers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        for (r, t) in [
            ("web", Target::Docker("web")),
            ("netns:/var/run/netns/blue", Target::Netns("/var/run/netns/blue")),
            ("pid:42", Target::Pid(42)),
        ] {
            assert_eq!(Target::parse(r), t);
            assert_eq!(t.reference(), r);
        }
        assert_eq!(reference(None, Some("/run/netns/x"), None), "netns:/run/netns/x");
        assert_eq!(reference(None, None, Some(7)), "pid:7");
        assert_eq!(reference(Some("web"), None, None), "web");
    }

    #[test]
    fn a_namespace_that_exists_is_found() {
        let me = std::process::id();
        let c = Target::Pid(me).probe().unwrap();
        assert_eq!(c.id, format!("pid:{me}"));
        assert!(c.running);
        assert!(Target::Netns("/nonexistent/ns").probe().is_none());
    }
}
