//! `del-port` and `del-ports` against the real OVS and dockerd.

mod common;

use common::*;

/// del-port removes the row and both ends of the veth, and only that port.
#[test]
fn del_port_removes_the_row_and_both_veth_ends() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", &c.name]).ok();
    let eth1 = row_of(&c, "eth1");
    let eth2 = row_of(&c, "eth2");
    assert!(host_link_exists(&eth1.name));

    let out = ovs_docker(&["del-port", &br.name, "eth1", &c.name]);
    out.ok();
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "del-port is silent:\n{out}");
    assert!(!host_link_exists(&eth1.name), "host end {} still there", eth1.name);
    let inside = c.link_names();
    assert!(!inside.contains("eth1"), "eth1 still inside the container: {inside:?}");
    assert!(inside.contains("eth2"), "eth2 was removed too: {inside:?}");
    assert!(rows_of(&c).iter().all(|r| r.name != eth1.name), "row of eth1 still in OVSDB");
    assert_eq!(br.ports(), [eth2.name.clone()].into());
    assert_eq!(row_of(&c, "eth2"), eth2, "eth2's row was changed");

    // Again: nothing left to delete.
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).fails(1, "del-port");

    ovs_docker(&["del-port", &br.name, "eth2", &c.id]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after both del-port");
}

/// del-ports removes every port of the container on that bridge, and leaves
/// the container's ports on other bridges and other containers' ports alone.
#[test]
fn del_ports_removes_only_that_containers_ports_on_that_bridge() {
    testbed();
    let a = TestBridge::new();
    let b = TestBridge::new();
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    for (br, iface, c) in [
        (&a, "eth1", &c1),
        (&a, "eth2", &c1),
        (&a, "eth3", &c1),
        (&b, "eth4", &c1),
        (&a, "eth1", &c2),
        (&b, "eth2", &c2),
    ] {
        ovs_docker(&["add-port", &br.name, iface, &c.name]).ok();
    }
    let kept_c1 = row_of(&c1, "eth4");
    let kept_c2: Vec<_> = rows_of(&c2);
    assert_eq!(kept_c2.len(), 2);
    let removed: Vec<_> = ["eth1", "eth2", "eth3"].iter().map(|i| row_of(&c1, i)).collect();

    // By ID prefix, though the ports were recorded by name.
    ovs_docker(&["del-ports", &a.name, c1.short_id()]).ok();
    for r in &removed {
        assert!(!host_link_exists(&r.name), "host end {} still there", r.name);
    }
    assert_eq!(rows_of(&c1), vec![kept_c1.clone()], "only eth4 (on the other bridge) should be left");
    assert_eq!(c1.link_names(), ["lo".to_string(), "eth4".to_string()].into());
    let mut now_c2 = rows_of(&c2);
    now_c2.sort_by(|x, y| x.name.cmp(&y.name));
    let mut was_c2 = kept_c2.clone();
    was_c2.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(now_c2, was_c2, "the other container's ports changed");
    assert_eq!(c2.link_names(), ["lo".to_string(), "eth1".to_string(), "eth2".to_string()].into());
    for r in kept_c2.iter().chain([&kept_c1]) {
        assert!(host_link_exists(&r.name), "host end {} was removed", r.name);
    }
    assert_eq!(a.ports().len(), 1, "only c2's port should be left on {}", a.name);

    for (br, c) in [(&b, &c1), (&a, &c2), (&b, &c2)] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&c1, &c2], &[&a, &b]);
}

/// Deleting what is not there: exit 1 for del-port with one line saying so;
/// del-ports without ports is not an error (as upstream).
#[test]
fn deleting_missing_ports() {
    testbed();
    let a = TestBridge::new();
    let b = TestBridge::new();
    let c = TestContainer::new();
    let ghost = format!("{PREFIX}-{}", rand_hex(10));

    ovs_docker(&["del-port", &a.name, "eth1", &c.name]).fails(1, "del-port").stderr_contains("eth1");
    ovs_docker(&["del-port", &a.name, "eth1", &ghost]).fails(1, "del-port");
    let out = ovs_docker(&["del-ports", &a.name, &c.name]);
    out.ok();
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out}");
    ovs_docker(&["del-ports", &a.name, &ghost]).ok();

    // A port on another bridge is not deleted through the wrong bridge.
    ovs_docker(&["add-port", &a.name, "eth1", &c.name]).ok();
    let before = leak_snapshot(&[&c], &[&a, &b]);
    ovs_docker(&["del-port", &b.name, "eth1", &c.name]).fails(1, "del-port").stderr_contains(&a.name);
    ovs_docker(&["del-ports", &b.name, &c.name]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&a, &b]), "deletion through the wrong bridge");

    // Bad arguments.
    ovs_docker(&["del-port", &a.name, "eth1"]).usage_error();
    ovs_docker(&["del-port", &a.name, "abcdefghijklmnop", &c.name]).usage_error();
    ovs_docker(&["del-ports", &a.name]).usage_error();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&a, &b]), "bad arguments");

    ovs_docker(&["del-port", &a.name, "eth1", &c.name]).ok();
    assert_no_ports(&[&c], &[&a, &b]);
}

/// A port whose container was stopped is stale (the veth died with the
/// namespace) but its row is still cleaned.
#[test]
fn del_port_cleans_up_after_a_stopped_container() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", &c.name]).ok();
    let eth1 = row_of(&c, "eth1");
    c.stop();
    // The kernel dismantles a dead namespace asynchronously.
    wait_until("the veth dies with the container's namespace", 10, || !host_link_exists(&eth1.name));
    assert_eq!(rows_of(&c).len(), 2, "the rows stay after docker stop");

    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_eq!(rows_of(&c).len(), 1);
    ovs_docker(&["del-ports", &br.name, &c.id]).ok();
    assert_no_ports(&[&c], &[&br]);
    assert!(br.ports().is_empty());
}

/// A port whose container was removed: Docker no longer knows it, yet the
/// row is found by the reference used, by the recorded name, and by ID prefix.
#[test]
fn del_port_cleans_up_after_a_removed_container() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", c.short_id()]).ok();
    ovs_docker(&["add-port", &br.name, "eth3", &c.name]).ok();
    c.remove();
    assert_eq!(rows_of(&c).len(), 3, "the rows stay after docker rm");

    // Recorded by name, deleted by name.
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    // Recorded by short ID, deleted by the name Docker no longer knows.
    ovs_docker(&["del-port", &br.name, "eth2", &c.name]).ok();
    assert_eq!(rows_of(&c).len(), 1);
    // The last one by ID prefix.
    ovs_docker(&["del-ports", &br.name, &c.id[..8]]).ok();
    assert_no_ports(&[&c], &[&br]);
    assert!(br.ports().is_empty());
}

/// del-port returns once the kernel has unlisted the veth and leaves the
/// rest of the deletion (15 to 20 ms of freeing) to a child process. That
/// child must hold nothing of the caller: not its output (a `$(...)` in a
/// shell would hang on it) and not the port lock. Right after each
/// del-port, any process still running that command line holds only its
/// netlink socket and the pipe it reports on, and the interface can be
/// added again at once.
#[test]
fn del_port_returns_with_the_veth_unlisted_and_leaves_nothing_held() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    for round in 0..5 {
        ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
        let port = row_of(&c, "eth1").name;
        let args = ["del-port", br.name.as_str(), "eth1", c.name.as_str()];
        let mut child = spawn_ovs_docker(&args);
        let stdout = child.stdout.take().unwrap();
        let pipe = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&stdout)))
            .expect("our end of the output pipe");
        // The exit, not the end of its output (which a holder would delay).
        let status = child.wait().expect("wait for del-port");
        let held = processes_running(&args);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "round {round}: del-port failed: {stderr}");
        // Unlisted on both sides the moment the command is back.
        assert!(!host_link_exists(&port), "round {round}: host end {port} still listed");
        assert!(!c.link_names().contains("eth1"), "round {round}: eth1 still listed in the container");
        for (pid, fds) in held {
            assert!(
                !fds.contains(&pipe),
                "round {round}: process {pid} left by del-port still holds its output pipe {pipe:?}: {fds:?}"
            );
            assert!(fds.len() <= 2, "round {round}: process {pid} left by del-port holds {fds:?}");
        }
    }
    // The name and the lock are free: the port comes back at once.
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after the rounds");
}

/// Processes (other than this one) whose command line ends with `args`,
/// each with the targets of its open descriptors.
fn processes_running(args: &[&str]) -> Vec<(u32, Vec<std::path::PathBuf>)> {
    let wanted: Vec<u8> = args.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        if pid == std::process::id() || !cmdline.ends_with(&wanted) {
            continue;
        }
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.flatten().filter_map(|f| std::fs::read_link(f.path()).ok()).collect())
            .unwrap_or_default();
        found.push((pid, fds));
    }
    found
}
