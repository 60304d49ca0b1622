//! The network plugin as a Docker managed (v2) plugin: built by
//! scripts/docker-plugin.sh from the binary under test, created and enabled
//! in the test bed's dockerd (name `ovsdtp<hex>:latest`), serving a nat and
//! a flat network; then disabled and enabled again, and dockerd restarted
//! (scripts/testbed.sh restart-dockerd), with the containers' connectivity
//! checked after each; then everything removed and checked gone.
//!
//! One test function: the dockerd restart would break any test running
//! beside it in this binary (test binaries run one after another).

mod common;

use std::time::Duration;

use common::plugin::*;
use common::*;

/// The "outside" host: a namespace on 203.0.113.0/28 (a corner of TEST-NET-3:
/// the rest of it is not free on these machines, whose package mirrors
/// answer at 203.0.113.80), joined to the host by a veth; a blackhole route
/// keeps that /28 on this machine if the veth is gone.
struct Outside3 {
    ns: String,
    veth: String,
}

const OUTSIDE_HOST: &str = "203.0.113.1";
const OUTSIDE: &str = "203.0.113.2";

impl Outside3 {
    fn new() -> Outside3 {
        let hex = rand_hex(8);
        let o = Outside3 { ns: format!("{PREFIX}-o{hex}"), veth: format!("{PREFIX}o{hex}") };
        run("ip", &["route", "replace", "blackhole", "203.0.113.0/28", "metric", "4000"]).ok();
        run("ip", &["netns", "add", &o.ns]).ok();
        run("ip", &["link", "add", &o.veth, "type", "veth", "peer", "name", "eth0", "netns", &o.ns]).ok();
        run("ip", &["addr", "add", &format!("{OUTSIDE_HOST}/28"), "dev", &o.veth]).ok();
        run("ip", &["link", "set", &o.veth, "up"]).ok();
        for cmd in
            [&["ip", "addr", "add", &format!("{OUTSIDE}/28"), "dev", "eth0"][..], &["ip", "link", "set", "eth0", "up"]]
        {
            let mut all = vec!["netns", "exec", o.ns.as_str()];
            all.extend_from_slice(cmd);
            run("ip", &all).ok();
        }
        o
    }
}

impl Drop for Outside3 {
    fn drop(&mut self) {
        let _ = try_run("ip", &["link", "del", &self.veth], Duration::from_secs(30));
        let _ = try_run("ip", &["netns", "del", &self.ns], Duration::from_secs(30));
    }
}

/// A router on a flat network's uplink: namespace `ovsdt-r<hex>` holding
/// `addr` on the far end of veth `ovsdtu<hex>`.
struct Router {
    ns: String,
    uplink: String,
}

impl Router {
    fn new(addr: &str) -> Router {
        let hex = rand_hex(8);
        let r = Router { ns: format!("{PREFIX}-r{hex}"), uplink: format!("{PREFIX}u{hex}") };
        run("ip", &["netns", "add", &r.ns]).ok();
        run("ip", &["link", "add", &r.uplink, "type", "veth", "peer", "name", "eth0", "netns", &r.ns]).ok();
        run("ip", &["netns", "exec", &r.ns, "ip", "addr", "add", addr, "dev", "eth0"]).ok();
        run("ip", &["netns", "exec", &r.ns, "ip", "link", "set", "eth0", "up"]).ok();
        r
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = try_run("ip", &["link", "del", &self.uplink], Duration::from_secs(30));
        let _ = try_run("ip", &["netns", "del", &self.ns], Duration::from_secs(30));
    }
}

/// The managed plugin, removed (`docker plugin rm -f`) on drop; declared
/// before the networks so that it outlives them.
struct ManagedPlugin {
    name: String,
}

impl ManagedPlugin {
    fn create() -> ManagedPlugin {
        let name = format!("{PREFIX}p{}:latest", rand_hex(8));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/docker-plugin.sh");
        let p = ManagedPlugin { name };
        let out = run("bash", &[script, "--binary", bin(), "--datapath-type", "netdev", &p.name]);
        out.ok();
        assert_eq!(out.stdout.lines().last(), Some(p.name.as_str()), "the last line is not the plugin's name:\n{out}");
        p
    }

    fn inspect(&self, format: &str) -> String {
        run("docker", &["plugin", "inspect", "-f", format, &self.name]).ok().stdout.trim().to_string()
    }

    fn enabled(&self) -> bool {
        self.inspect("{{.Enabled}}") == "true"
    }
}

impl Drop for ManagedPlugin {
    fn drop(&mut self) {
        let _ = try_run("docker", &["plugin", "rm", "-f", &self.name], Duration::from_secs(60));
    }
}

/// Containers of a network and where they are, read again after restarts.
#[track_caller]
fn assert_connected(nat: &TestNetwork, c1: &TestContainer, c2: &TestContainer, gw: &str, context: &str) {
    let (ip1, ip2) = (nat.address_of(c1, false), nat.address_of(c2, false));
    assert!(!ip1.is_empty() && !ip2.is_empty(), "{context}: no address ({ip1:?}, {ip2:?})");
    for (c, target) in [(c1, ip2.as_str()), (c2, ip1.as_str()), (c1, gw), (c2, OUTSIDE)] {
        assert!(ping(c, target, 20), "{context}: {} cannot ping {target}", c.name);
    }
}

/// Host ends of a netdev network's veths have the sysctls the plugin writes
/// through OVS_DOCKER_SYSCTL_NET (its own /proc/sys is read-only).
#[track_caller]
fn assert_host_ends_quiet(net: &TestNetwork) {
    let rows = net.port_rows();
    assert!(!rows.is_empty(), "no ports on network {}", net.name);
    for r in rows {
        let path = format!("/proc/sys/net/ipv4/conf/{}/arp_ignore", r.name);
        let v = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        assert_eq!(v.trim(), "8", "{path}");
    }
}

/// The test bed's dockerd is shared: restarting it under another test run
/// (containers or plugin sockets of the ovsdt prefix that are not this
/// test's) would break that run. Wait for a quiet moment, or fail saying so.
fn wait_until_dockerd_is_ours_alone(mine: &[&TestContainer]) {
    let foreign = || {
        let names = run("docker", &["ps", "-a", "--format", "{{.Names}}"]).ok().stdout.clone();
        let mut others: Vec<String> = names
            .lines()
            .filter(|n| n.starts_with(PREFIX) && !mine.iter().any(|c| c.name == *n))
            .map(str::to_string)
            .collect();
        if let Ok(dir) = std::fs::read_dir("/run/docker/plugins") {
            others.extend(
                dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.starts_with(PREFIX) && n.ends_with(".sock")),
            );
        }
        others
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let others = foreign();
        if others.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "another test run is using the test bed's dockerd (its containers or plugins: {others:?}): \
             this test restarts dockerd, run it alone"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_running(c: &TestContainer) {
    wait_until(&format!("container {} runs again", c.name), 60, || {
        run("docker", &["inspect", "-f", "{{.State.Running}}", &c.name]).stdout.trim() == "true"
    });
}

#[test]
fn managed_plugin_serves_nat_and_flat_networks_across_disable_and_a_dockerd_restart() {
    testbed();
    let plugin = ManagedPlugin::create();

    // What scripts/docker-plugin.sh gave the plugin.
    assert_eq!(plugin.inspect("{{json .Config.Interface.Types}}"), r#"["docker.networkdriver/1.0"]"#);
    assert_eq!(plugin.inspect("{{.Config.Network.Type}}"), "host");
    assert!(plugin.inspect("{{json .Settings.Env}}").contains("OVS_DOCKER_SYSCTL_NET=/host/proc/sys/net"));
    assert!(plugin.inspect("{{json .Settings.Args}}").contains("--datapath-type=netdev"));
    run("docker", &["plugin", "enable", &plugin.name]).ok();
    assert!(plugin.enabled());

    let outside = Outside3::new();
    let s = Subnet::new();
    let (subnet, gw) = (format!("{}/24", s.v4(0)), s.v4(1));
    let nat = TestNetwork::try_create_with(
        &plugin.name,
        &format!("{PREFIX}b{}", rand_hex(8)),
        &["--subnet", &subnet, "--gateway", &gw, "-o", "mode=nat"],
    )
    .unwrap_or_else(|o| panic!("docker network create -d {} failed:\n{o}", plugin.name));
    let c1 = nat.container(&["--restart=always"]);
    let c2 = nat.container(&["--restart=always"]);
    assert_eq!(vsctl_get("Bridge", &nat.bridge, "datapath_type"), "netdev");
    assert_host_ends_quiet(&nat);
    assert_connected(&nat, &c1, &c2, &gw, "nat network");
    assert_eq!(
        nft_rules_of(&nat.id).len(),
        4,
        "a masquerade and an isolation rule, and a masquerade and a drop for the loopback"
    );

    // Flat: layer 2 only, the router on the uplink is the gateway.
    let f = Subnet::new();
    let router = Router::new(&f.v4p(254));
    let bind = format!("bind_interface={}", router.uplink);
    let flat = TestNetwork::try_create_with(
        &plugin.name,
        &format!("{PREFIX}b{}", rand_hex(8)),
        &["--subnet", &format!("{}/24", f.v4(0)), "--gateway", &f.v4(254), "-o", "mode=flat", "-o", &bind],
    )
    .unwrap_or_else(|o| panic!("docker network create -d {} (flat) failed:\n{o}", plugin.name));
    let c3 = flat.container(&["--restart=always"]);
    assert_ping(&c3, &f.v4(254));

    // Disabled, the plugin serves nothing, but the ports stay and carry
    // traffic; enabled again, it serves the same networks.
    run("docker", &["plugin", "disable", "-f", &plugin.name]).ok();
    assert!(!plugin.enabled());
    assert_connected(&nat, &c1, &c2, &gw, "plugin disabled");
    run("docker", &["plugin", "enable", &plugin.name]).ok();
    let c4 = nat.container(&[]);
    assert_ping(&c4, &nat.address_of(&c1, false));
    assert_ping(&c4, OUTSIDE);
    assert_host_ends_quiet(&nat);
    c4.remove();

    // dockerd restarts: it stops the containers and the plugin, starts the
    // plugin again, then the containers (restart=always) on new endpoints.
    wait_until_dockerd_is_ours_alone(&[&c1, &c2, &c3]);
    let testbed_sh = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testbed.sh");
    let restarted =
        try_run("bash", &[testbed_sh, "restart-dockerd"], Duration::from_secs(120)).expect("run testbed.sh");
    restarted.ok();
    assert!(plugin.enabled(), "the plugin is not enabled after the dockerd restart");
    for c in [&c1, &c2, &c3] {
        wait_running(c);
    }
    assert_connected(&nat, &c1, &c2, &gw, "after the dockerd restart");
    assert_ping(&c3, &f.v4(254));
    assert_eq!(nat.port_rows().len(), 2, "stale ports after the dockerd restart: {:?}", nat.port_rows());
    assert_eq!(nft_rules_of(&nat.id).len(), 4);

    // Clean removal: containers, networks, then the plugin.
    let (nat_veths, flat_veths) = (veth_names(&nat), veth_names(&flat));
    for c in [c1, c2, c3] {
        c.remove();
    }
    nat.remove();
    assert_network_gone(&nat, &nat_veths, Some(&format!("{gw}/24")));
    flat.remove();
    assert_network_gone(&flat, &flat_veths, None);
    let id = plugin.inspect("{{.Id}}");
    run("docker", &["plugin", "disable", &plugin.name]).ok();
    run("docker", &["plugin", "rm", &plugin.name]).ok();
    assert!(!run("docker", &["plugin", "inspect", &plugin.name]).success(), "docker still knows {}", plugin.name);
    assert!(!std::path::Path::new(&format!("/var/lib/docker/plugins/{id}")).exists(), "the plugin's files are left");
    drop(router);
    drop(outside);
}
