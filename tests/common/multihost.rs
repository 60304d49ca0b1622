//! Simulated hosts on one machine, for multi-host tests (see
//! shared/TESTBED.md, "Several hosts on one machine").
//!
//! A [`Host`] is a network namespace `ovsdt-h<rand>-N` running its own
//! ovsdb-server and ovs-vswitchd (userspace datapath), with database,
//! sockets, pidfiles and logs in a folder of its own under
//! /run/ovs-docker-testbed/multihost/. Its `br-phy` bridge holds its end of
//! the underlay (a Linux bridge in the namespace `ovsdt-h<rand>-u`) and the
//! underlay address, so that OVS native tunnelling finds its route.
//! [`OvnCentral`] runs the OVN northbound and southbound ovsdb-servers and
//! ovn-northd (on unix sockets, reachable from every namespace); each host
//! may run an ovn-controller.
//!
//! Everything is torn down on drop: the daemons, by the PIDs of the children
//! we spawned (never by name), then the namespaces and the folder. Daemons
//! get no file descriptor of ours but their own log files, so none keeps
//! the test harness's pipes open.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

const BASE: &str = "/run/ovs-docker-testbed/multihost";
const VSWITCH_SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";
const NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
const SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";
/// Underlay MTU: room for any tunnel's headers around a 1400-byte frame.
pub const UNDERLAY_MTU: u32 = 1600;
/// Container MTU on the overlay.
pub const OVERLAY_MTU: u32 = 1400;
/// Run before a daemon inside `ip netns exec`, which gives it a copy of
/// every mount, Docker's container namespace files (nsfs bind mounts)
/// included; Docker's later unmounts do not reach that copy, so a daemon
/// would keep every container namespace of the machine alive (and with it
/// the veths of stopped containers, this test's and others'). Detach them
/// in the daemon's own mount namespace; the daemon needs none of them.
pub const FORGET_NSFS: &str = r#"awk '{for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "nsfs") print $5; break }}' /proc/self/mountinfo |
while read -r m; do umount -l "$m" 2>/dev/null; done; exec "$@""#;

/// The bridge containers are attached to (tunnel tests).
pub const BR: &str = "br-c";

/// A daemon we spawned (our child), stopped by its PID on drop.
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Spawn `args` with `env`, stdin from /dev/null, stdout and stderr to
    /// `DIR/NAME.out`, and no other inherited descriptor.
    pub fn spawn<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
        name: &str,
        dir: &Path,
        env: &[(K, V)],
        args: &[&str],
    ) -> Daemon {
        let out_path = dir.join(format!("{name}.out"));
        let out = File::create(&out_path).unwrap_or_else(|e| panic!("create {}: {e}", out_path.display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("dup {}: {e}", out_path.display()));
        let mut cmd = Command::new(args[0]);
        cmd.args(&args[1..]).envs(env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null()).stdout(out).stderr(err);
        // No descriptor of ours (the harness's pipes) stays open in it, and
        // it gets SIGTERM if the test is killed before its Drop runs (what
        // is left then, namespaces and folder, `testbed.sh clean` removes).
        // SAFETY: close_range and prctl are async-signal-safe system calls.
        unsafe {
            cmd.pre_exec(|| {
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name} ({}): {e}", args.join(" ")));
        Daemon { name: name.to_string(), child, log: dir.join(format!("{name}.log")) }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The tail of its log (else of its output), for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log)
            .or_else(|_| std::fs::read_to_string(self.log.with_extension("out")))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {} (last lines of {}) ---\n{}",
            self.name,
            self.log.display(),
            lines[lines.len().saturating_sub(15)..].join("\n")
        )
    }

    /// SIGKILL (a crash), reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then SIGKILL after 5 s; reaped either way.
    pub fn stop(&mut self) {
        if !self.alive() {
            return;
        }
        // Our own unreaped child: the PID is still its own.
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !self.alive() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Poll `cond` every 50 ms for up to `secs`; Err(()) if it never holds.
pub fn poll(secs: u64, mut cond: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if cond() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The simulated network: an underlay namespace with a Linux bridge, and a
/// folder; hosts and OVN central are made from it. Dropped last.
pub struct Testbed {
    pub id: String,
    pub dir: PathBuf,
    pub underlay_ns: String,
}

impl Testbed {
    #[track_caller]
    pub fn new() -> Testbed {
        testbed();
        for tool in ["ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovn-northd", "ovn-controller", "ovn-nbctl"] {
            if !run("sh", &["-c", &format!("command -v {tool}")]).success() {
                panic!("test bed not ready: {tool} is missing (packages openvswitch-switch, ovn-central, ovn-host); run `scripts/testbed.sh up`");
            }
        }
        let id = rand_hex(6);
        let dir = PathBuf::from(BASE).join(&id);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let bed = Testbed { underlay_ns: format!("{PREFIX}-h{id}-u"), id, dir };
        run("ip", &["netns", "add", &bed.underlay_ns]).ok();
        let ns = bed.underlay_ns.as_str();
        run("ip", &["-n", ns, "link", "set", "lo", "up"]).ok();
        run("ip", &["-n", ns, "link", "add", "ul", "type", "bridge"]).ok();
        run("ip", &["-n", ns, "link", "set", "ul", "mtu", &UNDERLAY_MTU.to_string(), "up"]).ok();
        bed
    }

    /// Host number `n` (1 to 250), its underlay address 192.168.77.n.
    #[track_caller]
    pub fn host(&self, n: u8) -> Host {
        Host::new(self, n)
    }

    #[track_caller]
    pub fn ovn_central(&self) -> OvnCentral {
        OvnCentral::new(self)
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = try_run("ip", &["netns", "del", &self.underlay_ns], Duration::from_secs(30));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One simulated host.
pub struct Host {
    pub n: u8,
    pub ns: String,
    pub dir: PathBuf,
    pub underlay_ip: String,
    /// Stopped first on drop: dockerd (its containers' endpoints leave
    /// through the plugin), then the plugin.
    dockerd: RefCell<Option<Daemon>>,
    plugin: RefCell<Option<Daemon>>,
    /// The socket of the plugin started last, removed on drop.
    plugin_socket: RefCell<Option<String>>,
    /// Ordered so that drop stops ovn-controller, then ovs-vswitchd, then
    /// ovsdb-server.
    controller: RefCell<Option<Daemon>>,
    vswitchd: Option<Daemon>,
    ovsdb: Option<Daemon>,
}

impl Host {
    #[track_caller]
    fn new(bed: &Testbed, n: u8) -> Host {
        let ns = format!("{PREFIX}-h{}-{n}", bed.id);
        let dir = bed.dir.join(format!("h{n}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        run("ip", &["netns", "add", &ns]).ok();
        let mut h = Host {
            n,
            ns,
            dir,
            underlay_ip: format!("192.168.77.{n}"),
            dockerd: RefCell::new(None),
            plugin: RefCell::new(None),
            plugin_socket: RefCell::new(None),
            controller: RefCell::new(None),
            vswitchd: None,
            ovsdb: None,
        };
        h.ip(&["link", "set", "lo", "up"]);
        let d = h.dir.to_string_lossy().into_owned();
        run("ovsdb-tool", &["create", &format!("{d}/conf.db"), VSWITCH_SCHEMA]).ok();
        let env = h.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        h.ovsdb = Some(Daemon::spawn(
            "ovsdb-server",
            &h.dir,
            &env,
            &[
                "ip",
                "netns",
                "exec",
                &h.ns,
                "sh",
                "-c",
                FORGET_NSFS,
                "sh",
                "ovsdb-server",
                &format!("{d}/conf.db"),
                &format!("--remote=punix:{d}/db.sock"),
                &format!("--unixctl={d}/ovsdb-server.ctl"),
                &format!("--pidfile={d}/ovsdb-server.pid"),
                "-vconsole:off",
                &format!("--log-file={d}/ovsdb-server.log"),
            ],
        ));
        if poll(10, || Path::new(&format!("{d}/db.sock")).exists()).is_err() {
            panic!(
                "ovsdb-server of host {n} did not start\n{}",
                h.ovsdb.as_ref().map(Daemon::log_tail).unwrap_or_default()
            );
        }
        h.vsctl(&["--no-wait", "init"]);
        h.vswitchd = Some(Daemon::spawn(
            "ovs-vswitchd",
            &h.dir,
            &env,
            &[
                "ip",
                "netns",
                "exec",
                &h.ns,
                "sh",
                "-c",
                FORGET_NSFS,
                "sh",
                "ovs-vswitchd",
                &format!("unix:{d}/db.sock"),
                &format!("--unixctl={d}/ovs-vswitchd.ctl"),
                &format!("--pidfile={d}/ovs-vswitchd.pid"),
                "-vconsole:off",
                &format!("--log-file={d}/ovs-vswitchd.log"),
            ],
        ));
        // Underlay: a veth from this host's namespace to the underlay bridge.
        let (inner, outer) = (format!("{PREFIX}{}u{n}", bed.id), format!("{PREFIX}{}v{n}", bed.id));
        let mtu = UNDERLAY_MTU.to_string();
        run(
            "ip",
            &[
                "link",
                "add",
                &inner,
                "mtu",
                &mtu,
                "netns",
                &h.ns,
                "type",
                "veth",
                "peer",
                "name",
                &outer,
                "mtu",
                &mtu,
                "netns",
                &bed.underlay_ns,
            ],
        )
        .ok();
        run("ip", &["-n", &bed.underlay_ns, "link", "set", &outer, "master", "ul", "up"]).ok();
        h.ip(&["link", "set", &inner, "up"]);
        // add-br waits for ovs-vswitchd (no --no-wait): it is up once this returns.
        h.vsctl(&[
            "add-br",
            "br-phy",
            "--",
            "set",
            "bridge",
            "br-phy",
            "datapath_type=netdev",
            "--",
            "add-port",
            "br-phy",
            &inner,
        ]);
        h.ip(&["link", "set", "br-phy", "mtu", &mtu, "up"]);
        h.ip(&["addr", "add", &format!("{}/24", h.underlay_ip), "dev", "br-phy"]);
        h
    }

    /// The environment of every OVS or OVN program run for this host.
    fn env(&self) -> Vec<(&'static str, String)> {
        let d = self.dir.to_string_lossy().into_owned();
        vec![("OVS_RUNDIR", d.clone()), ("OVS_LOGDIR", d.clone()), ("OVS_DBDIR", d.clone()), ("OVN_RUNDIR", d)]
    }

    pub fn db(&self) -> String {
        format!("unix:{}/db.sock", self.dir.display())
    }

    /// `ip ARGS` inside the host's namespace; must succeed.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> CmdOutput {
        let mut all = vec!["-n", self.ns.as_str()];
        all.extend_from_slice(args);
        let out = run("ip", &all);
        out.ok();
        out
    }

    /// `ovs-vsctl` against this host's OVS; must succeed.
    #[track_caller]
    pub fn vsctl(&self, args: &[&str]) -> CmdOutput {
        ctl("ovs-vsctl", &self.db(), args)
    }

    /// Run the binary under test on this host, as a user would:
    /// `ip netns exec NS env OVS_RUNDIR=DIR ovs-docker ARGS`.
    #[track_caller]
    pub fn ovs_docker(&self, args: &[&str]) -> CmdOutput {
        let rundir = format!("OVS_RUNDIR={}", self.dir.display());
        let mut all = vec!["netns", "exec", self.ns.as_str(), "env", rundir.as_str(), bin()];
        all.extend_from_slice(args);
        let mut out = run("ip", &all);
        // Report it as the command the user typed.
        out.cmdline = format!("[host {}] ovs-docker {}", self.n, args.join(" "));
        out
    }

    /// Attach `c` to `bridge` as eth1 with `addr`/24 and the overlay MTU.
    #[track_caller]
    pub fn attach(&self, bridge: &str, c: &TestContainer, addr: &str, extra: &[&str]) -> CmdOutput {
        let ip = format!("--ipaddress={addr}/24");
        let mtu = format!("--mtu={OVERLAY_MTU}");
        let mut args = vec!["add-port", bridge, "eth1", c.name.as_str(), ip.as_str(), mtu.as_str()];
        args.extend_from_slice(extra);
        let out = self.ovs_docker(&args);
        out.ok();
        out
    }

    /// A netdev bridge for containers.
    #[track_caller]
    pub fn add_bridge(&self, name: &str) {
        self.vsctl(&["add-br", name, "--", "set", "bridge", name, "datapath_type=netdev"]);
    }

    /// Let userspace tunnels to `others` work from the first packet: OVS
    /// learns tunnel neighbours only while a tunnel port exists, and drops
    /// the packet that triggers ARP, so flush and ARP once now.
    #[track_caller]
    pub fn prime_tunnels(&self, others: &[&Host]) {
        self.ip(&["neigh", "flush", "dev", "br-phy"]);
        for o in others {
            let ok = (0..5).any(|_| {
                run("ip", &["netns", "exec", &self.ns, "ping", "-c", "1", "-W", "1", &o.underlay_ip]).success()
            });
            assert!(ok, "host {} cannot reach host {} on the underlay", self.n, o.n);
        }
    }

    /// Start (or restart) ovn-controller, pointing this host at `central`,
    /// and wait until it has made br-int.
    #[track_caller]
    pub fn start_ovn_controller(&self, central: &dyn OvnDatabases) {
        let sb = central.sb();
        self.vsctl(&[
            "set",
            "Open_vSwitch",
            ".",
            &format!("external_ids:system-id=h{}-{}", self.n, self.ns),
            &format!("external_ids:ovn-remote={sb}"),
            "external_ids:ovn-encap-type=geneve",
            &format!("external_ids:ovn-encap-ip={}", self.underlay_ip),
            "external_ids:ovn-bridge=br-int",
            "external_ids:ovn-bridge-datapath-type=netdev",
        ]);
        let d = self.dir.to_string_lossy().into_owned();
        let env = self.env();
        let tls = central.tls_args();
        let daemon = Daemon::spawn(
            "ovn-controller",
            &self.dir,
            &env,
            &[
                "ip",
                "netns",
                "exec",
                &self.ns,
                "sh",
                "-c",
                FORGET_NSFS,
                "sh",
                "ovn-controller",
                &self.db(),
                &format!("--pidfile={d}/ovn-controller.pid"),
                "-vconsole:off",
                &format!("--log-file={d}/ovn-controller.log"),
            ]
            .into_iter()
            .chain(tls.iter().map(String::as_str))
            .collect::<Vec<_>>(),
        );
        *self.controller.borrow_mut() = Some(daemon);
        let br_int = || {
            let db = format!("--db={}", self.db());
            run("ovs-vsctl", &[db.as_str(), "--timeout=5", "br-exists", "br-int"]).success()
        };
        if poll(30, br_int).is_err() {
            panic!("ovn-controller of host {} made no br-int\n{}", self.n, self.controller_log());
        }
    }

    /// Kill ovn-controller (SIGTERM, by PID).
    pub fn stop_ovn_controller(&self) {
        if let Some(mut d) = self.controller.borrow_mut().take() {
            d.stop();
        }
    }

    pub fn controller_pid(&self) -> Option<u32> {
        self.controller.borrow().as_ref().map(Daemon::pid)
    }

    pub fn controller_log(&self) -> String {
        self.controller.borrow().as_ref().map(Daemon::log_tail).unwrap_or_default()
    }

    /// Names of the interfaces of `type` on this host's OVS.
    pub fn interfaces_of_type(&self, kind: &str) -> Vec<String> {
        let out = self.vsctl(&["--bare", "--columns=name", "find", "Interface", &format!("type={kind}")]);
        out.stdout.split_whitespace().map(str::to_string).collect()
    }

    /// Interface rows of container ports (ours) on this host's OVS.
    pub fn container_port_names(&self) -> Vec<String> {
        let out = self.vsctl(&["--bare", "--columns=name", "find", "Interface", "external_ids:created_by=ovs-docker"]);
        out.stdout.split_whitespace().filter(|n| is_host_end_name(n)).map(str::to_string).collect()
    }

    /// Interface rows of the network plugin's endpoints on this host's OVS.
    pub fn endpoint_port_names(&self) -> Vec<String> {
        let out =
            self.vsctl(&["--bare", "--columns=name", "find", "Interface", "external_ids:created_by=ovs-docker-plugin"]);
        out.stdout.split_whitespace().map(str::to_string).collect()
    }

    /// Host ends of veths made by ovs-docker, in the host's namespace.
    pub fn host_end_links(&self) -> Vec<String> {
        let out = self.ip(&["-o", "link", "show"]);
        out.stdout
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .filter(|n| is_host_end_name(n))
            .collect()
    }

    /// Whether a link of that name exists in the host's namespace.
    pub fn has_link(&self, name: &str) -> bool {
        run("ip", &["-n", &self.ns, "link", "show", "dev", name]).success()
    }

    /// Every log of this host, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for d in [&self.ovsdb, &self.vswitchd].into_iter().flatten() {
            s.push_str(&d.log_tail());
            s.push('\n');
        }
        s.push_str(&self.controller_log());
        s
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop_dockerd();
        if let Some(mut d) = self.plugin.borrow_mut().take() {
            d.stop();
        }
        // Also when a crash point or kill_plugin left it.
        if let Some(sock) = self.plugin_socket.borrow_mut().take() {
            let _ = std::fs::remove_file(sock);
        }
        self.stop_ovn_controller();
        if let Some(mut d) = self.vswitchd.take() {
            d.stop();
        }
        if let Some(mut d) = self.ovsdb.take() {
            d.stop();
        }
        // Veths of containers attached here go with the namespace.
        let _ = try_run("ip", &["netns", "del", &self.ns], Duration::from_secs(30));
    }
}

/// Where a host's ovn-controller finds the southbound database.
pub trait OvnDatabases {
    /// The southbound remote(s), as `external_ids:ovn-remote` takes them.
    fn sb(&self) -> String;
    /// ovn-controller's TLS options, for ssl: remotes.
    fn tls_args(&self) -> Vec<String> {
        Vec::new()
    }
}

impl OvnDatabases for OvnCentral {
    fn sb(&self) -> String {
        OvnCentral::sb(self)
    }
}

/// OVN central: northbound and southbound ovsdb-servers and ovn-northd.
pub struct OvnCentral {
    pub dir: PathBuf,
    northd: Option<Daemon>,
    sb: Option<Daemon>,
    nb: Option<Daemon>,
}

impl OvnCentral {
    #[track_caller]
    fn new(bed: &Testbed) -> OvnCentral {
        let dir = bed.dir.join("central");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let d = dir.to_string_lossy().into_owned();
        let env = [("OVS_RUNDIR", d.as_str()), ("OVN_RUNDIR", d.as_str()), ("OVS_LOGDIR", d.as_str())];
        let mut c = OvnCentral { dir: dir.clone(), northd: None, sb: None, nb: None };
        for (db, schema) in [("nb", NB_SCHEMA), ("sb", SB_SCHEMA)] {
            run("ovsdb-tool", &["create", &format!("{d}/{db}.db"), schema]).ok();
            let daemon = Daemon::spawn(
                &format!("ovsdb-server-{db}"),
                &dir,
                &env,
                &[
                    "ovsdb-server",
                    &format!("{d}/{db}.db"),
                    &format!("--remote=punix:{d}/{db}.sock"),
                    &format!("--unixctl={d}/{db}.ctl"),
                    &format!("--pidfile={d}/{db}.pid"),
                    "-vconsole:off",
                    &format!("--log-file={d}/ovsdb-server-{db}.log"),
                ],
            );
            if poll(10, || Path::new(&format!("{d}/{db}.sock")).exists()).is_err() {
                panic!("the OVN {db} ovsdb-server did not start\n{}", daemon.log_tail());
            }
            if db == "nb" {
                c.nb = Some(daemon);
            } else {
                c.sb = Some(daemon);
            }
        }
        c.northd = Some(Daemon::spawn(
            "ovn-northd",
            &dir,
            &env,
            &[
                "ovn-northd",
                &format!("--ovnnb-db={}", c.nb()),
                &format!("--ovnsb-db={}", c.sb()),
                &format!("--unixctl={d}/northd.ctl"),
                &format!("--pidfile={d}/northd.pid"),
                "-vconsole:off",
                &format!("--log-file={d}/ovn-northd.log"),
            ],
        ));
        c.nbctl(&["init"]);
        c
    }

    pub fn nb(&self) -> String {
        format!("unix:{}/nb.sock", self.dir.display())
    }

    pub fn sb(&self) -> String {
        format!("unix:{}/sb.sock", self.dir.display())
    }

    /// `ovn-nbctl` on this northbound database; must succeed.
    #[track_caller]
    pub fn nbctl(&self, args: &[&str]) -> CmdOutput {
        ctl("ovn-nbctl", &self.nb(), args)
    }

    /// `ovn-sbctl` on this southbound database; must succeed.
    #[track_caller]
    pub fn sbctl(&self, args: &[&str]) -> CmdOutput {
        ctl("ovn-sbctl", &self.sb(), args)
    }

    pub fn logs(&self) -> String {
        [&self.nb, &self.sb, &self.northd].into_iter().flatten().map(Daemon::log_tail).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for OvnCentral {
    fn drop(&mut self) {
        for d in [&mut self.northd, &mut self.sb, &mut self.nb] {
            if let Some(mut d) = d.take() {
                d.stop();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Traffic between containers
// ---------------------------------------------------------------------------

/// `PROGRAM --db=DB --timeout=20 ARGS` (ovs-vsctl, ovn-nbctl, ovn-sbctl);
/// must succeed.
#[track_caller]
fn ctl(program: &str, db: &str, args: &[&str]) -> CmdOutput {
    let db = format!("--db={db}");
    let mut all = vec![db.as_str(), "--timeout=20"];
    all.extend_from_slice(args);
    let out = run(program, &all);
    out.ok();
    out
}

// ---------------------------------------------------------------------------
// A dockerd and a network plugin per host (see shared/TESTBED.md, "A
// dockerd per simulated host")
// ---------------------------------------------------------------------------

impl Host {
    /// This host's dockerd socket, as `-H` takes it.
    pub fn docker_host(&self) -> String {
        format!("unix://{}/docker.sock", self.dir.display())
    }

    /// Start this host's own dockerd in its network namespace (own socket,
    /// data and exec roots, pidfile under the host's folder), and load the
    /// test image into it.
    #[track_caller]
    pub fn start_dockerd(&self) {
        let d = self.dir.to_string_lossy().into_owned();
        let netns = format!("--net=/var/run/netns/{}", self.ns);
        let host = self.docker_host();
        // Not `ip netns exec`: its private mount namespace hides the cgroup mounts.
        let daemon = Daemon::spawn(
            "dockerd",
            &self.dir,
            &[] as &[(&str, &str)],
            &[
                "nsenter",
                &netns,
                "dockerd",
                "-H",
                &host,
                "--data-root",
                &format!("{d}/docker-data"),
                "--exec-root",
                &format!("{d}/docker-exec"),
                "--pidfile",
                &format!("{d}/docker.pid"),
                "--storage-driver=vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--shutdown-timeout=2",
            ],
        );
        *self.dockerd.borrow_mut() = Some(daemon);
        let up = || run("docker", &["-H", &host, "version", "--format", "{{.Server.Version}}"]).success();
        if poll(60, up).is_err() {
            panic!("the dockerd of host {} does not answer\n{}", self.n, self.dockerd_log());
        }
        let load = format!("docker save {IMAGE} | docker -H {host} load");
        run("sh", &["-c", &load]).ok();
    }

    /// Stop this host's dockerd (SIGTERM by PID: it stops its containers).
    pub fn stop_dockerd(&self) {
        if let Some(mut d) = self.dockerd.borrow_mut().take() {
            d.stop();
        }
    }

    pub fn dockerd_log(&self) -> String {
        self.dockerd.borrow().as_ref().map(Daemon::log_tail).unwrap_or_default()
    }

    /// `docker -H THIS_HOST ARGS` (not required to succeed).
    pub fn docker(&self, args: &[&str]) -> CmdOutput {
        let host = self.docker_host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        let mut out = run("docker", &all);
        out.cmdline = format!("[host {}] docker {}", self.n, args.join(" "));
        out
    }

    /// The driver name of this host's plugin.
    pub fn plugin_name(&self, bed: &Testbed) -> String {
        format!("{PREFIX}{}p{}", bed.id, self.n)
    }

    /// Start (or start again) this host's network plugin, as a user would
    /// on that host: in its namespace, with its OVS_RUNDIR and DOCKER_HOST,
    /// serving `/run/docker/plugins/NAME.sock`, with `extra` arguments
    /// (`--ovn-nb=...`).
    #[track_caller]
    pub fn start_plugin(&self, name: &str, extra: &[&str]) {
        self.start_plugin_env(name, extra, &[]);
    }

    /// [`Host::start_plugin`] with more environment (`OVS_DOCKER_CRASH_AT`).
    #[track_caller]
    pub fn start_plugin_env(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) {
        let d = self.dir.to_string_lossy().into_owned();
        let (rundir, docker) = (format!("OVS_RUNDIR={d}"), format!("DOCKER_HOST={}", self.docker_host()));
        let mut args = vec!["ip", "netns", "exec", &self.ns, "sh", "-c", FORGET_NSFS, "sh", "env", &rundir, &docker];
        args.extend_from_slice(&[bin(), "plugin", "--name", name, "--datapath-type=netdev", "--log-level=debug"]);
        args.extend_from_slice(extra);
        let socket = format!("/run/docker/plugins/{name}.sock");
        let _ = std::fs::remove_file(&socket);
        let daemon = Daemon::spawn("plugin", &self.dir, env, &args);
        *self.plugin.borrow_mut() = Some(daemon);
        *self.plugin_socket.borrow_mut() = Some(socket.clone());
        if poll(20, || std::os::unix::net::UnixStream::connect(&socket).is_ok()).is_err() {
            panic!("the plugin of host {} does not serve {socket}\n{}", self.n, self.plugin_log());
        }
    }

    /// Whether the plugin runs (not killed by a crash point).
    pub fn plugin_alive(&self) -> bool {
        self.plugin.borrow_mut().as_mut().is_some_and(Daemon::alive)
    }

    /// SIGKILL the plugin (by PID), as a crash would.
    pub fn kill_plugin(&self) {
        if let Some(mut d) = self.plugin.borrow_mut().take() {
            // SAFETY: our own unreaped child; kill has no memory-safety preconditions.
            unsafe { libc::kill(d.pid() as libc::pid_t, libc::SIGKILL) };
            d.stop();
        }
    }

    pub fn plugin_log(&self) -> String {
        self.plugin.borrow().as_ref().map(Daemon::log_tail).unwrap_or_default()
    }
}

/// Start an ovn-controller on every host, wait until each has its geneve
/// tunnels to the others, and prime them (see [`Host::prime_tunnels`]).
#[track_caller]
pub fn connect_ovn(central: &dyn OvnDatabases, hosts: &[&Host]) {
    for h in hosts {
        h.start_ovn_controller(central);
    }
    for h in hosts {
        let want = hosts.len() - 1;
        let mut n = 0;
        let waited = poll(30, || {
            n = h.interfaces_of_type("geneve").len();
            n == want
        });
        assert!(waited.is_ok(), "host {}: {n} geneve tunnels, expected {want}\n{}", h.n, h.logs());
    }
    for h in hosts {
        let others: Vec<&Host> = hosts.iter().filter(|o| o.n != h.n).copied().collect();
        h.prime_tunnels(&others);
    }
}
