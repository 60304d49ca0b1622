//! Container lookup through the Docker Engine API (bollard), pinned to API
//! 1.41 so that dockerd 20.10 and later accept it without a version round
//! trip.

use std::time::Duration;

use bollard::{ClientVersion, Docker};

use crate::error::{Error, Result};

const API_VERSION: ClientVersion = ClientVersion { major_version: 1, minor_version: 41 };

/// What we need to know about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The full 64-hex-digit ID.
    pub id: String,
    /// The name without Docker's leading `/`.
    pub name: String,
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub pid: Option<u32>,
    pub network_mode: String,
    /// The container's network namespace file (NetworkSettings.SandboxKey).
    pub sandbox_key: Option<String>,
    /// Its endpoints on Docker networks (how ports made by the network
    /// plugin, which never learns the container, are matched to it).
    pub endpoint_ids: Vec<String>,
}

impl Container {
    /// The 12-digit short ID Docker prints.
    pub fn short_id(&self) -> &str {
        // A namespace target's "ID" is its reference (see crate::target).
        if self.id.contains(':') {
            return &self.id;
        }
        &self.id[..self.id.len().min(12)]
    }

    /// Whether a port's recorded `container_id` (a name, full ID or ID
    /// prefix as the user gave it) designates this container.
    pub fn is_named_by(&self, reference: &str) -> bool {
        let r = reference.strip_prefix('/').unwrap_or(reference);
        !r.is_empty() && (r == self.name || r == self.id || (r.len() >= 4 && self.id.starts_with(r)))
    }

    /// The namespace file to open: the sandbox key when Docker gives one
    /// (immune to PID reuse), else /proc/PID/ns/net.
    pub fn netns_path(&self) -> Option<String> {
        match (&self.sandbox_key, self.pid) {
            (Some(k), _) if !k.is_empty() => Some(k.clone()),
            (_, Some(pid)) if pid > 0 => Some(format!("/proc/{pid}/ns/net")),
            _ => None,
        }
    }

    /// Why this container cannot get a port, if it cannot.
    pub fn refusal(&self, reference: &str) -> Option<String> {
        if self.paused {
            Some(format!("container \"{reference}\" is paused"))
        } else if self.restarting {
            Some(format!("container \"{reference}\" is restarting"))
        } else if !self.running {
            Some(format!("container \"{reference}\" is not running (status: {})", self.status))
        } else if self.network_mode == "host" {
            Some(format!("container \"{reference}\" uses the host's network namespace (--net=host)"))
        } else if self.network_mode.starts_with("container:") {
            Some(format!(
                "container \"{reference}\" shares the network namespace of another container ({})",
                self.network_mode
            ))
        } else {
            None
        }
    }
}

pub struct DockerClient {
    docker: Docker,
    endpoint: String,
    timeout: Duration,
}

impl DockerClient {
    /// Connect as the docker CLI does: `DOCKER_HOST`, else the local socket.
    /// Nothing is sent until the first request.
    pub fn connect(timeout: Duration) -> Result<Self> {
        let endpoint = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let secs = timeout.as_secs().max(1);
        let docker = if endpoint.starts_with("unix://") || endpoint.starts_with('/') {
            Docker::connect_with_unix(&endpoint, secs, &API_VERSION)
        } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
            Docker::connect_with_http(&endpoint, secs, &API_VERSION)
        } else {
            return Err(Error::invalid(format!("unsupported DOCKER_HOST \"{endpoint}\": expected unix:// or tcp://")));
        };
        let docker = docker
            .map_err(|e| Error::Docker { step: format!("connect to Docker at {endpoint}"), message: e.to_string() })?;
        Ok(DockerClient { docker, endpoint, timeout })
    }

    /// Look a container up by name, full ID or unique ID prefix. `Ok(None)`
    /// when Docker says there is no such container.
    pub async fn find(&self, reference: &str) -> Result<Option<Container>> {
        let call = self.docker.inspect_container(reference, None);
        let res = match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => return Err(self.timed_out("inspect container")),
        };
        match res {
            Ok(c) => Ok(Some(from_inspect(c))),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            // dockerd 20.10 answers 500 "Multiple IDs found with provided prefix".
            Err(bollard::errors::Error::DockerResponseServerError { message, .. })
                if message.to_lowercase().contains("multiple") || message.to_lowercase().contains("ambiguous") =>
            {
                Err(Error::refused(format!("container reference \"{reference}\" is ambiguous: {message}")))
            }
            Err(e) => Err(self.failed(&format!("inspect container \"{reference}\""), e)),
        }
    }

    /// Like [`DockerClient::find`], but a missing container is an error.
    pub async fn get(&self, reference: &str) -> Result<Container> {
        self.find(reference).await?.ok_or_else(|| Error::refused(format!("container \"{reference}\" does not exist")))
    }

    /// Every container, running or not (for `list`).
    pub async fn all(&self) -> Result<Vec<Container>> {
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).build();
        let call = self.docker.list_containers(Some(opts));
        let list = match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r.map_err(|e| self.failed("list containers", e))?,
            Err(_) => return Err(self.timed_out("list containers")),
        };
        Ok(list
            .into_iter()
            .filter_map(|s| {
                let state = s.state.map(|st| st.to_string()).unwrap_or_default();
                Some(Container {
                    id: s.id?,
                    name: s
                        .names
                        .and_then(|n| n.into_iter().next())
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                    running: state == "running",
                    paused: state == "paused",
                    restarting: state == "restarting",
                    status: state,
                    pid: None,
                    network_mode: s.host_config.and_then(|h| h.network_mode).unwrap_or_default(),
                    sandbox_key: None,
                    endpoint_ids: s
                        .network_settings
                        .and_then(|n| n.networks)
                        .map(|n| n.into_values().filter_map(|e| e.endpoint_id).filter(|e| !e.is_empty()).collect())
                        .unwrap_or_default(),
                })
            })
            .collect())
    }

    /// The IDs of every Docker network.
    pub async fn network_ids(&self) -> Result<Vec<String>> {
        let call = self.docker.list_networks(None::<bollard::query_parameters::ListNetworksOptions>);
        let list = match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r.map_err(|e| self.failed("list networks", e))?,
            Err(_) => return Err(self.timed_out("list networks")),
        };
        Ok(list.into_iter().filter_map(|n| n.id).collect())
    }

    /// Container events (action, full ID) from `since` (Unix seconds) on:
    /// Docker first replays what happened since then, so subscribing with
    /// a time taken before a full scan misses nothing in between.
    pub fn container_events(
        &self,
        since: u64,
    ) -> impl futures::Stream<Item = Result<(String, String)>> + Unpin + use<'_> {
        use futures::StreamExt;
        let filters =
            std::collections::HashMap::from([("type", vec!["container"]), ("event", vec!["start", "destroy"])]);
        let opts = bollard::query_parameters::EventsOptionsBuilder::default()
            .since(&since.to_string())
            .filters(&filters)
            .build();
        self.docker.events(Some(opts)).map(move |ev| {
            let ev = ev.map_err(|e| self.failed("follow Docker events", e))?;
            let id = ev.actor.and_then(|a| a.id).unwrap_or_default();
            Ok((ev.action.unwrap_or_default(), id))
        })
    }

    fn timed_out(&self, what: &str) -> Error {
        Error::Docker {
            step: what.to_string(),
            message: format!("Docker at {} did not answer within --timeout", self.endpoint),
        }
    }

    fn failed(&self, what: &str, e: bollard::errors::Error) -> Error {
        if matches!(e, bollard::errors::Error::RequestTimeoutError) {
            return self.timed_out(what);
        }
        let message = match e {
            bollard::errors::Error::DockerResponseServerError { status_code, message } => {
                format!("Docker answered {status_code}: {message}")
            }
            other => format!("cannot reach Docker at {}: {other}", self.endpoint),
        };
        Error::Docker { step: what.to_string(), message }
    }
}

fn from_inspect(c: bollard::models::ContainerInspectResponse) -> Container {
    let state = c.state.unwrap_or_default();
    let endpoint_ids = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.values().filter_map(|e| e.endpoint_id.clone()).filter(|e| !e.is_empty()).collect())
        .unwrap_or_default();
    Container {
        endpoint_ids,
        id: c.id.unwrap_or_default(),
        name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
        status: state.status.map(|s| s.to_string()).unwrap_or_default(),
        running: state.running.unwrap_or(false),
        paused: state.paused.unwrap_or(false),
        restarting: state.restarting.unwrap_or(false),
        pid: state.pid.and_then(|p| u32::try_from(p).ok()).filter(|p| *p > 0),
        network_mode: c.host_config.and_then(|h| h.network_mode).unwrap_or_default(),
        sandbox_key: c.network_settings.and_then(|n| n.sandbox_key).filter(|k| !k.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> Container {
        Container {
            id: "c474a0e2830e4b1d9f00aa00bb00cc00dd00ee00ff0011223344556677889900".into(),
            name: "web1".into(),
            status: "running".into(),
            running: true,
            paused: false,
            restarting: false,
            pid: Some(42),
            network_mode: "none".into(),
            sandbox_key: Some("/var/run/docker/netns/abc".into()),
            endpoint_ids: vec![],
        }
    }

    #[test]
    fn any_alias_names_the_container() {
        let c = web();
        for r in ["web1", "/web1", "c474a0e2830e", "c474", &c.id.clone()] {
            assert!(c.is_named_by(r), "{r}");
        }
        for r in ["web", "web12", "c47", "", "474a0e2830e", "d474a0e2830e"] {
            assert!(!c.is_named_by(r), "{r}");
        }
        assert_eq!(c.short_id(), "c474a0e2830e");
    }

    #[test]
    fn unusable_containers_are_refused() {
        assert_eq!(web().refusal("web1"), None);
        let mut c = web();
        c.running = false;
        c.status = "exited".into();
        assert!(c.refusal("web1").unwrap().contains("is not running"));
        let mut c = web();
        c.network_mode = "host".into();
        assert!(c.refusal("web1").unwrap().contains("host's network namespace"));
        let mut c = web();
        c.paused = true;
        assert!(c.refusal("web1").unwrap().contains("paused"));
    }

    #[test]
    fn netns_path_prefers_the_sandbox_key() {
        assert_eq!(web().netns_path().unwrap(), "/var/run/docker/netns/abc");
        let mut c = web();
        c.sandbox_key = None;
        assert_eq!(c.netns_path().unwrap(), "/proc/42/ns/net");
        c.pid = None;
        assert_eq!(c.netns_path(), None);
    }
}
