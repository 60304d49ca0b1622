//! Shared helpers of the integration tests: the test-bed check, RAII guards
//! for bridges, containers and subnets, command runners, OVSDB and kernel
//! inspection, and the leak snapshot.
//!
//! Every test runs the real binary against the real ovsdb-server,
//! ovs-vswitchd and dockerd. Tests run in parallel (threads of one binary,
//! and possibly several binaries), so everything a test creates has a unique
//! name, and every check only looks at the test's own objects.
//!
//! Forking ovs-vsctl, ip, docker and nsenter is fine here: the tests observe
//! the system with the standard tools, independently of the code under test.

#![allow(dead_code)]

pub mod multihost;
pub mod ovn_cluster;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const IMAGE: &str = "busybox:local";
/// Where openvswitch-common installs the upstream script...
pub const UPSTREAM: &str = "/usr/bin/ovs-docker";
/// ... and where it is while our Debian package diverts it
/// (packaging/deb/preinst).
pub const UPSTREAM_DIVERTED: &str = "/usr/bin/ovs-docker.upstream";
/// Everything the tests create is named with this prefix, so that
/// `scripts/testbed.sh clean` can remove what a killed run left behind.
pub const PREFIX: &str = "ovsdt";

/// Longest any single command may take before the test fails (a hung
/// daemon must fail the test, not hang the suite).
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Test bed
// ---------------------------------------------------------------------------

/// Check (once per process) that the test bed is up; panic loudly otherwise.
/// Every test calls this first: a missing daemon is a failure, never a skip.
pub fn testbed() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(why) = READY.get_or_init(check_testbed) {
        panic!("test bed not ready: {why}; run `scripts/testbed.sh up` (as root) and try again");
    }
}

/// The crash and pause points (`OVS_DOCKER_CRASH_AT`, `OVS_DOCKER_PAUSE_AT`)
/// exist only in a build with the `fault-injection` feature: a test that
/// sets one fails loudly without it, rather than testing nothing.
pub fn require_fault_injection(env: &[(&str, &str)]) {
    let wants = env.iter().any(|(k, _)| k.starts_with("OVS_DOCKER_CRASH_AT") || k.starts_with("OVS_DOCKER_PAUSE_AT"));
    if wants && !cfg!(feature = "fault-injection") {
        panic!("this test needs the fault points: run `cargo test --features fault-injection` (scripts/test.sh does)");
    }
}

/// As [`testbed`], and the upstream script must be installed too.
pub fn testbed_with_upstream() {
    testbed();
    if upstream_script().is_none() {
        panic!("test bed not ready: the upstream script is neither at {UPSTREAM} nor at {UPSTREAM_DIVERTED} (package openvswitch-switch); run `scripts/testbed.sh up`");
    }
    for tool in ["uuidgen", "docker", "ovs-vsctl", "ip"] {
        if !try_run("sh", &["-c", &format!("command -v {tool}")], Duration::from_secs(10)).is_ok_and(|o| o.success()) {
            panic!("test bed not ready: `{tool}`, which the upstream script needs, is not on PATH; run `scripts/testbed.sh up`");
        }
    }
}

fn check_testbed() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("the integration tests must run as root (they create veths, bridges and containers)".into());
    }
    let checks: [(&str, &[&str], &str); 4] = [
        ("ovs-vsctl", &["--timeout=5", "show"], "ovsdb-server does not answer `ovs-vsctl --timeout=5 show`"),
        ("ovs-appctl", &["--timeout=5", "version"], "ovs-vswitchd does not answer `ovs-appctl --timeout=5 version`"),
        ("docker", &["version"], "dockerd does not answer `docker version`"),
        ("docker", &["image", "inspect", "--format", "{{.Id}}", IMAGE], "the image busybox:local is missing"),
    ];
    for (prog, args, what) in checks {
        match try_run(prog, args, Duration::from_secs(20)) {
            Ok(o) if o.success() => {}
            Ok(o) => return Err(format!("{what}:\n{o}")),
            Err(e) => return Err(format!("{what} ({prog}: {e})")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------

/// What a finished command did, printable in full for failure messages.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    pub cmdline: String,
    /// None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ {}", self.cmdline)?;
        writeln!(f, "exit: {}", self.code.map(|c| c.to_string()).unwrap_or_else(|| "killed by a signal".into()))?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panic (showing everything) unless the command succeeded.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert!(self.success(), "command failed:\n{self}");
        self
    }

    /// Panic unless the command exited with `code`.
    #[track_caller]
    pub fn code_is(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "wrong exit code (expected {code}):\n{self}");
        self
    }

    /// A refusal or failure of ours: exit `code` and exactly one line on
    /// stderr, `ovs-docker: COMMAND: ...`.
    #[track_caller]
    pub fn fails(&self, code: i32, command: &str) -> &Self {
        self.code_is(code);
        let err = self.stderr.trim_end();
        assert!(
            err.lines().count() == 1 && err.starts_with(&format!("ovs-docker: {command}: ")),
            "stderr should be one line starting with `ovs-docker: {command}: `:\n{self}"
        );
        self
    }

    /// A command-line error found by the parser: exit 2 and a message.
    #[track_caller]
    pub fn usage_error(&self) -> &Self {
        self.code_is(2);
        assert!(!self.stderr.trim().is_empty(), "a usage error must say what is wrong:\n{self}");
        assert!(self.stdout.trim().is_empty(), "a usage error must print nothing on stdout:\n{self}");
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr should contain {needle:?}:\n{self}");
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout should contain {needle:?}:\n{self}");
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Run a program with a deadline; Err only if it could not be started.
pub fn try_run<S: AsRef<str>>(program: &str, args: &[S], deadline: Duration) -> std::io::Result<CmdOutput> {
    try_run_env(&[], program, args, deadline)
}

/// As [`try_run`], with extra environment variables.
pub fn try_run_env<S: AsRef<str>>(
    env: &[(&str, &str)],
    program: &str,
    args: &[S],
    deadline: Duration,
) -> std::io::Result<CmdOutput> {
    let cmdline = env
        .iter()
        .map(|(k, v)| format!("{k}={}", shell_quote(v)))
        .chain(std::iter::once(program).chain(args.iter().map(AsRef::as_ref)).map(shell_quote))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(program);
    cmd.args(args.iter().map(AsRef::as_ref)).envs(env.iter().copied());
    spawn_and_wait(cmd, cmdline, deadline)
}

/// Run `cmd` with no stdin and captured output; kill it and panic if it
/// overruns `deadline`.
fn spawn_and_wait(mut cmd: Command, cmdline: String, deadline: Duration) -> std::io::Result<CmdOutput> {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(deadline) {
        Ok(Ok(out)) => Ok(CmdOutput {
            cmdline,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            // Our own child, not yet reaped: its PID is still its own.
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("`{cmdline}` did not finish within {deadline:?} (killed it)");
        }
    }
}

/// Run a program; panic if it cannot be started or overruns the deadline.
#[track_caller]
pub fn run<S: AsRef<str>>(program: &str, args: &[S]) -> CmdOutput {
    try_run(program, args, DEADLINE).unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ovs-docker")
}

/// Run the binary under test.
#[track_caller]
pub fn ovs_docker<S: AsRef<str>>(args: &[S]) -> CmdOutput {
    run(bin(), args)
}

/// Start the binary under test with its output on pipes, for tests that
/// watch what happens to those pipes (the caller reads or closes them).
pub fn spawn_ovs_docker(args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn ovs-docker {args:?}: {e}"))
}

/// Run the binary under test with extra environment variables.
#[track_caller]
pub fn ovs_docker_env<S: AsRef<str>>(env: &[(&str, &str)], args: &[S]) -> CmdOutput {
    require_fault_injection(env);
    try_run_env(env, bin(), args, DEADLINE).unwrap_or_else(|e| panic!("cannot run {}: {e}", bin()))
}

/// Where the upstream script is now: at its diverted path while our Debian
/// package is installed (tests/packaging.rs installs it), else at
/// /usr/bin/ovs-docker if that is the script (a shell script, not our
/// binary). dpkg renames it between the two, so look at the diverted path
/// first and retry briefly.
pub fn upstream_script() -> Option<&'static str> {
    let is_script = |p: &str| {
        let mut head = [0u8; 2];
        File::open(p).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok() && &head == b"#!"
    };
    for _ in 0..50 {
        if let Some(p) = [UPSTREAM_DIVERTED, UPSTREAM].into_iter().find(|p| is_script(p)) {
            return Some(p);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Run the upstream shell script (it exits 0 even on failure: check effects).
#[track_caller]
pub fn upstream<S: AsRef<str>>(args: &[S]) -> CmdOutput {
    let script = upstream_script()
        .unwrap_or_else(|| panic!("the upstream script is neither at {UPSTREAM_DIVERTED} nor at {UPSTREAM}"));
    run(script, args)
}

#[track_caller]
pub fn vsctl<S: AsRef<str>>(args: &[S]) -> CmdOutput {
    let mut all = vec!["--timeout=20".to_string()];
    all.extend(args.iter().map(|a| a.as_ref().to_string()));
    run("ovs-vsctl", &all)
}

/// `sh -c CMD` inside the container, through `docker exec`.
#[track_caller]
pub fn exec(c: &TestContainer, cmd: &str) -> CmdOutput {
    run("docker", &["exec", c.name.as_str(), "sh", "-c", cmd])
}

/// Run a command in the container's network namespace from the host (for
/// the snapshot: faster than `docker exec` and works for paused containers).
pub fn in_netns(pid: u32, args: &[&str]) -> CmdOutput {
    let ns = format!("--net=/proc/{pid}/ns/net");
    let mut all = vec![ns.as_str()];
    all.extend_from_slice(args);
    run("nsenter", &all)
}

// ---------------------------------------------------------------------------
// Names, subnets
// ---------------------------------------------------------------------------

/// `n` random lowercase hex digits.
pub fn rand_hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

/// A unique interface name for use inside containers (so that a stray link
/// in the host namespace would be noticed by name): `dt` + 6 hex.
pub fn unique_iface() -> String {
    format!("dt{}", rand_hex(6))
}

static SUBNET_COUNTER: AtomicU32 = AtomicU32::new(0);
const SUBNET_X: u32 = 56; // 10.200.*.* to 10.255.*.*
const SUBNET_Y: u32 = 254; // third byte 1..=254
const LOCK_DIR: &str = "/run/ovs-docker-tests";

/// A /24 (and a matching IPv6 /64) that no other test, in this process or any
/// other, holds at the same time: 10.(200+x).y.0/24 and fd0d:(200+x):y::/64
/// (in hex). The starting point comes from an atomic counter and the process
/// ID, and a lock file (flock, released when the guard is dropped) makes the
/// choice exclusive across processes. A candidate already in use by some
/// host address is skipped.
pub struct Subnet {
    pub x: u32,
    pub y: u32,
    _lock: File,
}

impl Subnet {
    pub fn new() -> Subnet {
        std::fs::create_dir_all(LOCK_DIR).unwrap_or_else(|e| panic!("create {LOCK_DIR}: {e}"));
        let in_use = run("ip", &["-o", "addr", "show"]).ok().stdout.clone();
        let total = SUBNET_X * SUBNET_Y;
        let counter = SUBNET_COUNTER.fetch_add(1, Ordering::Relaxed);
        // Spread processes over 64 bands of 128 subnets; threads take the
        // next subnet of their band. Collisions only mean probing further.
        let start = ((std::process::id() % 64) * 128 + counter) % total;
        for i in 0..total {
            let n = (start + i) % total;
            let (x, y) = (n / SUBNET_Y, n % SUBNET_Y + 1);
            if in_use.contains(&format!(" 10.{}.{}.", 200 + x, y))
                || in_use.contains(&format!(" fd0d:{:x}:{:x}:", 200 + x, y))
            {
                continue;
            }
            let path = format!("{LOCK_DIR}/subnet-{x}-{y}.lock");
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Subnet { x, y, _lock: file };
            }
        }
        panic!("no free test subnet left");
    }

    /// `10.A.B.host`.
    pub fn v4(&self, host: u8) -> String {
        format!("10.{}.{}.{}", 200 + self.x, self.y, host)
    }

    /// `10.A.B.host/24`.
    pub fn v4p(&self, host: u8) -> String {
        format!("{}/24", self.v4(host))
    }

    /// `fd0d:A:B::host` (host written in hex).
    pub fn v6(&self, host: u8) -> String {
        format!("fd0d:{:x}:{:x}::{:x}", 200 + self.x, self.y, host)
    }

    /// `fd0d:A:B::host/64`.
    pub fn v6p(&self, host: u8) -> String {
        format!("{}/64", self.v6(host))
    }

    /// An IPv4 address outside the /24, unique to this subnet, reachable
    /// from a container only through its default gateway (198.18.0.0/15).
    pub fn far_v4(&self) -> String {
        format!("198.18.{}.{}", self.x, self.y)
    }

    /// An IPv6 address outside the /64, unique to this subnet.
    pub fn far_v6(&self) -> String {
        format!("fd0d:{:x}:{:x}:1::1", 200 + self.x, self.y)
    }
}

// ---------------------------------------------------------------------------
// Bridges
// ---------------------------------------------------------------------------

/// A userspace (netdev) OVS bridge, deleted on drop.
pub struct TestBridge {
    pub name: String,
}

impl TestBridge {
    /// A new netdev bridge without any address.
    #[track_caller]
    pub fn new() -> TestBridge {
        let name = format!("{PREFIX}{}", rand_hex(6));
        assert!(name.len() <= 15);
        let b = TestBridge { name };
        vsctl(&["add-br", &b.name, "--", "set", "bridge", &b.name, "datapath_type=netdev"]).ok();
        b
    }

    /// A new netdev bridge whose internal port holds `.1` of the subnet (IPv4
    /// and IPv6) and is up.
    #[track_caller]
    pub fn with_address(subnet: &Subnet) -> TestBridge {
        let b = TestBridge::new();
        b.wait_for_internal_port();
        run("ip", &["addr", "add", &subnet.v4p(1), "dev", &b.name]).ok();
        run("ip", &["-6", "addr", "add", &subnet.v6p(1), "dev", &b.name, "nodad"]).ok();
        run("ip", &["link", "set", &b.name, "up"]).ok();
        b
    }

    /// Take ownership of a bridge someone else (the tool) created, so that it
    /// is deleted on drop.
    pub fn adopt(name: &str) -> TestBridge {
        TestBridge { name: name.to_string() }
    }

    /// Add an extra address to the internal port (e.g. a "far" address).
    #[track_caller]
    pub fn add_address(&self, cidr: &str) {
        let mut args = vec!["addr", "add", cidr, "dev", self.name.as_str()];
        if cidr.contains(':') {
            args.insert(0, "-6");
            args.push("nodad");
        }
        run("ip", &args).ok();
    }

    /// ovs-vswitchd creates the internal port's tap device when it applies
    /// the change, which ovs-vsctl waits for; still, check it is there.
    fn wait_for_internal_port(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !host_link_exists(&self.name) {
            assert!(Instant::now() < deadline, "internal port {} never appeared", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Names of the bridge's ports (not counting the internal port).
    pub fn ports(&self) -> BTreeSet<String> {
        let out = vsctl(&["list-ports", &self.name]);
        out.ok().stdout.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }
}

impl Drop for TestBridge {
    fn drop(&mut self) {
        let _ = try_run("ovs-vsctl", &["--timeout=20", "--if-exists", "del-br", &self.name], DEADLINE);
    }
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

/// A busybox container, removed (docker rm -f) on drop.
pub struct TestContainer {
    pub name: String,
    /// The full 64-hex-digit ID.
    pub id: String,
}

impl TestContainer {
    /// `docker run -d --net=none --name ovsdt-<rand> busybox:local sleep 3600`.
    #[track_caller]
    pub fn new() -> TestContainer {
        TestContainer::with_args(&["--net=none"])
    }

    /// As [`TestContainer::new`] with other `docker run` options.
    #[track_caller]
    pub fn with_args(opts: &[&str]) -> TestContainer {
        let name = format!("{PREFIX}-{}", rand_hex(10));
        let mut args = vec!["run", "-d", "--name", name.as_str()];
        args.extend_from_slice(opts);
        args.extend_from_slice(&[IMAGE, "sleep", "3600"]);
        let out = run("docker", &args);
        // Guard first, so a failed run still cleans up whatever was made.
        let mut c = TestContainer { name, id: String::new() };
        out.ok();
        c.id = out.stdout.trim().to_string();
        assert!(c.id.len() == 64 && c.id.bytes().all(|b| b.is_ascii_hexdigit()), "unexpected container ID:\n{out}");
        c
    }

    /// The 12-digit short ID.
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// The PID of its init process, if it is running (or paused).
    pub fn pid(&self) -> Option<u32> {
        let out =
            try_run("docker", &["inspect", "-f", "{{.State.Running}} {{.State.Pid}}", &self.name], DEADLINE).ok()?;
        if !out.success() {
            return None;
        }
        let mut it = out.stdout.split_whitespace();
        match (it.next(), it.next().and_then(|p| p.parse::<u32>().ok())) {
            (Some("true"), Some(pid)) if pid > 0 => Some(pid),
            _ => None,
        }
    }

    /// Kill it at once (busybox sleep ignores SIGTERM as PID 1).
    #[track_caller]
    pub fn stop(&self) {
        run("docker", &["stop", "-t", "0", &self.name]).ok();
    }

    #[track_caller]
    pub fn remove(&self) {
        run("docker", &["rm", "-f", &self.name]).ok();
    }

    #[track_caller]
    pub fn pause(&self) {
        run("docker", &["pause", &self.name]).ok();
    }

    /// Interfaces inside the container as (name, JSON of `ip -j link`); None
    /// when it has no network namespace (not running).
    pub fn links(&self) -> Option<BTreeMap<String, Value>> {
        let pid = self.pid()?;
        let out = in_netns(pid, &["ip", "-j", "-d", "link", "show"]);
        if !out.success() {
            // The container died between the two calls.
            return None;
        }
        let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("ip -j link: {e}\n{out}"));
        Some(
            v.as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|l| Some((l["ifname"].as_str()?.to_string(), l)))
                .collect(),
        )
    }

    /// Names of its interfaces (empty when it is not running).
    pub fn link_names(&self) -> BTreeSet<String> {
        self.links().map(|m| m.into_keys().collect()).unwrap_or_default()
    }

    /// The references that designate this container: name, full ID, and any
    /// ID prefix of 4 digits or more.
    pub fn is_named_by(&self, reference: &str) -> bool {
        let r = reference.strip_prefix('/').unwrap_or(reference);
        r == self.name || (r.len() >= 4 && self.id.starts_with(r))
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        let _ = try_run("docker", &["rm", "-f", &self.name], DEADLINE);
    }
}

// ---------------------------------------------------------------------------
// Host links
// ---------------------------------------------------------------------------

/// Whether `name` is the name of a host end made by ovs-docker.
pub fn is_host_end_name(name: &str) -> bool {
    name.len() == 15
        && name.ends_with("_l")
        && name[..13].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn host_link_exists(name: &str) -> bool {
    run("ip", &["link", "show", "dev", name]).success()
}

/// Every link of the host namespace, by name (`ip -j -d link`).
pub fn host_links() -> BTreeMap<String, Value> {
    let out = run("ip", &["-j", "-d", "link", "show"]);
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("ip -j link: {e}\n{out}"));
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|l| Some((l["ifname"].as_str()?.to_string(), l)))
        .collect()
}

/// One host link as `ip -j -d link show dev NAME` gives it.
#[track_caller]
pub fn host_link(name: &str) -> Value {
    let out = run("ip", &["-j", "-d", "link", "show", "dev", name]);
    out.ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("ip -j link: {e}\n{out}"));
    v[0].clone()
}

// ---------------------------------------------------------------------------
// OVSDB
// ---------------------------------------------------------------------------

/// An Interface row with its Port and Bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceRow {
    pub name: String,
    pub external_ids: BTreeMap<String, String>,
    pub port: Option<String>,
    pub bridge: Option<String>,
    pub tag: Option<i64>,
    pub error: Option<String>,
}

impl IfaceRow {
    pub fn id(&self, key: &str) -> Option<&str> {
        self.external_ids.get(key).map(String::as_str)
    }
}

/// The OVSDB JSON of a `list` in ovs-vsctl --format=json: rows as maps.
fn table_rows(v: &Value) -> Vec<BTreeMap<String, Value>> {
    let headings: Vec<String> = v["headings"]
        .as_array()
        .map(|h| h.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    v["data"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| headings.iter().cloned().zip(r.as_array().cloned().unwrap_or_default()).collect())
                .collect()
        })
        .unwrap_or_default()
}

fn atom_uuid(v: &Value) -> Option<String> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, u]) if t == "uuid" => u.as_str().map(str::to_string),
        _ => None,
    }
}

/// A set column: a single atom or ["set", [...]].
fn set_atoms(v: &Value) -> Vec<Value> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, items]) if t == "set" => items.as_array().cloned().unwrap_or_default(),
        _ => vec![v.clone()],
    }
}

fn opt_int(v: &Value) -> Option<i64> {
    set_atoms(v).first().and_then(Value::as_i64)
}

fn opt_str(v: &Value) -> Option<String> {
    set_atoms(v).first().and_then(|x| x.as_str().map(str::to_string))
}

fn map_of(v: &Value) -> BTreeMap<String, String> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, pairs]) if t == "map" => pairs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Every Interface row with its Port and Bridge, read in one ovs-vsctl call
/// (so one consistent view).
pub fn interface_rows() -> Vec<IfaceRow> {
    let out = vsctl(&[
        "--format=json",
        "--",
        "--columns=_uuid,name,external_ids,error",
        "list",
        "Interface",
        "--",
        "--columns=_uuid,name,interfaces,tag",
        "list",
        "Port",
        "--",
        "--columns=name,ports",
        "list",
        "Bridge",
    ]);
    out.ok();
    let tables: Vec<Value> = serde_json::Deserializer::from_str(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("ovs-vsctl JSON: {e}\n{out}"));
    assert_eq!(tables.len(), 3, "ovs-vsctl printed {} tables:\n{out}", tables.len());
    let mut bridge_of_port = BTreeMap::new();
    for b in table_rows(&tables[2]) {
        let name = b["name"].as_str().unwrap_or_default().to_string();
        for p in set_atoms(&b["ports"]) {
            if let Some(u) = atom_uuid(&p) {
                bridge_of_port.insert(u, name.clone());
            }
        }
    }
    let mut port_of_iface = BTreeMap::new();
    for p in table_rows(&tables[1]) {
        let uuid = atom_uuid(&p["_uuid"]).unwrap_or_default();
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let tag = opt_int(&p["tag"]);
        for i in set_atoms(&p["interfaces"]) {
            if let Some(u) = atom_uuid(&i) {
                port_of_iface.insert(u, (uuid.clone(), name.clone(), tag));
            }
        }
    }
    table_rows(&tables[0])
        .into_iter()
        .map(|r| {
            let uuid = atom_uuid(&r["_uuid"]).unwrap_or_default();
            let port = port_of_iface.get(&uuid);
            IfaceRow {
                name: r["name"].as_str().unwrap_or_default().to_string(),
                external_ids: map_of(&r["external_ids"]),
                port: port.map(|p| p.1.clone()),
                bridge: port.and_then(|p| bridge_of_port.get(&p.0).cloned()),
                tag: port.and_then(|p| p.2),
                error: opt_str(&r["error"]),
            }
        })
        .collect()
}

/// The container ports (Interface rows with external_ids:container_id).
pub fn container_rows() -> Vec<IfaceRow> {
    interface_rows().into_iter().filter(|r| r.external_ids.contains_key("container_id")).collect()
}

/// Whether a container port row belongs to `c`, whoever made it.
pub fn row_is_of(r: &IfaceRow, c: &TestContainer) -> bool {
    r.id("container_full_id") == Some(c.id.as_str())
        || r.id("container_name") == Some(c.name.as_str())
        || r.id("container_id").is_some_and(|v| c.is_named_by(v))
}

/// The container port rows of `c`.
pub fn rows_of(c: &TestContainer) -> Vec<IfaceRow> {
    container_rows().into_iter().filter(|r| row_is_of(r, c)).collect()
}

/// The container port row of `c` for interface `iface`; panics unless
/// there is exactly one.
#[track_caller]
pub fn row_of(c: &TestContainer, iface: &str) -> IfaceRow {
    let rows: Vec<_> = rows_of(c).into_iter().filter(|r| r.id("container_iface") == Some(iface)).collect();
    assert_eq!(rows.len(), 1, "expected exactly one OVSDB row for {iface} of container {}: {rows:#?}", c.name);
    rows.into_iter().next().unwrap()
}

/// `ovs-vsctl get TABLE RECORD COLUMN`, trimmed.
#[track_caller]
pub fn vsctl_get(table: &str, record: &str, column: &str) -> String {
    vsctl(&["get", table, record, column]).ok().stdout.trim().to_string()
}

// ---------------------------------------------------------------------------
// Inside containers
// ---------------------------------------------------------------------------

/// Ping `addr` from the container: `-c 1 -W 2`, up to `tries` times (the
/// first ARP/ND exchange may lose a packet). True on the first reply.
pub fn ping(c: &TestContainer, addr: &str, tries: u32) -> bool {
    let six = if addr.contains(':') { "-6 " } else { "" };
    (0..tries).any(|_| exec(c, &format!("ping {six}-c 1 -W 2 {addr}")).success())
}

/// Assert that `addr` answers a ping from the container: single pings are
/// retried for up to 20 s (the first ARP/ND exchange may lose a packet, and
/// flows are installed asynchronously, later on a loaded machine).
#[track_caller]
pub fn assert_ping(c: &TestContainer, addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ping(c, addr, 1) {
        if Instant::now() > deadline {
            let diag = exec(c, "ip addr; ip route; ip -6 route; ip neigh");
            panic!("container {} cannot ping {addr} (tried for 20 s)\n{diag}", c.name);
        }
    }
}

/// Assert that `addr` does not answer. Flows cached in the datapath before a
/// configuration change may take a moment to be revalidated, so a reply is
/// tolerated for a while (up to 15 s), but two attempts in a row must fail.
#[track_caller]
pub fn assert_no_ping(c: &TestContainer, addr: &str) {
    let six = if addr.contains(':') { "-6 " } else { "" };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut failures_in_a_row = 0;
    while Instant::now() < deadline {
        if exec(c, &format!("ping {six}-c 1 -W 1 {addr}")).success() {
            failures_in_a_row = 0;
            std::thread::sleep(Duration::from_millis(300));
        } else {
            failures_in_a_row += 1;
            if failures_in_a_row == 2 {
                return;
            }
        }
    }
    panic!("container {} can still ping {addr} after 15 s", c.name);
}

/// A TCP transfer of `bytes` random bytes from `client` to `server`
/// (listening on `addr`), with busybox nc; panics unless all arrive intact.
/// Returns how long the sender took (the file is made before the clock
/// starts).
#[track_caller]
pub fn assert_tcp(client: &TestContainer, server: &TestContainer, addr: &str, bytes: usize) -> Duration {
    let port = 5000 + rand_below(1000);
    let made = exec(client, &format!("head -c {bytes} /dev/urandom > /tmp/tx && md5sum < /tmp/tx"));
    made.ok();
    let sum = made.stdout.split_whitespace().next().unwrap_or_default().to_string();
    // The listener's stdin stays open (sleep), so it only stops at the
    // sender's end of stream.
    run(
        "docker",
        &["exec", "-d", &server.name, "sh", "-c", &format!("rm -f /tmp/rx; sleep 60 | nc -l -p {port} > /tmp/rx")],
    )
    .ok();
    let start = Instant::now();
    exec(
        client,
        &format!(
            "for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 3 {addr} {port} < /tmp/tx && exit 0; sleep 0.3; done; exit 1"
        ),
    )
    .ok();
    let took = start.elapsed();
    let mut got = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !got.starts_with(&sum) {
        if Instant::now() > deadline {
            let size = exec(server, "wc -c < /tmp/rx").stdout;
            panic!(
                "TCP {} -> {} ({addr}:{port}): {bytes} bytes sent (md5 {sum}), received {} bytes (md5 {got})",
                client.name,
                server.name,
                size.trim()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
        got = exec(server, "md5sum < /tmp/rx").stdout;
    }
    took
}

/// [`arp_from_trunk`] tried up to 3 times: for expected answers (a
/// loaded machine may take longer than one attempt's 2 s), while an
/// expected silence costs one attempt only.
pub fn arp_answered_from_trunk(enter: &[&str], iface: &str, target: &str, vlan: Option<u16>) -> bool {
    (0..3).any(|_| arp_from_trunk(enter, iface, target, vlan))
}

/// From trunk port `iface`, in the namespace that the command `enter`
/// runs in (`ip netns exec NS`, `nsenter --net=...`), send an ARP request
/// for `target` tagged with `vlan` (untagged when None) and say whether
/// `target` answered.
pub fn arp_from_trunk(enter: &[&str], iface: &str, target: &str, vlan: Option<u16>) -> bool {
    // A raw socket speaks for the trunk: the kernel here has no 8021q module,
    // so no VLAN device can be made. The kernel moves a received tag into
    // packet metadata, so replies are matched on their ARP payload.
    let script = r#"
import socket, struct, sys, time
ifname, target, vlan = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
mac = s.getsockname()[4]
me = socket.inet_aton("169.254.77.1")
tip = socket.inet_aton(target)
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, me, b"\0" * 6, tip)
tag = struct.pack("!HH", 0x8100, vlan) if vlan >= 0 else b""
frame = b"\xff" * 6 + mac + tag + b"\x08\x06" + arp
s.settimeout(0.2)
deadline = time.time() + 2
while time.time() < deadline:
    s.send(frame)
    end = time.time() + 0.4
    while time.time() < end:
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        i = 12
        while data[i:i + 2] == b"\x81\x00":
            i += 4
        if data[i:i + 2] == b"\x08\x06" and data[i + 8:i + 10] == b"\x00\x02" and data[i + 16:i + 20] == tip:
            sys.exit(0)
sys.exit(1)
"#;
    let v = vlan.map_or("-1".to_string(), |v| v.to_string());
    let mut args: Vec<&str> = enter[1..].to_vec();
    args.extend_from_slice(&["python3", "-c", script, iface, target, &v]);
    run(enter[0], &args).success()
}

// ---------------------------------------------------------------------------
// Leak snapshot
// ---------------------------------------------------------------------------

/// Everything that belongs to a test's containers and bridges: the host ends
/// of their veths, their OVSDB container-port rows, and the interfaces inside
/// the containers. Objects of other tests (running in parallel) are left out,
/// so two snapshots can be compared exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Host links named `<13 hex>_l` whose peer is in one of the containers
    /// or that one of the rows below names.
    pub host_ends: BTreeSet<String>,
    /// "NAME on BRIDGE {external_ids}" of the container-port rows of the
    /// containers, or on one of the bridges.
    pub rows: BTreeSet<String>,
    /// Interfaces inside each running container, by container name.
    pub container_links: BTreeMap<String, BTreeSet<String>>,
    /// Links of the host namespace with any of the watched names (see
    /// [`leak_snapshot_watching`]).
    pub watched_host_links: BTreeSet<String>,
}

impl Snapshot {
    /// Number of host ends of veths.
    pub fn veths(&self) -> usize {
        self.host_ends.len()
    }
}

pub fn leak_snapshot(containers: &[&TestContainer], bridges: &[&TestBridge]) -> Snapshot {
    leak_snapshot_watching(containers, bridges, &[])
}

/// As [`leak_snapshot`], and also records which of `host_names` exist as
/// links in the host namespace (an interface meant for a container that
/// ended up on the host would show there).
pub fn leak_snapshot_watching(containers: &[&TestContainer], bridges: &[&TestBridge], host_names: &[&str]) -> Snapshot {
    let host = host_links();
    let mut container_links = BTreeMap::new();
    // Host ifindexes of the peers of the containers' veths.
    let mut peer_indexes = BTreeSet::new();
    for c in containers {
        let Some(links) = c.links() else { continue };
        for l in links.values() {
            if l["link_netnsid"].is_number() {
                if let Some(i) = l["link_index"].as_u64() {
                    peer_indexes.insert(i);
                }
            }
        }
        container_links.insert(c.name.clone(), links.into_keys().collect::<BTreeSet<_>>());
    }
    let bridge_names: BTreeSet<&str> = bridges.iter().map(|b| b.name.as_str()).collect();
    let rows: Vec<IfaceRow> = container_rows()
        .into_iter()
        .filter(|r| {
            containers.iter().any(|c| row_is_of(r, c))
                || r.bridge.as_deref().is_some_and(|b| bridge_names.contains(b))
                || host.get(&r.name).and_then(|l| l["ifindex"].as_u64()).is_some_and(|i| peer_indexes.contains(&i))
        })
        .collect();
    let mut host_ends: BTreeSet<String> = host
        .iter()
        .filter(|(name, l)| is_host_end_name(name) && l["ifindex"].as_u64().is_some_and(|i| peer_indexes.contains(&i)))
        .map(|(n, _)| n.clone())
        .collect();
    host_ends.extend(rows.iter().filter(|r| host.contains_key(&r.name)).map(|r| r.name.clone()));
    Snapshot {
        host_ends,
        rows: rows
            .iter()
            .map(|r| format!("{} on {} {:?}", r.name, r.bridge.as_deref().unwrap_or("(no bridge)"), r.external_ids))
            .collect(),
        container_links,
        watched_host_links: host_names.iter().filter(|n| host.contains_key(**n)).map(|n| n.to_string()).collect(),
    }
}

/// Assert that two snapshots are the same, saying what differs.
#[track_caller]
pub fn assert_unchanged(before: &Snapshot, after: &Snapshot, context: &str) {
    if before != after {
        panic!("{context}: something was left behind or removed\nbefore: {before:#?}\nafter: {after:#?}");
    }
}

/// Assert that the containers and bridges hold no container port at all:
/// no row, no host end (the state after a full cleanup).
#[track_caller]
pub fn assert_no_ports(containers: &[&TestContainer], bridges: &[&TestBridge]) {
    let s = leak_snapshot(containers, bridges);
    assert!(s.rows.is_empty() && s.host_ends.is_empty(), "ports left behind: {s:#?}");
}

/// The `list --format=json` rows whose port is one of `ports`.
#[track_caller]
pub fn list_json<S: AsRef<str>>(args: &[S]) -> Vec<Value> {
    let mut all = vec!["list".to_string(), "--format=json".to_string()];
    all.extend(args.iter().map(|a| a.as_ref().to_string()));
    let out = ovs_docker(&all);
    out.ok();
    let v = out.json();
    v.as_array().cloned().unwrap_or_else(|| panic!("list JSON is not an array:\n{out}"))
}

/// Poll `cond` every 50 ms for up to `secs` seconds; panic saying `what`
/// if it never holds.
#[track_caller]
pub fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// Reliability helpers (processes killed or signalled mid-way, global gc,
// hostile bytes)
// ---------------------------------------------------------------------------

/// As [`try_run_env`], with arguments that need not be UTF-8.
pub fn try_run_os(
    env: &[(&str, &str)],
    program: &str,
    args: &[std::ffi::OsString],
    deadline: Duration,
) -> std::io::Result<CmdOutput> {
    let cmdline = std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(&a.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(program);
    cmd.args(args).envs(env.iter().copied());
    spawn_and_wait(cmd, cmdline, deadline)
}

/// Run the binary under test with arguments that need not be UTF-8.
#[track_caller]
pub fn ovs_docker_os(args: &[std::ffi::OsString]) -> CmdOutput {
    try_run_os(&[], bin(), args, DEADLINE).unwrap_or_else(|e| panic!("cannot run {}: {e}", bin()))
}

/// A run of the binary under test in the background, to be killed or
/// signalled while it works. Its stderr is read line by line as it comes.
/// Dropping it SIGKILLs it if it is still running (it is our own child).
pub struct Spawned {
    pub cmdline: String,
    child: Option<std::process::Child>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
    stdout: Option<std::thread::JoinHandle<String>>,
}

impl Spawned {
    #[track_caller]
    pub fn start<S: AsRef<str>>(env: &[(&str, &str)], args: &[S]) -> Spawned {
        use std::io::{BufRead, Read};
        require_fault_injection(env);
        let cmdline = env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .chain(std::iter::once(bin()).chain(args.iter().map(AsRef::as_ref)).map(shell_quote))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new(bin())
            .args(args.iter().map(AsRef::as_ref))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmdline}: {e}"));
        let err = child.stderr.take().expect("piped stderr");
        let mut out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Spawned { cmdline, child: Some(child), stderr_lines: rx, stderr_seen: Vec::new(), stdout: Some(stdout) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Wait until a line of stderr contains `needle`; panic after `secs`.
    #[track_caller]
    pub fn wait_for_stderr(&mut self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if self.stderr_seen.iter().any(|l| l.contains(needle)) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => self.stderr_seen.push(line),
                Err(_) => panic!(
                    "`{}` never printed {needle:?} within {secs} s; stderr so far:\n{}",
                    self.cmdline,
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// Send `sig` to the process (still our unreaped child, so its PID
    /// cannot have been reused).
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(c.id() as libc::pid_t, sig) };
        }
    }

    /// Wait for the process to end (up to `DEADLINE`) and collect its output.
    #[track_caller]
    pub fn finish(mut self) -> CmdOutput {
        let mut child = self.child.take().expect("not finished yet");
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("`{}` did not finish within {DEADLINE:?} (killed it)", self.cmdline);
                }
                Err(e) => panic!("wait for `{}`: {e}", self.cmdline),
            }
        };
        let stdout = self.stdout.take().and_then(|t| t.join().ok()).unwrap_or_default();
        // The reader thread ends at EOF, once every holder of the pipe exited.
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr_seen.push(line);
        }
        CmdOutput {
            cmdline: self.cmdline.clone(),
            code: std::os::unix::process::ExitStatusExt::signal(&status).map_or(status.code(), |_| None),
            stdout,
            stderr: self.stderr_seen.join("\n"),
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A small random number below `n` (tests need no better randomness).
pub fn rand_below(n: u64) -> u64 {
    let v = uuid::Uuid::new_v4().as_u128() as u64;
    v % n.max(1)
}

/// Host links carrying the alias ovs-docker puts on the veths it makes for
/// the container with this full ID (`ovs-docker <full id> <iface>`): a veth
/// left without its row, wherever its peer went, shows here.
pub fn marked_veths(full_id: &str) -> BTreeSet<String> {
    let prefix = format!("ovs-docker {full_id} ");
    host_links()
        .into_iter()
        .filter(|(_, l)| l["ifalias"].as_str().is_some_and(|a| a.starts_with(&prefix)))
        .map(|(n, _)| n)
        .collect()
}

/// The leak check of the reliability tests: the snapshot is as `before`,
/// and no veth marked for any of the containers exists beyond those the
/// snapshot accounts for.
#[track_caller]
pub fn assert_no_leak(before: &Snapshot, containers: &[&TestContainer], bridges: &[&TestBridge], context: &str) {
    let now = leak_snapshot(containers, bridges);
    assert_unchanged(before, &now, context);
    for c in containers {
        let marked: BTreeSet<String> = marked_veths(&c.id).difference(&now.host_ends).cloned().collect();
        assert!(marked.is_empty(), "{context}: veths marked for container {} left behind: {marked:?}", c.name);
    }
}

/// The state of /var/run/netns: None if it does not exist, else its
/// entries. Our commands must never create or change it. (Its modification
/// time is not compared: the upstream script, which other tests may run at
/// the same time, adds and removes entries there.)
pub fn netns_dir_state() -> Option<BTreeSet<String>> {
    std::fs::symlink_metadata("/var/run/netns").ok()?;
    Some(
        std::fs::read_dir("/var/run/netns")
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default(),
    )
}

/// Names an entry of /var/run/netns made for one of `containers` would
/// have: the upstream script uses the PID; a name or an ID would do too.
pub fn netns_names_of(containers: &[&TestContainer]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for c in containers {
        names.extend([c.name.clone(), c.id.clone(), c.short_id().to_string()]);
        if let Some(pid) = c.pid() {
            names.insert(pid.to_string());
        }
    }
    names
}

/// Assert that /var/run/netns is as `before` (from [`netns_dir_state`]):
/// not created, and without any entry for the containers (see
/// [`netns_names_of`]; pass `pids_seen` for PIDs the containers had earlier,
/// before a restart). Entries of other
/// containers, which concurrent runs of the upstream script make and
/// remove, are not ours to judge.
#[track_caller]
pub fn assert_netns_untouched(
    before: &Option<BTreeSet<String>>,
    containers: &[&TestContainer],
    pids_seen: &[String],
    context: &str,
) {
    let now = netns_dir_state();
    match (before, &now) {
        (None, Some(e)) => panic!("{context}: /var/run/netns was created (entries: {e:?})"),
        (Some(b), None) => panic!("{context}: /var/run/netns was removed (it held {b:?})"),
        (Some(b), Some(n)) => {
            let mut ours = netns_names_of(containers);
            ours.extend(pids_seen.iter().cloned());
            let added: Vec<_> = n.difference(b).filter(|e| ours.contains(*e)).collect();
            assert!(added.is_empty(), "{context}: entries for our containers in /var/run/netns: {added:?}");
        }
        (None, None) => {}
    }
}

/// A cross-process lock around global state that `gc` without BRIDGE acts
/// on. A test that makes stale ports or orphan veths and asserts they are
/// still there later holds it shared ([`stale_states_guard`]); a test that
/// runs `gc` on the whole machine holds it exclusively
/// ([`global_gc_guard`]) while it does, so it never heals another test's
/// scenario under its feet. Released when dropped (or when the process dies).
pub struct FlockGuard {
    _file: File,
}

fn flock_guard(how: i32) -> FlockGuard {
    std::fs::create_dir_all(LOCK_DIR).unwrap_or_else(|e| panic!("create {LOCK_DIR}: {e}"));
    let path = format!("{LOCK_DIR}/global-gc.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    // SAFETY: flock on a file descriptor we own.
    while unsafe { libc::flock(file.as_raw_fd(), how | libc::LOCK_NB) } != 0 {
        assert!(Instant::now() < deadline, "could not lock {path} within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    FlockGuard { _file: file }
}

/// Held while a test relies on stale ports or orphan veths staying put.
pub fn stale_states_guard() -> FlockGuard {
    flock_guard(libc::LOCK_SH)
}

/// Held while a test runs `gc` without BRIDGE. Never take it while holding
/// [`stale_states_guard`] in the same thread (it would wait for itself).
pub fn global_gc_guard() -> FlockGuard {
    flock_guard(libc::LOCK_EX)
}

/// The lines of `text` that mention any of `names`.
pub fn lines_mentioning<'a>(text: &'a str, names: &[&str]) -> Vec<&'a str> {
    text.lines().filter(|l| names.iter().any(|n| l.contains(n))).collect()
}

/// `list --format=json` state of the port named `port`, if listed.
#[track_caller]
pub fn list_state(bridge: &str, port: &str) -> Option<String> {
    list_json(&[bridge])
        .into_iter()
        .find(|r| r["port"] == port)
        .map(|r| r["state"].as_str().unwrap_or_default().to_string())
}

// ---------------------------------------------------------------------------
// Plain network namespaces
// ---------------------------------------------------------------------------

/// `ip netns add ovsdt-...`, deleted on drop.
pub struct TestNetns {
    pub name: String,
}

impl TestNetns {
    pub fn new() -> TestNetns {
        let name = format!("{PREFIX}-{}", rand_hex(8));
        run("ip", &["netns", "add", &name]).ok();
        TestNetns { name }
    }
    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }
    pub fn exec(&self, cmd: &str) -> CmdOutput {
        run("ip", &["netns", "exec", &self.name, "sh", "-c", cmd])
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = try_run("ip", &["netns", "del", &self.name], std::time::Duration::from_secs(10));
    }
}

pub mod cni;
pub mod plugin;
