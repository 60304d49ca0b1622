//! `gc [BRIDGE] [--dry-run]` among live ports, stale ports of every kind,
//! a tunnel, an internal port, another tool's port, upstream's ports and an
//! orphan veth: it removes exactly the stale ones, says so one line each,
//! and `gc BRIDGE` stays on that bridge.
//!
//! `gc` without BRIDGE acts on the whole machine: this test holds
//! [`global_gc_guard`] throughout, and only looks at its own objects in the
//! output.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

/// Every Interface row on `bridge` (container ports or not) by name.
fn bridge_rows(bridge: &str) -> BTreeMap<String, IfaceRow> {
    interface_rows().into_iter().filter(|r| r.bridge.as_deref() == Some(bridge)).map(|r| (r.name.clone(), r)).collect()
}

fn line_set(lines: Vec<&str>) -> BTreeSet<String> {
    lines.into_iter().map(str::to_string).collect()
}

/// The other tool's veth pair, removed on drop.
struct PlainVeth(String);

impl Drop for PlainVeth {
    fn drop(&mut self) {
        let _ = try_run("ip", &["link", "del", &self.0], std::time::Duration::from_secs(20));
    }
}

#[test]
fn gc_removes_exactly_the_stale_ports() {
    testbed_with_upstream();
    let _gc = global_gc_guard();
    let net = Subnet::new();
    let a = TestBridge::with_address(&net);
    let b = TestBridge::new();
    let live = TestContainer::new();
    let gone = TestContainer::new();
    let stopped = TestContainer::new();
    let cut = TestContainer::new();
    let up_gone = TestContainer::new();
    let up_live = TestContainer::new();
    let all = [&live, &gone, &stopped, &cut, &up_gone, &up_live];
    let before = leak_snapshot(&all, &[&a, &b]);

    // Container ports, ours and upstream's.
    ovs_docker(&["add-port", &a.name, "eth1", &live.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    for c in [&gone, &stopped, &cut] {
        ovs_docker(&["add-port", &a.name, "eth1", &c.name]).ok();
    }
    ovs_docker(&["add-port", &b.name, "eth2", &gone.id]).ok();
    for c in [&up_gone, &up_live] {
        upstream(&["add-port", &a.name, "eth1", &c.name]);
    }
    let port = |c: &TestContainer, i: &str| row_of(c, i).name;
    let (p_live, p_gone, p_stopped, p_cut) =
        (port(&live, "eth1"), port(&gone, "eth1"), port(&stopped, "eth1"), port(&cut, "eth1"));
    let (p_gone_b, p_up_gone, p_up_live) = (port(&gone, "eth2"), port(&up_gone, "eth1"), port(&up_live, "eth1"));
    assert_eq!(row_of(&up_gone, "eth1").id("created_by"), None, "the upstream row has only upstream's keys");

    // Ports that are not container ports.
    let vx = format!("{PREFIX}vx{}", rand_hex(6));
    let internal = format!("{PREFIX}in{}", rand_hex(6));
    let other = format!("{PREFIX}x{}", rand_hex(6));
    let other_peer = format!("{PREFIX}y{}", rand_hex(6));
    vsctl(&["add-port", &a.name, &vx, "--", "set", "interface", &vx, "type=vxlan", "options:remote_ip=127.0.0.9"]).ok();
    vsctl(&["add-port", &a.name, &internal, "--", "set", "interface", &internal, "type=internal"]).ok();
    run("ip", &["link", "add", &other, "type", "veth", "peer", "name", &other_peer]).ok();
    let _other_guard = PlainVeth(other.clone());
    // Another tool's port, even with a container_id of a container that is
    // gone (but no container_iface): not a container port.
    vsctl(&[
        "add-port",
        &a.name,
        &other,
        "--",
        "set",
        "interface",
        &other,
        "external_ids:owner=some-other-tool",
        &format!("external_ids:container_id={}", gone.name),
    ])
    .ok();

    // An orphan veth: an add-port of `live` killed before its commit.
    let out =
        ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", "links-configured")], &["add-port", &a.name, "eth9", &live.name]);
    assert_eq!(out.code, None, "the add-port should have been killed:\n{out}");
    let orphans: Vec<String> = marked_veths(&live.id).into_iter().filter(|n| *n != p_live).collect();
    assert_eq!(orphans.len(), 1, "one orphan veth expected: {orphans:?}");
    let orphan = orphans[0].clone();

    // Make them stale.
    gone.remove();
    up_gone.remove();
    run("docker", &["kill", &stopped.name]).ok();
    run("ip", &["link", "del", &p_cut]).ok();
    for p in [&p_gone, &p_gone_b, &p_up_gone, &p_stopped, &p_cut] {
        wait_until(&format!("veth {p} is gone"), 30, || !host_link_exists(p));
    }

    let mine: Vec<&str> =
        [&p_live, &p_gone, &p_stopped, &p_cut, &p_gone_b, &p_up_gone, &p_up_live, &orphan, &vx, &internal, &other]
            .iter()
            .map(|s| s.as_str())
            .chain(all.iter().flat_map(|c| [c.name.as_str(), c.id.as_str()]))
            .chain([a.name.as_str(), b.name.as_str()])
            .collect();
    let stale_on_a = |verb: &str| -> BTreeSet<String> {
        [
            (&p_gone, &gone.name, "container gone"),
            (&p_stopped, &stopped.name, "container stopped"),
            (&p_cut, &cut.name, "link missing"),
            (&p_up_gone, &up_gone.name, "container gone"),
        ]
        .iter()
        .map(|(p, c, why)| format!("{verb} port {p} on bridge {} (container {c}, interface eth1): {why}", a.name))
        .collect()
    };
    let stale_on_b = |verb: &str| {
        format!("{verb} port {p_gone_b} on bridge {} (container {}, interface eth2): container gone", b.name, gone.name)
    };
    let orphan_line =
        |verb: &str| format!("{verb} orphan veth {orphan} (container {}, interface eth9): no OVSDB row", live.name);

    let rows_a = bridge_rows(&a.name);
    let rows_b = bridge_rows(&b.name);
    assert_eq!(rows_a.len(), 10, "{rows_a:#?}");
    let links_before: BTreeSet<String> = host_links().into_keys().filter(|n| mine.contains(&n.as_str())).collect();
    let unchanged = |context: &str| {
        assert_eq!(bridge_rows(&a.name), rows_a, "{context}: rows on {} changed", a.name);
        assert_eq!(bridge_rows(&b.name), rows_b, "{context}: rows on {} changed", b.name);
        let links: BTreeSet<String> = host_links().into_keys().filter(|n| mine.contains(&n.as_str())).collect();
        assert_eq!(links, links_before, "{context}: host links changed");
    };

    // --dry-run, one bridge: exactly the stale ports of A; nothing changes.
    let out = ovs_docker(&["gc", &a.name, "--dry-run"]);
    out.ok();
    assert_eq!(line_set(out.stdout.lines().collect()), stale_on_a("would remove"), "{out}");
    assert_eq!(out.stdout.lines().count(), 4, "one line each:\n{out}");
    unchanged("gc BRIDGE --dry-run");

    // --dry-run, every bridge: ours are A's, B's and the orphan.
    let out = ovs_docker(&["gc", "--dry-run"]);
    out.ok();
    let mut want = stale_on_a("would remove");
    want.insert(stale_on_b("would remove"));
    want.insert(orphan_line("would remove"));
    assert_eq!(line_set(lines_mentioning(&out.stdout, &mine)), want, "{out}");
    assert_eq!(lines_mentioning(&out.stdout, &mine).len(), 6, "one line each:\n{out}");
    unchanged("gc --dry-run");

    // gc A: removes exactly A's stale ports.
    let out = ovs_docker(&["gc", &a.name]);
    out.ok();
    assert_eq!(line_set(out.stdout.lines().collect()), stale_on_a("removed"), "{out}");
    assert_eq!(out.stdout.lines().count(), 4, "one line each:\n{out}");
    let kept: BTreeSet<String> = [&p_live, &p_up_live, &vx, &internal, &other].iter().map(|s| s.to_string()).collect();
    assert_eq!(a.ports(), kept, "gc {} removed the wrong ports", a.name);
    let now_a = bridge_rows(&a.name);
    for n in &kept {
        assert_eq!(now_a.get(n), rows_a.get(n), "row {n} was changed");
    }
    assert_eq!(bridge_rows(&b.name), rows_b, "gc {} touched {}", a.name, b.name);
    assert!(host_link_exists(&orphan), "gc BRIDGE removed the orphan veth");

    // Again: nothing left to do there.
    let out = ovs_docker(&["gc", &a.name]);
    out.ok();
    assert!(out.stdout.is_empty(), "{out}");

    // gc B, then gc of everything: the orphan.
    let out = ovs_docker(&["gc", &b.name]);
    out.ok();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), vec![stale_on_b("removed")], "{out}");
    assert!(b.ports().is_empty());
    let out = ovs_docker(&["gc"]);
    out.ok();
    assert_eq!(lines_mentioning(&out.stdout, &mine), vec![orphan_line("removed")], "{out}");
    assert!(!host_link_exists(&orphan), "gc did not remove the orphan veth {orphan}");
    assert!(!live.link_names().contains("eth9"), "the orphan's peer is still in the container");

    // Everything else is untouched and works.
    assert_eq!(a.ports(), kept);
    let now_a = bridge_rows(&a.name);
    for n in &kept {
        assert_eq!(now_a.get(n), rows_a.get(n), "row {n} was changed");
    }
    assert_eq!(vsctl_get("interface", &vx, "options:remote_ip"), "\"127.0.0.9\"");
    assert_eq!(vsctl_get("interface", &other, "external_ids:owner"), "some-other-tool");
    assert!(host_link_exists(&other) && host_link_exists(&other_peer) && host_link_exists(&internal));
    assert!(host_link_exists(&p_live) && host_link_exists(&p_up_live));
    assert_eq!(list_state(&a.name, &p_live).as_deref(), Some("ok"));
    assert_eq!(list_state(&a.name, &p_up_live).as_deref(), Some("ok"));
    assert_ping(&live, &net.v4(1));

    // A last gc of everything finds nothing of ours.
    let out = ovs_docker(&["gc", "--dry-run"]);
    out.ok();
    assert!(lines_mentioning(&out.stdout, &mine).is_empty(), "{out}");

    ovs_docker(&["del-port", &a.name, "eth1", &live.name]).ok();
    ovs_docker(&["del-port", &a.name, "eth1", &up_live.id]).ok();
    for v in [&vx, &internal, &other] {
        vsctl(&["del-port", &a.name, v]).ok();
    }
    let running = [&live, &cut, &up_live];
    let after = leak_snapshot(&all, &[&a, &b]);
    assert!(after.rows.is_empty() && after.host_ends.is_empty(), "left behind: {after:#?}");
    for c in running {
        assert_eq!(after.container_links.get(&c.name), before.container_links.get(&c.name), "{}", c.name);
        assert!(marked_veths(&c.id).is_empty(), "marked veths of {} left", c.name);
    }
}
