//! Stale ports: a container restarts, stops or is removed; its veth dies
//! with its namespace but the OVSDB row stays. `list` says so, and add-port,
//! del-port and del-ports heal it.

mod common;

use common::*;

/// `docker restart`: the row is "link missing"; add-port of the same
/// interface reclaims it (exactly one row afterwards) and traffic works.
#[test]
fn restarted_container_is_reclaimed_by_add_port() {
    testbed();
    let _stale = stale_states_guard();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let addr = format!("--ipaddress={}", net.v4p(2));
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &addr]).ok();
    assert_ping(&c, &net.v4(1));
    let old = row_of(&c, "eth1");

    for round in 0..2 {
        let context = format!("restart {round}");
        run("docker", &["restart", "-t", "0", &c.name]).ok();
        let stale = row_of(&c, "eth1");
        wait_until("the veth dies with the old namespace", 30, || !host_link_exists(&stale.name));
        assert_eq!(list_state(&br.name, &stale.name).as_deref(), Some("link missing"), "{context}");
        assert!(!c.link_names().contains("eth1"), "{context}: eth1 survived the restart");

        // By another alias than the one the row was made with.
        let by = if round == 0 { c.id.clone() } else { c.short_id().to_string() };
        ovs_docker(&["add-port", &br.name, "eth1", &by, &addr]).ok();
        let row = row_of(&c, "eth1");
        assert_ne!(row.name, stale.name, "{context}: a new veth is made");
        let s = leak_snapshot(&[&c], &[&br]);
        assert_eq!((s.veths(), s.rows.len()), (1, 1), "{context}: {s:#?}");
        assert_eq!(br.ports(), [row.name.clone()].into(), "{context}: the stale port is gone from the bridge");
        assert_eq!(list_state(&br.name, &row.name).as_deref(), Some("ok"), "{context}");
        assert_ping(&c, &net.v4(1));
    }
    assert_ne!(row_of(&c, "eth1").name, old.name);
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_no_leak(&before, &[&c], &[&br], "after del-port");
}

/// A restart also lets del-port (exit 0) clean the stale row.
#[test]
fn restarted_container_stale_port_is_deleted() {
    testbed();
    let _stale = stale_states_guard();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", &c.name]).ok();
    let eth1 = row_of(&c, "eth1");
    run("docker", &["restart", "-t", "0", &c.name]).ok();
    wait_until("the veth dies with the old namespace", 30, || !host_link_exists(&eth1.name));
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_eq!(rows_of(&c).len(), 1);
    ovs_docker(&["del-ports", &br.name, &c.id]).ok();
    assert_no_leak(&before, &[&c], &[&br], "after del-port and del-ports of stale ports");
    assert!(br.ports().is_empty());
}

/// `docker kill`: "container stopped"; add-port is refused (not running)
/// and changes nothing; del-port exits 0 and cleans.
#[test]
fn killed_container_port_is_deleted() {
    testbed();
    let _stale = stale_states_guard();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    let row = row_of(&c, "eth1");
    run("docker", &["kill", &c.name]).ok();
    wait_until("the veth dies with the namespace", 30, || !host_link_exists(&row.name));
    assert_eq!(list_state(&br.name, &row.name).as_deref(), Some("container stopped"));
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).fails(1, "add-port").stderr_contains("not running");
    assert_eq!(row_of(&c, "eth1"), row, "a refused add-port must not touch the stale row");

    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    // (The container is stopped: it has no interfaces to compare.)
    assert_no_ports(&[&c], &[&br]);
    assert!(marked_veths(&c.id).is_empty());
    assert!(br.ports().is_empty());
    assert!(list_state(&br.name, &row.name).is_none());

    // Started again, it takes a port as usual.
    run("docker", &["start", &c.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    assert_eq!(list_state(&br.name, &row_of(&c, "eth1").name).as_deref(), Some("ok"));
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_no_leak(&before, &[&c], &[&br], "after the second del-port");
}

/// `docker rm -f`: "container gone"; del-ports by the old name exits 0 and
/// cleans every port of it, on that bridge only.
#[test]
fn removed_container_ports_are_deleted_by_old_name() {
    testbed();
    let _stale = stale_states_guard();
    let br = TestBridge::new();
    let other_br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br, &other_br]);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", c.short_id()]).ok();
    ovs_docker(&["add-port", &other_br.name, "eth3", &c.id]).ok();
    let rows: Vec<IfaceRow> = ["eth1", "eth2", "eth3"].iter().map(|i| row_of(&c, i)).collect();
    run("docker", &["rm", "-f", &c.name]).ok();
    for r in &rows {
        wait_until("the veth dies with the namespace", 30, || !host_link_exists(&r.name));
        let b = r.bridge.as_deref().unwrap();
        assert_eq!(list_state(b, &r.name).as_deref(), Some("container gone"), "{r:#?}");
    }
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert!(br.ports().is_empty(), "ports left on {}: {:?}", br.name, br.ports());
    assert_eq!(rows_of(&c).len(), 1, "the port on the other bridge stays");
    assert_eq!(row_of(&c, "eth3").name, rows[2].name);
    // Again: nothing left there, not an error.
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    ovs_docker(&["del-ports", &other_br.name, &c.name]).ok();
    let after = leak_snapshot(&[], &[&br, &other_br]);
    assert!(after.rows.is_empty() && after.host_ends.is_empty(), "left behind: {after:#?}");
    assert_eq!(before.rows, after.rows);
    assert!(marked_veths(&c.id).is_empty());
}

/// A container removed and recreated under the same name (as `docker
/// compose up --force-recreate` does): the old port, recorded under that
/// name, is stale and reclaimed; the new container gets its port at once.
#[test]
fn a_container_recreated_under_the_same_name_gets_its_port() {
    testbed();
    let _stale = stale_states_guard();
    let br = TestBridge::new();
    let old = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &old.name]).ok();
    let old_port = row_of(&old, "eth1").name;
    let name = old.name.clone();
    old.remove();
    // A new container with the old one's name; the guard removes it.
    let out = run("docker", &["run", "-d", "--net=none", "--name", name.as_str(), IMAGE, "sleep", "3600"]);
    let new = TestContainer { name: name.clone(), id: out.stdout.trim().to_string() };
    out.ok();
    ovs_docker(&["add-port", &br.name, "eth1", &name]).ok();
    let ports = br.ports();
    assert_eq!(ports.len(), 1, "exactly the new port on the bridge: {ports:?}");
    assert!(!ports.contains(&old_port), "the stale port {old_port} was not reclaimed: {ports:?}");
    assert!(new.link_names().contains("eth1"));
    ovs_docker(&["del-port", &br.name, "eth1", &name]).ok();
    assert!(br.ports().is_empty());
}
