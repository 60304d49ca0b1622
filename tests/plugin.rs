//! The Docker network plugin against the real dockerd and OVS: each test
//! runs its own `ovs-docker plugin` (driver `ovsdt<hex>`), makes networks
//! with `docker network create -d`, runs containers on them, and checks
//! packets, OVSDB rows, nf_tables rules and that nothing is left after
//! `docker network rm`.

mod common;

use common::plugin::*;
use common::*;

#[test]
fn nat_network_containers_reach_each_other_the_gateway_and_the_outside() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let (subnet, gw) = (format!("{}/24", s.v4(0)), s.v4(1));
    let net = TestNetwork::create(
        &plugin,
        &["--subnet", &subnet, "--gateway", &gw, "-o", "mode=nat", "-o", "mtu=1450", "-o", "vlan=10"],
    );
    let c1 = net.container(&[]);
    let fixed = s.v4(50);
    let c2 = net.container(&["--ip", &fixed]);

    // Docker's IPAM gave the addresses; --ip was honoured.
    let ip1 = net.address_of(&c1, false);
    assert!(ip1.starts_with(&format!("10.{}.{}.", 200 + s.x, s.y)), "{ip1} not in {subnet}");
    assert_eq!(net.address_of(&c2, false), fixed);
    // The gateway is the default route, the MTU option reached the container.
    let route = exec(&c1, "ip route").ok().stdout.clone();
    assert!(route.contains(&format!("default via {gw}")), "{route}");
    let link = exec(&c1, "cat /sys/class/net/eth0/mtu").ok().stdout.clone();
    assert_eq!(link.trim(), "1450");

    // The ports: on the network's bridge, access ports of VLAN 10.
    let rows = net.port_rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        assert_eq!(r.bridge.as_deref(), Some(net.bridge.as_str()));
        assert_eq!(r.tag, Some(10));
        assert_eq!(r.id("created_by"), Some("ovs-docker-plugin"));
    }
    assert_eq!(vsctl_get("Bridge", &net.bridge, "datapath_type"), "netdev");

    assert_ping(&c1, &fixed);
    assert_ping(&c2, &ip1);
    assert_ping(&c1, &gw);

    // The outside only answers its own subnet: a reply proves the masquerade,
    // and the counters show whose source address it saw.
    outside.count_pings_from(&outside.host_addr(), &subnet);
    assert_ping(&c1, &outside.addr());
    assert!(outside.counted("from-host") >= 1, "the outside saw no ping from the host's address");
    assert_eq!(outside.counted("from-subnet"), 0, "a container address reached the outside unmasqueraded");
    assert_eq!(
        nft_rules_of(&net.id).len(),
        4,
        "a masquerade and an isolation rule, and a masquerade and a drop for the loopback"
    );

    // `ovs-docker list` shows the ports with their container.
    let listed = list_json(&[&net.bridge]);
    assert_eq!(listed.len(), 2, "{listed:?}");
    for row in &listed {
        assert_eq!(row["state"], "ok", "{row}");
        assert!([&c1.name, &c2.name].iter().any(|n| row["container_name"] == n.as_str()), "{row}");
        assert_eq!(row["interface"], "eth0", "{row}");
    }
    // ... and gc leaves live ports alone.
    ovs_docker(&["gc", &net.bridge]).ok();
    assert_eq!(net.port_rows().len(), 2);

    // A restarted container gets a new endpoint; the old one is gone.
    let old: Vec<String> = net.port_rows().into_iter().map(|r| r.name).collect();
    run("docker", &["restart", "-t", "0", &c2.name]).ok();
    let now: Vec<String> = net.port_rows().into_iter().map(|r| r.name).collect();
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(net.address_of(&c2, false), fixed);
    assert_ping(&c1, &fixed);
    let replaced: Vec<&String> = old.iter().filter(|o| !now.contains(o)).collect();
    assert_eq!(replaced.len(), 1, "exactly the restarted container's port is replaced: {old:?} -> {now:?}");
    assert!(!host_link_exists(replaced[0]));

    remove_all_and_check(&net, vec![c1, c2], Some(&format!("{gw}/24")));
}

#[test]
fn connect_and_disconnect_a_running_container() {
    testbed();
    let plugin = Plugin::start();
    let (a, b) = (Subnet::new(), Subnet::new());
    let net_a = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", a.v4(0)), "-o", "mode=flat"]);
    let net_b = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", b.v4(0)), "-o", "mode=flat"]);
    let on_a = net_a.container(&[]);
    let other = net_b.container(&[]);
    let ip_a = net_a.address_of(&on_a, false);
    assert_no_ping(&other, &ip_a);

    run("docker", &["network", "connect", &net_a.name, &other.name]).ok();
    assert_eq!(net_a.port_rows().len(), 2);
    assert!(other.link_names().contains("eth1"), "{:?}", other.link_names());
    assert_ping(&other, &ip_a);

    let fmt = format!("{{{{(index .NetworkSettings.Networks \"{}\").EndpointID}}}}", net_a.name);
    let eid = run("docker", &["inspect", "-f", &fmt, &other.name]).ok().stdout.trim().to_string();
    let other_row = net_a.port_rows().into_iter().find(|r| r.id("docker_endpoint_id") == Some(eid.as_str()));
    let other_port = other_row.expect("the port of the connected container").name;
    run("docker", &["network", "disconnect", &net_a.name, &other.name]).ok();
    assert_eq!(net_a.port_rows().len(), 1, "disconnect must remove the port");
    assert!(!other.link_names().contains("eth1"));
    assert!(!host_link_exists(&other_port), "disconnect must delete the veth {other_port}");
    assert_no_ping(&other, &ip_a);

    // docker run -p: refused rather than shown as published and served by
    // nothing; the refused container leaves no port.
    let name = format!("{PREFIX}-{}", rand_hex(10));
    let published = run(
        "docker",
        &["run", "-d", "-p", "18080:80", &format!("--network={}", net_a.name), "--name", &name, IMAGE, "sleep", "60"],
    );
    let _refused = TestContainer { name: name.clone(), id: String::new() };
    assert!(!published.success(), "docker run -p on an ovs network succeeded:\n{published}");
    assert!(published.stderr.contains("publishing ports"), "{published}");
    assert_eq!(net_a.port_rows().len(), 1, "the refused container left a port");

    remove_all_and_check(&net_a, vec![on_a], None);
    remove_all_and_check(&net_b, vec![other], None);
}

#[test]
fn flat_network_is_pure_layer_2_with_an_uplink() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    // The uplink leads to a "router" in a namespace, on the same subnet.
    let router = format!("{PREFIX}-r{}", rand_hex(8));
    let uplink = format!("{PREFIX}u{}", rand_hex(8));
    let _ns = NsGuard(router.clone(), uplink.clone());
    run("ip", &["netns", "add", &router]).ok();
    run("ip", &["link", "add", &uplink, "type", "veth", "peer", "name", "eth0", "netns", &router]).ok();
    run("ip", &["netns", "exec", &router, "ip", "addr", "add", &s.v4p(254), "dev", "eth0"]).ok();
    run("ip", &["netns", "exec", &router, "ip", "link", "set", "eth0", "up"]).ok();

    let bind = format!("bind_interface={uplink}");
    let net = TestNetwork::create(
        &plugin,
        &["--subnet", &format!("{}/24", s.v4(0)), "--gateway", &s.v4(254), "-o", "mode=flat", "-o", &bind],
    );
    let c1 = net.container(&[]);
    let c2 = net.container(&[]);
    assert_ping(&c1, &net.address_of(&c2, false));
    // The router on the uplink is the gateway Docker handed out.
    assert_ping(&c1, &s.v4(254));
    let route = exec(&c1, "ip route").ok().stdout.clone();
    assert!(route.contains(&format!("default via {}", s.v4(254))), "{route}");
    // No address on the host, no NAT.
    let addrs = run("ip", &["-o", "addr", "show"]).ok().stdout.clone();
    assert!(!addrs.contains(&format!(" 10.{}.{}.", 200 + s.x, s.y)), "flat mode put an address on the host:\n{addrs}");
    assert!(nft_rules_of(&net.id).is_empty());

    remove_all_and_check(&net, vec![c1, c2], None);
    // The uplink is the user's: left in place, on no bridge.
    assert!(host_link_exists(&uplink));
    assert!(!vsctl(&["port-to-br", &uplink]).success());
}

struct NsGuard(String, String);

impl Drop for NsGuard {
    fn drop(&mut self) {
        let _ = try_run("ip", &["link", "del", &self.1], std::time::Duration::from_secs(30));
        let _ = try_run("ip", &["netns", "del", &self.0], std::time::Duration::from_secs(30));
    }
}

#[test]
fn two_nat_networks_are_isolated() {
    testbed();
    let plugin = Plugin::start();
    let (a, b) = (Subnet::new(), Subnet::new());
    let net_a = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", a.v4(0))]);
    let net_b = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", b.v4(0))]);
    let ca = net_a.container(&[]);
    let cb = net_b.container(&[]);
    let (ip_a, ip_b) = (net_a.address_of(&ca, false), net_b.address_of(&cb, false));
    // Each reaches its own gateway (nat is the default mode)...
    assert_ping(&ca, &a.v4(1));
    assert_ping(&cb, &b.v4(1));
    // ...but not the other network, although the host routes for both.
    assert_no_ping(&ca, &ip_b);
    assert_no_ping(&cb, &ip_a);
    remove_all_and_check(&net_a, vec![ca], Some(&a.v4p(1)));
    remove_all_and_check(&net_b, vec![cb], Some(&b.v4p(1)));
}

#[test]
fn bad_driver_options_fail_network_create_and_change_nothing() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let subnet = format!("{}/24", s.v4(0));
    for (opts, needle) in [
        (&["-o", "colour=red"][..], "unknown driver option \"colour\""),
        (&["-o", "mode=bridge"], "mode"),
        (&["-o", "mtu=20"], "mtu"),
        (&["-o", "vlan=4096"], "vlan"),
        (&["-o", "mode=nat", "-o", "bind_interface=lo"], "bind_interface needs mode=flat"),
        (&["-o", "mode=flat", "-o", "bind_interface=ovsdtnone"], "no such interface"),
        (&["-o", "icc=no"], "driver option icc"),
        (&["-o", "com.docker.network.driver.mtu=20"], "com.docker.network.driver.mtu"),
        (
            &["--internal", "-o", "mode=flat", "-o", "bind_interface=lo"],
            "an internal network (--internal) has no uplink",
        ),
    ] {
        let mut args = vec!["--subnet", subnet.as_str()];
        args.extend_from_slice(opts);
        let out = match TestNetwork::try_create(&plugin, &args) {
            Ok(n) => panic!("docker network create {opts:?} succeeded (network {})", n.name),
            Err(o) => o,
        };
        assert!(out.stderr.contains(needle), "{opts:?}: the message should say {needle:?}:\n{out}");
        assert_eq!(out.stderr.trim().lines().count(), 1, "one line:\n{out}");
    }
    // Nothing was made: no bridge of this plugin, no network.
    let cond = format!("external_ids:ovs_docker_driver={}", plugin.name);
    let ours = vsctl(&["--bare", "--columns=name", "find", "Bridge", &cond]);
    assert!(ours.ok().stdout.trim().is_empty(), "a bridge was made:\n{ours}");
    let nets = run("docker", &["network", "ls", "--filter", &format!("driver={}", plugin.name), "-q"]);
    assert!(nets.ok().stdout.trim().is_empty(), "a network was made:\n{nets}");
}

#[test]
fn plugin_killed_and_restarted_loses_nothing() {
    testbed();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "vlan=7"]);
    let c1 = net.container(&[]);
    let ip1 = net.address_of(&c1, false);

    // As after a reboot or an OVS restart while the plugin is down: the
    // gateway address and the NAT rules are gone. The restarted plugin puts
    // them back (dockerd never repeats CreateNetwork).
    plugin.kill9();
    let rules = nft_rules_of(&net.id).len();
    assert!(rules > 0);
    run("ip", &["addr", "del", &s.v4p(1), "dev", &net.bridge]).ok();
    delete_nft_rules_of(&net.id);
    plugin.restart();
    // The plugin restores them after it starts serving its socket.
    wait_until("the restarted plugin restores the NAT rules", 15, || nft_rules_of(&net.id).len() == rules);
    wait_until("the restarted plugin restores the gateway address", 15, || {
        run("ip", &["-o", "addr", "show", "dev", &net.bridge]).ok().stdout.contains(&s.v4p(1))
    });
    // The running container kept its connectivity; a new one joins the same
    // network through the restarted plugin.
    assert_ping(&c1, &s.v4(1));
    // An nftables reload (`flush ruleset`) while the plugin runs: the next
    // endpoint puts the rules back.
    delete_nft_rules_of(&net.id);
    let c2 = net.container(&[]);
    assert_eq!(nft_rules_of(&net.id).len(), rules, "NAT rules restored by a new endpoint");
    assert_ping(&c2, &ip1);
    assert_eq!(net.port_rows().iter().filter(|r| r.tag == Some(7)).count(), 2);

    // Killed again; containers started meanwhile wait (Docker retries its
    // calls) and come up once the plugin is back.
    plugin.kill9();
    let (c3, c4) = std::thread::scope(|scope| {
        let a = scope.spawn(|| net.container(&[]));
        let b = scope.spawn(|| net.container(&[]));
        std::thread::sleep(std::time::Duration::from_millis(500));
        plugin.restart();
        (a.join().expect("docker run"), b.join().expect("docker run"))
    });
    assert_ping(&c4, &ip1);
    assert_ping(&c3, &ip1);

    remove_all_and_check(&net, vec![c1, c2, c3, c4], Some(&s.v4p(1)));
    // A later start still finds nothing to do.
    plugin.restart();
    assert!(!plugin.log_text().contains("error"), "{}", plugin.log_text());
}

#[test]
fn twenty_containers_started_at_once_all_come_up() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let containers: Vec<TestContainer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20).map(|_| scope.spawn(|| net.container(&[]))).collect();
        handles.into_iter().map(|h| h.join().expect("docker run thread")).collect()
    });
    let mut addrs: Vec<String> = containers.iter().map(|c| net.address_of(c, false)).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 20, "{addrs:?}");
    assert_eq!(net.port_rows().len(), 20);
    for (c, target) in containers.iter().zip(addrs.iter().rev()) {
        assert_ping(c, target);
    }
    // Removed concurrently too, five at a time: with all twenty at once,
    // dockerd 20.10 once lost a decrement of its own endpoint count (no
    // container left on the network, yet "has active endpoints" for good,
    // until dockerd restarted), which is Docker's race, not the plugin's.
    let veths = veth_names(&net);
    for wave in containers.chunks(5) {
        std::thread::scope(|scope| {
            for c in wave {
                scope.spawn(|| c.remove());
            }
        });
    }
    net.remove();
    assert_network_gone(&net, &veths, Some(&s.v4p(1)));
    drop(containers);
}

#[test]
fn ipv6_addresses_from_docker_ipam() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let v6 = format!("{}/64", s.v6(0));
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "--ipv6", "--subnet", &v6]);
    let c1 = net.container(&[]);
    let c2 = net.container(&[]);
    let (a1, a2) = (net.address_of(&c1, true), net.address_of(&c2, true));
    assert!(a1.starts_with(&format!("fd0d:{:x}:{:x}:", 200 + s.x, s.y)), "{a1}");
    assert_ping(&c1, &a2);
    // The IPv6 gateway lives on the bridge too.
    assert_ping(&c1, &s.v6(1));
    remove_all_and_check(&net, vec![c1, c2], Some(&s.v6p(1)));
}

#[test]
fn the_socket_is_root_only_and_a_live_one_is_not_taken_over() {
    testbed();
    let mut plugin = Plugin::start();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&plugin.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let second = ovs_docker(&["plugin", "--name", &plugin.name, "--socket", &plugin.socket]);
    second.fails(1, "plugin").stderr_contains("another process is serving");
    assert_eq!(plugin.terminate(), Some(0));
    assert!(!std::path::Path::new(&plugin.socket).exists(), "SIGTERM leaves no socket behind");
}

#[test]
fn an_existing_bridge_is_used_and_given_back_as_found() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let br = TestBridge::new();
    let before = vsctl_get("Bridge", &br.name, "external_ids");
    let net = TestNetwork::try_create_on(&plugin, &br.name, &["--subnet", &format!("{}/24", s.v4(0))])
        .unwrap_or_else(|o| panic!("{o}"));
    // A bridge serves one network at a time.
    let second = TestNetwork::try_create_on(&plugin, &br.name, &["--subnet", &format!("{}/24", Subnet::new().v4(0))]);
    let out = second.err().expect("a second network on the same bridge must be refused");
    assert!(out.stderr.contains("already carries Docker network"), "{out}");

    let c = net.container(&[]);
    assert_ping(&c, &s.v4(1));
    c.remove();
    net.remove();
    // The bridge is still there, as it was: no port of ours, no address, no key.
    assert!(vsctl(&["br-exists", &br.name]).success());
    assert!(br.ports().is_empty(), "{:?}", br.ports());
    assert_eq!(vsctl_get("Bridge", &br.name, "external_ids"), before);
    let addrs = run("ip", &["-o", "addr", "show", "dev", &br.name]).ok().stdout.clone();
    assert!(!addrs.contains(&s.v4(1)), "{addrs}");
    assert!(nft_rules_of(&net.id).is_empty());
}

#[test]
fn gc_removes_a_plugin_port_whose_veth_died() {
    testbed();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "mode=flat"]);
    let keep = net.container(&[]);
    let victim = net.container(&[]);
    let fmt = format!("{{{{(index .NetworkSettings.Networks \"{}\").EndpointID}}}}", net.name);
    let eid = run("docker", &["inspect", "-f", &fmt, &victim.name]).ok().stdout.trim().to_string();
    let rows = net.port_rows();
    let port =
        rows.iter().find(|r| r.id("docker_endpoint_id") == Some(eid.as_str())).expect("victim's port").name.clone();
    // The veth dies under Docker's feet (as with a plugin down when the
    // container went away): gc removes the port, and only that one.
    run("ip", &["link", "del", &port]).ok();
    let out = ovs_docker(&["gc", &net.bridge]);
    out.ok().stdout_contains(&port);
    let left: Vec<String> = net.port_rows().into_iter().map(|r| r.name).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], port);
    // Docker's later DeleteEndpoint finds nothing to do, and succeeds.
    remove_all_and_check(&net, vec![keep, victim], None);
}

/// Killed inside a call at each fault point. Docker's retry of such a call
/// comes with an empty body (its plugin client does not rewind it), so the
/// command fails or succeeds; the user's next try must work, and nothing may
/// be left once the network is removed.
#[test]
fn plugin_killed_inside_a_call_is_recovered_by_the_next_one() {
    testbed();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let subnet = format!("{}/24", s.v4(0));
    let (driver, bridge) = (plugin.name.clone(), format!("{PREFIX}b{}", rand_hex(8)));
    let args = ["--subnet", subnet.as_str()];

    plugin.restart_crashing_at("plugin-bridge-committed");
    let first = std::thread::scope(|scope| {
        let creating = scope.spawn(|| TestNetwork::try_create_with(&driver, &bridge, &args));
        plugin.wait_dead(30);
        plugin.restart();
        creating.join().expect("docker network create")
    });
    // The bridge the killed call made carries a network Docker never made:
    // the next try on the same bridge reclaims it.
    let net =
        first.or_else(|_| TestNetwork::try_create_with(&driver, &bridge, &args)).unwrap_or_else(|o| panic!("{o}"));

    let mut containers = Vec::new();
    // Host ends of endpoints (marked `ovs-docker ENDPOINT plugin`).
    let marked = || -> std::collections::BTreeSet<String> {
        host_links()
            .into_iter()
            .filter(|(_, l)| {
                l["ifalias"].as_str().is_some_and(|a| a.starts_with("ovs-docker ") && a.ends_with(" plugin"))
            })
            .map(|(n, _)| n)
            .collect()
    };
    let mut left_by_kills = std::collections::BTreeSet::new();
    for step in ["plugin-veth-created", "plugin-port-committed"] {
        let before = marked();
        plugin.restart_crashing_at(step);
        let mut c = TestContainer { name: format!("{PREFIX}-{}", rand_hex(10)), id: String::new() };
        let network = format!("--network={}", net.name);
        let out = std::thread::scope(|scope| {
            let running =
                scope.spawn(|| run("docker", &["run", "-d", &network, "--name", &c.name, IMAGE, "sleep", "3600"]));
            // Sampled while it dies, not only after: another test's plugin
            // starting meanwhile may sweep the leftover veth at once.
            plugin.wait_dead_sampling(30, || left_by_kills.extend(marked().difference(&before).cloned()));
            plugin.restart();
            running.join().expect("docker run")
        });
        if !out.success() {
            run("docker", &["start", &c.name]).ok();
        }
        c.id = run("docker", &["inspect", "-f", "{{.Id}}", &c.name]).ok().stdout.trim().to_string();
        assert_ping(&c, &s.v4(1));
        containers.push(c);
    }
    assert_ping(&containers[0], &net.address_of(&containers[1], false));
    // The veth of the call killed before its commit was swept at restart
    // (by this plugin, or by another test's plugin starting meanwhile: any
    // plugin sweeps every orphan): whatever a kill left either has its row
    // now or is gone.
    assert!(!left_by_kills.is_empty(), "the kill at plugin-veth-created left no veth to sweep");
    for v in &left_by_kills {
        let row = vsctl(&["--columns=name", "find", "Interface", &format!("name={v}")]).ok().stdout.trim().to_string();
        assert!(
            !row.is_empty() || !host_link_exists(v),
            "veth {v} left by a killed plugin is still there without a row"
        );
    }
    remove_all_and_check(&net, containers, Some(&s.v4p(1)));
}

#[test]
fn a_network_from_dockers_default_pools() {
    testbed();
    let plugin = Plugin::start();
    let net = TestNetwork::create(&plugin, &[]);
    let fmt = "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}";
    let ipam = run("docker", &["network", "inspect", "-f", fmt, &net.name]).ok().stdout.trim().to_string();
    let (subnet, gw) = ipam.split_once(' ').unwrap_or_else(|| panic!("no IPAM config: {ipam}"));
    let c1 = net.container(&[]);
    let c2 = net.container(&[]);
    let ip1 = net.address_of(&c1, false);
    assert!(!ip1.is_empty(), "no address from {subnet}");
    assert_ping(&c2, &ip1);
    assert_ping(&c1, gw);
    let plen = subnet.split('/').nth(1).unwrap_or("?");
    remove_all_and_check(&net, vec![c1, c2], Some(&format!("{gw}/{plen}")));
}

#[test]
fn vlan_in_nat_mode_on_an_existing_bridge_is_refused() {
    testbed();
    let plugin = Plugin::start();
    let br = TestBridge::new();
    let s = Subnet::new();
    let out = TestNetwork::try_create_on(&plugin, &br.name, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "vlan=5"])
        .err()
        .expect("refused");
    assert!(out.stderr.contains("driver option vlan"), "{out}");
    assert_eq!(vsctl_get("Bridge", &br.name, "external_ids"), "{}");
}

/// One HTTP/1.1 POST on the plugin's socket; the status and the JSON body.
fn post(plugin: &Plugin, method: &str, body: &str) -> (u16, serde_json::Value) {
    post_json(&plugin.socket, method, body)
}

#[test]
fn the_driver_protocol_on_the_wire() {
    testbed();
    let plugin = Plugin::start();
    let (code, v) = post(&plugin, "Plugin.Activate", "{}");
    assert_eq!((code, v), (200, serde_json::json!({"Implements": ["NetworkDriver", "IpamDriver"]})));
    let (code, v) = post(&plugin, "NetworkDriver.GetCapabilities", "{}");
    assert_eq!((code, v["Scope"].as_str()), (200, Some("local")));
    // Unknown calls: 404, which Docker takes as "not supported".
    let (code, v) = post(&plugin, "NetworkDriver.Frobnicate", "{}");
    assert_eq!(code, 404);
    assert!(v["Err"].as_str().is_some_and(|e| e.contains("not implemented")), "{v}");
    // Errors go back as {"Err": ...}, which docker prints.
    let (code, v) = post(&plugin, "NetworkDriver.CreateNetwork", "{not json");
    assert_eq!(code, 200);
    assert!(v["Err"].as_str().is_some_and(|e| e.contains("malformed request body")), "{v}");
    let (_, v) = post(&plugin, "NetworkDriver.Join", r#"{"NetworkID":"ovsdtnone","EndpointID":"e1","SandboxKey":""}"#);
    assert!(v["Err"].as_str().is_some_and(|e| e.contains("network ovsdtnone is unknown")), "{v}");
    // Deleting what does not exist is success (Docker may repeat itself).
    let (_, v) = post(&plugin, "NetworkDriver.DeleteEndpoint", r#"{"NetworkID":"ovsdtnone","EndpointID":"ovsdtnone"}"#);
    assert_eq!(v, serde_json::json!({}));
    let (_, v) = post(&plugin, "NetworkDriver.DeleteNetwork", r#"{"NetworkID":"ovsdtnone"}"#);
    assert_eq!(v, serde_json::json!({}));
    // One log line per request at debug level.
    let log = plugin.log_text();
    assert!(log.contains("debug: NetworkDriver.GetCapabilities: ok"), "{log}");
    assert!(log.contains("error: NetworkDriver.Join network=ovsdtnone endpoint=e1: failed"), "{log}");
}
