//! Interoperability with the upstream script (/usr/bin/ovs-docker), both
//! ways, on a netdev bridge made beforehand. The script exits 0 even when it
//! fails, so only its effects are checked.

mod common;

use common::*;

/// Ours adds; upstream's set-vlan, del-port and del-ports handle the port
/// (they look it up by external_ids:container_id as typed, and
/// container_iface).
#[test]
fn upstream_handles_our_ports() {
    testbed_with_upstream();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let peer = TestContainer::new();
    let before = leak_snapshot(&[&c, &peer], &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", c.short_id()]).ok();
    ovs_docker(&["add-port", &br.name, "eth3", c.short_id()]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &peer.name, &format!("--ipaddress={}", net.v4p(3))]).ok();
    let eth1 = row_of(&c, "eth1");
    assert_ping(&c, &net.v4(3));

    upstream(&["set-vlan", &br.name, "eth1", &c.name, "5"]);
    assert_eq!(row_of(&c, "eth1").tag, Some(5), "upstream set-vlan did not tag our port");
    upstream(&["set-vlan", &br.name, "eth1", &peer.name, "5"]);
    assert_ping(&c, &net.v4(3));

    upstream(&["del-port", &br.name, "eth1", &c.name]);
    assert!(!host_link_exists(&eth1.name), "upstream del-port left the host end {}", eth1.name);
    assert!(!c.link_names().contains("eth1"), "upstream del-port left eth1 in the container");
    assert!(rows_of(&c).iter().all(|r| r.name != eth1.name), "upstream del-port left the row");
    assert_eq!(rows_of(&c).len(), 2);

    // Recorded by short ID: upstream finds them by the same reference.
    upstream(&["del-ports", &br.name, c.short_id()]);
    assert!(rows_of(&c).is_empty(), "upstream del-ports left rows: {:#?}", rows_of(&c));
    assert_eq!(c.link_names(), ["lo".to_string()].into());
    upstream(&["del-port", &br.name, "eth1", &peer.name]);
    assert_unchanged(&before, &leak_snapshot(&[&c, &peer], &[&br]), "after upstream's deletions");
}

/// Upstream adds (by name and by ID); ours lists, re-tags, refuses a second
/// attachment under another alias, and deletes.
#[test]
fn we_handle_upstream_ports() {
    testbed_with_upstream();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let d = TestContainer::new();
    let before = leak_snapshot(&[&c, &d], &[&br]);
    upstream(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2))]);
    upstream(&["add-port", &br.name, "eth2", c.short_id(), &format!("--ipaddress={}", net.v6p(2))]);
    upstream(&["add-port", &br.name, "eth1", d.short_id(), &format!("--ipaddress={}", net.v4p(3)), "--mtu=1400"]);
    upstream(&["add-port", &br.name, "eth2", &d.name]);
    let (c1, c2, d1, d2) = (row_of(&c, "eth1"), row_of(&c, "eth2"), row_of(&d, "eth1"), row_of(&d, "eth2"));
    assert_eq!(c1.id("container_id"), Some(c.name.as_str()));
    assert_eq!(c2.id("container_id"), Some(c.short_id()));
    assert_ping(&c, &net.v4(3));

    // list
    let rows = list_json(&[br.name.as_str()]);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    for r in &rows {
        assert_eq!(r["state"], "ok", "{r}");
    }
    let d1_row = rows.iter().find(|r| r["port"] == d1.name.as_str()).expect("d's eth1 listed");
    assert_eq!(d1_row["container_name"], d.name.as_str());
    assert_eq!(d1_row["mtu"], 1400);
    let by_id = list_json(&["--container", d.id.as_str()]);
    assert_eq!(by_id.len(), 2, "{by_id:#?}");

    // A second attachment, under another alias, is refused.
    ovs_docker(&["add-port", &br.name, "eth1", c.short_id()]).fails(1, "add-port").stderr_contains("already attached");
    ovs_docker(&["add-port", &br.name, "eth2", &c.name]).fails(1, "add-port").stderr_contains("already attached");
    ovs_docker(&["add-port", &br.name, "eth1", &d.name]).fails(1, "add-port").stderr_contains("already attached");
    assert_eq!(rows_of(&c).len() + rows_of(&d).len(), 4);

    // set-vlan by an alias other than the one recorded.
    ovs_docker(&["set-vlan", &br.name, "eth1", c.short_id(), "9"]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth2", &c.id, "10"]).ok();
    assert_eq!(row_of(&c, "eth1").tag, Some(9));
    assert_eq!(row_of(&c, "eth2").tag, Some(10));
    assert_no_ping(&c, &net.v4(3));
    ovs_docker(&["set-vlan", &br.name, "eth1", &d.name, "9"]).ok();
    assert_ping(&c, &net.v4(3));

    // del-port by another alias: row, host end and container end gone.
    ovs_docker(&["del-port", &br.name, "eth1", &c.id]).ok();
    assert!(!host_link_exists(&c1.name));
    assert!(!c.link_names().contains("eth1"));
    assert_eq!(rows_of(&c), vec![row_of(&c, "eth2")]);
    ovs_docker(&["del-port", &br.name, "eth2", &c.name]).ok();
    assert!(!host_link_exists(&c2.name));
    assert!(rows_of(&c).is_empty());

    // del-ports by name, though recorded by short ID and by name.
    ovs_docker(&["del-ports", &br.name, &d.name]).ok();
    assert!(!host_link_exists(&d1.name) && !host_link_exists(&d2.name));
    assert!(rows_of(&d).is_empty());
    assert_unchanged(&before, &leak_snapshot(&[&c, &d], &[&br]), "after our deletions");
}

/// Each tool refuses to attach what the other one already attached.
#[test]
fn upstream_and_ours_agree_on_already_attached() {
    testbed_with_upstream();
    let br = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    // Upstream checks by the reference as typed.
    upstream(&["add-port", &br.name, "eth1", &c.name]);
    assert_eq!(rows_of(&c).len(), 1, "upstream attached a second eth1: {:#?}", rows_of(&c));
    assert_eq!(c.link_names(), ["lo".to_string(), "eth1".to_string()].into());
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}
