//! `mirror add|del|list`: copies of containers' traffic to a monitor
//! container's port, on a real netdev bridge; mirrors follow their ports
//! through `del-port` and `watch`.

mod common;

use common::plugin::*;
use common::*;

/// Frames received so far on `iface` inside `c` (the kernel's counter).
fn rx_packets(c: &TestContainer, iface: &str) -> u64 {
    let out = exec(c, &format!("cat /sys/class/net/{iface}/statistics/rx_packets"));
    out.ok();
    out.stdout.trim().parse().unwrap_or_else(|_| panic!("rx_packets of {iface} in {}: {out}", c.name))
}

/// While `from` pings `to_addr` `n` times: how many frames `monitor`
/// received (on eth1), and how many echo requests went out and replies came back.
fn mirrored_during_ping(monitor: &TestContainer, from: &TestContainer, to_addr: &str, n: u32) -> (u64, u64, u64) {
    mirrored_on_during_ping(monitor, "eth1", from, to_addr, n)
}

/// As [`mirrored_during_ping`], the monitor's interface `iface`.
fn mirrored_on_during_ping(
    monitor: &TestContainer,
    iface: &str,
    from: &TestContainer,
    to_addr: &str,
    n: u32,
) -> (u64, u64, u64) {
    let before = rx_packets(monitor, iface);
    let out = exec(from, &format!("ping -c {n} -i 0.2 -W 1 {to_addr}"));
    out.ok();
    // "10 packets transmitted, 10 packets received, 0% packet loss"
    let counts: Vec<u64> = out
        .stdout
        .lines()
        .find(|l| l.contains("transmitted"))
        .map(|l| l.split(',').filter_map(|part| part.split_whitespace().next()?.parse().ok()).collect())
        .unwrap_or_default();
    let (sent, received) = (counts.first().copied().unwrap_or(0), counts.get(1).copied().unwrap_or(0));
    // The copies are sent as the frames pass; a moment for the last ones.
    std::thread::sleep(std::time::Duration::from_millis(500));
    (rx_packets(monitor, iface) - before, sent, received)
}

fn mirror_rows(bridge: &str) -> Vec<serde_json::Value> {
    let out = ovs_docker(&["mirror", "list", bridge, "--format=json"]);
    out.ok();
    out.json().as_array().cloned().unwrap_or_default()
}

struct Three {
    net: Subnet,
    br: TestBridge,
    a: TestContainer,
    b: TestContainer,
    monitor: TestContainer,
}

fn three() -> Three {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let (a, b, monitor) = (TestContainer::new(), TestContainer::new(), TestContainer::new());
    for (c, host) in [(&a, 2u8), (&b, 3), (&monitor, 9)] {
        ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(host))]).ok();
    }
    // Warm the ARP caches, so that the counts below are of pings only.
    assert_ping(&a, &net.v4(3));
    Three { net, br, a, b, monitor }
}

/// Each direction copies what it says, `both` copies both, and the output
/// port carries nothing else: the monitor cannot reach anybody.
#[test]
fn mirrors_copy_each_direction_and_own_their_output() {
    let t = three();
    let (br, to) = (t.br.name.as_str(), format!("{}:eth1", t.monitor.name));
    for (name, direction) in [("out1", "out"), ("in1", "in"), ("both1", "both")] {
        ovs_docker(&["mirror", "add", br, name, "--to", &to, "--from", &t.a.name, "--direction", direction]).ok();
        let rows = mirror_rows(br);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["direction"], direction);
        assert_eq!(rows[0]["from"], serde_json::json!([format!("{}:eth1", t.a.name)]));
        let (got, sent, received) = mirrored_during_ping(&t.monitor, &t.a, &t.net.v4(3), 10);
        // What went that way, and at most a few ARP frames more: never the other way too.
        let want = match direction {
            "out" => sent,
            "in" => received,
            _ => sent + received,
        };
        assert!(received >= 5, "the ping itself failed: {sent} sent, {received} received");
        assert!(
            (want..=want + 4).contains(&got),
            "{direction}: {got} frames mirrored, {sent} sent, {received} received"
        );
        ovs_docker(&["mirror", "del", br, name]).ok();
        assert!(mirror_rows(br).is_empty());
    }
    // Without --from: every port; the output port is for mirroring only.
    ovs_docker(&["mirror", "add", br, "all", "--to", &to]).ok();
    assert_eq!(mirror_rows(br)[0]["all"], true);
    let (got, sent, received) = mirrored_during_ping(&t.monitor, &t.b, &t.net.v4(2), 5);
    assert!(
        got >= sent + received && received > 0,
        "{got} frames of b's traffic mirrored ({sent} sent, {received} received)"
    );
    assert_no_ping(&t.monitor, &t.net.v4(2));
    ovs_docker(&["mirror", "del", br, "all"]).ok();
    // Back to a normal port (the failed attempts may need a few more tries).
    if !ping(&t.monitor, &t.net.v4(2), 8) {
        let diag = exec(&t.monitor, "ip neigh; ip addr");
        let fdb = run("ovs-appctl", &["fdb/show", br]);
        let flows = run("ovs-appctl", &["dpctl/dump-flows"]);
        panic!("the monitor's port did not carry traffic again after mirror del\n{diag}\n{fdb}\n{flows}");
    }
    assert_eq!(vsctl_get("Bridge", br, "mirrors"), "[]");
    for c in [&t.a, &t.b, &t.monitor] {
        ovs_docker(&["del-ports", br, &c.name]).ok();
    }
}

/// Bad input is refused before anything is made; a name is unique per bridge.
#[test]
fn mirror_refusals_change_nothing() {
    let t = three();
    let br = t.br.name.as_str();
    let to = format!("{}:eth1", t.monitor.name);
    ovs_docker(&["mirror", "add", br, "m", "--to", &t.monitor.name]).usage_error();
    ovs_docker(&["mirror", "add", br, "m", "--to", &to, "--direction", "sideways"]).usage_error();
    ovs_docker(&["mirror", "add", br, "m", "--to", &to, "--vlan", "4096"]).usage_error();
    ovs_docker(&["mirror", "add", br, "m", "--to", &format!("{PREFIX}-nosuch:eth1")]).fails(1, "mirror add");
    ovs_docker(&["mirror", "add", br, "m", "--to", &format!("{}:eth7", t.a.name)]).fails(1, "mirror add");
    ovs_docker(&["mirror", "add", &format!("{PREFIX}nobr"), "m", "--to", &to])
        .fails(1, "mirror add")
        .stderr_contains("does not exist");
    ovs_docker(&["mirror", "add", br, "m", "--to", &to, "--from", &t.monitor.name]).fails(2, "mirror add");
    assert!(mirror_rows(br).is_empty());
    ovs_docker(&["mirror", "add", br, "m", "--to", &to, "--from", &t.a.name]).ok();
    ovs_docker(&["mirror", "add", br, "m", "--to", &to]).fails(1, "mirror add").stderr_contains("already has");
    ovs_docker(&["mirror", "del", br, "nosuch"]).fails(1, "mirror del");
    ovs_docker(&["mirror", "list", &format!("{PREFIX}nobr")]).fails(1, "mirror list").stderr_contains("does not exist");
    assert_eq!(mirror_rows(br).len(), 1);
    ovs_docker(&["mirror", "del", br, "m"]).ok();
    for c in [&t.a, &t.b, &t.monitor] {
        ovs_docker(&["del-ports", br, &c.name]).ok();
    }
}

/// del-port of a mirrored port updates the mirror, of its output removes
/// it, and says so; `watch` moves a mirror to the port it re-creates.
#[test]
fn mirrors_follow_their_ports() {
    let t = three();
    let br = t.br.name.as_str();
    let to = format!("{}:eth1", t.monitor.name);
    ovs_docker(&["mirror", "add", br, "keep", "--to", &to, "--from", &t.a.name, "--from", &t.b.name]).ok();

    // watch re-creates a's port after a restart: the mirror follows.
    run("docker", &["restart", "-t", "0", t.a.name.as_str()]).ok();
    ovs_docker(&["watch", "--once"]).ok();
    let rows = mirror_rows(br);
    let from = rows[0]["from"].as_array().unwrap();
    assert_eq!(from.len(), 2, "{rows:?}");
    assert_ping(&t.a, &t.net.v4(3));
    let (got, sent, received) = mirrored_during_ping(&t.monitor, &t.a, &t.net.v4(3), 5);
    assert!(got >= sent + received && received > 0, "{got} frames mirrored after the restart");

    ovs_docker(&["del-port", br, "eth1", &t.b.name]).ok().stderr_contains("no longer mirrors");
    assert_eq!(mirror_rows(br)[0]["from"].as_array().unwrap().len(), 1);
    ovs_docker(&["del-port", br, "eth1", &t.monitor.name]).ok().stderr_contains("removed: its output port");
    assert!(mirror_rows(br).is_empty());
    assert_eq!(vsctl_get("Bridge", br, "mirrors"), "[]");
    ovs_docker(&["del-ports", br, &t.a.name]).ok();
    assert_no_ports(&[&t.a, &t.b, &t.monitor], &[&t.br]);
}

/// Ports of the network plugin named CONTAINER:IFACE, IFACE being the
/// name Docker gave the interface in the container (eth0, eth1...); a
/// container alone names all of its endpoints' ports on the bridge.
#[test]
fn plugin_endpoints_are_mirrored_by_container_and_interface() {
    testbed();
    let plugin = Plugin::start();
    let (s, s2) = (Subnet::new(), Subnet::new());
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let other = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s2.v4(0))]);
    let (a, b, monitor) = (net.container(&[]), net.container(&[]), net.container(&[]));
    // The monitor's eth1 is on another network's bridge.
    other.connect(&monitor, &[]).ok();
    let br = net.bridge.as_str();
    let b_addr = net.address_of(&b, false);
    assert_ping(&a, &b_addr);
    let to = format!("{}:eth0", monitor.name);
    // Its eth1 is not on this bridge, eth7 nowhere.
    for wrong in ["eth1", "eth7"] {
        let to_wrong = format!("{}:{wrong}", monitor.name);
        ovs_docker(&["mirror", "add", br, "m", "--to", &to_wrong, "--from", &a.name])
            .fails(1, "mirror add")
            .stderr_contains("no port of");
    }
    ovs_docker(&["mirror", "add", br, "m", "--to", &to, "--from", &format!("{}:eth0", a.name)]).ok();
    let rows = mirror_rows(br);
    assert_eq!(rows[0]["to"], to.as_str(), "{rows:?}");
    assert_eq!(rows[0]["from"], serde_json::json!([format!("{}:eth0", a.name)]), "{rows:?}");
    let (got, sent, received) = mirrored_on_during_ping(&monitor, "eth0", &a, &b_addr, 10);
    assert!(received >= 5, "the ping itself failed: {sent} sent, {received} received");
    assert!(got >= sent + received, "{got} frames mirrored, {sent} sent, {received} received");
    ovs_docker(&["mirror", "del", br, "m"]).ok();
    // A container alone: its one port on this bridge.
    ovs_docker(&["mirror", "add", br, "m2", "--to", &to, "--from", &b.name, "--direction", "out"]).ok();
    let (got, sent, received) = mirrored_on_during_ping(&monitor, "eth0", &b, &net.address_of(&a, false), 10);
    assert!(received >= 5, "the ping itself failed: {sent} sent, {received} received");
    assert!((sent..=sent + 4).contains(&got), "out: {got} frames mirrored, {sent} sent");
    ovs_docker(&["mirror", "del", br, "m2"]).ok();
    remove_all_and_check(&net, vec![a, b, monitor], None);
    remove_all_and_check(&other, vec![], None);
}
