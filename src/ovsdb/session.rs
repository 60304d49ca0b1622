//! A database served by one ovsdb-server or by a raft cluster of them,
//! named as the OVS and OVN tools take it: `ssl:A:6641,ssl:B:6641,...`.
//!
//! A [`Session`] talks to the cluster's leader: each member's `_Server`
//! database says whether it leads (column `leader` of its `Database` row).
//! When the connection to a clustered database fails (the leader was
//! killed, or lost its place), the session finds the new leader and sends
//! the request again, all within `--timeout`. A transaction sent again may
//! have been committed before the connection failed: every transaction of
//! ours carries preconditions, so the second copy then fails them instead
//! of doing the work twice, and its caller looks at what is there.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::tls::Tls;
use super::{Client, Endpoint, OvsdbError};

/// One or more endpoints of the same database (the members of a cluster),
/// and the TLS files for the `ssl:` ones.
#[derive(Debug, Clone)]
pub struct Remote {
    endpoints: Vec<Endpoint>,
    tls: Option<Tls>,
}

impl Remote {
    /// `spec`: comma-separated endpoints, as `ovn-nbctl --db` takes them.
    pub fn parse(spec: &str, tls: Option<&Tls>) -> Result<Remote, String> {
        let endpoints = spec.split(',').map(|s| Endpoint::parse(s.trim())).collect::<Result<Vec<_>, _>>()?;
        if tls.is_none() {
            if let Some(e) = endpoints.iter().find(|e| matches!(e, Endpoint::Ssl(_))) {
                return Err(format!("{e} needs --private-key, --certificate and --ca-cert"));
            }
        }
        Ok(Remote { endpoints, tls: tls.cloned() })
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.endpoints.iter().enumerate() {
            write!(f, "{}{e}", if i > 0 { "," } else { "" })?;
        }
        Ok(())
    }
}

/// Pause between two rounds over the members while a cluster elects a
/// leader (about a second with OVSDB's default election timer).
const ROUND_PAUSE: Duration = Duration::from_millis(100);

/// The least time one member is given to connect and answer, whatever
/// the share of `--timeout` (a TLS handshake over a slow link).
const MIN_ATTEMPT: Duration = Duration::from_millis(500);

/// A connection to the leader of `db`'s cluster (or to its only server).
pub struct Session {
    remote: Remote,
    db: &'static str,
    timeout: Duration,
    current: tokio::sync::Mutex<Option<Arc<Client>>>,
    /// The member to try first: the last one that led.
    first: AtomicUsize,
    /// Whether the database is clustered: only then is a request sent
    /// again on another connection.
    clustered: AtomicBool,
}

impl Session {
    /// Connect to the leader within `timeout`; every request is later
    /// bounded by the same timeout, failover included.
    pub async fn open(remote: &Remote, db: &'static str, timeout: Duration) -> Result<Session, OvsdbError> {
        let s = Session::lazy(remote, db, timeout);
        s.client(Instant::now() + timeout).await?;
        Ok(s)
    }

    /// A session that connects only when the first request needs it,
    /// within that request's `timeout`: for a long-running service, whose
    /// setup must neither wait for nor fail on an unreachable database.
    pub fn lazy(remote: &Remote, db: &'static str, timeout: Duration) -> Session {
        Session {
            remote: remote.clone(),
            db,
            timeout,
            current: tokio::sync::Mutex::new(None),
            first: AtomicUsize::new(0),
            clustered: AtomicBool::new(false),
        }
    }

    /// Send one request to the leader and wait for its reply (the `result`).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, OvsdbError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let client = self.client(deadline).await?;
            let reply = match tokio::time::timeout_at(deadline, client.request(method, params.clone())).await {
                Ok(reply) => reply,
                Err(_) => {
                    Err(OvsdbError::Timeout { endpoint: client.endpoint().into(), what: format!("{method} request") })
                }
            };
            let e = match reply {
                Err(e) if lost_leader(&e) || matches!(e, OvsdbError::Timeout { .. }) => e,
                other => return other,
            };
            // A connection that failed, or on which a request went
            // unanswered (the server's host gone without a reset, which
            // the kernel notices only many minutes later), is not used
            // again: the next request connects anew, to the leader.
            self.forget(&client);
            // Sent again, as for a lost leader, only to a cluster (see the
            // module's comment) and only while time is left.
            if !self.clustered.load(Ordering::Relaxed) || Instant::now() >= deadline {
                return Err(e);
            }
            log::debug!("{e}: looking for the leader of {} again", self.remote);
        }
    }

    /// The connection to the leader, made if there is none.
    async fn client(&self, deadline: Instant) -> Result<Arc<Client>, OvsdbError> {
        // Behind another request's leader search, wait no longer than ours.
        let Ok(mut current) = tokio::time::timeout_at(deadline, self.current.lock()).await else {
            let last = "another request was still looking for it".to_string();
            return Err(OvsdbError::NoLeader { remote: self.remote.to_string(), last });
        };
        if let Some(c) = current.as_ref().filter(|c| c.is_alive()) {
            return Ok(c.clone());
        }
        *current = None;
        let c = Arc::new(self.find_leader(deadline).await?);
        *current = Some(c.clone());
        Ok(c)
    }

    /// Use `client` no more. Without waiting for the lock, which a leader
    /// search may hold for long: an abandoned client is not alive, so the
    /// next [`Session::client`] replaces it anyway.
    fn forget(&self, client: &Arc<Client>) {
        client.abandon();
        if let Ok(mut current) = self.current.try_lock() {
            if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, client)) {
                *current = None;
            }
        }
    }

    /// Try each member in turn, round after round, until one leads.
    async fn find_leader(&self, deadline: Instant) -> Result<Client, OvsdbError> {
        let n = self.remote.endpoints.len();
        let mut last = None;
        loop {
            let first = self.first.load(Ordering::Relaxed);
            for i in (first..first + n).map(|i| i % n) {
                match self.leader_at(&self.remote.endpoints[i], self.attempt_deadline(deadline)).await {
                    Ok(c) => {
                        self.first.store(i, Ordering::Relaxed);
                        return Ok(c);
                    }
                    // A certificate refused, by us or by the server, will
                    // be refused again: say so now.
                    Err(e) if e.is_tls_refusal() => return Err(e),
                    Err(e) => {
                        log::debug!("{e}");
                        // A timeout at the deadline says less than what came before.
                        if last.is_none() || !matches!(e, OvsdbError::Timeout { .. }) {
                            last = Some(e);
                        }
                    }
                }
                // Members after this one would be moved on from at once.
                self.first.store((i + 1) % n, Ordering::Relaxed);
                if Instant::now() >= deadline {
                    break;
                }
            }
            match last.take() {
                // One server, not clustered: its own error says it best.
                Some(e) if n == 1 && !self.clustered.load(Ordering::Relaxed) => return Err(e),
                Some(e) if Instant::now() + ROUND_PAUSE >= deadline => {
                    return Err(OvsdbError::NoLeader { remote: self.remote.to_string(), last: e.to_string() });
                }
                _ => tokio::time::sleep(ROUND_PAUSE).await,
            }
        }
    }

    /// When one member's attempt gives up: its share of `--timeout`, so
    /// that a member whose host is down (connection attempts unanswered)
    /// or that never completes the TLS handshake leaves time to the others.
    fn attempt_deadline(&self, deadline: Instant) -> Instant {
        let n = self.remote.endpoints.len() as u32;
        let share = (self.timeout / n.max(1)).max(MIN_ATTEMPT);
        deadline.min(Instant::now() + share)
    }

    /// A connection to `endpoint` if it serves `db` and leads its cluster.
    async fn leader_at(&self, endpoint: &Endpoint, deadline: Instant) -> Result<Client, OvsdbError> {
        let timed_out = |what: &str| OvsdbError::Timeout { endpoint: endpoint.to_string(), what: what.into() };
        let connect = Client::connect(endpoint, self.remote.tls.as_ref(), self.timeout);
        let client = tokio::time::timeout_at(deadline, connect).await.map_err(|_| timed_out("connect"))??;
        let select = json!(["_Server", {
            "op": "select",
            "table": "Database",
            "where": [["name", "==", self.db]],
            "columns": ["model", "leader", "connected"],
        }]);
        let reply = tokio::time::timeout_at(deadline, client.request("transact", select))
            .await
            .map_err(|_| timed_out("_Server request"))?;
        let reply = match reply {
            Ok(v) => v,
            // A server older than clustering (OVS 2.9) has no _Server.
            Err(OvsdbError::Rpc { message, .. }) if message.contains("unknown database") => return Ok(client),
            Err(e) => return Err(e),
        };
        let Some(row) = reply.pointer("/0/rows/0") else {
            return Err(OvsdbError::NotServed { endpoint: endpoint.to_string(), db: self.db.to_string() });
        };
        if row["model"] != "clustered" {
            return Ok(client);
        }
        self.clustered.store(true, Ordering::Relaxed);
        if row["leader"] == true && row["connected"] == true {
            Ok(client)
        } else {
            Err(OvsdbError::NotLeader { endpoint: endpoint.to_string() })
        }
    }
}

/// Whether `e` says the connection to the leader is gone or no longer
/// leads, so that the request may go to the new leader.
fn lost_leader(e: &OvsdbError) -> bool {
    match e {
        OvsdbError::Closed { .. } | OvsdbError::Io { .. } | OvsdbError::Connect { .. } => true,
        OvsdbError::Rpc { message, .. } => message.contains("not leader") || message.contains("not connected"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_parse_like_ovn_nbctl() {
        let r = Remote::parse("tcp:10.0.0.1:6641,tcp:10.0.0.2:6641, unix:/run/nb.sock", None).unwrap();
        assert_eq!(r.endpoints().len(), 3);
        assert_eq!(r.to_string(), "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,unix:/run/nb.sock");
        let e = Remote::parse("tcp:10.0.0.1:6641,ssl:10.0.0.2:6641", None).unwrap_err();
        assert_eq!(e, "ssl:10.0.0.2:6641 needs --private-key, --certificate and --ca-cert");
        assert!(Remote::parse("tcp:10.0.0.1:6641,", None).is_err());
        assert!(Remote::parse("", None).is_err());
    }

    use std::sync::atomic::AtomicBool;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::ovsdb::Framer;

    /// A fake cluster member on a unix socket: its `_Server` row says it
    /// leads while `leads` is set; it answers other requests with its
    /// name, or, while `drop_next` is set, drops the connection instead
    /// (clearing `leads` and `drop_next`), as a killed leader would, or,
    /// while `silent_next` is set, leaves the request unanswered with the
    /// connection open (clearing `silent_next`), as a host cut off would.
    #[derive(Clone, Default)]
    struct Member {
        leads: Arc<AtomicBool>,
        drop_next: Arc<AtomicBool>,
        silent_next: Arc<AtomicBool>,
        served: Arc<AtomicUsize>,
        accepted: Arc<AtomicUsize>,
    }

    fn member(path: std::path::PathBuf, name: &'static str, leads: bool) -> Member {
        let m = Member::default();
        m.leads.store(leads, Ordering::SeqCst);
        let listener = tokio::net::UnixListener::bind(path).unwrap();
        let shared = m.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(s, name, shared.clone()));
            }
        });
        m
    }

    async fn serve(mut s: tokio::net::UnixStream, name: &'static str, m: Member) {
        let mut f = Framer::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = s.read(&mut buf).await {
            f.push(&buf[..n]);
            for msg in f.drain().unwrap() {
                let result = if msg["params"][0] == "_Server" {
                    let leader = m.leads.load(Ordering::SeqCst);
                    json!([{"rows": [{"model": "clustered", "leader": leader, "connected": true}]}])
                } else if m.drop_next.swap(false, Ordering::SeqCst) {
                    m.leads.store(false, Ordering::SeqCst);
                    return;
                } else if m.silent_next.swap(false, Ordering::SeqCst) {
                    continue;
                } else {
                    m.served.fetch_add(1, Ordering::SeqCst);
                    json!(name)
                };
                let reply = json!({"id": msg["id"], "result": result, "error": null});
                s.write_all(reply.to_string().as_bytes()).await.unwrap();
            }
        }
    }

    fn test_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ovs-docker-session-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A member whose host is there but never answers: it accepts the
    /// connection (the kernel's backlog does) and reads nothing.
    fn mute(path: std::path::PathBuf) -> tokio::net::UnixListener {
        tokio::net::UnixListener::bind(path).unwrap()
    }

    #[tokio::test]
    async fn a_mute_member_leaves_time_to_the_others() {
        let dir = test_dir();
        let (a, b, c) = (dir.join("a.sock"), dir.join("b.sock"), dir.join("c.sock"));
        let _ma = mute(a.clone());
        let _mb = member(b.clone(), "b", false);
        let _mc = member(c.clone(), "c", true);
        let spec = format!("unix:{},unix:{},unix:{}", a.display(), b.display(), c.display());
        let remote = Remote::parse(&spec, None).unwrap();
        let s = Session::open(&remote, "DB", Duration::from_secs(3)).await.unwrap();
        assert_eq!(s.request("m", json!([])).await.unwrap(), "c");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_lazy_session_connects_on_its_first_request() {
        let dir = test_dir();
        let a = dir.join("a.sock");
        let remote = Remote::parse(&format!("unix:{}", a.display()), None).unwrap();
        // Made while nothing listens, and fails only the request.
        let s = Session::lazy(&remote, "DB", Duration::from_millis(500));
        let e = s.request("m", json!([])).await.unwrap_err();
        assert!(matches!(e, OvsdbError::Connect { .. }), "{e}");
        let _ma = member(a.clone(), "a", true);
        assert_eq!(s.request("m", json!([])).await.unwrap(), "a");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_unanswered_request_gives_up_its_connection() {
        let dir = test_dir();
        let (a, b) = (dir.join("a.sock"), dir.join("b.sock"));
        let _ma = member(a.clone(), "a", false);
        let mb = member(b.clone(), "b", true);
        let remote = Remote::parse(&format!("unix:{},unix:{}", a.display(), b.display()), None).unwrap();
        let s = Session::open(&remote, "DB", Duration::from_millis(500)).await.unwrap();
        assert_eq!(s.request("m", json!([])).await.unwrap(), "b");
        let connections = mb.accepted.load(Ordering::SeqCst);
        mb.silent_next.store(true, Ordering::SeqCst);
        let e = s.request("m", json!([])).await.unwrap_err();
        assert!(matches!(e, OvsdbError::Timeout { .. }), "{e}");
        // The next request does not wait on the silent connection again.
        assert_eq!(s.request("m", json!([])).await.unwrap(), "b");
        assert_eq!(mb.accepted.load(Ordering::SeqCst), connections + 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_leader_is_found_and_followed() {
        let dir = test_dir();
        let (a, b) = (dir.join("a.sock"), dir.join("b.sock"));
        let ma = member(a.clone(), "a", false);
        let mb = member(b.clone(), "b", true);
        let spec = format!("unix:{},unix:{}", a.display(), b.display());
        let remote = Remote::parse(&spec, None).unwrap();
        let s = Session::open(&remote, "DB", Duration::from_secs(5)).await.unwrap();
        // The follower is passed over.
        assert_eq!(s.request("m", json!([])).await.unwrap(), "b");
        // The leader dies with a request in flight; a is elected a moment later.
        mb.drop_next.store(true, Ordering::SeqCst);
        let leads = ma.leads.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            leads.store(true, Ordering::SeqCst);
        });
        assert_eq!(s.request("m", json!([])).await.unwrap(), "a");
        assert_eq!((ma.served.load(Ordering::SeqCst), mb.served.load(Ordering::SeqCst)), (1, 1));
        // No leader at all: a clear error once --timeout has passed.
        ma.drop_next.store(true, Ordering::SeqCst);
        let short = Session::open(&remote, "DB", Duration::from_millis(500)).await;
        let e = match short {
            Ok(s) => s.request("m", json!([])).await.unwrap_err(),
            Err(e) => e,
        };
        assert!(matches!(e, OvsdbError::NoLeader { .. }), "{e}");
        assert!(e.to_string().starts_with(&format!("no leader of {spec} answered within --timeout")), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_a_lost_connection_or_leadership_moves_on() {
        let e = |m: &str| OvsdbError::Rpc { endpoint: "x".into(), message: m.into() };
        assert!(lost_leader(&OvsdbError::Closed { endpoint: "x".into() }));
        assert!(lost_leader(&e("not leader")));
        assert!(!lost_leader(&e("unknown database")));
        assert!(!lost_leader(&OvsdbError::Transaction("constraint violation".into())));
    }
}
