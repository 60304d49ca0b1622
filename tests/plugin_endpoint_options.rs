//! Per-endpoint options of the network plugin (`docker network connect
//! --driver-opt KEY=VALUE`): a VLAN of the container's own, a trunk, a rate
//! limit. They must act on traffic, show in `list`, survive a plugin
//! SIGKILL and restart, and a bad one must fail the connect leaving nothing.

mod common;

use std::time::Duration;

use common::plugin::*;
use common::*;
use serde_json::Value;

/// The `list --format=json` row of the plugin port of `c` on `net`.
#[track_caller]
fn listed(net: &TestNetwork, c: &TestContainer) -> Value {
    let rows = list_json(&[&net.bridge]);
    rows.iter()
        .find(|r| r["container_name"] == c.name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("list shows no port of {} on {}: {rows:#?}", c.name, net.bridge))
}

/// `nsenter --net=...` into the container's network namespace.
fn enter(c: &TestContainer) -> [String; 2] {
    let pid = c.pid().unwrap_or_else(|| panic!("container {} is not running", c.name));
    ["nsenter".to_string(), format!("--net=/proc/{pid}/ns/net")]
}

#[test]
fn endpoint_vlans_isolate_containers_and_survive_a_plugin_kill() {
    testbed();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let a10 = net.container_with_driver_opts(&["vlan=10"]);
    let b10 = net.container_with_driver_opts(&["vlan=10"]);
    let c20 = net.container_with_driver_opts(&["vlan=20"]);
    let check = |when: &str| {
        for (c, vlan) in [(&a10, 10), (&b10, 10), (&c20, 20)] {
            let row = listed(&net, c);
            assert_eq!(row["vlan"], vlan, "{when}: {row:#?}");
            let port = row["port"].as_str().unwrap_or_default();
            assert_eq!(vsctl_get("Port", port, "tag"), vlan.to_string(), "{when}");
        }
        assert_ping(&a10, &net.address_of(&b10, false));
        assert_no_ping(&a10, &net.address_of(&c20, false));
        assert_no_ping(&c20, &net.address_of(&b10, false));
    };
    check("after connect");
    plugin.restart();
    check("after a plugin SIGKILL and restart");
    // A container restarted by Docker gets a new endpoint with the same options.
    run("docker", &["restart", "-t", "0", &c20.name]).ok();
    check("after a container restart");
    remove_all_and_check(&net, vec![a10, b10, c20], None);
}

#[test]
fn a_trunk_endpoint_carries_tagged_frames_of_its_vlans() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let a10 = net.container_with_driver_opts(&["vlan=10"]);
    let a20 = net.container_with_driver_opts(&["vlan=20"]);
    let a30 = net.container_with_driver_opts(&["vlan=30"]);
    // The docker CLI splits a --driver-opt at commas unless quoted (CSV).
    let trunk = net.container_with_driver_opts(&["\"trunks=10,20\"", "vlan=30"]);
    let row = listed(&net, &trunk);
    assert_eq!((row["vlan"].clone(), row["trunks"].clone()), (30.into(), serde_json::json!([10, 20])), "{row:#?}");
    let port = row["port"].as_str().unwrap_or_default().to_string();
    assert_eq!(vsctl_get("Port", &port, "vlan_mode"), "native-untagged");
    let e = enter(&trunk);
    let e = [e[0].as_str(), e[1].as_str()];
    let ip = |c: &TestContainer| net.address_of(c, false);
    assert!(arp_answered_from_trunk(&e, "eth0", &ip(&a10), Some(10)), "VLAN 10 tagged reaches the VLAN 10 endpoint");
    assert!(arp_answered_from_trunk(&e, "eth0", &ip(&a20), Some(20)), "VLAN 20 tagged reaches the VLAN 20 endpoint");
    assert!(!arp_from_trunk(&e, "eth0", &ip(&a10), Some(20)), "VLAN 20 does not reach VLAN 10");
    assert!(!arp_from_trunk(&e, "eth0", &ip(&a10), None), "untagged does not reach VLAN 10");
    // Untagged is the native VLAN 30: plain ping works there only.
    assert_ping(&trunk, &ip(&a30));
    assert_no_ping(&trunk, &ip(&a10));
    remove_all_and_check(&net, vec![a10, a20, a30, trunk], None);
}

#[test]
fn an_endpoint_rate_limit_holds_back_tcp_and_is_restored_after_a_plugin_kill() {
    testbed();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let server = net.container(&[]);
    let client = net.container_with_driver_opts(&["ingress_rate=4000", "ingress_burst=400"]);
    let row = listed(&net, &client);
    assert_eq!((row["ingress_rate"].clone(), row["ingress_burst"].clone()), (4000.into(), 400.into()), "{row:#?}");
    let port = row["port"].as_str().unwrap_or_default().to_string();
    assert_eq!(vsctl_get("Interface", &port, "ingress_policing_rate"), "4000");
    // Docker moves the interface in right before the container's first
    // process starts, and calls no driver in between: the plugin sets the
    // limit there within moments (its 5-second check would too; the wait
    // is generous for a loaded machine), and logs it once set.
    let e = enter(&client);
    wait_until("the plugin sets the limit inside the container and logs it", 10, || {
        run(&e[0], &[e[1].as_str(), "tc", "qdisc", "show", "dev", "eth0"]).stdout.contains("tbf")
            && plugin.log_text().contains("ovs-docker plugin: info: rate limit of endpoint")
    });
    let log = plugin.log_text();
    assert!(!log.contains(": warn:"), "{log}");
    let addr = net.address_of(&server, false);
    // 2 MB at 4 Mbit/s (500 kB/s) with a 50 kB bucket cannot take less than
    // about 3.9 s, however fast or slow the machine is.
    let limited = assert_tcp(&client, &server, &addr, 2_000_000);
    assert!(limited >= Duration::from_millis(3500), "2 MB at 4 Mbit/s took only {limited:?}");
    // The other way is not limited: the same transfer is faster.
    let free = assert_tcp(&server, &client, &net.address_of(&client, false), 2_000_000);
    assert!(free < limited, "unlimited {free:?} vs limited {limited:?}");

    // The limit inside the container is lost (as when the plugin died
    // before the interface arrived there): a restarted plugin puts it back
    // from what OVSDB records.
    plugin.kill9();
    run(&e[0], &[e[1].as_str(), "tc", "qdisc", "del", "dev", "eth0", "root"]).ok();
    plugin.restart();
    wait_until("the restarted plugin sets the limit inside again", 20, || {
        run(&e[0], &[e[1].as_str(), "tc", "qdisc", "show", "dev", "eth0"]).stdout.contains("tbf")
    });
    assert_eq!(listed(&net, &client)["ingress_rate"], 4000);
    let again = assert_tcp(&client, &server, &addr, 2_000_000);
    assert!(again >= Duration::from_millis(3500), "2 MB at 4 Mbit/s after a restart took only {again:?}");
    remove_all_and_check(&net, vec![server, client], None);
}

#[test]
fn a_bad_endpoint_option_fails_the_connect_and_leaves_nothing() {
    testbed();
    let plugin = Plugin::start();
    let (s1, s2) = (Subnet::new(), Subnet::new());
    let first = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s1.v4(0))]);
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s2.v4(0))]);
    let c = first.container(&[]);
    let host_ends =
        || host_links().into_keys().filter(|n| is_host_end_name(n)).collect::<std::collections::BTreeSet<_>>();
    // Host ends made since `before` that no OVSDB row holds: another
    // test's port in the making has its row within a moment, a leftover not.
    let leftovers = |before: &std::collections::BTreeSet<String>| {
        let rows: Vec<String> = interface_rows().into_iter().map(|r| r.name).collect();
        host_ends().into_iter().filter(|n| !before.contains(n) && !rows.contains(n)).collect::<Vec<_>>()
    };
    for (opts, needle) in [
        (&["vlan=4096"][..], "endpoint driver option vlan"),
        (&["colour=red"], "unknown endpoint driver option \"colour\""),
        (&["trunks=20-10"], "endpoint driver option trunks"),
        (&["ingress_rate=fast"], "endpoint driver option ingress_rate"),
        (&["ingress_burst=100"], "ingress_burst needs ingress_rate"),
        (&["vlan=10", "ingress_rate=1000", "bogus=1"], "unknown endpoint driver option \"bogus\""),
    ] {
        let before = host_ends();
        let out = net.connect(&c, opts);
        assert!(!out.success(), "{opts:?} was taken:\n{out}");
        assert!(out.stderr.contains(needle), "{opts:?}: the error does not say {needle:?}:\n{out}");
        assert!(net.port_rows().is_empty(), "{opts:?} left a port row: {:?}", net.port_rows());
        if !leftovers(&before).is_empty() {
            std::thread::sleep(Duration::from_secs(3));
            let left = leftovers(&before);
            assert!(left.is_empty(), "{opts:?} left veths {left:?}");
        }
        assert!(!c.link_names().contains("eth1"), "{opts:?} left an interface in the container");
    }
    // A good one then goes through, on the running container.
    net.connect(&c, &["vlan=7"]).ok();
    assert_eq!(listed(&net, &c)["vlan"], 7);
    let c2 = net.container(&[]);
    remove_all_and_check(&net, vec![c, c2], None);
    remove_all_and_check(&first, vec![], None);
}
