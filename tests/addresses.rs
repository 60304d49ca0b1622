//! Several addresses per interface (IPv4 and IPv6 together), a default
//! gateway per family, further routes, and refused address conflicts.

mod common;

use common::*;

#[test]
fn dual_stack_with_gateways_and_routes() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    br.add_address(&format!("{}/32", net.far_v4()));
    br.add_address(&format!("{}/128", net.far_v6()));
    let a = TestContainer::new();
    let b = TestContainer::new();
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &a.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--ipaddress={}", net.v6p(2)),
        &format!("--ipaddress={}", net.v4p(22)),
        &format!("--gateway={}", net.v4(1)),
        &format!("--gateway={}", net.v6(1)),
    ])
    .ok();
    // No default route for b: only a host route to the far address.
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &b.name,
        &format!("--ipaddress={}", net.v6p(3)),
        &format!("--ipaddress={}", net.v4p(3)),
        &format!("--route={}/32,via={}", net.far_v4(), net.v4(1)),
        &format!("--route={}/128,via={}", net.far_v6(), net.v6(1)),
    ])
    .ok();
    // IPv4 and IPv6 between the containers and to the gateway.
    assert_ping(&a, &net.v4(3));
    assert_ping(&a, &net.v6(3));
    assert_ping(&b, &net.v4(22));
    assert_ping(&a, &net.v6(1));
    // Beyond the subnet: through the default routes, and through the routes.
    assert_ping(&a, &net.far_v4());
    assert_ping(&a, &net.far_v6());
    assert_ping(&b, &net.far_v4());
    assert_ping(&b, &net.far_v6());
    assert!(!exec(&b, "ip route | grep -q ^default").success(), "b has no default route");

    let rows = list_json(&[&br.name]);
    let row = |c: &TestContainer| rows.iter().find(|r| r["container"] == c.name.as_str()).unwrap().clone();
    let ra = row(&a);
    assert_eq!(ra["addresses"].as_array().unwrap().len(), 3, "{ra}");
    assert_eq!(ra["gateways"], serde_json::json!([net.v4(1), net.v6(1)]));
    let rb = row(&b);
    assert_eq!(
        rb["routes"],
        serde_json::json!([
            format!("{}/32,via={}", net.far_v4(), net.v4(1)),
            format!("{}/128,via={}", net.far_v6(), net.v6(1))
        ])
    );
    for c in [&a, &b] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&a, &b], &[&br]);
}

/// Bad combinations are refused before anything changes.
#[test]
fn inconsistent_addresses_are_refused_before_any_change() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    for opts in [
        &["--ipaddress=10.0.0.2/24", "--ipaddress=10.0.0.2/24"][..],
        &["--ipaddress=10.0.0.2/24", "--gateway=10.0.0.1", "--gateway=10.0.0.3"],
        &["--ipaddress=fd00::2/64", "--gateway=10.0.0.1"],
        &["--ipaddress=10.0.0.2/24", "--route=10.9.0.0/16,via=10.1.0.1"],
        &["--route=10.9.0.0/16,via=fd00::1"],
    ] {
        let mut args = vec!["add-port", br.name.as_str(), "eth1", c.name.as_str()];
        args.extend_from_slice(opts);
        ovs_docker(&args).usage_error();
    }
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "refused combinations");
}

/// An address another port on the bridge holds is refused (unless --force),
/// on the same bridge only, and free again once that port is gone.
#[test]
fn duplicate_addresses_on_a_bridge_are_refused() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let other = TestBridge::new();
    let a = TestContainer::new();
    let b = TestContainer::new();
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &a.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--ipaddress={}", net.v6p(2)),
    ])
    .ok();
    let before = leak_snapshot(&[&a, &b], &[&br, &other]);
    for addr in [net.v4p(2), format!("{}/32", net.v4(2)), net.v6p(2)] {
        ovs_docker(&["add-port", &br.name, "eth1", &b.name, &format!("--ipaddress={addr}")])
            .fails(1, "add-port")
            .stderr_contains("already used on bridge")
            .stderr_contains(&a.name);
        // Also when it is the second of two addresses.
        ovs_docker(&[
            "add-port",
            &br.name,
            "eth1",
            &b.name,
            &format!("--ipaddress={}", net.v4p(9)),
            &format!("--ipaddress={addr}"),
        ])
        .fails(1, "add-port");
    }
    assert_unchanged(&before, &leak_snapshot(&[&a, &b], &[&br, &other]), "refused duplicate address");
    // Another bridge is another network.
    ovs_docker(&["add-port", &other.name, "eth1", &b.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    // --force, on purpose.
    ovs_docker(&["add-port", &br.name, "eth2", &b.name, &format!("--ipaddress={}", net.v6p(2)), "--force"]).ok();
    // A stale port (container stopped) still holds its address: it comes
    // back on restart (see watch).
    ovs_docker(&["del-ports", &br.name, &b.name]).ok();
    a.stop();
    ovs_docker(&["add-port", &br.name, "eth2", &b.name, &format!("--ipaddress={}", net.v4p(2))]).fails(1, "add-port");
    // Gone: free again.
    ovs_docker(&["del-ports", &br.name, &a.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", &b.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    for br in [&br, &other] {
        ovs_docker(&["del-ports", &br.name, &b.name]).ok();
    }
    assert_no_ports(&[&a, &b], &[&br, &other]);
}

/// Racing add-ports of one address from different containers: exactly one
/// wins (the OVSDB transaction itself refuses the others).
#[test]
fn racing_claims_of_one_address_leave_one_winner() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let cs: Vec<TestContainer> = (0..5).map(|_| TestContainer::new()).collect();
    let outs: Vec<CmdOutput> = std::thread::scope(|s| {
        let hs: Vec<_> = cs
            .iter()
            .map(|c| {
                let (br, addr) = (br.name.clone(), net.v4p(7));
                s.spawn(move || ovs_docker(&["add-port", &br, "eth1", &c.name, &format!("--ipaddress={addr}")]))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outs.iter().filter(|o| o.success()).count(), 1, "{outs:#?}");
    for o in outs.iter().filter(|o| !o.success()) {
        o.fails(1, "add-port").stderr_contains("already used");
    }
    assert_eq!(br.ports().len(), 1);
    for c in &cs {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    let refs: Vec<&TestContainer> = cs.iter().collect();
    assert_no_ports(&refs, &[&br]);
}
