//! The network plugin's mode=ovn across (simulated) hosts: every host a
//! network namespace with its own OVS, ovn-controller, dockerd and plugin
//! (see tests/common/multihost.rs), OVN central shared. The same `docker
//! network create` on each host makes one network: containers on different
//! hosts reach each other, addresses come from the northbound database
//! (`--ipam-driver`), the gateway answers everywhere, and the last host's
//! `docker network rm` leaves nothing.
//!
//! The tests run one at a time (a mutex): each starts many daemons, and
//! the machine has two cores.

mod common;

use std::sync::Mutex;

use common::multihost::*;
use common::ovn_cluster::{Db, OvnCluster};
use common::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// OVN central as production runs it (NB and SB each a 3-member raft
/// cluster over ssl:) and `n` hosts, each with ovn-controller, dockerd and
/// its plugin (driver `ovsdt<bed>p<N>`, also the IPAM driver) on the
/// northbound cluster, with the client certificate.
struct Cluster {
    // Dropped in this order: hosts (dockerd, plugin, OVS), central, bed.
    hosts: Vec<Host>,
    central: OvnCluster,
    bed: Testbed,
}

impl Cluster {
    #[track_caller]
    fn new(n: u8) -> Cluster {
        let bed = Testbed::new();
        let central = OvnCluster::new(&bed);
        let hosts: Vec<Host> = (1..=n).map(|i| bed.host(i)).collect();
        connect_ovn(&central, &hosts.iter().collect::<Vec<_>>());
        let cl = Cluster { hosts, central, bed };
        for h in &cl.hosts {
            h.start_dockerd();
            cl.start_plugin(h);
        }
        cl
    }

    /// Start (again) the plugin of host `h` on the northbound cluster.
    #[track_caller]
    fn start_plugin(&self, h: &Host) {
        self.start_plugin_env(h, &[]);
    }

    #[track_caller]
    fn start_plugin_env(&self, h: &Host, env: &[(&str, &str)]) {
        let mut args = vec![format!("--ovn-nb={}", self.central.nb())];
        args.extend(self.central.pki.client_args());
        h.start_plugin_env(&h.plugin_name(&self.bed), &args.iter().map(String::as_str).collect::<Vec<_>>(), env);
    }

    fn h(&self, n: usize) -> &Host {
        &self.hosts[n - 1]
    }

    /// `docker network create` of a mode=ovn network `name` on host `h`,
    /// on switch `switch` (10.30.N.0/24 with N given), with `extra` options.
    #[track_caller]
    fn create_network(&self, h: &Host, name: &str, switch: &str, subnet: u8, extra: &[&str]) -> CmdOutput {
        let args = self.network_args(h, name, switch, subnet, extra);
        h.docker(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The arguments of that `docker network create`.
    fn network_args(&self, h: &Host, name: &str, switch: &str, subnet: u8, extra: &[&str]) -> Vec<String> {
        let driver = h.plugin_name(&self.bed);
        let mut args: Vec<String> =
            ["network", "create", "-d", &driver, "--ipam-driver", &driver].map(String::from).into();
        args.push(format!("--ipam-opt=ovn_switch={switch}"));
        args.extend(["-o".into(), "mode=ovn".into(), "-o".into(), format!("ovn_switch={switch}")]);
        args.extend([format!("--subnet=10.30.{subnet}.0/24"), format!("--gateway=10.30.{subnet}.1")]);
        args.extend(extra.iter().chain([&name]).map(|s| s.to_string()));
        args
    }

    /// The same mode=ovn network `name` created on every host, on switch
    /// `ovsdt<bed><name>`, which is returned.
    #[track_caller]
    fn network_everywhere(&self, name: &str, subnet: u8, extra: &[&str]) -> String {
        let sw = format!("{PREFIX}{}{name}", self.bed.id);
        for h in &self.hosts {
            self.create_network(h, name, &sw, subnet, extra).ok();
        }
        sw
    }

    /// `docker network rm` of `names` on every host, then nothing may be left.
    #[track_caller]
    fn remove_everywhere(&self, names: &[&str]) {
        for h in &self.hosts {
            for n in names {
                h.docker(&["network", "rm", n]).ok();
            }
        }
        self.assert_nothing_left();
    }

    /// Everything of the network plugin is gone: nothing in the northbound
    /// database, no port or network record of ours on any host's OVS, no
    /// veth of ours in any host's kernel.
    #[track_caller]
    fn assert_nothing_left(&self) {
        for table in ["Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port"] {
            let rows = self.central.nbctl(&["--bare", "--columns=name", "list", table]);
            assert!(rows.stdout.trim().is_empty(), "{table} still holds: {}", rows.stdout);
        }
        for h in &self.hosts {
            assert!(h.endpoint_port_names().is_empty(), "host {}: ports {:?}", h.n, h.endpoint_port_names());
            let ids = h.vsctl(&["get", "Bridge", "br-int", "external_ids"]);
            assert!(!ids.stdout.contains("ovs_docker"), "host {}: br-int external_ids {}", h.n, ids.stdout);
            assert!(h.host_end_links().is_empty(), "host {}: veths {:?}", h.n, h.host_end_links());
        }
    }

    fn logs(&self) -> String {
        let mut s: Vec<String> =
            self.hosts.iter().map(|h| format!("{}\n{}", h.plugin_log(), h.dockerd_log())).collect();
        s.push(self.central.logs());
        s.join("\n")
    }
}

/// `n` containers to run, spread over `hosts` in turn (not started).
fn spread(hosts: &[Host], n: usize) -> Vec<Ctr<'_>> {
    (0..n).map(|i| Ctr { host: &hosts[i % hosts.len()], name: format!("{PREFIX}{}", rand_hex(8)) }).collect()
}

/// A container on one host, removed (`docker rm -f`) on drop.
struct Ctr<'a> {
    host: &'a Host,
    name: String,
}

impl<'a> Ctr<'a> {
    /// `docker run -d --network NET [extra] busybox sleep`; None if refused
    /// (the output then says why).
    fn try_run(host: &'a Host, net: &str, extra: &[&str]) -> Result<Ctr<'a>, CmdOutput> {
        let name = format!("{PREFIX}{}", rand_hex(8));
        let mut args = vec!["run", "-d", "--network", net, "--name", name.as_str()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[IMAGE, "sleep", "3600"]);
        let out = host.docker(&args);
        let c = Ctr { host, name };
        if out.success() {
            Ok(c)
        } else {
            Err(out)
        }
    }

    #[track_caller]
    fn run(host: &'a Host, net: &str, extra: &[&str]) -> Ctr<'a> {
        Ctr::try_run(host, net, extra).unwrap_or_else(|out| panic!("{out}\n{}", host.plugin_log()))
    }

    fn exec(&self, cmd: &str) -> CmdOutput {
        self.host.docker(&["exec", &self.name, "sh", "-c", cmd])
    }

    /// The container's address on its network.
    #[track_caller]
    fn ip(&self) -> String {
        let out = self.host.docker(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &self.name,
        ]);
        out.ok();
        out.stdout.trim().to_string()
    }

    /// Whether one of 5 pings (1 s each) to `addr` is answered: for checks
    /// that `addr` is NOT reached.
    fn pings(&self, addr: &str) -> bool {
        (0..5).any(|_| self.exec(&format!("ping -c 1 -W 1 {addr}")).success())
    }

    /// Whether `addr` answers a ping within 30 s (single pings, retried): for
    /// checks that `addr` IS reached. Another host's ovn-controller installs
    /// its flows asynchronously, later on a loaded machine.
    fn reaches(&self, addr: &str) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if self.exec(&format!("ping -c 1 -W 1 {addr}")).success() {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
        }
    }

    fn remove(&self) {
        let _ = self.host.docker(&["rm", "-f", &self.name]);
    }
}

impl Drop for Ctr<'_> {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A TCP transfer of 200 kB from `client` to `server` at `addr`, checked
/// by checksum. The listener's stdin stays open (sleep), so that it stops
/// only at the sender's end of stream.
#[track_caller]
fn assert_tcp(client: &Ctr, server: &Ctr, addr: &str) {
    let listen = "rm -f /tmp/rx; sleep 60 | nc -l -p 5001 > /tmp/rx";
    server.host.docker(&["exec", "-d", &server.name, "sh", "-c", listen]).ok();
    let sum = client.exec("head -c 200000 /dev/urandom > /tmp/tx && md5sum < /tmp/tx").ok().stdout.clone();
    let send =
        format!("for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 3 {addr} 5001 < /tmp/tx && exit 0; sleep 0.3; done; exit 1");
    client.exec(&send).ok();
    let mut got = String::new();
    let done = (0..200).any(|_| {
        got = server.exec("md5sum < /tmp/rx").stdout;
        got == sum || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            false
        }
    });
    let size = server.exec("wc -c < /tmp/rx").stdout;
    assert!(done, "TCP {} -> {addr}: sent md5 {sum}, received {} bytes, md5 {got}", client.name, size.trim());
}

/// The names of the logical switch ports in the northbound database.
fn lsp_names(central: &OvnCluster) -> Vec<String> {
    let out = central.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch_Port"]);
    out.stdout.split_whitespace().map(str::to_string).collect()
}

/// The address ports (`SWITCH:10.…`) of switch `sw` in the northbound
/// database, sorted.
fn address_port_names(central: &OvnCluster, sw: &str) -> Vec<String> {
    let mut p: Vec<String> = lsp_names(central).into_iter().filter(|n| n.starts_with(&format!("{sw}:10."))).collect();
    p.sort();
    p
}

/// The address ports that `running` containers on switch `sw` hold, sorted.
fn port_names_of(sw: &str, running: &[&Ctr]) -> Vec<String> {
    let mut want: Vec<String> = running.iter().map(|c| format!("{sw}:{}", c.ip())).collect();
    want.sort();
    want
}

/// One network created the same way on three hosts: containers on
/// different hosts ping and talk TCP to each other and ping the gateway;
/// a static --ip or a MAC taken on one host is refused on another; each host's
/// `docker network rm` removes only its use, the last one everything.
#[test]
fn one_network_on_three_hosts() {
    let _serial = serial();
    let cl = Cluster::new(3);
    let sw = cl.network_everywhere("ovsdtweb", 1, &[]);
    // A switch of that name with another subnet is refused.
    let other = cl.create_network(cl.h(1), "ovsdtother", &sw, 2, &[]);
    assert!(!other.success() && other.stderr.contains("exists with subnet"), "{other}");

    let c1 = Ctr::run(cl.h(1), "ovsdtweb", &[]);
    let c2 = Ctr::run(cl.h(2), "ovsdtweb", &[]);
    let c3 = Ctr::run(cl.h(3), "ovsdtweb", &["--ip", "10.30.1.50"]);
    let (ip1, ip2, ip3) = (c1.ip(), c2.ip(), c3.ip());
    assert_eq!(ip3, "10.30.1.50");
    assert!(ip1 != ip2 && ip1 != ip3 && ip2 != ip3, "{ip1} {ip2} {ip3}");
    for (a, b) in [(&c1, &ip2), (&c2, &ip1), (&c3, &ip1), (&c1, &ip3)] {
        assert!(a.reaches(b), "{} cannot ping {b}\n{}", a.name, cl.logs());
    }
    for c in [&c1, &c2, &c3] {
        assert!(c.reaches("10.30.1.1"), "{} cannot ping its gateway\n{}", c.name, cl.logs());
    }
    assert_tcp(&c1, &c2, &ip2);
    assert_tcp(&c3, &c1, &ip1);

    // The same static address on another host: refused, nothing made.
    let lsps = lsp_names(&cl.central);
    let taken = Ctr::try_run(cl.h(1), "ovsdtweb", &["--ip", "10.30.1.50"]);
    let out = taken.err().expect("a second container got 10.30.1.50");
    assert!(out.stderr.contains("already in use"), "{out}");
    assert_eq!(lsp_names(&cl.central), lsps);
    // c1's MAC asked for by an endpoint on another host (a direct driver
    // call: this docker CLI cannot send a MAC to a 1.41 daemon): refused,
    // nothing made.
    let mac = cl.h(1).docker(&["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}", &c1.name]);
    let mac = mac.ok().stdout.trim().to_string();
    let net = cl.h(2).docker(&["network", "inspect", "-f", "{{.Id}}", "ovsdtweb"]).ok().stdout.trim().to_string();
    let body = serde_json::json!({"NetworkID": net, "EndpointID": rand_hex(32),
        "Interface": {"Address": "10.30.1.77/24", "MacAddress": mac}});
    let sock = format!("/run/docker/plugins/{}.sock", cl.h(2).plugin_name(&cl.bed));
    let (_, out) = common::plugin::post_json(&sock, "NetworkDriver.CreateEndpoint", &body.to_string());
    assert!(out["Err"].as_str().is_some_and(|e| e.contains(&format!("MAC {mac} is in use"))), "{out}");
    assert_eq!(lsp_names(&cl.central), lsps);
    assert_eq!(cl.h(2).endpoint_port_names().len(), 1, "{:?}", cl.h(2).endpoint_port_names());

    drop((c1, c2, c3));
    for (i, h) in cl.hosts.iter().enumerate() {
        h.docker(&["network", "rm", "ovsdtweb"]).ok();
        let left = cl.central.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch"]);
        let last = i + 1 == cl.hosts.len();
        assert_eq!(left.stdout.trim().is_empty(), last, "after host {}: switches {}", h.n, left.stdout);
    }
    cl.assert_nothing_left();
}

/// Networks without `ovn_router` reach only themselves; networks with the
/// same `ovn_router` are routed to each other, across hosts, and a subnet
/// the router routes already is refused. A network on Docker's own IPAM
/// refuses an address another host holds.
#[test]
fn networks_isolated_unless_they_share_a_router() {
    let _serial = serial();
    let cl = Cluster::new(2);
    let router = format!("-o=ovn_router={PREFIX}{}r", cl.bed.id);
    cl.network_everywhere("ovsdta", 1, &[]);
    cl.network_everywhere("ovsdtb", 2, &[]);
    cl.network_everywhere("ovsdtc", 3, &[&router]);
    cl.network_everywhere("ovsdtd", 4, &[&router]);
    // A network on that router whose subnet one of its networks has already
    // is refused, leaving no switch, router port or Docker network.
    let sw_f = format!("{PREFIX}{}f", cl.bed.id);
    let out = cl.create_network(cl.h(1), "ovsdtf", &sw_f, 3, &[&router]);
    assert!(!out.success(), "a second 10.30.3.0/24 on one router was taken:\n{out}");
    assert!(out.stderr.contains("already routes 10.30.3.1/24"), "{out}");
    let switches = cl.central.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch"]).stdout;
    assert!(!switches.contains(&sw_f), "switch {sw_f} was made: {switches}");
    let ports = cl.central.nbctl(&["--bare", "--columns=name", "list", "Logical_Router_Port"]).stdout;
    assert_eq!(ports.split_whitespace().count(), 4, "router ports: {ports}");
    assert!(!cl.h(1).docker(&["network", "ls", "--format", "{{.Name}}"]).stdout.contains("ovsdtf"));
    let ca = Ctr::run(cl.h(1), "ovsdta", &[]);
    let cb = Ctr::run(cl.h(2), "ovsdtb", &[]);
    let cc = Ctr::run(cl.h(1), "ovsdtc", &[]);
    let cd = Ctr::run(cl.h(2), "ovsdtd", &[]);
    // Each reaches its own gateway...
    for (x, gw) in [(&ca, "10.30.1.1"), (&cb, "10.30.2.1"), (&cc, "10.30.3.1"), (&cd, "10.30.4.1")] {
        assert!(x.reaches(gw), "{} cannot ping its gateway {gw}\n{}", x.name, cl.logs());
    }
    // ...routed networks each other, across hosts...
    assert!(cc.reaches(&cd.ip()), "c cannot reach d through the shared router\n{}", cl.logs());
    assert!(cd.reaches(&cc.ip()), "d cannot reach c through the shared router");
    // ...and nothing else.
    for (x, y) in [(&ca, &cb), (&cb, &ca), (&ca, &cc), (&cd, &cb)] {
        assert!(!x.pings(&y.ip()), "{} reaches {} on another network", x.name, y.name);
    }
    drop((ca, cb, cc, cd));
    // With Docker's own IPAM each host allocates alone: the same address
    // on a second host is refused at `docker run`, not handed out twice.
    let sw = format!("{PREFIX}{}e", cl.bed.id);
    for h in &cl.hosts {
        let driver = h.plugin_name(&cl.bed);
        let sw_opt = format!("ovn_switch={sw}");
        let args = ["network", "create", "-d", &driver, "-o", "mode=ovn", "-o", &sw_opt, "--subnet=10.30.5.0/24"];
        h.docker(&[&args[..], &["--gateway=10.30.5.1", "ovsdte"]].concat()).ok();
    }
    let e1 = Ctr::run(cl.h(1), "ovsdte", &[]);
    let out = Ctr::try_run(cl.h(2), "ovsdte", &[]).err().expect("two hosts handed out the same address");
    assert!(out.stderr.contains(&format!("address {} is in use", e1.ip())), "{out}");
    drop(e1);
    cl.remove_everywhere(&["ovsdta", "ovsdtb", "ovsdtc", "ovsdtd", "ovsdte"]);
}

/// Ten `docker run` at once, spread over three hosts: ten distinct
/// addresses, each one port in the northbound database.
#[test]
fn concurrent_runs_get_distinct_addresses() {
    let _serial = serial();
    let cl = Cluster::new(3);
    let sw = cl.network_everywhere("ovsdtmany", 5, &[]);
    // The containers are ours to remove whatever the outcome.
    let ctrs = spread(&cl.hosts, 10);
    let runs: Vec<(String, String)> = ctrs.iter().map(|c| (c.host.docker_host(), c.name.clone())).collect();
    let outs = run_all(&runs, "ovsdtmany", || {});
    for out in &outs {
        assert!(out.success(), "{out}\n{}", cl.logs());
    }
    let ips: std::collections::BTreeSet<String> = ctrs.iter().map(Ctr::ip).collect();
    assert_eq!(ips.len(), 10, "addresses {ips:?}");
    let ports: Vec<String> =
        lsp_names(&cl.central).into_iter().filter(|n| n.starts_with(&format!("{sw}:10."))).collect();
    assert_eq!(ports.len(), 10, "logical ports {ports:?}");
    // Two far apart reach each other.
    assert!(ctrs[0].reaches(&ctrs[1].ip()), "{}", cl.logs());
    drop(ctrs);
    cl.remove_everywhere(&["ovsdtmany"]);
}

/// The plugin killed (SIGKILL) and started again: running containers stay
/// connected, new ones work, and removal still leaves nothing.
#[test]
fn plugin_killed_and_restarted_loses_nothing() {
    let _serial = serial();
    let cl = Cluster::new(2);
    cl.network_everywhere("ovsdtkill", 6, &[]);
    let c1 = Ctr::run(cl.h(1), "ovsdtkill", &[]);
    let c2 = Ctr::run(cl.h(2), "ovsdtkill", &[]);
    let h1 = cl.h(1);
    h1.kill_plugin();
    assert!(c1.reaches(&c2.ip()), "the containers lost each other with the plugin dead");
    cl.start_plugin(h1);
    assert!(c2.reaches(&c1.ip()), "the containers lost each other after the restart");
    let c3 = Ctr::run(h1, "ovsdtkill", &[]);
    assert!(c3.reaches(&c2.ip()), "a new container cannot reach the other host\n{}", cl.logs());
    let ips = [c1.ip(), c2.ip(), c3.ip()];
    assert!(ips[0] != ips[2] && ips[1] != ips[2], "{ips:?}");
    drop((c1, c2, c3));
    cl.remove_everywhere(&["ovsdtkill"]);
}

/// `docker run -d --network NET` of each (dockerd socket, name) of `runs`,
/// all at once (threads: a Host is not Sync), calling `during` meanwhile;
/// their outputs.
fn run_all(runs: &[(String, String)], net: &str, during: impl FnOnce()) -> Vec<CmdOutput> {
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(dh, name)| {
                s.spawn(move || {
                    run("docker", &["-H", dh, "run", "-d", "--network", net, "--name", name, IMAGE, "sleep", "3600"])
                })
            })
            .collect();
        during();
        handles.into_iter().map(|h| h.join().expect("a docker run thread panicked")).collect()
    })
}

/// The northbound leader killed while nine containers start on three
/// hosts: every run completes or fails cleanly, and afterwards the
/// northbound database holds exactly one port per running container, with
/// its address; new containers work once a new leader is elected.
#[test]
fn nb_leader_killed_while_containers_start() {
    let _serial = serial();
    let mut cl = Cluster::new(3);
    let sw = cl.network_everywhere("ovsdtlead", 7, &[]);
    let ctrs = spread(&cl.hosts, 9);
    let runs: Vec<(String, String)> = ctrs.iter().map(|c| (c.host.docker_host(), c.name.clone())).collect();
    let leader = cl.central.leader(Db::Nb);
    let central = &mut cl.central;
    let outs = run_all(&runs, "ovsdtlead", || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        central.kill(Db::Nb, leader);
    });
    let running: Vec<&Ctr> = ctrs
        .iter()
        .zip(&outs)
        .filter(|(c, out)| {
            let state = c.host.docker(&["inspect", "-f", "{{.State.Running}}", &c.name]).stdout;
            // A failed run must say why, and leave its container stopped.
            assert!(out.success() || !out.stderr.trim().is_empty(), "{out}");
            assert_eq!(out.success(), state.trim() == "true", "{out}\nrunning: {state}");
            out.success()
        })
        .map(|(c, _)| c)
        .collect();
    eprintln!("{} of 9 runs completed with the leader killed", running.len());
    let want = port_names_of(&sw, &running);
    let ports = || address_port_names(&cl.central, &sw);
    // A failed run's reservation may stay until the heal tick sweeps it
    // (once it is 30 s old): waited for, as in the test below.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while ports() != want && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    assert_eq!(ports(), want, "northbound ports against running containers (after 120 s)\n{}", cl.logs());
    for h in &cl.hosts {
        let on_host = running.iter().filter(|c| c.host.n == h.n).count();
        assert_eq!(h.endpoint_port_names().len(), on_host, "host {}: {:?}", h.n, h.endpoint_port_names());
    }
    // With a new leader, a new container reaches the running ones.
    let late = Ctr::run(cl.h(1), "ovsdtlead", &[]);
    for c in &running {
        assert!(late.reaches(&c.ip()), "{} cannot reach {}\n{}", late.name, c.name, cl.logs());
    }
    drop((late, running));
    drop(ctrs);
    cl.central.restart(Db::Nb, leader);
    cl.remove_everywhere(&["ovsdtlead"]);
}

/// The plugin of host 1 SIGKILLed at each step of a mode=ovn call that
/// leaves something in the northbound database (the use of a switch
/// recorded, an address reserved, an address claimed), then started again
/// while Docker retries the call: every `docker` command completes or fails
/// cleanly, what the killed call left is removed, and NB ends with exactly
/// one address port per running container; removal leaves nothing.
#[test]
fn plugin_killed_mid_call_leaves_nothing_behind() {
    let _serial = serial();
    let crash = |point: &str| [("OVS_DOCKER_CRASH_AT", point.to_string())];
    require_fault_injection(&[("OVS_DOCKER_CRASH_AT", "plugin-ovn-switch-joined")]);
    let cl = Cluster::new(2);
    let sw = cl.network_everywhere("ovsdtcrash", 8, &[]);
    let h1 = cl.h(1);
    let c2 = Ctr::run(cl.h(2), "ovsdtcrash", &[]);
    let mut kept = Vec::new();
    for point in ["plugin-ovn-switch-joined", "plugin-ovn-address-reserved", "plugin-ovn-lsp-claimed"] {
        let env = crash(point);
        cl.start_plugin_env(h1, &[(env[0].0, env[0].1.as_str())]);
        let c = Ctr { host: h1, name: format!("{PREFIX}{}", rand_hex(8)) };
        let out = std::thread::scope(|s| {
            // Threads run the docker CLI: a Host is not Sync.
            let mut args = vec!["-H".to_string(), h1.docker_host()];
            args.extend(match point {
                "plugin-ovn-switch-joined" => cl.network_args(h1, "ovsdtcrash2", &format!("{sw}2"), 9, &[]),
                _ => ["run", "-d", "--network", "ovsdtcrash", "--name", &c.name, IMAGE, "sleep", "3600"]
                    .map(String::from)
                    .into(),
            });
            let call = s.spawn(move || run("docker", &args));
            wait_until(&format!("the plugin dies at {point}"), 60, || !h1.plugin_alive());
            // Started again while Docker retries the call.
            cl.start_plugin(h1);
            call.join().expect("the docker thread panicked")
        });
        eprintln!("{point}: {}", if out.success() { "completed" } else { "failed" });
        assert!(out.success() || !out.stderr.trim().is_empty(), "{out}");
        if point != "plugin-ovn-switch-joined" && out.success() {
            assert!(c.reaches(&c2.ip()), "{} made after a crash cannot reach the other host\n{}", c.name, cl.logs());
        }
        kept.push(c);
    }
    let running: Vec<&Ctr> = kept
        .iter()
        .chain([&c2])
        .filter(|c| c.host.docker(&["inspect", "-f", "{{.State.Running}}", &c.name]).stdout.trim() == "true")
        .collect();
    let want = port_names_of(&sw, &running);
    let ports = || address_port_names(&cl.central, &sw);
    // The heal tick sweeps an unclaimed reservation once it is 30 s old.
    wait_until("NB holds one address port per running container", 120, || ports() == want);
    drop(running);
    drop((kept, c2));
    h1.docker(&["network", "rm", "ovsdtcrash2"]);
    cl.remove_everywhere(&["ovsdtcrash"]);
}

/// The northbound database wholly out of reach while a container and then
/// its network are removed: both removals succeed and leave nothing on the
/// host; once the database is back, the plugin's sweep removes what it
/// still holds (the logical port, the host's use, the switch and router).
#[test]
fn northbound_out_of_reach_at_removal_leaks_nothing() {
    let _serial = serial();
    let mut cl = Cluster::new(1);
    cl.network_everywhere("ovsdtn", 6, &[]);
    let Cluster { hosts, central, .. } = &mut cl;
    let h = &hosts[0];
    let c = Ctr::run(h, "ovsdtn", &[]);
    assert!(!lsp_names(central).is_empty());
    for m in 0..3 {
        central.kill(Db::Nb, m);
    }
    h.docker(&["rm", "-f", &c.name]).ok();
    std::mem::forget(c);
    h.docker(&["network", "rm", "ovsdtn"]).ok();
    assert!(h.endpoint_port_names().is_empty(), "ports left: {:?}", h.endpoint_port_names());
    assert!(h.host_end_links().is_empty(), "veths left: {:?}", h.host_end_links());
    let ids = h.vsctl(&["get", "Bridge", "br-int", "external_ids"]);
    assert!(!ids.stdout.contains("ovs_docker"), "br-int still records the network: {}", ids.stdout);
    central.restart_all(Db::Nb);
    let empty = |table: &str| central.nbctl(&["--bare", "--columns=name", "list", table]).stdout.trim().is_empty();
    wait_until("the sweep empties the northbound database", 60, || {
        ["Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port"].into_iter().all(empty)
    });
    cl.assert_nothing_left();
}
