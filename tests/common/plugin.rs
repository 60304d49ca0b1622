//! Helpers of the network plugin tests: a plugin process of the test's own
//! (unique driver name and socket, killed by PID on drop), Docker networks
//! and an "outside" host in a network namespace, each removed on drop, and
//! the checks that nothing of a network is left.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::*;

/// An `ovs-docker plugin` process serving driver `ovsdt<hex>` on
/// `/run/docker/plugins/<name>.sock`, with netdev bridges.
pub struct Plugin {
    pub name: String,
    pub socket: String,
    pub log: PathBuf,
    child: Option<Child>,
    /// OVS_DOCKER_CRASH_AT for the next start (see src/fault.rs).
    crash_at: Option<String>,
    /// `--datapath-type=...`, or nothing to let the plugin choose.
    datapath: Option<&'static str>,
}

impl Plugin {
    pub fn start() -> Plugin {
        Self::start_with_datapath(Some("netdev"))
    }

    /// As [`Plugin::start`], with `--datapath-type=DATAPATH` if given.
    pub fn start_with_datapath(datapath: Option<&'static str>) -> Plugin {
        let name = format!("{PREFIX}{}", rand_hex(8));
        let socket = format!("/run/docker/plugins/{name}.sock");
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let mut p = Plugin { name, socket, log, child: None, crash_at: None, datapath };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let log = OpenOptions::new().create(true).append(true).open(&self.log).expect("open the plugin log");
        let mut cmd = Command::new(bin());
        if let Some(step) = self.crash_at.take() {
            super::require_fault_injection(&[("OVS_DOCKER_CRASH_AT", step.as_str())]);
            cmd.env("OVS_DOCKER_CRASH_AT", step);
        }
        let child = cmd
            .args(["plugin", "--name", &self.name, "--socket", &self.socket])
            .args(self.datapath.map(|d| format!("--datapath-type={d}")))
            .args(["--log-level", "debug"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start ovs-docker plugin");
        self.child = Some(child);
        let sock = self.socket.clone();
        wait_until("the plugin serves its socket", 20, || std::os::unix::net::UnixStream::connect(&sock).is_ok());
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("plugin running")
    }

    /// SIGKILL, as a crash would: nothing is cleaned up by the plugin.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child by its PID.
            unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
            let _ = c.wait();
        }
    }

    /// Start again after [`Plugin::kill9`], on the same name and socket.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Restart with a plugin that kills itself (SIGKILL) when it reaches
    /// `step` of a call.
    pub fn restart_crashing_at(&mut self, step: &str) {
        self.kill9();
        self.crash_at = Some(step.to_string());
        self.spawn();
    }

    /// Wait until the plugin process has ended (by itself), at most `secs`.
    pub fn wait_dead(&mut self, secs: u64) {
        self.wait_dead_sampling(secs, || {});
    }

    /// As [`Plugin::wait_dead`], calling `sample` at each poll (and once
    /// more after the death), to catch what the dying plugin leaves before
    /// anything else can change it.
    pub fn wait_dead_sampling(&mut self, secs: u64, mut sample: impl FnMut()) {
        let mut c = self.child.take().expect("plugin running");
        wait_until("the plugin is dead", secs, || {
            sample();
            c.try_wait().ok().flatten().is_some()
        });
        sample();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stop with SIGTERM and wait; the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        c.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.kill9();
        let _ = std::fs::remove_file(&self.socket);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        } else {
            eprintln!("plugin log ({}):\n{}", self.log.display(), self.log_text());
        }
    }
}

/// A Docker network of a test plugin, removed on drop.
pub struct TestNetwork {
    pub name: String,
    pub id: String,
    pub bridge: String,
}

impl TestNetwork {
    /// `docker network create -d PLUGIN -o bridge=ovsdtb<hex> ARGS ovsdt-<hex>`;
    /// the command's output when it fails.
    pub fn try_create(plugin: &Plugin, args: &[&str]) -> Result<TestNetwork, CmdOutput> {
        Self::try_create_on(plugin, &format!("{PREFIX}b{}", rand_hex(8)), args)
    }

    /// As [`TestNetwork::try_create`] on bridge `bridge`.
    pub fn try_create_on(plugin: &Plugin, bridge: &str, args: &[&str]) -> Result<TestNetwork, CmdOutput> {
        Self::try_create_with(&plugin.name, bridge, args)
    }

    /// As [`TestNetwork::try_create_on`] with the driver named `driver`.
    pub fn try_create_with(driver: &str, bridge: &str, args: &[&str]) -> Result<TestNetwork, CmdOutput> {
        let name = format!("{PREFIX}-n{}", rand_hex(8));
        let bridge = bridge.to_string();
        let bridge_opt = format!("bridge={bridge}");
        let mut all = vec!["network", "create", "-d", driver, "-o", bridge_opt.as_str()];
        all.extend_from_slice(args);
        all.push(&name);
        let out = run("docker", &all);
        if !out.success() {
            return Err(out);
        }
        Ok(TestNetwork { name, id: out.stdout.trim().to_string(), bridge })
    }

    #[track_caller]
    pub fn create(plugin: &Plugin, args: &[&str]) -> TestNetwork {
        Self::try_create(plugin, args).unwrap_or_else(|o| panic!("docker network create failed:\n{o}"))
    }

    /// A container on this network (more `docker run` options in `opts`).
    #[track_caller]
    pub fn container(&self, opts: &[&str]) -> TestContainer {
        let net = format!("--network={}", self.name);
        let mut all = vec![net.as_str()];
        all.extend_from_slice(opts);
        TestContainer::with_args(&all)
    }

    /// `docker network connect --driver-opt OPT... NETWORK CONTAINER`.
    pub fn connect(&self, c: &TestContainer, driver_opts: &[&str]) -> CmdOutput {
        let mut args = vec!["network", "connect"];
        for o in driver_opts {
            args.extend_from_slice(&["--driver-opt", o]);
        }
        args.extend_from_slice(&[self.name.as_str(), c.name.as_str()]);
        run("docker", &args)
    }

    /// A container whose only interface (eth0) is on this network with the
    /// endpoint driver options `driver_opts` (KEY=VALUE): `docker run
    /// --network` takes none on dockerd 20.10, so it is created on the
    /// network, disconnected, connected again with them, and started.
    #[track_caller]
    pub fn container_with_driver_opts(&self, driver_opts: &[&str]) -> TestContainer {
        let name = format!("{PREFIX}-{}", rand_hex(10));
        let net = format!("--network={}", self.name);
        let out = run("docker", &["create", "--name", &name, &net, IMAGE, "sleep", "3600"]);
        let c = TestContainer { name, id: out.stdout.trim().to_string() };
        out.ok();
        run("docker", &["network", "disconnect", &self.name, &c.name]).ok();
        self.connect(&c, driver_opts).ok();
        run("docker", &["start", &c.name]).ok();
        c
    }

    /// `docker network rm`. Docker releases a removed container's endpoint
    /// on its own after `docker rm -f` has returned (from the exit event),
    /// so "has active endpoints" is retried for up to 30 s (a loaded
    /// machine may take that long); an endpoint the plugin failed to delete
    /// stays, and fails this.
    pub fn remove(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let out = run("docker", &["network", "rm", &self.name]);
            if out.success() || !out.stderr.contains("active endpoints") || std::time::Instant::now() > deadline {
                out.ok();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The container's IPv4 (or, with `v6`, IPv6) address on this network.
    pub fn address_of(&self, c: &TestContainer, v6: bool) -> String {
        let field = if v6 { "GlobalIPv6Address" } else { "IPAddress" };
        let fmt = format!("{{{{(index .NetworkSettings.Networks \"{}\").{field}}}}}", self.name);
        run("docker", &["inspect", "-f", &fmt, &c.name]).ok().stdout.trim().to_string()
    }

    /// Names of the OVSDB Interface rows the plugin made for this network.
    pub fn port_rows(&self) -> Vec<IfaceRow> {
        interface_rows().into_iter().filter(|r| r.id("docker_network_id") == Some(self.id.as_str())).collect()
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        let _ = try_run("docker", &["network", "rm", &self.name], Duration::from_secs(60));
    }
}

/// A host "outside" this one: a network namespace `ovsdt-o<hex>` joined to
/// the host by a veth, with `subnet.v4(1)` on the host end and
/// `subnet.v4(2)` inside; nothing inside routes back to container subnets.
pub struct Outside {
    pub ns: String,
    pub host_veth: String,
    pub subnet: Subnet,
}

impl Outside {
    pub fn new() -> Outside {
        let hex = rand_hex(8);
        let o = Outside { ns: format!("{PREFIX}-o{hex}"), host_veth: format!("{PREFIX}o{hex}"), subnet: Subnet::new() };
        run("ip", &["netns", "add", &o.ns]).ok();
        run("ip", &["link", "add", &o.host_veth, "type", "veth", "peer", "name", "eth0", "netns", &o.ns]).ok();
        run("ip", &["addr", "add", &o.subnet.v4p(1), "dev", &o.host_veth]).ok();
        run("ip", &["link", "set", &o.host_veth, "up"]).ok();
        o.exec(&["ip", "addr", "add", &o.subnet.v4p(2), "dev", "eth0"]).ok();
        o.exec(&["ip", "link", "set", "eth0", "up"]).ok();
        o.exec(&["ip", "link", "set", "lo", "up"]).ok();
        o
    }

    pub fn host_addr(&self) -> String {
        self.subnet.v4(1)
    }

    pub fn addr(&self) -> String {
        self.subnet.v4(2)
    }

    pub fn exec(&self, cmd: &[&str]) -> CmdOutput {
        let mut all = vec!["netns", "exec", self.ns.as_str()];
        all.extend_from_slice(cmd);
        run("ip", &all)
    }

    /// Count, inside, the echo requests from `host` and from `subnet`.
    pub fn count_pings_from(&self, host: &str, subnet: &str) {
        let script = format!(
            "table ip ovsdt {{\n chain input {{\n type filter hook input priority 0;\n \
             ip saddr {host} icmp type echo-request counter comment \"from-host\"\n \
             ip saddr {subnet} counter comment \"from-subnet\"\n }}\n}}\n"
        );
        self.exec(&["nft", &script]).ok();
    }

    /// The packets counted by the rule commented `which`.
    pub fn counted(&self, which: &str) -> u64 {
        let out = self.exec(&["nft", "list", "table", "ip", "ovsdt"]);
        out.ok();
        let line = out.stdout.lines().find(|l| l.contains(which)).unwrap_or_else(|| panic!("no rule {which}:\n{out}"));
        let n = line.split("packets ").nth(1).and_then(|r| r.split_whitespace().next());
        n.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no counter in {line}"))
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = try_run("ip", &["link", "del", &self.host_veth], Duration::from_secs(30));
        let _ = try_run("ip", &["netns", "del", &self.ns], Duration::from_secs(30));
    }
}

/// A routed network (`-o mode=routed`) of `plugin` on a subnet of its own,
/// with one container, and an "outside" host; the outside routes nothing
/// to the subnet yet (see [`Routed::route_back`]).
pub struct Routed {
    pub s: Subnet,
    /// The subnet as CIDR.
    pub subnet: String,
    pub outside: Outside,
    pub net: TestNetwork,
    pub c: TestContainer,
    /// The container's own address.
    pub addr: String,
}

impl Routed {
    pub fn new(plugin: &Plugin) -> Routed {
        let s = Subnet::new();
        let outside = Outside::new();
        let subnet = format!("{}/24", s.v4(0));
        let net = TestNetwork::create(plugin, &["-o", "mode=routed", "--subnet", &subnet]);
        let c = net.container(&[]);
        let addr = net.address_of(&c, false);
        Routed { s, subnet, outside, net, c, addr }
    }

    /// Route the subnet through this host inside the outside, as another
    /// host's router would.
    pub fn route_back(&self) {
        let via = self.outside.host_addr();
        self.outside.exec(&["ip", "route", "add", &self.subnet, "via", &via]).ok();
    }
}

/// The rules of our nf_tables table that name `network_id`.
pub fn nft_rules_of(network_id: &str) -> Vec<String> {
    let out = run("nft", &["list", "table", "ip", "ovs-docker"]);
    if !out.success() {
        // No table: no rules.
        return Vec::new();
    }
    out.stdout.lines().filter(|l| l.contains(&format!("ovs-docker:{network_id}"))).map(str::to_string).collect()
}

/// Delete the rules of our nf_tables table that name `network_id`, as an
/// nftables reload or a reboot would. A running plugin's periodic check may
/// put them back at once (as new rules, with new handles), so what is
/// asserted is that none of the deleted rules is still there.
pub fn delete_nft_rules_of(network_id: &str) {
    let list = || run("nft", &["-a", "list", "table", "ip", "ovs-docker"]).ok().stdout.clone();
    let mut chain = String::new();
    let mut deleted = Vec::new();
    for line in list().lines().map(str::trim) {
        if let Some(c) = line.strip_prefix("chain ") {
            chain = c.split_whitespace().next().unwrap_or_default().to_string();
        } else if line.contains(&format!("ovs-docker:{network_id}")) {
            let handle = line.rsplit("# handle ").next().unwrap_or_default().to_string();
            run("nft", &["delete", "rule", "ip", "ovs-docker", &chain, "handle", &handle]).ok();
            deleted.push(format!("# handle {handle}"));
        }
    }
    let after = list();
    let left: Vec<&str> =
        after.lines().filter(|l| deleted.iter().any(|d| l.trim_end().ends_with(d.as_str()))).collect();
    assert!(left.is_empty(), "the deleted rules of {network_id} are still there: {left:?}");
}

/// Assert that nothing of network `net` is left: bridge, port rows, the
/// veths `veths` (host ends and container ends seen while it lived), the
/// gateway `gateway` (CIDR) on any host link, and NAT rules.
#[track_caller]
pub fn assert_network_gone(net: &TestNetwork, veths: &[String], gateway: Option<&str>) {
    let br = vsctl(&["br-exists", &net.bridge]);
    assert_eq!(br.code, Some(2), "bridge {} is left:\n{br}", net.bridge);
    let rows = net.port_rows();
    assert!(rows.is_empty(), "port rows of network {} are left: {rows:?}", net.name);
    for v in veths {
        assert!(!host_link_exists(v), "veth {v} of network {} is left", net.name);
    }
    if let Some(gw) = gateway {
        let addrs = run("ip", &["-o", "addr", "show"]).ok().stdout.clone();
        assert!(!addrs.contains(&format!(" {gw} ")), "gateway address {gw} is left:\n{addrs}");
    }
    let rules = nft_rules_of(&net.id);
    assert!(rules.is_empty(), "nf_tables rules of network {} are left: {rules:?}", net.name);
    let out = run("docker", &["network", "inspect", &net.name]);
    assert!(!out.success(), "docker still knows network {}", net.name);
}

/// The host-side names (host end and container end) of the ports of `net`.
pub fn veth_names(net: &TestNetwork) -> Vec<String> {
    net.port_rows()
        .into_iter()
        .flat_map(|r| {
            let peer = r.id("ovs_docker_peer").map(str::to_string);
            std::iter::once(r.name.clone()).chain(peer)
        })
        .collect()
}

/// Remove the containers, then the network; nothing of it may be left.
#[track_caller]
pub fn remove_all_and_check(net: &TestNetwork, containers: Vec<TestContainer>, gateway: Option<&str>) {
    let mut veths = veth_names(net);
    for c in &containers {
        c.remove();
    }
    veths.sort();
    net.remove();
    assert_network_gone(net, &veths, gateway);
}

/// One HTTP/1.1 POST on a plugin's socket; the status and the JSON body.
pub fn post_json(socket: &str, method: &str, body: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect to the plugin");
    let req = format!(
        "POST /{method} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let status = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}")))
}
