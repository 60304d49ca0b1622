//! `add-port` against the real OVS and dockerd: what ends up inside the
//! container, in OVSDB and on the host, traffic, and every refusal leaving
//! nothing behind.

mod common;

use common::*;

/// Every option at once, checked inside the container, on the host and in
/// OVSDB, then traffic to the bridge and through the gateway.
#[test]
fn attach_with_every_option() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    br.add_address(&format!("{}/32", net.far_v4()));
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);

    let mac = "02:4f:76:73:00:2a";
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--gateway={}", net.v4(1)),
        &format!("--macaddress={mac}"),
        "--mtu=1400",
    ])
    .ok();

    // Inside the container.
    let link = exec(&c, "ip -o link show dev eth1");
    link.ok().stdout_contains("mtu 1400").stdout_contains(&format!("link/ether {mac}"));
    assert!(link.stdout.contains(",UP") || link.stdout.contains("<UP"), "eth1 is not up:\n{link}");
    exec(&c, "ip -o -4 addr show dev eth1").ok().stdout_contains(&format!("inet {} ", net.v4p(2)));
    let route = exec(&c, "ip route show default");
    route.ok().stdout_contains(&format!("default via {} dev eth1", net.v4(1)));

    // In OVSDB: one row, on our bridge, with every key, the reference as typed.
    let row = row_of(&c, "eth1");
    assert_eq!(row.bridge.as_deref(), Some(br.name.as_str()), "{row:#?}");
    assert!(is_host_end_name(&row.name), "host end name {:?} is not <13 hex>_l", row.name);
    assert_eq!(row.id("container_id"), Some(c.name.as_str()), "{row:#?}");
    assert_eq!(row.id("container_iface"), Some("eth1"), "{row:#?}");
    assert_eq!(row.id("container_full_id"), Some(c.id.as_str()), "{row:#?}");
    assert_eq!(row.id("container_name"), Some(c.name.as_str()), "{row:#?}");
    assert_eq!(row.id("created_by"), Some("ovs-docker"), "{row:#?}");
    assert_eq!(row.tag, None, "{row:#?}");
    assert_eq!(row.error, None, "ovs-vswitchd reported an error on the port: {row:#?}");
    assert_eq!(row.port.as_deref(), Some(row.name.as_str()));

    // On the host: the host end is up, has the same MTU, and its peer is eth1.
    let host = host_link(&row.name);
    assert_eq!(host["mtu"].as_u64(), Some(1400), "host end MTU: {host}");
    assert!(host["flags"].as_array().is_some_and(|f| f.iter().any(|x| x == "UP")), "host end not up: {host}");
    let inside = c.links().expect("container running");
    assert_eq!(inside["eth1"]["link_index"], host["ifindex"], "eth1's peer is not {}", row.name);
    let after_add = leak_snapshot(&[&c], &[&br]);
    assert_eq!(after_add.host_ends, [row.name.clone()].into(), "exactly one host end expected: {after_add:#?}");

    // Traffic: to the bridge on the subnet, and off the subnet via the gateway.
    assert_ping(&c, &net.v4(1));
    assert_ping(&c, &net.far_v4());

    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after del-port");
}

/// IPv4 and IPv6 between two containers, with IPv6 default gateways.
#[test]
fn two_containers_talk_over_ipv4_and_ipv6() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    br.add_address(&format!("{}/128", net.far_v6()));
    let a = TestContainer::new();
    let b = TestContainer::new();
    let before = leak_snapshot(&[&a, &b], &[&br]);

    for (c, host) in [(&a, 2u8), (&b, 3u8)] {
        ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(host))]).ok();
        ovs_docker(&[
            "add-port",
            &br.name,
            "eth2",
            &c.name,
            &format!("--ipaddress={}", net.v6p(host)),
            &format!("--gateway={}", net.v6(1)),
        ])
        .ok();
        let addr = exec(c, "ip -o -6 addr show dev eth2");
        addr.ok().stdout_contains(&format!("inet6 {} ", net.v6p(host)));
        assert!(
            !addr.stdout.contains(&format!("{} scope global tentative", net.v6p(host))),
            "address left tentative:\n{addr}"
        );
        exec(c, "ip -6 route show default").ok().stdout_contains(&format!("default via {} dev eth2", net.v6(1)));
    }
    assert_ping(&a, &net.v4(3));
    assert_ping(&b, &net.v4(2));
    assert_ping(&a, &net.v6(3));
    assert_ping(&b, &net.v6(2));
    // Off-link IPv6, only reachable through the gateway.
    assert_ping(&a, &net.far_v6());

    for c in [&a, &b] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_unchanged(&before, &leak_snapshot(&[&a, &b], &[&br]), "after del-ports");
}

/// A missing bridge is created, with the datapath type asked for.
#[test]
fn add_port_creates_a_missing_bridge() {
    testbed();
    let c = TestContainer::new();
    let name = format!("{PREFIX}{}", rand_hex(6));
    // Owned (deleted on drop) before it even exists.
    let br = TestBridge::adopt(&name);
    assert!(!vsctl(&["br-exists", &name]).success(), "bridge {name} already exists");

    ovs_docker(&["add-port", &name, "eth1", &c.name, "--datapath-type=netdev"]).ok();
    vsctl(&["br-exists", &name]).ok();
    assert_eq!(vsctl_get("Bridge", &name, "datapath_type"), "netdev");
    // As `ovs-vsctl add-br` makes it: with its internal port.
    assert_eq!(vsctl_get("Interface", &name, "type"), "internal");
    let row = row_of(&c, "eth1");
    assert_eq!(row.bridge.as_deref(), Some(name.as_str()));
    assert_eq!(br.ports(), [row.name.clone()].into());
    assert!(c.link_names().contains("eth1"));

    ovs_docker(&["del-ports", &name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
    drop(br);
    assert!(!vsctl(&["br-exists", &name]).success(), "bridge {name} not cleaned up");
}

/// The container can be named by name, full ID and ID prefix; the reference
/// is recorded as typed and the full ID alongside.
#[test]
fn container_by_name_full_id_and_prefix() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let refs = [
        ("eth1", c.name.clone()),
        ("eth2", c.id.clone()),
        ("eth3", c.short_id().to_string()),
        ("eth4", c.id[..7].to_string()),
    ];
    for (iface, r) in &refs {
        ovs_docker(&["add-port", &br.name, iface, r]).ok();
    }
    let inside = c.link_names();
    for (iface, r) in &refs {
        assert!(inside.contains(*iface), "{iface} missing inside the container: {inside:?}");
        let row = row_of(&c, iface);
        assert_eq!(row.id("container_id"), Some(r.as_str()), "container_id must be recorded as typed: {row:#?}");
        assert_eq!(row.id("container_full_id"), Some(c.id.as_str()), "{row:#?}");
        assert_eq!(row.id("container_name"), Some(c.name.as_str()), "{row:#?}");
        assert_eq!(row.bridge.as_deref(), Some(br.name.as_str()));
    }
    assert_eq!(br.ports().len(), 4);
    // Any alias finds every port.
    ovs_docker(&["del-ports", &br.name, &c.short_id()[..5]]).ok();
    assert_no_ports(&[&c], &[&br]);
    assert_eq!(c.link_names(), ["lo".to_string()].into());
}

/// A second add-port for the same container and interface is refused,
/// whatever name the container is given, and changes nothing.
#[test]
fn already_attached_is_refused_by_any_alias() {
    testbed();
    let br = TestBridge::new();
    let other = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    let attached = leak_snapshot(&[&c], &[&br, &other]);
    assert_eq!(attached.veths(), 1);
    assert_eq!(attached.rows.len(), 1);

    for (bridge, r) in [
        (&br, c.name.as_str()),
        (&br, c.id.as_str()),
        (&br, c.short_id()),
        (&br, &c.id[..6]),
        // Another bridge does not make it another port.
        (&other, c.name.as_str()),
        (&other, c.short_id()),
    ] {
        let out = ovs_docker(&["add-port", &bridge.name, "eth1", r, "--ipaddress=192.0.2.9/24"]);
        out.fails(1, "add-port").stderr_contains("already attached");
        assert_unchanged(&attached, &leak_snapshot(&[&c], &[&br, &other]), &format!("refused add-port by {r}"));
    }
    assert!(other.ports().is_empty());
    assert_eq!(rows_of(&c).len(), 1);
    let eth1 = exec(&c, "ip -o addr show dev eth1");
    assert!(!eth1.stdout.contains("192.0.2.9"), "the refused run touched eth1:\n{eth1}");

    ovs_docker(&["del-port", &br.name, "eth1", c.short_id()]).ok();
    assert_no_ports(&[&c], &[&br, &other]);
}

/// Bad input: the right exit code, one line of error for our own checks,
/// and nothing created (no veth, no row, no interface in the container).
#[test]
fn bad_input_is_refused_and_creates_nothing() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let iface = unique_iface();
    let ghost = format!("{PREFIX}-{}", rand_hex(10));
    let before = leak_snapshot_watching(&[&c], &[&br], &[&iface]);
    let add = |extra: &[&str], name: &str, container: &str| -> CmdOutput {
        let mut args = vec!["add-port", br.name.as_str(), name, container];
        args.extend_from_slice(extra);
        ovs_docker(&args)
    };
    let (cn, i) = (c.name.as_str(), iface.as_str());

    // Refused by the command-line parser (exit 2).
    let usage: Vec<(&str, CmdOutput)> = vec![
        ("interface name of 16 bytes", add(&[], "abcdefghijklmnop", cn)),
        ("interface name with /", add(&[], "eth/1", cn)),
        ("MTU 67", add(&["--mtu=67"], i, cn)),
        ("MTU 65536", add(&["--mtu=65536"], i, cn)),
        ("multicast MAC", add(&["--macaddress=01:00:5e:00:00:01"], i, cn)),
        ("zero MAC", add(&["--macaddress=00:00:00:00:00:00"], i, cn)),
        ("malformed MAC", add(&["--macaddress=02:00:00:00:00"], i, cn)),
        ("bad address", add(&["--ipaddress=10.1.2.300/24"], i, cn)),
        ("not an address", add(&["--ipaddress=eth0"], i, cn)),
        ("bad IPv4 prefix", add(&["--ipaddress=10.1.2.3/33"], i, cn)),
        ("bad IPv6 prefix", add(&["--ipaddress=fd00::2/129"], i, cn)),
        ("bad gateway", add(&["--ipaddress=10.1.2.3/24", "--gateway=10.1.2"], i, cn)),
        ("unknown option", add(&["--bogus=1"], i, cn)),
        ("missing container", ovs_docker(&["add-port", br.name.as_str(), i])),
        ("bridge name of 16 bytes", ovs_docker(&["add-port", "ovsdtabcdefghijk", i, cn])),
        ("bridge name with /", ovs_docker(&["add-port", "ovsdt/x", i, cn])),
        ("container reference with a space", add(&[], i, "ovsdt x")),
    ];
    for (what, out) in &usage {
        assert_eq!(out.code, Some(2), "{what}: expected exit 2:\n{out}");
        out.usage_error();
        assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), what);
    }

    // Refused by our own checks: exit 2 with one line of error.
    let invalid: Vec<(&str, CmdOutput)> = vec![
        ("IPv6 gateway for an IPv4 address", add(&["--ipaddress=10.1.2.3/24", "--gateway=fd00::1"], i, cn)),
        ("IPv4 gateway for an IPv6 address", add(&["--ipaddress=fd00::2/64", "--gateway=10.1.2.1"], i, cn)),
        ("gateway outside the subnet", add(&["--ipaddress=10.1.2.3/24", "--gateway=10.1.3.1"], i, cn)),
        ("gateway outside a host address", add(&["--ipaddress=10.1.2.3", "--gateway=10.1.2.1"], i, cn)),
        ("gateway without address", add(&["--gateway=10.1.2.1"], i, cn)),
    ];
    for (what, out) in &invalid {
        assert_eq!(out.code, Some(2), "{what}: expected exit 2:\n{out}");
        out.fails(2, "add-port");
        assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), what);
    }

    // Refused after looking things up (exit 1).
    let refused: Vec<(&str, CmdOutput)> = vec![
        ("nonexistent container", add(&["--ipaddress=10.1.2.3/24"], i, &ghost)),
        // Found by the kernel (EEXIST) when the veth is created.
        ("interface lo exists in the container", add(&["--ipaddress=10.1.2.3/24", "--mtu=1400"], "lo", cn)),
    ];
    for (what, out) in &refused {
        out.fails(1, "add-port");
        assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), what);
    }
    let lo = exec(&c, "ip -o link show dev lo; ip -o addr show dev lo");
    assert!(lo.stdout.contains("mtu 65536") && !lo.stdout.contains("10.1.2.3"), "lo was changed:\n{lo}");

    // OVSDB out of reach: a daemon failure (exit 3).
    let out = ovs_docker(&["--db=unix:/nonexistent", "--timeout=2", "add-port", &br.name, i, cn]);
    out.fails(3, "add-port");
    assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), "unreachable OVSDB");

    // And the same container still takes a port afterwards.
    ovs_docker(&["add-port", &br.name, i, cn]).ok();
    ovs_docker(&["del-port", &br.name, i, cn]).ok();
    assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), "after add and del");
}

/// Containers that cannot take a port: stopped, paused, sharing the host's or
/// another container's network namespace. Exit 1, nothing created.
#[test]
fn unusable_containers_are_refused() {
    testbed();
    let br = TestBridge::new();
    let iface = unique_iface();
    let stopped = TestContainer::new();
    stopped.stop();
    let paused = TestContainer::new();
    paused.pause();
    let host_net = TestContainer::with_args(&["--net=host"]);
    let owner = TestContainer::new();
    let shared = TestContainer::with_args(&[&format!("--net=container:{}", owner.name)]);
    let all = [&stopped, &paused, &host_net, &owner, &shared];
    // The host-network container's interfaces are the host's: leave it out
    // of the per-container view and watch the host namespace by name instead.
    let watched = [&stopped, &paused, &owner, &shared];
    let before = leak_snapshot_watching(&watched, &[&br], &[&iface]);

    for (c, why) in
        [(&stopped, "not running"), (&paused, "paused"), (&host_net, "host"), (&shared, "network namespace")]
    {
        for r in [c.name.as_str(), c.short_id()] {
            let out = ovs_docker(&["add-port", &br.name, &iface, r, "--ipaddress=10.1.2.3/24"]);
            out.fails(1, "add-port").stderr_contains(why);
            assert_unchanged(&before, &leak_snapshot_watching(&watched, &[&br], &[&iface]), &format!("{why}: {r}"));
        }
    }
    assert!(br.ports().is_empty());
    for c in all {
        assert!(rows_of(c).is_empty(), "row made for {}", c.name);
    }
}

/// --no-wait and -v: still attached; -v says what it does on stderr.
#[test]
fn no_wait_and_verbose() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let out = ovs_docker(&["-v", "--no-wait", "add-port", &br.name, "eth1", &c.name]);
    out.ok();
    assert!(
        out.stderr.lines().count() >= 2 && out.stderr.lines().all(|l| l.starts_with("ovs-docker: ")),
        "-v output:\n{out}"
    );
    assert!(out.stdout.is_empty(), "add-port printed on stdout:\n{out}");
    let row = row_of(&c, "eth1");
    assert!(c.link_names().contains("eth1"));
    assert!(host_link_exists(&row.name));
    let quiet = ovs_docker(&["del-port", &br.name, "eth1", &c.name]);
    quiet.ok();
    assert!(quiet.stderr.is_empty() && quiet.stdout.is_empty(), "del-port without -v is silent:\n{quiet}");
    assert_no_ports(&[&c], &[&br]);
}

/// TCP between two containers on a netdev bridge (the userspace datapath
/// does not complete partial checksums: TX checksum offload must be off).
#[test]
fn tcp_between_containers() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let server = TestContainer::new();
    let client = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &server.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &client.name, &format!("--ipaddress={}", net.v4p(3))]).ok();
    assert_ping(&client, &net.v4(2));
    assert_tcp(&client, &server, &net.v4(2), 300_000);
    ovs_docker(&["del-ports", &br.name, &server.name]).ok();
    ovs_docker(&["del-ports", &br.name, &client.name]).ok();
    assert_no_ports(&[&server, &client], &[&br]);
}

/// Concurrent add-ports of the same interface, under different aliases:
/// exactly one wins, the others are refused, one row and one veth remain.
#[test]
fn concurrent_add_port_of_one_interface() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let refs = [
        c.name.clone(),
        c.id.clone(),
        c.short_id().to_string(),
        c.id[..8].to_string(),
        c.name.clone(),
        c.short_id().to_string(),
    ];
    let outs: Vec<CmdOutput> = std::thread::scope(|s| {
        let handles: Vec<_> = refs.iter().map(|r| s.spawn(|| ovs_docker(&["add-port", &br.name, "eth1", r]))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<_> = outs.iter().filter(|o| o.success()).collect();
    assert_eq!(won.len(), 1, "exactly one add-port must succeed: {outs:#?}");
    for o in outs.iter().filter(|o| !o.success()) {
        o.fails(1, "add-port");
    }
    let s = leak_snapshot(&[&c], &[&br]);
    assert_eq!((s.rows.len(), s.veths()), (1, 1), "{s:#?}");
    assert_eq!(c.link_names(), ["lo".to_string(), "eth1".to_string()].into());
    assert_eq!(br.ports().len(), 1);
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

/// Concurrent add-ports to a bridge that does not exist yet: all succeed,
/// and the bridge is created once.
#[test]
fn concurrent_add_port_creates_the_bridge_once() {
    testbed();
    let name = format!("{PREFIX}{}", rand_hex(6));
    let br = TestBridge::adopt(&name);
    let cs: Vec<TestContainer> = (0..4).map(|_| TestContainer::new()).collect();
    let outs: Vec<CmdOutput> = std::thread::scope(|s| {
        let handles: Vec<_> = cs
            .iter()
            .map(|c| s.spawn(|| ovs_docker(&["add-port", &name, "eth1", &c.name, "--datapath-type=netdev"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outs {
        o.ok();
    }
    let bridges = vsctl(&["--format=json", "--columns=name,datapath_type", "find", "Bridge", &format!("name={name}")]);
    assert_eq!(bridges.ok().json()["data"].as_array().map(Vec::len), Some(1), "{bridges}");
    assert_eq!(vsctl_get("Bridge", &name, "datapath_type"), "netdev");
    let ports = br.ports();
    assert_eq!(ports.len(), 4, "{ports:?}");
    for c in &cs {
        assert!(ports.contains(&row_of(c, "eth1").name));
        ovs_docker(&["del-ports", &name, &c.name]).ok();
    }
    let refs: Vec<&TestContainer> = cs.iter().collect();
    assert_no_ports(&refs, &[&br]);
}

/// Small MTUs are valid (68 to 65535), on a netdev bridge too.
#[test]
fn small_mtu_on_a_netdev_bridge() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, "--mtu=1000", &format!("--ipaddress={}", net.v4p(2))]).ok();
    exec(&c, "ip -o link show dev eth1").ok().stdout_contains("mtu 1000");
    assert_ping(&c, &net.v4(1));
    ovs_docker(&["add-port", &br.name, "eth2", &c.name, "--mtu=68"]).ok();
    exec(&c, "ip -o link show dev eth2").ok().stdout_contains("mtu 68");
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

/// IPv6 needs an MTU of 1280 or more: an IPv6 address with a smaller MTU
/// fails, with one line of error, and leaves nothing behind.
#[test]
fn ipv6_address_with_an_mtu_below_1280_fails_cleanly() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let out = ovs_docker(&["add-port", &br.name, "eth1", &c.name, "--mtu=1200", "--ipaddress=fd00:1::2/64"]);
    assert!(!out.success(), "{out}");
    out.fails(out.code.unwrap_or(0), "add-port");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "IPv6 with MTU 1200");
}

/// Two containers whose IDs share a first digit; a one-digit prefix then
/// names neither: refused (exit 1), not a Docker failure.
#[test]
fn ambiguous_id_prefix_is_refused() {
    testbed();
    let br = TestBridge::new();
    let mut cs: Vec<TestContainer> = Vec::new();
    // 17 containers always hold two that share a first hex digit.
    let prefix = loop {
        cs.push(TestContainer::new());
        let last = &cs[cs.len() - 1].id[..1];
        if cs[..cs.len() - 1].iter().any(|c| c.id.starts_with(last)) {
            break last.to_string();
        }
        assert!(cs.len() <= 17);
    };
    let refs: Vec<&TestContainer> = cs.iter().collect();
    let before = leak_snapshot(&refs, &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &prefix]).fails(1, "add-port").stderr_contains("ambiguous");
    ovs_docker(&["list", "--container", &prefix]).fails(1, "list");
    ovs_docker(&["del-ports", &br.name, &prefix]).fails(1, "del-ports");
    assert_unchanged(&before, &leak_snapshot(&refs, &[&br]), "ambiguous prefix");
}

/// A container is found by name, by `/name` (as Docker prints names) and
/// by ID, all through the short road to Docker (one bare request on its
/// socket, see src/docker/inspect.rs), and a missing one is named in the
/// error.
#[test]
fn every_kind_of_container_reference_is_looked_up() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    for (iface, reference) in [("eth1", c.name.clone()), ("eth2", format!("/{}", c.name)), ("eth3", c.id.clone())] {
        ovs_docker(&["add-port", &br.name, iface, &reference]).ok();
        assert!(c.link_names().contains(iface), "{iface} missing after add-port for \"{reference}\"");
        assert_eq!(row_of(&c, iface).id("container_full_id"), Some(c.id.as_str()), "{reference}");
    }
    let gone = format!("{}-gone", c.name);
    for missing in [gone.clone(), format!("/{gone}")] {
        ovs_docker(&["add-port", &br.name, "eth4", &missing])
            .fails(1, "add-port")
            .stderr_contains(&format!("container \"{gone}\" does not exist"));
    }
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after every kind of reference");
}

/// Output that nobody reads any more (`ovs-docker -v add-port ... 2>&1 |
/// head -1`, a log pipe that died) must not stop a command half-way: with
/// its standard output and error closed from the start, `-v add-port` and
/// `-v del-port` still do all their work and succeed.
#[test]
fn a_closed_output_pipe_does_not_stop_a_command() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let run_unread = |args: &[&str]| {
        let mut child = spawn_ovs_docker(args);
        // Close our ends at once: every write of the command gets EPIPE.
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().expect("wait for ovs-docker")
    };
    let status = run_unread(&["-v", "add-port", &br.name, "eth1", &c.name, "--ipaddress=192.0.2.9/24"]);
    assert!(status.success(), "add-port with nobody reading its output: {status}");
    let row = row_of(&c, "eth1");
    assert_eq!(row.error, None, "ovs-vswitchd refused the port");
    assert!(br.ports().contains(&row.name), "port {} not on {}", row.name, br.name);
    assert!(c.link_names().contains("eth1"));
    let status = run_unread(&["-v", "del-port", &br.name, "eth1", &c.name]);
    assert!(status.success(), "del-port with nobody reading its output: {status}");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after add and del with closed output");
}

/// A second default route of the same family is refused once the interface
/// exists; that interface is removed again and the first one is untouched.
#[test]
fn second_default_route_is_refused_and_undone() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--gateway={}", net.v4(1)),
    ])
    .ok();
    let attached = leak_snapshot(&[&c], &[&br]);
    let out = ovs_docker(&[
        "add-port",
        &br.name,
        "eth2",
        &c.name,
        &format!("--ipaddress={}", net.v4p(3)),
        &format!("--gateway={}", net.v4(1)),
    ]);
    out.fails(1, "add-port").stderr_contains("default");
    assert_unchanged(&attached, &leak_snapshot(&[&c], &[&br]), "refused second default route");
    exec(&c, "ip route show default").ok().stdout_contains(&format!("default via {} dev eth1", net.v4(1)));
    assert_ping(&c, &net.v4(1));
    // Another family is fine.
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth2",
        &c.name,
        &format!("--ipaddress={}", net.v6p(3)),
        &format!("--gateway={}", net.v6(1)),
    ])
    .ok();
    exec(&c, "ip -6 route show default").ok().stdout_contains(&format!("default via {} dev eth2", net.v6(1)));
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}
