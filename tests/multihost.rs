//! Containers on different (simulated) hosts on one L2 network: through
//! VXLAN, GRE and Geneve tunnels made by `tunnel add`, and through OVN with
//! ports bound (and logical ports created) by add-port. Every host is a
//! network namespace with its own OVS (see tests/common/multihost.rs); the
//! binary under test runs inside it, as `ip netns exec NS env OVS_RUNDIR=DIR
//! ovs-docker ...`, and attaches real Docker containers.
//!
//! The tests run one at a time (a mutex): each starts several daemons, and
//! the machine has two cores.

mod common;

use std::sync::Mutex;

use common::multihost::*;
use common::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The MAC of eth1 inside `c`.
fn mac_of(c: &TestContainer) -> String {
    exec(c, "cat /sys/class/net/eth1/address").ok().stdout.trim().to_string()
}

/// The `list --format=json` rows of `host`.
#[track_caller]
fn list_on(host: &Host, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["list", "--format=json"];
    all.extend_from_slice(args);
    let out = host.ovs_docker(&all);
    out.ok();
    out.json().as_array().cloned().unwrap_or_else(|| panic!("list JSON is not an array:\n{out}"))
}

/// Two hosts, a container on each, joined by a tunnel of `kind` made with
/// `tunnel add` on both sides: idempotence, conflicts, listing, ping and
/// TCP across, deletion; nothing left behind.
fn tunnel_between_two_hosts(kind: &str) {
    let _serial = serial();
    let bed = Testbed::new();
    let h1 = bed.host(1);
    let h2 = bed.host(2);
    for h in [&h1, &h2] {
        h.add_bridge(BR);
    }
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    h1.attach(BR, &c1, "10.0.0.1", &[]);
    h2.attach(BR, &c2, "10.0.0.2", &[]);
    // The host ends are in the hosts' namespaces, not in ours.
    let p1 = h1.container_port_names();
    assert_eq!(p1.len(), 1, "{p1:?}");
    assert!(h1.has_link(&p1[0]) && !host_link_exists(&p1[0]), "the host end of {} must be in {}", p1[0], h1.ns);

    for (h, other) in [(&h1, &h2), (&h2, &h1)] {
        let add = ["tunnel", "add", BR, other.underlay_ip.as_str(), "--type", kind, "--key", "42"];
        h.ovs_docker(&add).ok();
        // The same again: a no-op success, still one tunnel.
        h.ovs_docker(&add).ok();
        assert_eq!(h.interfaces_of_type(kind), [default_name_for(kind, other)], "on host {}", h.n);
    }
    // The same name with another key: refused, nothing changed.
    let other_key = ["tunnel", "add", BR, h2.underlay_ip.as_str(), "--type", kind, "--key", "43"];
    h1.ovs_docker(&other_key).fails(1, "tunnel add").stderr_contains("other settings");
    let name = default_name_for(kind, &h2);
    assert_eq!(h1.vsctl(&["get", "Interface", &name, "options:key"]).stdout.trim(), "\"42\"");
    // Bad input: refused before anything is asked.
    h1.ovs_docker(&["tunnel", "add", BR, "not-an-ip"]).usage_error();
    h1.ovs_docker(&["tunnel", "add", BR, &h2.underlay_ip, "--name", "this-is-too-long-a-name"]).usage_error();
    if kind != "gre" {
        h1.ovs_docker(&["tunnel", "add", BR, &h2.underlay_ip, "--type", kind, "--key", "16777216"])
            .fails(2, "tunnel add");
    }
    h1.ovs_docker(&["tunnel", "add", "ovsdt-nobridge", &h2.underlay_ip]).fails(1, "tunnel add");

    // Listed, typed, by `tunnel list` and by `list` (added keys only).
    let out = h1.ovs_docker(&["tunnel", "list", "--format=json"]);
    let tunnels = out.ok().json();
    let t = tunnels.as_array().and_then(|a| a.iter().find(|t| t["port"] == name.as_str())).cloned();
    let t = t.unwrap_or_else(|| panic!("{name} not in tunnel list:\n{out}"));
    assert_eq!(
        (t["type"].as_str(), t["remote_ip"].as_str(), t["key"].as_str()),
        (Some(kind), Some(h2.underlay_ip.as_str()), Some("42")),
        "{t}"
    );
    assert_eq!((t["created_by"].as_str(), t["state"].as_str()), (Some("ovs-docker"), Some("ok")), "{t}");
    let rows = list_on(&h1, &[]);
    let row =
        rows.iter().find(|r| r["port"] == name.as_str()).unwrap_or_else(|| panic!("{name} not in list: {rows:#?}"));
    assert_eq!((row["kind"].as_str(), row["tunnel_type"].as_str()), (Some("tunnel"), Some(kind)), "{row}");
    let container_row = rows.iter().find(|r| r["port"] == p1[0].as_str()).unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!((container_row["kind"].as_str(), container_row["state"].as_str()), (Some("container"), Some("ok")));
    // --db reaches another OVS from anywhere, as OVS_RUNDIR does.
    let db = format!("--db={}", h1.db());
    let out = ovs_docker(&[db.as_str(), "tunnel", "list", "br-c"]);
    out.ok().stdout_contains(&name);
    let table = h1.ovs_docker(&["list"]);
    table.ok().stdout_contains(&name);
    // A container filter lists containers only.
    assert!(list_on(&h1, &["--container", &c1.name]).iter().all(|r| r["kind"] == "container"));

    h1.prime_tunnels(&[&h2]);
    h2.prime_tunnels(&[&h1]);
    assert_ping(&c1, "10.0.0.2");
    assert_ping(&c2, "10.0.0.1");
    assert_tcp(&c1, &c2, "10.0.0.2", 300_000);

    // Delete by remote address: traffic stops; a second delete is refused
    // unless --if-exists.
    h1.ovs_docker(&["tunnel", "del", BR, &h2.underlay_ip]).ok();
    assert!(h1.interfaces_of_type(kind).is_empty());
    assert_no_ping(&c1, "10.0.0.2");
    h1.ovs_docker(&["tunnel", "del", BR, &h2.underlay_ip]).fails(1, "tunnel del");
    h1.ovs_docker(&["tunnel", "del", BR, &h2.underlay_ip, "--if-exists"]).ok();
    // By name on the other host.
    h2.ovs_docker(&["tunnel", "del", BR, &default_name_for(kind, &h1)]).ok();
    assert!(h2.interfaces_of_type(kind).is_empty());

    h1.ovs_docker(&["del-port", BR, "eth1", &c1.name]).ok();
    h2.ovs_docker(&["del-port", BR, "eth1", &c2.name]).ok();
    for h in [&h1, &h2] {
        assert!(h.container_port_names().is_empty(), "rows left on host {}", h.n);
    }
    assert!(!h1.has_link(&p1[0]), "veth {} left on host 1", p1[0]);
    assert!(!c1.link_names().contains("eth1"));
}

/// `TYPE-<remote IPv4 in hex>`.
fn default_name_for(prefix: &str, remote: &Host) -> String {
    let ip: std::net::Ipv4Addr = remote.underlay_ip.parse().unwrap();
    format!("{prefix}-{:08x}", u32::from(ip))
}

#[test]
fn vxlan_between_two_hosts() {
    tunnel_between_two_hosts("vxlan");
}

#[test]
fn gre_between_two_hosts() {
    tunnel_between_two_hosts("gre");
}

#[test]
fn geneve_between_two_hosts() {
    tunnel_between_two_hosts("geneve");
}

/// add-port warns (and still succeeds) when the container MTU does not fit
/// in a 1500-byte underlay with the bridge's tunnel headers; not otherwise.
#[test]
fn mtu_warning_for_tunnels() {
    let _serial = serial();
    let bed = Testbed::new();
    let h1 = bed.host(1);
    h1.add_bridge(BR);
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    // No tunnel yet: no warning.
    let out = h1.ovs_docker(&["add-port", BR, "eth1", &c1.name]);
    assert!(out.ok().stderr.is_empty(), "{out}");
    h1.ovs_docker(&["tunnel", "add", BR, "192.168.77.9", "--type=vxlan"]).ok();
    let out = h1.ovs_docker(&["add-port", BR, "eth1", &c2.name]);
    out.ok().stderr_contains("warning: MTU 1500 of eth1 is too large for vxlan tunnel vxlan-c0a84d09");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    h1.ovs_docker(&["del-port", BR, "eth1", &c2.name]).ok();
    // 1450 fits a vxlan tunnel in 1500 bytes.
    let out = h1.ovs_docker(&["add-port", BR, "eth1", &c2.name, "--mtu=1450"]);
    assert!(out.ok().stderr.is_empty(), "{out}");
}

/// The iface-id of the Interface `port` on `host` ("" if none).
fn iface_id_of(host: &Host, port: &str) -> String {
    let out = host.vsctl(&["--if-exists", "get", "Interface", port, "external_ids:iface-id"]);
    out.stdout.trim().trim_matches('"').to_string()
}

/// The logical switch port `name` in the northbound database, if any:
/// its addresses.
fn lsp_addresses(central: &OvnCentral, name: &str) -> Option<String> {
    let out = central.nbctl(&["--bare", "--columns=addresses", "find", "Logical_Switch_Port", &format!("name={name}")]);
    let text = out.stdout.trim().trim_matches('"');
    (!text.is_empty()).then(|| text.to_string())
}

/// Three hosts, two logical switches over the same IP subnet: containers
/// reach those of their own switch on every host (ping, TCP), never those
/// of the other switch, even on the same host. Ports and logical ports are
/// made by add-port (--ovn-nb) and removed by del-port; a port bound with
/// --iface-id only leaves the logical port alone; refusals leave nothing.
#[test]
fn ovn_three_hosts_two_switches() {
    let _serial = serial();
    let bed = Testbed::new();
    let central = bed.ovn_central();
    let h1 = bed.host(1);
    let h2 = bed.host(2);
    let h3 = bed.host(3);
    connect_ovn(&central, &[&h1, &h2, &h3]);
    central.nbctl(&["ls-add", "ls-a", "--", "ls-add", "ls-b"]);
    let nb = format!("--ovn-nb={}", central.nb());

    let a1 = TestContainer::new();
    let a2 = TestContainer::new();
    let a3 = TestContainer::new();
    let b1 = TestContainer::new();
    let b3 = TestContainer::new();
    let made = |h: &Host, c: &TestContainer, ip: &str, ls: &str, lsp: &str| {
        let id = format!("--iface-id={lsp}");
        let sw = format!("--ovn-switch={ls}");
        h.attach("br-int", c, ip, &[&id, nb.as_str(), &sw, "--wait-ovn"]);
    };
    made(&h1, &a1, "10.0.1.1", "ls-a", "a1");
    made(&h2, &a2, "10.0.1.2", "ls-a", "a2");
    made(&h3, &a3, "10.0.1.3", "ls-a", "a3");
    made(&h1, &b1, "10.0.1.11", "ls-b", "b1");
    // Bound only: the logical port is the administrator's.
    let b3_mac = "02:00:00:0b:00:03";
    central.nbctl(&["lsp-add", "ls-b", "b3", "--", "lsp-set-addresses", "b3", &format!("{b3_mac} 10.0.1.13")]);
    h3.attach("br-int", &b3, "10.0.1.13", &["--iface-id=b3", &format!("--macaddress={b3_mac}"), "--wait-ovn"]);

    // The logical port has the interface's real MAC and its address; the
    // Interface carries the binding, and ovn-controller installed it.
    let mac = mac_of(&a1);
    assert_eq!(lsp_addresses(&central, "a1"), Some(format!("{mac} 10.0.1.1")));
    let port = h1
        .container_port_names()
        .into_iter()
        .find(|p| h1.vsctl(&["get", "Interface", p, "external_ids:iface-id"]).stdout.trim() == "a1");
    let port = port.expect("a port with iface-id a1 on host 1");
    assert_eq!(h1.vsctl(&["get", "Interface", &port, "external_ids:attached-mac"]).stdout.trim(), format!("\"{mac}\""));
    assert_eq!(h1.vsctl(&["get", "Interface", &port, "external_ids:ovn-installed"]).stdout.trim(), "\"true\"");
    let rows = list_on(&h1, &[]);
    let row = rows.iter().find(|r| r["port"] == port.as_str()).unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!((row["iface_id"].as_str(), row["ovn"].as_str()), (Some("a1"), Some("installed")), "{row}");
    h1.ovs_docker(&["list"]).ok().stdout_contains("a1:installed");

    // Same switch, across hosts.
    assert_ping(&a1, "10.0.1.2");
    assert_ping(&a1, "10.0.1.3");
    assert_ping(&a2, "10.0.1.3");
    assert_ping(&b1, "10.0.1.13");
    assert_tcp(&a1, &a3, "10.0.1.3", 300_000);
    // The other switch, across hosts and on the same host: unreachable.
    assert_no_ping(&a1, "10.0.1.13");
    assert_no_ping(&a1, "10.0.1.11");
    assert_no_ping(&b3, "10.0.1.3");

    // Refusals leave nothing: no veth, no row, no logical port.
    let before = (h2.container_port_names(), h2.host_end_links());
    let c = TestContainer::new();
    let args = |extra: &[&str]| {
        let mut v = vec![
            "add-port".to_string(),
            "br-int".into(),
            "eth1".into(),
            c.name.clone(),
            "--ipaddress=10.0.1.50/24".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_h2 = |extra: &[&str]| {
        let v = args(extra);
        h2.ovs_docker(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    run_h2(&["--iface-id=x1", &nb, "--ovn-switch=ls-nope"]).fails(1, "add-port").stderr_contains("ls-nope");
    // Two switches of one name (allowed in the NB schema): refused, rather
    // than one logical port on both.
    central.nbctl(&["ls-add", "ls-dup", "--", "--add-duplicate", "ls-add", "ls-dup"]).ok();
    run_h2(&["--iface-id=x3", &nb, "--ovn-switch=ls-dup"]).fails(1, "add-port").stderr_contains("2 logical switches");
    assert_eq!(lsp_addresses(&central, "x3"), None);
    run_h2(&["--iface-id=a1", &nb, "--ovn-switch=ls-a"]).fails(1, "add-port").stderr_contains("already exists");
    run_h2(&["--iface-id=ghost", "--wait-ovn", "--timeout=2"]).fails(3, "add-port").stderr_contains("ovn-controller");
    // A later failure deletes the logical port add-port had created: on a
    // bridge ovn-controller does not manage, --wait-ovn times out.
    h2.add_bridge("br-x");
    let on_br_x = [
        "add-port",
        "br-x",
        "eth1",
        c.name.as_str(),
        "--iface-id=x2",
        nb.as_str(),
        "--ovn-switch=ls-a",
        "--wait-ovn",
        "--timeout=2",
    ];
    h2.ovs_docker(&on_br_x).fails(3, "add-port").stderr_contains("ovn-controller");
    assert_eq!(lsp_addresses(&central, "x2"), None, "the logical port of a failed add-port was left behind");
    run_h2(&["--ovn-nb=unix:/nonexistent"]).usage_error();
    run_h2(&["--wait-ovn"]).usage_error();
    assert_eq!((h2.container_port_names(), h2.host_end_links()), before, "a refused add-port left a row or a veth");
    assert!(!c.link_names().contains("eth1"), "a refused add-port left eth1 in the container");
    assert_eq!(lsp_addresses(&central, "x1"), None);
    assert!(lsp_addresses(&central, "a1").is_some(), "a refused add-port deleted someone else's logical port");

    // del-port deletes the logical port it created, and only that.
    h1.ovs_docker(&["del-port", "br-int", "eth1", &a1.name]).ok();
    assert_eq!(lsp_addresses(&central, "a1"), None);
    h3.ovs_docker(&["del-port", "br-int", "eth1", &b3.name]).ok();
    assert!(lsp_addresses(&central, "b3").is_some(), "del-port deleted a logical port it did not create");
    h1.ovs_docker(&["del-ports", "br-int", &b1.name]).ok();
    assert_eq!(lsp_addresses(&central, "b1"), None);
    assert!(h1.container_port_names().is_empty());
    // gc: a stopped container's port goes, and the logical port made for it.
    let a2_port = h2.container_port_names().into_iter().find(|p| iface_id_of(&h2, p) == "a2").expect("a2's port");
    a2.stop();
    wait_until("the stop takes a2's veth away", 20, || !h2.has_link(&a2_port));
    h2.ovs_docker(&["gc"]).ok().stdout_contains(&a2_port);
    assert_eq!(lsp_addresses(&central, "a2"), None, "gc left the logical port of the port it removed");
    assert!(!h2.container_port_names().contains(&a2_port));
    assert!(lsp_addresses(&central, "a3").is_some(), "gc removed a live port's logical port");
}

/// A host's ovn-controller restarted while a TCP transfer and a ping run
/// across hosts: the transfer completes intact, the ping goes on answering
/// after the restart, and new connections work.
#[test]
fn ovn_controller_restart_while_traffic_flows() {
    let _serial = serial();
    let bed = Testbed::new();
    let central = bed.ovn_central();
    let h1 = bed.host(1);
    let h2 = bed.host(2);
    connect_ovn(&central, &[&h1, &h2]);
    central.nbctl(&["ls-add", "ls"]);
    let nb = format!("--ovn-nb={}", central.nb());
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    h1.attach("br-int", &c1, "10.0.2.1", &["--iface-id=c1", &nb, "--ovn-switch=ls", "--wait-ovn"]);
    h2.attach("br-int", &c2, "10.0.2.2", &["--iface-id=c2", &nb, "--ovn-switch=ls", "--wait-ovn"]);
    let c3 = TestContainer::new();
    h2.attach("br-int", &c3, "10.0.2.3", &["--iface-id=c3", &nb, "--ovn-switch=ls", "--wait-ovn"]);
    assert_ping(&c1, "10.0.2.2");

    // A transfer that lasts a few seconds (1 MB, paced), and a ping.
    run("docker", &["exec", "-d", &c2.name, "sh", "-c", "sleep 120 | nc -l -p 7001 > /tmp/rx"]).ok();
    // The sender connects once: the listener (started in the background) must be up.
    wait_until("c2 listens on TCP 7001", 15, || exec(&c2, "netstat -ltn | grep -q ':7001 '").success());
    run(
        "docker",
        &[
            "exec",
            "-d",
            &c1.name,
            "sh",
            "-c",
            "(for i in $(seq 1 40); do head -c 25000 /dev/urandom; sleep 0.1; done) | tee /tmp/tx | nc -w 10 10.0.2.2 7001; \
             echo $? > /tmp/done",
        ],
    )
    .ok();
    run("docker", &["exec", "-d", &c1.name, "sh", "-c", "ping -i 0.2 -w 60 10.0.2.2 > /tmp/ping"]).ok();
    wait_until("the transfer has started", 10, || exec(&c2, "test -s /tmp/rx").success());

    let old = h2.controller_pid();
    h2.stop_ovn_controller();
    std::thread::sleep(std::time::Duration::from_millis(500));
    h2.start_ovn_controller(&central);
    assert_ne!(h2.controller_pid(), old);
    let replies = || exec(&c1, "grep -c 'bytes from' /tmp/ping").stdout.trim().parse::<u32>().unwrap_or(0);
    let at_restart = replies();

    wait_until("the transfer finished", 60, || exec(&c1, "test -e /tmp/done").success());
    let status = exec(&c1, "cat /tmp/done").stdout;
    assert_eq!(status.trim(), "0", "nc failed during the restart\n{}", h2.controller_log());
    let sent = exec(&c1, "md5sum < /tmp/tx; wc -c < /tmp/tx").stdout;
    let mut got = String::new();
    wait_until("the paced 1 MB arrived intact", 20, || {
        got = exec(&c2, "md5sum < /tmp/rx; wc -c < /tmp/rx").stdout;
        got == sent
    });
    assert!(sent.contains("1000000"), "{sent}");
    wait_until("ping answers after the restart", 20, || replies() >= at_restart + 5);
    assert_tcp(&c2, &c1, "10.0.2.1", 300_000);
    let port = h2.container_port_names().into_iter().find(|p| iface_id_of(&h2, p) == "c2").expect("c2's port");
    assert_eq!(h2.vsctl(&["get", "Interface", &port, "external_ids:ovn-installed"]).stdout.trim(), "\"true\"");

    // A container restarts: `watch` (run on its host) re-creates the port
    // with its binding, which ovn-controller installs anew; the logical
    // port stays. (c3 has had no TCP connection: a lingering TCP socket
    // keeps a dead container's namespace, and so its veth, for a while.)
    let old = h2.container_port_names().into_iter().find(|p| iface_id_of(&h2, p) == "c3").expect("c3's port");
    run("docker", &["restart", "-t", "0", &c3.name]).ok();
    // The kernel destroys the old namespace, and the veth with it, lazily.
    wait_until("the restart takes the veth away", 20, || !h2.has_link(&old));
    h2.ovs_docker(&["watch", "--once"]).ok();
    let new = h2.container_port_names().into_iter().find(|p| iface_id_of(&h2, p) == "c3").expect("c3's port");
    assert!(h2.has_link(&new), "watch did not re-create the veth of {new} in {}", h2.ns);
    wait_until("ovn-controller installs the re-created port", 20, || {
        h2.vsctl(&["get", "Interface", &new, "external_ids"]).stdout.contains("ovn-installed=\"true\"")
    });
    assert!(lsp_addresses(&central, "c3").is_some());
    assert_ping(&c1, "10.0.2.3");
    h2.ovs_docker(&["del-port", "br-int", "eth1", &c3.name]).ok();
    h1.ovs_docker(&["del-port", "br-int", "eth1", &c1.name]).ok();
    h2.ovs_docker(&["del-port", "br-int", "eth1", &c2.name]).ok();
    // The logical port made for c3 goes too, although the OVS port that
    // del-port removed is not the one it was made with.
    assert_eq!(lsp_addresses(&central, "c3"), None);
    assert_eq!(lsp_addresses(&central, "c1"), None);
    assert_eq!(lsp_addresses(&central, "c2"), None);
}

/// A run from another network namespace never breaks a run in progress on
/// the same container interface. (Port locks are abstract unix sockets, one
/// set per network namespace, so the two runs do not share a lock; what
/// protects the first run's half-made veth is that the second one takes a
/// container-side interface for an orphan only when it finds the other end
/// of that very pair in its own namespace.)
#[test]
fn a_run_from_another_namespace_leaves_a_run_in_progress_alone() {
    let _serial = serial();
    let bed = Testbed::new();
    let h1 = bed.host(1);
    h1.add_bridge(BR);
    let c = TestContainer::new();
    let log = bed.dir.join("paused.log");
    let rundir = format!("OVS_RUNDIR={}", h1.dir.display());
    common::require_fault_injection(&[("OVS_DOCKER_PAUSE_AT", "veth-created")]);
    let mut paused = std::process::Command::new("ip")
        .args(["netns", "exec", h1.ns.as_str(), "env", rundir.as_str(), "OVS_DOCKER_PAUSE_AT=veth-created", bin()])
        .args(["add-port", BR, "eth1", c.name.as_str()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_until("the run in host 1's namespace pauses with its veth made", 20, || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("paused at veth-created")
    });
    let half_made = h1.host_end_links();
    assert_eq!(half_made.len(), 1, "{half_made:?}");
    let db = format!("--db={}", h1.db());
    let out = ovs_docker(&[db.as_str(), "--timeout=10", "add-port", BR, "eth1", c.name.as_str()]);
    let intact = h1.host_end_links() == half_made && c.link_names().contains("eth1");
    // Undo the paused run before asserting, whatever the outcome.
    // SAFETY: kill has no memory-safety preconditions; our own child.
    unsafe { libc::kill(paused.id() as libc::pid_t, libc::SIGTERM) };
    let status = paused.wait().unwrap();
    out.fails(1, "add-port").stderr_contains("eth1 already exists");
    assert!(intact, "the run from the other namespace broke the veth of the run in progress");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{}", std::fs::read_to_string(&log).unwrap_or_default());
    assert!(h1.host_end_links().is_empty() && h1.container_port_names().is_empty());
    assert!(!c.link_names().contains("eth1"));
}
