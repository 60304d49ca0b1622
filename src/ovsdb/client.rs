//! A small asynchronous JSON-RPC 1.0 client for ovsdb-server (RFC 7047).
//!
//! One connection carries pipelined requests; a reader task matches replies
//! to requests by id, answers the server's `echo` and forwards notifications
//! (monitor updates) to whoever asked for them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::framing::Framer;
use super::tls::Tls;
use super::OvsdbError;

type Reply = Result<Value, OvsdbError>;

/// Notifications kept for a reader that is late: a server sending more
/// (buggy or hostile) loses the excess rather than growing our memory.
const MAX_NOTIFICATIONS: usize = 1024;

/// Where the reader task hands notifications.
struct Notify {
    tx: mpsc::Sender<(String, Value)>,
    subscribed: Arc<AtomicBool>,
}
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;
type Writer = Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;

/// Where ovsdb-server listens, as ovs-vsctl's `--db` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(String),
    Tcp(String),
    /// TCP with TLS (the `Tls` files given with the connection).
    Ssl(String),
}

impl Endpoint {
    pub fn parse(spec: &str) -> Result<Self, String> {
        if let Some(path) = spec.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(format!("invalid --db \"{spec}\": empty socket path"));
            }
            Ok(Endpoint::Unix(path.to_string()))
        } else if let Some((kind, addr)) = spec.split_once(':').filter(|(k, _)| ["tcp", "ssl"].contains(k)) {
            // ovs-vsctl writes tcp:IP:PORT, and tcp:[IPv6]:PORT.
            if addr.rsplit_once(':').is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err()) {
                return Err(format!("invalid --db \"{spec}\": expected {kind}:IP:PORT"));
            }
            Ok(if kind == "tcp" { Endpoint::Tcp(addr.to_string()) } else { Endpoint::Ssl(addr.to_string()) })
        } else {
            Err(format!("invalid --db \"{spec}\": expected unix:PATH, tcp:IP:PORT or ssl:IP:PORT"))
        }
    }

    /// The default: `unix:$OVS_RUNDIR/db.sock`, as ovs-vsctl does.
    pub fn default_spec() -> String {
        let rundir = std::env::var("OVS_RUNDIR").unwrap_or_else(|_| "/var/run/openvswitch".to_string());
        format!("unix:{rundir}/db.sock")
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix:{p}"),
            Endpoint::Tcp(a) => write!(f, "tcp:{a}"),
            Endpoint::Ssl(a) => write!(f, "ssl:{a}"),
        }
    }
}

pub struct Client {
    writer: Writer,
    pending: Pending,
    next_id: AtomicU64,
    abandoned: AtomicBool,
    notifications: tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>,
    /// Set once a request that makes the server notify (a monitor, a lock)
    /// was sent: until then notifications are dropped, nobody reads them.
    subscribed: Arc<AtomicBool>,
    timeout: Duration,
    endpoint: String,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    /// Connect within `timeout`. Every later request is bounded by the same
    /// timeout. An `ssl:` endpoint needs `tls`.
    pub async fn connect(endpoint: &Endpoint, tls: Option<&Tls>, timeout: Duration) -> Result<Self, OvsdbError> {
        let name = endpoint.to_string();
        let (reader, writer) = match tokio::time::timeout(timeout, open(endpoint, tls)).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(OvsdbError::Connect { endpoint: name, source: e }),
            Err(_) => return Err(OvsdbError::Timeout { endpoint: name, what: "connect".into() }),
        };
        Ok(Self::from_parts(reader, writer, timeout, name))
    }

    /// Build a client on any byte stream (tests use an in-memory pipe).
    pub fn from_parts(
        reader: Box<dyn AsyncRead + Send + Unpin>,
        writer: Box<dyn AsyncWrite + Send + Unpin>,
        timeout: Duration,
        endpoint: String,
    ) -> Self {
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(writer));
        let pending: Pending = Arc::default();
        let (notify_tx, notify_rx) = mpsc::channel(MAX_NOTIFICATIONS);
        let subscribed = Arc::new(AtomicBool::new(false));
        let notify = Notify { tx: notify_tx, subscribed: subscribed.clone() };
        let reader = tokio::spawn(read_loop(reader, writer.clone(), pending.clone(), notify, endpoint.clone()));
        Client {
            writer,
            pending,
            next_id: AtomicU64::new(1),
            abandoned: AtomicBool::new(false),
            notifications: tokio::sync::Mutex::new(notify_rx),
            subscribed,
            timeout,
            endpoint,
            reader,
        }
    }

    /// Whether the connection still stands (the server has not closed it,
    /// and it was not [abandoned](Client::abandon)).
    pub fn is_alive(&self) -> bool {
        !self.abandoned.load(Ordering::Relaxed) && !self.reader.is_finished()
    }

    /// Give up on the connection (a request on it went unanswered): stop
    /// reading, and fail at once the requests still waiting on it. The
    /// socket closes when the last reference to the client goes.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
        self.reader.abort();
        let waiting: Vec<_> = lock(&self.pending).drain().collect();
        for (_, tx) in waiting {
            let _ = tx.send(Err(OvsdbError::Closed { endpoint: self.endpoint.clone() }));
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send one request and wait for its reply (the `result` member).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, OvsdbError> {
        let rx = self.send(method, params).await?;
        self.await_reply(method, rx).await
    }

    /// Send a request without waiting; await the returned reply with
    /// [`Client::await_reply`]. This is how requests are pipelined.
    pub async fn send(&self, method: &str, params: Value) -> Result<PendingReply, OvsdbError> {
        if method.starts_with("monitor") || ["lock", "steal"].contains(&method) {
            self.subscribed.store(true, Ordering::Relaxed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        // From here on, an early return or a dropped future forgets the id.
        let rx = PendingReply { rx, id, pending: self.pending.clone() };
        let msg = json!({"method": method, "params": params, "id": id});
        let bytes = serde_json::to_vec(&msg)
            .map_err(|e| OvsdbError::Protocol { endpoint: self.endpoint.clone(), message: e.to_string() })?;
        let write = async {
            let mut w = self.writer.lock().await;
            w.write_all(&bytes).await?;
            w.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(Ok(())) => Ok(rx),
            Ok(Err(e)) => Err(OvsdbError::Io { endpoint: self.endpoint.clone(), source: e }),
            Err(_) => Err(self.timed_out(method)),
        }
    }

    /// The reply to a request [`Client::send`] sent; the request is
    /// forgotten (no entry left waiting) whether it came or not.
    pub async fn await_reply(&self, method: &str, mut reply: PendingReply) -> Result<Value, OvsdbError> {
        match tokio::time::timeout(self.timeout, &mut reply.rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(OvsdbError::Closed { endpoint: self.endpoint.clone() }),
            Err(_) => Err(self.timed_out(method)),
        }
    }

    /// The next notification (method, params), such as a monitor `update`,
    /// waiting at most until `deadline`.
    pub async fn next_notification(&self, deadline: tokio::time::Instant) -> Option<(String, Value)> {
        let mut rx = self.notifications.lock().await;
        tokio::time::timeout_at(deadline, rx.recv()).await.ok().flatten()
    }

    fn timed_out(&self, method: &str) -> OvsdbError {
        OvsdbError::Timeout { endpoint: self.endpoint.clone(), what: format!("{method} request") }
    }
}

/// A request sent and not yet answered. Dropping it (its reply awaited,
/// timed out, or its future dropped) removes its entry from the map of
/// waiting requests, so that replies that never come leave nothing behind.
pub struct PendingReply {
    rx: oneshot::Receiver<Reply>,
    id: u64,
    pending: Pending,
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        lock(&self.pending).remove(&self.id);
    }
}

type Halves = (Box<dyn AsyncRead + Send + Unpin>, Box<dyn AsyncWrite + Send + Unpin>);

fn halves<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(s: S) -> Halves {
    let (r, w) = tokio::io::split(s);
    (Box::new(r), Box::new(w))
}

async fn open(endpoint: &Endpoint, tls: Option<&Tls>) -> std::io::Result<Halves> {
    match endpoint {
        Endpoint::Unix(path) => Ok(halves(tokio::net::UnixStream::connect(path).await?)),
        Endpoint::Tcp(addr) => Ok(halves(tcp(addr).await?.0)),
        Endpoint::Ssl(addr) => {
            let tls =
                tls.ok_or_else(|| std::io::Error::other("ssl: needs --private-key, --certificate and --ca-cert"))?;
            let (stream, host) = tcp(addr).await?;
            Ok(halves(tls.connect(stream, &host).await?))
        }
    }
}

/// Connect to `IP:PORT` or `[IPv6]:PORT` (checked by `Endpoint::parse`).
async fn tcp(addr: &str) -> std::io::Result<(tokio::net::TcpStream, String)> {
    let addr = addr.replace(['[', ']'], "");
    let (host, port) = addr.rsplit_once(':').unwrap_or((&addr, "6640"));
    let stream = tokio::net::TcpStream::connect((host, port.parse().unwrap_or(6640))).await?;
    stream.set_nodelay(true)?;
    Ok((stream, host.to_string()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave the map inconsistent: keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn read_loop(
    mut reader: Box<dyn AsyncRead + Send + Unpin>,
    writer: Writer,
    pending: Pending,
    notify: Notify,
    endpoint: String,
) {
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 64 * 1024];
    let failure = loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => break OvsdbError::Closed { endpoint: endpoint.clone() },
            Ok(n) => n,
            Err(e) => break OvsdbError::Io { endpoint: endpoint.clone(), source: e },
        };
        framer.push(&buf[..n]);
        let messages = match framer.drain() {
            Ok(m) => m,
            Err(e) => break OvsdbError::Protocol { endpoint: endpoint.clone(), message: e.to_string() },
        };
        for msg in messages {
            dispatch(msg, &writer, &pending, &notify, &endpoint).await;
        }
    };
    // Fail every request still waiting: nobody will answer it now.
    let waiting: Vec<_> = lock(&pending).drain().collect();
    for (_, tx) in waiting {
        let _ = tx.send(Err(failure.duplicate()));
    }
}

async fn dispatch(msg: Value, writer: &Writer, pending: &Pending, notify: &Notify, endpoint: &str) {
    let method = msg.get("method").and_then(Value::as_str);
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    match method {
        Some("echo") if !id.is_null() => {
            // Keep-alive: answer with the same params, or the server drops us.
            let reply = json!({"result": msg.get("params").cloned().unwrap_or(json!([])), "error": null, "id": id});
            if let Ok(bytes) = serde_json::to_vec(&reply) {
                let mut w = writer.lock().await;
                let _ = w.write_all(&bytes).await;
                let _ = w.flush().await;
            }
        }
        Some(m) if !notify.subscribed.load(Ordering::Relaxed) => {
            log::debug!("{endpoint}: dropped a {m} notification nothing asked for");
        }
        Some(m) => {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            if notify.tx.try_send((m.to_string(), params)).is_err() {
                log::debug!("{endpoint}: dropped a {m} notification, {MAX_NOTIFICATIONS} already unread");
            }
        }
        None => {
            let Some(id) = id.as_u64() else { return };
            let Some(tx) = lock(pending).remove(&id) else { return };
            let reply = match msg.get("error") {
                Some(e) if !e.is_null() => {
                    Err(OvsdbError::Rpc { endpoint: endpoint.to_string(), message: super::error_text(e) })
                }
                _ => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
            };
            let _ = tx.send(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Client, tokio::io::DuplexStream) {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (r, w) = tokio::io::split(ours);
        let c = Client::from_parts(Box::new(r), Box::new(w), Duration::from_millis(500), "test".into());
        (c, theirs)
    }

    /// The next message the client sent; `f` keeps what was read ahead.
    async fn read_value(s: &mut tokio::io::DuplexStream, f: &mut (Framer, std::collections::VecDeque<Value>)) -> Value {
        loop {
            f.1.extend(f.0.drain().unwrap());
            if let Some(v) = f.1.pop_front() {
                return v;
            }
            let mut b = [0u8; 4096];
            let n = s.read(&mut b).await.unwrap();
            assert!(n > 0, "client closed");
            f.0.push(&b[..n]);
        }
    }

    #[tokio::test]
    async fn replies_are_matched_by_id_even_out_of_order() {
        let (c, mut server) = pair();
        let a = c.send("list_dbs", json!([])).await.unwrap();
        let b = c.send("get_schema", json!(["Open_vSwitch"])).await.unwrap();
        let mut f = Default::default();
        let ra = read_value(&mut server, &mut f).await;
        let rb = read_value(&mut server, &mut f).await;
        assert_eq!(ra["method"], "list_dbs");
        assert_eq!(rb["method"], "get_schema");
        // Answer the second first, in one write with the first.
        let out = format!(
            "{}{}",
            json!({"id": rb["id"], "result": "B", "error": null}),
            json!({"id": ra["id"], "result": "A", "error": null})
        );
        server.write_all(out.as_bytes()).await.unwrap();
        assert_eq!(c.await_reply("get_schema", b).await.unwrap(), "B");
        assert_eq!(c.await_reply("list_dbs", a).await.unwrap(), "A");
    }

    #[tokio::test]
    async fn echo_is_answered_and_notifications_forwarded() {
        let (c, mut server) = pair();
        let _monitor = c.send("monitor", json!([])).await.unwrap();
        server
            .write_all(br#"{"method":"echo","params":["x"],"id":"echo"}{"method":"update","params":[1,{}],"id":null}"#)
            .await
            .unwrap();
        let mut f = Default::default();
        assert_eq!(read_value(&mut server, &mut f).await["method"], "monitor");
        let echo = read_value(&mut server, &mut f).await;
        assert_eq!(echo, json!({"result":["x"],"error":null,"id":"echo"}));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let (m, p) = c.next_notification(deadline).await.unwrap();
        assert_eq!(m, "update");
        assert_eq!(p, json!([1, {}]));
    }

    #[tokio::test]
    async fn notifications_are_kept_only_when_asked_for_and_only_so_many() {
        let (c, mut server) = pair();
        let update = |i: usize| json!({"method": "update", "params": [i], "id": null}).to_string();
        let soon = || tokio::time::Instant::now() + Duration::from_millis(100);
        // Before any monitor: dropped, even once one is sent later.
        server.write_all(update(0).as_bytes()).await.unwrap();
        let echo = br#"{"method":"echo","params":[],"id":"e"}"#;
        server.write_all(echo).await.unwrap();
        let mut f = Default::default();
        read_value(&mut server, &mut f).await; // the echo, answered after the update was seen
        let _monitor = c.send("monitor", json!([])).await.unwrap();
        assert_eq!(c.next_notification(soon()).await, None);
        // After: kept, up to the bound.
        for i in 1..=MAX_NOTIFICATIONS + 10 {
            server.write_all(update(i).as_bytes()).await.unwrap();
        }
        server.write_all(echo).await.unwrap();
        loop {
            if read_value(&mut server, &mut f).await.get("result").is_some() {
                break;
            }
        }
        for i in 1..=MAX_NOTIFICATIONS {
            assert_eq!(c.next_notification(soon()).await.unwrap().1, json!([i]));
        }
        assert_eq!(c.next_notification(soon()).await, None);
    }

    #[tokio::test]
    async fn rpc_error_and_closed_connection_are_errors() {
        let (c, mut server) = pair();
        let a = c.send("transact", json!([])).await.unwrap();
        let mut f = Default::default();
        let ra = read_value(&mut server, &mut f).await;
        server
            .write_all(
                json!({"id": ra["id"], "result": null, "error": {"error": "unknown database"}}).to_string().as_bytes(),
            )
            .await
            .unwrap();
        let e = c.await_reply("transact", a).await.unwrap_err();
        assert!(e.to_string().contains("unknown database"), "{e}");
        let b = c.send("transact", json!([])).await.unwrap();
        drop(server);
        let e = c.await_reply("transact", b).await.unwrap_err();
        assert!(matches!(e, OvsdbError::Closed { .. } | OvsdbError::Io { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let (c, _server) = pair();
        let e = c.request("list_dbs", json!([])).await.unwrap_err();
        assert!(matches!(e, OvsdbError::Timeout { .. }), "{e}");
        assert!(e.to_string().contains("did not answer"), "{e}");
        // Nothing stays waiting for the reply that never came.
        assert!(lock(&c.pending).is_empty());
    }

    #[tokio::test]
    async fn a_request_given_up_leaves_nothing_waiting() {
        let (c, _server) = pair();
        let gave_up = tokio::time::timeout(Duration::from_millis(50), c.request("list_dbs", json!([]))).await;
        assert!(gave_up.is_err());
        assert!(lock(&c.pending).is_empty());
        let sent = c.send("list_dbs", json!([])).await.unwrap();
        assert_eq!(lock(&c.pending).len(), 1);
        drop(sent);
        assert!(lock(&c.pending).is_empty());
        // Abandoned: the request still waiting fails at once.
        let sent = c.send("list_dbs", json!([])).await.unwrap();
        assert!(c.is_alive());
        c.abandon();
        assert!(!c.is_alive());
        let e = c.await_reply("list_dbs", sent).await.unwrap_err();
        assert!(matches!(e, OvsdbError::Closed { .. }), "{e}");
    }

    #[test]
    fn endpoints_parse_like_ovs_vsctl() {
        assert_eq!(Endpoint::parse("unix:/run/x.sock").unwrap(), Endpoint::Unix("/run/x.sock".into()));
        assert_eq!(Endpoint::parse("tcp:127.0.0.1:6640").unwrap(), Endpoint::Tcp("127.0.0.1:6640".into()));
        assert!(Endpoint::parse("tcp:127.0.0.1").is_err());
        assert!(Endpoint::parse("unix:").is_err());
        assert!(Endpoint::parse("/run/x.sock").is_err());
        assert_eq!(Endpoint::parse("ssl:1.2.3.4:6640").unwrap(), Endpoint::Ssl("1.2.3.4:6640".into()));
        assert!(Endpoint::parse("ssl:1.2.3.4").is_err());
        assert!(Endpoint::parse("pssl:6640").is_err());
    }
}
