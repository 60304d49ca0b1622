//! `list`: table and JSON, filters, the state of each port, upstream's rows.
//!
//! Other tests run at the same time and their ports show in an unfiltered
//! listing, so the checks only look at this test's rows.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::*;

/// The rows of a JSON listing that are on one of `bridges`.
fn on(rows: &[Value], bridges: &[&TestBridge]) -> Vec<Value> {
    rows.iter().filter(|r| bridges.iter().any(|b| r["bridge"] == b.name.as_str())).cloned().collect()
}

fn ports_of(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| r["port"].as_str().unwrap_or_default().to_string()).collect()
}

fn find<'a>(rows: &'a [Value], port: &str) -> &'a Value {
    rows.iter().find(|r| r["port"] == port).unwrap_or_else(|| panic!("port {port} not listed: {rows:#?}"))
}

/// JSON and table output, and every filter.
#[test]
fn list_json_table_and_filters() {
    testbed();
    let net = Subnet::new();
    let a = TestBridge::new();
    let b = TestBridge::new();
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    ovs_docker(&[
        "add-port",
        &a.name,
        "eth1",
        &c1.name,
        &format!("--ipaddress={}", net.v4p(2)),
        "--macaddress=02:00:0a:0b:0c:0d",
        "--mtu=1450",
    ])
    .ok();
    ovs_docker(&["add-port", &a.name, "eth1", c2.short_id(), &format!("--ipaddress={}", net.v6p(3))]).ok();
    ovs_docker(&["add-port", &b.name, "eth2", &c1.name]).ok();
    ovs_docker(&["set-vlan", &a.name, "eth1", &c2.name, "42"]).ok();
    let p11 = row_of(&c1, "eth1").name;
    let p12 = row_of(&c1, "eth2").name;
    let p21 = row_of(&c2, "eth1").name;

    // Everything: our three rows are there, with every field.
    let all = list_json::<&str>(&[]);
    for r in &all {
        for key in [
            "bridge",
            "port",
            "container",
            "container_name",
            "container_id",
            "interface",
            "vlan",
            "mac",
            "mtu",
            "addresses",
            "state",
        ] {
            assert!(r.get(key).is_some(), "key {key} missing from {r}");
        }
    }
    let mine = on(&all, &[&a, &b]);
    assert_eq!(ports_of(&mine), [p11.clone(), p12.clone(), p21.clone()].into(), "{mine:#?}");
    let r = find(&mine, &p11);
    assert_eq!(r["bridge"], a.name.as_str());
    assert_eq!(r["container"], c1.name.as_str());
    assert_eq!(r["container_name"], c1.name.as_str());
    assert_eq!(r["container_id"], c1.short_id());
    assert_eq!(r["interface"], "eth1");
    assert_eq!(r["vlan"], Value::Null);
    assert_eq!(r["mac"], "02:00:0a:0b:0c:0d");
    assert_eq!(r["mtu"], 1450);
    assert_eq!(r["addresses"], serde_json::json!([net.v4p(2)]));
    assert_eq!(r["state"], "ok");
    let r = find(&mine, &p21);
    assert_eq!(r["container"], c2.short_id(), "container is the reference as recorded");
    assert_eq!(r["container_name"], c2.name.as_str());
    assert_eq!(r["vlan"], 42);
    assert_eq!(r["mtu"], 1500);
    assert_eq!(r["addresses"], serde_json::json!([net.v6p(3)]), "link-local addresses are not listed");
    assert_eq!(r["state"], "ok");
    let r = find(&mine, &p12);
    assert_eq!(r["bridge"], b.name.as_str());
    assert_eq!(r["addresses"], serde_json::json!([]));
    assert_eq!(r["state"], "ok");

    // By bridge: only that bridge's rows, whatever other tests do.
    let only_a = list_json(&[a.name.as_str()]);
    assert_eq!(ports_of(&only_a), [p11.clone(), p21.clone()].into(), "{only_a:#?}");
    // By container: name, short ID, full ID, prefix; across bridges.
    for r in [c1.name.as_str(), c1.short_id(), c1.id.as_str(), &c1.id[..6]] {
        let rows = list_json(&["--container", r]);
        assert_eq!(ports_of(&rows), [p11.clone(), p12.clone()].into(), "--container {r}: {rows:#?}");
    }
    // c2's port was recorded by short ID; its name finds it too.
    let rows = list_json(&["--container", c2.name.as_str()]);
    assert_eq!(ports_of(&rows), [p21.clone()].into(), "{rows:#?}");
    // Both filters.
    let rows = list_json(&[b.name.as_str(), "--container", c1.name.as_str()]);
    assert_eq!(ports_of(&rows), [p12.clone()].into(), "{rows:#?}");
    let rows = list_json(&[b.name.as_str(), "--container", c2.name.as_str()]);
    assert!(rows.is_empty(), "{rows:#?}");
    // Unknown container or empty bridge: an empty list, not an error.
    let empty = TestBridge::new();
    assert!(list_json(&[empty.name.as_str()]).is_empty());
    assert!(list_json(&["--container", &format!("{PREFIX}-{}", rand_hex(10))]).is_empty());

    // Table: a header, then one line per port with its fields.
    let out = ovs_docker(&["list", &a.name]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header and two rows expected:\n{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["BRIDGE", "PORT", "CONTAINER", "ID", "INTERFACE", "VLAN", "MAC", "ADDRESSES", "RATE", "STATE"],
        "{out}"
    );
    let line = lines.iter().find(|l| l.contains(&p11)).unwrap_or_else(|| panic!("{p11} not in the table:\n{out}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            a.name.as_str(),
            p11.as_str(),
            c1.name.as_str(),
            c1.short_id(),
            "eth1",
            "-",
            "02:00:0a:0b:0c:0d",
            net.v4p(2).as_str(),
            "-",
            "ok"
        ],
        "{out}"
    );
    let line = lines.iter().find(|l| l.contains(&p21)).unwrap_or_else(|| panic!("{p21} not in the table:\n{out}"));
    assert!(line.contains(" 42 ") && line.contains(&c2.name) && line.ends_with("ok"), "{out}");
    // Columns are aligned: every cell starts where its header does.
    let col = lines[0].find("STATE").unwrap();
    for l in &lines[1..] {
        assert_eq!(&l[col..], "ok", "STATE column misaligned:\n{out}");
    }
    let out = ovs_docker(&["list", "--format=table", &empty.name]);
    assert_eq!(out.ok().stdout.lines().count(), 1, "only the header for an empty list:\n{out}");

    // Bad arguments.
    ovs_docker(&["list", "--format=xml"]).usage_error();
    ovs_docker(&["list", "--container"]).usage_error();
    ovs_docker(&["--db=unix:/nonexistent", "list"]).fails(3, "list");

    for (br, c) in [(&a, &c1), (&b, &c1), (&a, &c2)] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&c1, &c2], &[&a, &b]);
}

/// The state column: ok, container stopped, container gone, link missing,
/// interface missing.
#[test]
fn list_states() {
    testbed();
    let br = TestBridge::new();
    let running = TestContainer::new();
    let stopped = TestContainer::new();
    let gone = TestContainer::new();
    let cut = TestContainer::new();
    let renamed = TestContainer::new();
    for (i, c) in [&running, &stopped, &gone, &cut, &renamed].into_iter().enumerate() {
        ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress=192.0.2.{}/24", i + 2)]).ok();
    }
    let port = |c: &TestContainer| row_of(c, "eth1").name;
    let (p_running, p_stopped, p_gone, p_cut, p_renamed) =
        (port(&running), port(&stopped), port(&gone), port(&cut), port(&renamed));
    stopped.stop();
    gone.remove();
    // Deleting the host end takes the container's end with it.
    run("ip", &["link", "del", &p_cut]).ok();
    // Renamed inside the container: the host end stays, eth1 is gone.
    let pid = renamed.pid().expect("running").to_string();
    run("nsenter", &["-t", &pid, "-n", "sh", "-c", "ip link set eth1 down && ip link set eth1 name eth9"]).ok();

    let rows = list_json(&[br.name.as_str()]);
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert_eq!(find(&rows, &p_renamed)["state"], "interface missing");
    let state = |p: &str| find(&rows, p)["state"].as_str().unwrap_or_default().to_string();
    assert_eq!(state(&p_running), "ok");
    assert_eq!(state(&p_stopped), "container stopped");
    assert_eq!(state(&p_gone), "container gone");
    assert_eq!(state(&p_cut), "link missing");
    for (p, stale) in [(&p_running, false), (&p_stopped, true), (&p_gone, true), (&p_cut, true), (&p_renamed, false)] {
        assert_eq!(find(&rows, p)["stale"], stale, "stale flag of {p}: {rows:#?}");
    }
    assert_eq!(find(&rows, &p_running)["addresses"], serde_json::json!(["192.0.2.2/24"]));
    let g = find(&rows, &p_gone);
    assert_eq!(g["container"], gone.name.as_str(), "the recorded reference stays: {g}");
    assert_eq!(g["container_id"], Value::Null, "Docker no longer knows the container: {g}");
    assert_eq!(find(&rows, &p_stopped)["container_id"], stopped.short_id());

    // A container Docker no longer knows is still found by its name.
    let rows = list_json(&["--container", gone.name.as_str()]);
    assert_eq!(ports_of(&rows), [p_gone.clone()].into(), "{rows:#?}");

    let out = ovs_docker(&["list", &br.name]);
    out.ok();
    for (p, s) in
        [(&p_running, "ok"), (&p_stopped, "container stopped"), (&p_gone, "container gone"), (&p_cut, "link missing")]
    {
        let line = out.stdout.lines().find(|l| l.contains(p.as_str())).unwrap_or_else(|| panic!("{p} missing:\n{out}"));
        assert!(line.ends_with(s), "{p} should be `{s}`:\n{out}");
    }

    for c in [&running, &stopped, &gone, &cut, &renamed] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&running, &stopped, &gone, &cut, &renamed], &[&br]);
    assert_eq!(renamed.link_names(), ["lo".to_string()].into(), "del-ports removes the veth even when renamed inside");
    assert!(list_json(&[br.name.as_str()]).is_empty());
}

/// Ports made by the upstream script (only container_id and container_iface
/// recorded) are listed too, and found by any alias of the container.
#[test]
fn list_shows_upstream_ports() {
    testbed_with_upstream();
    let br = TestBridge::new();
    let c = TestContainer::new();
    upstream(&["add-port", &br.name, "eth1", &c.name, "--ipaddress=192.0.2.5/24"]);
    upstream(&["add-port", &br.name, "eth2", c.short_id(), "--ipaddress=192.0.2.6/24"]);
    let p1 = row_of(&c, "eth1");
    let p2 = row_of(&c, "eth2");
    assert_eq!(p1.id("created_by"), None, "not made by us: {p1:#?}");

    let rows = list_json(&[br.name.as_str()]);
    assert_eq!(ports_of(&rows), [p1.name.clone(), p2.name.clone()].into(), "{rows:#?}");
    for (p, reference, addr) in [(&p1, c.name.as_str(), "192.0.2.5/24"), (&p2, c.short_id(), "192.0.2.6/24")] {
        let r = find(&rows, &p.name);
        assert_eq!(r["container"], reference);
        assert_eq!(r["container_name"], c.name.as_str());
        assert_eq!(r["container_id"], c.short_id());
        assert_eq!(r["addresses"], serde_json::json!([addr]));
        assert_eq!(r["state"], "ok", "{r}");
    }
    for r in [c.name.as_str(), c.short_id(), c.id.as_str()] {
        let rows = list_json(&["--container", r]);
        assert_eq!(ports_of(&rows), [p1.name.clone(), p2.name.clone()].into(), "--container {r}: {rows:#?}");
    }
    let out = ovs_docker(&["list", &br.name]);
    out.ok().stdout_contains(&p1.name).stdout_contains(&p2.name);

    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}
