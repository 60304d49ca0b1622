//! What users of Docker's own bridge driver expect of a network: `--internal`,
//! inter-container isolation (`-o icc=false`, Docker's
//! `com.docker.network.bridge.enable_icc=false`), Docker's MTU key, and a
//! datapath that works on the host when none is named. Each test ends with
//! nothing of its networks left.

mod common;

use common::plugin::*;
use common::*;

fn kernel_datapath() -> &'static str {
    if std::path::Path::new("/sys/module/openvswitch").exists() {
        "system"
    } else {
        "netdev"
    }
}

#[test]
fn internal_network_reaches_itself_and_nothing_outside() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let net = TestNetwork::create(&plugin, &["--internal", "--subnet", &format!("{}/24", s.v4(0))]);
    let (c1, c2) = (net.container(&[]), net.container(&[]));
    let ip2 = net.address_of(&c2, false);
    assert_ping(&c1, &ip2);
    // No default route (Docker got no gateway), no way out even with one.
    let route = exec(&c1, "ip route").ok().stdout.clone();
    assert!(!route.contains("default"), "an internal network gave a default route:\n{route}");
    assert_no_ping(&c1, &outside.addr());
    assert!(!exec(&c1, &format!("ip route add default via {}", s.v4(1))).success());
    assert_eq!(vsctl_get("Bridge", &net.bridge, "external_ids:ovs_docker_internal"), "\"true\"");
    let rules = nft_rules_of(&net.id);
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.iter().all(|r| !r.contains("masquerade")), "an internal network is masqueraded: {rules:?}");
    // Even a container allowed to set a route does not get out.
    let admin = net.container(&["--cap-add", "NET_ADMIN"]);
    exec(&admin, &format!("ip route add default via {}", s.v4(1))).ok();
    outside.count_pings_from(&outside.host_addr(), &format!("{}/24", s.v4(0)));
    assert_no_ping(&admin, &outside.addr());
    assert_eq!(outside.counted("from-host") + outside.counted("from-subnet"), 0, "a packet left the internal network");
    remove_all_and_check(&net, vec![c1, c2, admin], Some(&s.v4p(1)));
}

#[test]
fn icc_false_isolates_containers_but_not_the_gateway_or_the_outside() {
    testbed();
    let plugin = Plugin::start();
    let outside = Outside::new();
    for key in ["icc", "com.docker.network.bridge.enable_icc"] {
        let s = Subnet::new();
        let opt = format!("{key}=false");
        let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", &opt]);
        let (c1, c2) = (net.container(&[]), net.container(&[]));
        let ip2 = net.address_of(&c2, false);
        for r in net.port_rows() {
            assert_eq!(vsctl_get("Port", &r.name, "protected"), "true", "{key}");
        }
        assert_ping(&c1, &s.v4(1));
        assert_ping(&c2, &s.v4(1));
        assert_ping(&c1, &outside.addr());
        assert_no_ping(&c1, &ip2);
        remove_all_and_check(&net, vec![c1, c2], Some(&s.v4p(1)));
    }
    let s = Subnet::new();
    let out = TestNetwork::try_create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "icc=maybe"])
        .err()
        .expect("icc=maybe refused");
    assert!(out.stderr.contains("driver option icc"), "{out}");
}

#[test]
fn dockers_mtu_key_works_like_the_mtu_option() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(
        &plugin,
        &["--subnet", &format!("{}/24", s.v4(0)), "-o", "com.docker.network.driver.mtu=1400"],
    );
    let c = net.container(&[]);
    assert_eq!(exec(&c, "cat /sys/class/net/eth0/mtu").ok().stdout.trim(), "1400");
    assert_eq!(host_link(&net.bridge)["mtu"], 1400);
    assert_ping(&c, &s.v4(1));
    remove_all_and_check(&net, vec![c], Some(&s.v4p(1)));
    let out = TestNetwork::try_create(
        &plugin,
        &["--subnet", &format!("{}/24", s.v4(0)), "-o", "com.docker.network.driver.mtu=10"],
    )
    .err()
    .expect("MTU 10 refused");
    assert!(out.stderr.contains("com.docker.network.driver.mtu"), "{out}");
}

#[test]
fn without_datapath_type_the_plugin_and_add_port_pick_one_that_works_here() {
    testbed();
    let want = kernel_datapath();
    let plugin = Plugin::start_with_datapath(None);
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    assert_eq!(vsctl_get("Bridge", &net.bridge, "datapath_type"), want);
    let log = plugin.log_text();
    assert!(log.contains(&format!("datapath type {want}")), "the plugin did not say which datapath:\n{log}");
    let c = net.container(&[]);
    assert_ping(&c, &s.v4(1));
    remove_all_and_check(&net, vec![c], Some(&s.v4p(1)));

    // add-port, when it creates the bridge.
    let c = TestContainer::new();
    let br = TestBridge::adopt(&format!("{PREFIX}b{}", rand_hex(8)));
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    assert_eq!(vsctl_get("Bridge", &br.name, "datapath_type"), want);
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
}

/// The rules of table `ip6 ovs-docker` that name `network_id`.
fn nft6_rules_of(network_id: &str) -> Vec<String> {
    let out = run("nft", &["list", "table", "ip6", "ovs-docker"]);
    out.stdout.lines().filter(|l| l.contains(&format!("ovs-docker:{network_id}"))).map(str::to_string).collect()
}

#[test]
fn ipv6_nat_network_reaches_the_outside_masqueraded() {
    testbed();
    let plugin = Plugin::start();
    let (s, far) = (Subnet::new(), Subnet::new());
    let outside = Outside::new();
    // The outside gets an IPv6 subnet of its own, and no route back to
    // the network's: only a masqueraded ping can be answered.
    run("ip", &["-6", "addr", "add", &far.v6p(1), "dev", &outside.host_veth, "nodad"]).ok();
    outside.exec(&["ip", "-6", "addr", "add", &far.v6p(2), "dev", "eth0", "nodad"]).ok();
    let v6 = format!("{}/64", s.v6(0));
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "--ipv6", "--subnet", &v6]);
    let c = net.container(&[]);
    let route = exec(&c, "ip -6 route").ok().stdout.clone();
    assert!(route.contains(&format!("default via {}", s.v6(1))), "{route}");
    assert_ping(&c, &far.v6(2));
    let rules = nft6_rules_of(&net.id);
    assert_eq!(rules.len(), 2, "{rules:?}");
    let shown = v6.replace("::0/", "::/");
    assert!(rules.iter().any(|r| r.contains("masquerade") && r.contains(&shown)), "{rules:?}");
    remove_all_and_check(&net, vec![c], Some(&s.v6p(1)));
    assert_eq!(nft6_rules_of(&net.id), Vec::<String>::new());
}
