//! OVN central as production runs it: the northbound and the southbound
//! database each a 3-member raft cluster, reached over `ssl:` with
//! certificates made by `ovs-pki` (see shared/TESTBED.md, "OVN's northbound
//! database as a 3-member raft cluster behind TLS").
//!
//! The members live in a "central" namespace plugged into the simulated
//! underlay, each on an address of its own (192.168.77.201 to .203): the
//! simulated hosts reach them there, and nothing of the root namespace
//! does (run every client in a host's namespace, or with [`OvnCluster::run`]
//! in the central one). ovn-northd runs there too, on both clusters.
//!
//! Everything stops on drop, by the PIDs of our children.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::multihost::{poll, Daemon, OvnDatabases, Testbed, FORGET_NSFS, UNDERLAY_MTU};
use super::*;

const NB_SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";
const SB_SCHEMA: &str = "/usr/share/ovn/ovn-sb.ovsschema";

/// A certificate authority and a certificate for servers and one for
/// clients, signed by it (`ovs-pki init`, `req+sign`).
pub struct Pki {
    pub dir: PathBuf,
    pub ca_cert: PathBuf,
    pub server_key: PathBuf,
    pub server_cert: PathBuf,
    pub client_key: PathBuf,
    pub client_cert: PathBuf,
}

impl Pki {
    /// A new CA in `dir` (created), with its two certificates.
    #[track_caller]
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let d = dir.to_string_lossy().into_owned();
        let script = format!(
            "cd '{d}' && ovs-pki --dir='{d}/pki' --log='{d}/pki.log' init --force && \
             ovs-pki --dir='{d}/pki' --log='{d}/pki.log' req+sign server switch && \
             ovs-pki --dir='{d}/pki' --log='{d}/pki.log' req+sign client switch"
        );
        run("sh", &["-c", &script]).ok();
        Pki {
            dir: dir.to_path_buf(),
            ca_cert: dir.join("pki/switchca/cacert.pem"),
            server_key: dir.join("server-privkey.pem"),
            server_cert: dir.join("server-cert.pem"),
            client_key: dir.join("client-privkey.pem"),
            client_cert: dir.join("client-cert.pem"),
        }
    }

    /// `--private-key=... --certificate=... --ca-cert=...` of a client.
    pub fn client_args(&self) -> Vec<String> {
        tls_args(&self.client_key, &self.client_cert, &self.ca_cert)
    }

    fn server_args(&self) -> Vec<String> {
        tls_args(&self.server_key, &self.server_cert, &self.ca_cert)
    }
}

fn tls_args(key: &Path, cert: &Path, ca: &Path) -> Vec<String> {
    vec![
        format!("--private-key={}", key.display()),
        format!("--certificate={}", cert.display()),
        format!("--ca-cert={}", ca.display()),
    ]
}

/// Which of the two clustered databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Nb,
    Sb,
}

impl Db {
    fn short(self) -> &'static str {
        match self {
            Db::Nb => "nb",
            Db::Sb => "sb",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Db::Nb => "OVN_Northbound",
            Db::Sb => "OVN_Southbound",
        }
    }
    fn schema(self) -> &'static str {
        match self {
            Db::Nb => NB_SCHEMA,
            Db::Sb => SB_SCHEMA,
        }
    }
    /// Client port; the raft port is the next but one.
    fn port(self) -> u16 {
        match self {
            Db::Nb => 6641,
            Db::Sb => 6642,
        }
    }
}

/// The number of members of each cluster.
pub const MEMBERS: usize = 3;

pub struct OvnCluster {
    pub dir: PathBuf,
    /// The central namespace.
    pub ns: String,
    pub pki: Pki,
    northd: Option<Daemon>,
    /// Members 0..MEMBERS of the NB cluster, then of the SB cluster.
    members: Vec<Option<Daemon>>,
}

impl OvnCluster {
    /// Start both clusters and ovn-northd, and wait until each cluster has
    /// all its members and a leader.
    #[track_caller]
    pub fn new(bed: &Testbed) -> OvnCluster {
        let dir = bed.dir.join("cluster");
        let ns = format!("{PREFIX}-h{}-c", bed.id);
        run("ip", &["netns", "add", &ns]).ok();
        run("ip", &["-n", &ns, "link", "set", "lo", "up"]).ok();
        let (inner, outer) = (format!("{PREFIX}{}cc", bed.id), format!("{PREFIX}{}cu", bed.id));
        let mtu = UNDERLAY_MTU.to_string();
        let veth = ["link", "add", &inner, "mtu", &mtu, "netns", &ns, "type", "veth", "peer", "name", &outer];
        run("ip", &veth).ok();
        run("ip", &["link", "set", &outer, "mtu", &mtu, "netns", &bed.underlay_ns]).ok();
        run("ip", &["-n", &bed.underlay_ns, "link", "set", &outer, "master", "ul", "up"]).ok();
        for m in 0..MEMBERS {
            run("ip", &["-n", &ns, "addr", "add", &format!("{}/24", member_ip(m)), "dev", &inner]).ok();
        }
        run("ip", &["-n", &ns, "link", "set", &inner, "up"]).ok();
        // The hosts' ends of the underlay are read by OVS's userspace
        // datapath, which never completes a partial checksum: TCP from here
        // must carry full ones (see TESTBED.md, pitfall 5).
        run("ip", &["netns", "exec", &ns, "ethtool", "-K", &inner, "tx", "off"]).ok();
        let pki = Pki::new(&dir.join("pki"));
        let mut c = OvnCluster { dir, ns, pki, northd: None, members: (0..2 * MEMBERS).map(|_| None).collect() };
        for db in [Db::Nb, Db::Sb] {
            c.create(db);
            for m in 0..MEMBERS {
                c.start_member(db, m);
            }
        }
        for db in [Db::Nb, Db::Sb] {
            c.wait_formed(db);
        }
        let d = c.dir.to_string_lossy().into_owned();
        let (nb, sb) = (format!("--ovnnb-db={}", c.remote(Db::Nb)), format!("--ovnsb-db={}", c.remote(Db::Sb)));
        let mut args = c.in_ns(&["ovn-northd", &nb, &sb]);
        args.extend(c.pki.client_args());
        args.extend([
            format!("--unixctl={d}/northd.ctl"),
            format!("--pidfile={d}/northd.pid"),
            "-vconsole:off".into(),
            format!("--log-file={d}/ovn-northd.log"),
        ]);
        c.northd = Some(Daemon::spawn("ovn-northd", &c.dir, &c.env(), &strs(&args)));
        c.nbctl(&["init"]);
        c
    }

    /// `ssl:IP1:PORT,ssl:IP2:PORT,ssl:IP3:PORT` of `db`.
    pub fn remote(&self, db: Db) -> String {
        (0..MEMBERS).map(|m| format!("ssl:{}:{}", member_ip(m), db.port())).collect::<Vec<_>>().join(",")
    }

    pub fn nb(&self) -> String {
        self.remote(Db::Nb)
    }

    /// `ovn-nbctl` on the NB cluster, from the central namespace; must succeed.
    #[track_caller]
    pub fn nbctl(&self, args: &[&str]) -> CmdOutput {
        let out = self.run("ovn-nbctl", &self.remote(Db::Nb), args);
        out.ok();
        out
    }

    /// `PROGRAM --db=REMOTE TLS ARGS` in the central namespace.
    #[track_caller]
    pub fn run(&self, program: &str, remote: &str, args: &[&str]) -> CmdOutput {
        let db = format!("--db={remote}");
        let mut all: Vec<String> = ["netns", "exec", &self.ns, program, &db, "--timeout=20"].map(String::from).into();
        all.extend(self.pki.client_args());
        all.extend(args.iter().map(|s| s.to_string()));
        run("ip", &all)
    }

    /// The member of `db`'s cluster that leads now, waiting up to 10 s for
    /// an election to end.
    #[track_caller]
    pub fn leader(&self, db: Db) -> usize {
        let mut leader = None;
        let found = poll(10, || {
            leader = (0..MEMBERS).find(|&m| self.status(db, m).contains("Role: leader"));
            leader.is_some()
        });
        found.map(|_| leader.unwrap_or_default()).unwrap_or_else(|_| panic!("no leader in {db:?}\n{}", self.logs()))
    }

    /// Kill member `m` of `db` (SIGKILL, by PID): a crash, not a leave.
    pub fn kill(&mut self, db: Db, m: usize) {
        if let Some(mut d) = self.members[index(db, m)].take() {
            d.kill();
        }
    }

    /// Start member `m` of `db` again on its database file: it rejoins.
    #[track_caller]
    pub fn restart(&mut self, db: Db, m: usize) {
        self.start_member(db, m);
        self.wait_formed(db);
    }

    /// Start every member of `db` that is not running (all of them after
    /// a total loss) on its database file: the cluster forms again.
    #[track_caller]
    pub fn restart_all(&mut self, db: Db) {
        for m in 0..MEMBERS {
            if self.members[index(db, m)].is_none() {
                self.start_member(db, m);
            }
        }
        self.wait_formed(db);
    }

    pub fn logs(&self) -> String {
        self.members.iter().chain([&self.northd]).flatten().map(Daemon::log_tail).collect::<Vec<_>>().join("\n")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let d = self.dir.to_string_lossy().into_owned();
        vec![("OVS_RUNDIR", d.clone()), ("OVS_LOGDIR", d.clone()), ("OVN_RUNDIR", d)]
    }

    /// `ip netns exec NS sh -c FORGET_NSFS sh ARGS` (see multihost.rs).
    fn in_ns(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> =
            ["ip", "netns", "exec", &self.ns, "sh", "-c", FORGET_NSFS, "sh"].map(String::from).into();
        all.extend(args.iter().map(|s| s.to_string()));
        all
    }

    fn db_file(&self, db: Db, m: usize) -> String {
        format!("{}/{}{m}.db", self.dir.display(), db.short())
    }

    fn ctl(&self, db: Db, m: usize) -> String {
        format!("{}/{}{m}.ctl", self.dir.display(), db.short())
    }

    /// The database files: member 0 creates the cluster, the others join it.
    #[track_caller]
    fn create(&self, db: Db) {
        let raft = |m: usize| format!("ssl:{}:{}", member_ip(m), db.port() + 2);
        run("ovsdb-tool", &["create-cluster", &self.db_file(db, 0), db.schema(), &raft(0)]).ok();
        for m in 1..MEMBERS {
            run("ovsdb-tool", &["join-cluster", &self.db_file(db, m), db.name(), &raft(m), &raft(0)]).ok();
        }
    }

    #[track_caller]
    fn start_member(&mut self, db: Db, m: usize) {
        let d = self.dir.to_string_lossy().into_owned();
        let name = format!("{}{m}", db.short());
        let file = self.db_file(db, m);
        let mut args = self.in_ns(&["ovsdb-server", &file]);
        args.push(format!("--remote=pssl:{}:{}", db.port(), member_ip(m)));
        args.extend(self.pki.server_args());
        args.extend([
            format!("--unixctl={}", self.ctl(db, m)),
            format!("--pidfile={d}/{name}.pid"),
            "-vconsole:off".into(),
            format!("--log-file={d}/ovsdb-server-{name}.log"),
        ]);
        let env = self.env();
        self.members[index(db, m)] =
            Some(Daemon::spawn(&format!("ovsdb-server-{name}"), &self.dir, &env, &strs(&args)));
    }

    /// `cluster/status` of a member; empty if it does not answer within
    /// 5 s (ovs-appctl gives up by itself, the callers poll again; the
    /// 30 s deadline, which panics, is only a backstop).
    fn status(&self, db: Db, m: usize) -> String {
        let ctl = self.ctl(db, m);
        let args = ["--timeout=5", "-t", &ctl, "cluster/status", db.name()];
        let out = try_run("ovs-appctl", &args, Duration::from_secs(30));
        out.map(|o| o.stdout).unwrap_or_default()
    }

    /// Every member is in the cluster, and one leads.
    #[track_caller]
    fn wait_formed(&self, db: Db) {
        let formed = poll(60, || {
            let all: Vec<String> = (0..MEMBERS).map(|m| self.status(db, m)).collect();
            all.iter().all(|s| s.contains("Status: cluster member")) && all.iter().any(|s| s.contains("Role: leader"))
        });
        if formed.is_err() {
            panic!("the {db:?} cluster did not form within 60 s\n{}", self.logs());
        }
    }
}

impl OvnDatabases for OvnCluster {
    fn sb(&self) -> String {
        self.remote(Db::Sb)
    }

    fn tls_args(&self) -> Vec<String> {
        self.pki.client_args()
    }
}

impl Drop for OvnCluster {
    fn drop(&mut self) {
        if let Some(mut d) = self.northd.take() {
            d.stop();
        }
        for d in self.members.iter_mut() {
            if let Some(mut d) = d.take() {
                d.stop();
            }
        }
        let _ = try_run("ip", &["netns", "del", &self.ns], Duration::from_secs(30));
    }
}

fn index(db: Db, m: usize) -> usize {
    match db {
        Db::Nb => m,
        Db::Sb => MEMBERS + m,
    }
}

/// The underlay address of member `m` (of both clusters).
pub fn member_ip(m: usize) -> String {
    format!("192.168.77.{}", 201 + m)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
