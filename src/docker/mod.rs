//! Container lookup through the Docker Engine API (bollard), pinned to API
//! 1.41 so that dockerd 20.10 and later accept it without a version round
//! trip. Inspect on the local socket takes a shorter road (see [`inspect`]).

mod inspect;

use std::sync::OnceLock;
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
    /// A running container with this ID and name, nothing else set (for tests).
    #[cfg(test)]
    pub fn running(id: &str, name: &str) -> Self {
        Container {
            id: id.to_string(),
            name: name.to_string(),
            status: "running".into(),
            running: true,
            paused: false,
            restarting: false,
            pid: None,
            network_mode: "none".into(),
            sandbox_key: None,
            endpoint_ids: vec![],
        }
    }

    /// The 12-digit short ID Docker prints.
    pub fn short_id(&self) -> &str {
        // A namespace target's "ID" is its reference (see port::target).
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
    /// Made on first use: a command whose only call is the inspect on the
    /// local socket never needs it.
    docker: OnceLock<std::result::Result<Docker, String>>,
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
        let known = ["unix://", "/", "tcp://", "http://"].iter().any(|p| endpoint.starts_with(p));
        if !known {
            return Err(Error::invalid(format!("unsupported DOCKER_HOST \"{endpoint}\": expected unix:// or tcp://")));
        }
        Ok(DockerClient { docker: OnceLock::new(), endpoint, timeout })
    }

    /// The bollard client.
    fn api(&self) -> Result<&Docker> {
        let made = self.docker.get_or_init(|| {
            let secs = self.timeout.as_secs().max(1);
            let e = &self.endpoint;
            let docker = if self.unix_socket().is_some() {
                Docker::connect_with_unix(e, secs, &API_VERSION)
            } else {
                Docker::connect_with_http(e, secs, &API_VERSION)
            };
            docker.map_err(|e| e.to_string())
        });
        made.as_ref().map_err(|message| Error::Docker {
            step: format!("connect to Docker at {}", self.endpoint),
            message: message.clone(),
        })
    }

    /// The socket path of a local (unix) endpoint.
    fn unix_socket(&self) -> Option<&std::path::Path> {
        let e = self.endpoint.as_str();
        let path = e.strip_prefix("unix://").or_else(|| e.starts_with('/').then_some(e))?;
        Some(std::path::Path::new(path))
    }

    /// Look a container up by name, full ID or unique ID prefix. `Ok(None)`
    /// when Docker says there is no such container.
    pub async fn find(&self, reference: &str) -> Result<Option<Container>> {
        if let Some(socket) = self.unix_socket().filter(|_| inspect::is_plain(reference)) {
            return self.find_on_socket(socket, reference).await;
        }
        let call = self.api()?.inspect_container(reference, None);
        let res = match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => return Err(self.timed_out("inspect container")),
        };
        match res {
            Ok(c) => Ok(Some(from_inspect(c))),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(e) => Err(self.refused_inspect(reference, e)),
        }
    }

    /// The error for an inspect Docker refused.
    fn refused_inspect(&self, reference: &str, e: bollard::errors::Error) -> Error {
        match e {
            // dockerd 20.10 answers 500 "Multiple IDs found with provided prefix".
            bollard::errors::Error::DockerResponseServerError { message, .. }
                if message.to_lowercase().contains("multiple") || message.to_lowercase().contains("ambiguous") =>
            {
                Error::refused(format!("container reference \"{reference}\" is ambiguous: {message}"))
            }
            e => self.failed(&format!("inspect container \"{reference}\""), e),
        }
    }

    /// [`DockerClient::find`] as one bare HTTP request (see [`inspect`]),
    /// with the same answers and errors as through bollard.
    async fn find_on_socket(&self, socket: &std::path::Path, reference: &str) -> Result<Option<Container>> {
        let what = format!("inspect container \"{reference}\"");
        let path = format!("/v{}.{}/containers/{reference}/json", API_VERSION.major_version, API_VERSION.minor_version);
        let answer = match inspect::get(socket, &path, self.timeout).await {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(self.timed_out("inspect container")),
            Err(e) => {
                return Err(Error::Docker {
                    step: what,
                    message: format!("cannot reach Docker at {}: {e}", self.endpoint),
                })
            }
        };
        match answer.status {
            200..=299 => {
                let c: bollard::models::ContainerInspectResponse = serde_json::from_slice(&answer.body)
                    .map_err(|e| Error::Docker { step: what, message: format!("unreadable answer: {e}") })?;
                Ok(Some(from_inspect(c)))
            }
            404 => Ok(None),
            status_code => {
                // As bollard: the "message" of a JSON body, else the body.
                let body = String::from_utf8_lossy(&answer.body).into_owned();
                let message = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                    .unwrap_or(body);
                Err(self.refused_inspect(
                    reference,
                    bollard::errors::Error::DockerResponseServerError { status_code, message },
                ))
            }
        }
    }

    /// Like [`DockerClient::find`], but a missing container is an error.
    pub async fn get(&self, reference: &str) -> Result<Container> {
        self.find(reference).await?.ok_or_else(|| Error::refused(format!("container \"{reference}\" does not exist")))
    }

    /// Every container, running or not (for `list`).
    pub async fn all(&self) -> Result<Vec<Container>> {
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).build();
        let call = self.api()?.list_containers(Some(opts));
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
        let call = self.api()?.list_networks(None::<bollard::query_parameters::ListNetworksOptions>);
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
        match self.api() {
            Ok(api) => futures::future::Either::Left(api.events(Some(opts)).map(move |ev| {
                let ev = ev.map_err(|e| self.failed("follow Docker events", e))?;
                let id = ev.actor.and_then(|a| a.id).unwrap_or_default();
                Ok((ev.action.unwrap_or_default(), id))
            })),
            Err(e) => futures::future::Either::Right(futures::stream::iter([Err(e)])),
        }
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
