//! Concurrency: many runs at once on one bridge, on one container
//! interface, and deletions racing each other. Every run ends with a
//! documented exit code, exactly one port per interface, and nothing left.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::*;

/// Run each argument list at the same moment (threads released together by
/// a barrier) and return the outputs in the same order.
fn all_at_once(runs: Vec<Vec<String>>) -> Vec<CmdOutput> {
    let barrier = Arc::new(Barrier::new(runs.len()));
    let handles: Vec<_> = runs
        .into_iter()
        .map(|args| {
            let b = barrier.clone();
            thread::spawn(move || {
                b.wait();
                ovs_docker(&args)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("runner thread panicked")).collect()
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// N=8 add-port runs for 8 different containers on one bridge, all at once:
/// every one succeeds, each container gets exactly its port, traffic works.
#[test]
fn eight_containers_attach_in_parallel() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let cs: Vec<TestContainer> = (0..8).map(|_| TestContainer::new()).collect();
    let refs: Vec<&TestContainer> = cs.iter().collect();
    let before = leak_snapshot(&refs, &[&br]);
    let netns_before = netns_dir_state();

    let runs = cs
        .iter()
        .enumerate()
        .map(|(i, c)| args(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(10 + i as u8))]))
        .collect();
    for out in all_at_once(runs) {
        out.ok();
    }
    let after = leak_snapshot(&refs, &[&br]);
    assert_eq!(after.veths(), 8, "one host end per container: {after:#?}");
    assert_eq!(after.rows.len(), 8, "one row per container: {after:#?}");
    let mut names = std::collections::BTreeSet::new();
    for c in &cs {
        let row = row_of(c, "eth1");
        assert_eq!(row.bridge.as_deref(), Some(br.name.as_str()));
        assert_eq!(row.error, None, "{row:#?}");
        assert!(c.link_names().contains("eth1"), "eth1 missing in {}", c.name);
        names.insert(row.name);
    }
    assert_eq!(br.ports(), names, "the bridge holds exactly the 8 ports");
    // Every container reaches the bridge, and the first reaches the last.
    for c in &cs {
        assert_ping(c, &net.v4(1));
    }
    assert_ping(&cs[0], &net.v4(17));

    // And all deleted at once, by full ID.
    let runs = cs.iter().map(|c| args(&["del-port", &br.name, "eth1", &c.id])).collect();
    for out in all_at_once(runs) {
        out.ok();
    }
    assert_no_leak(&before, &refs, &[&br], "after 8 parallel del-port");
    assert!(br.ports().is_empty(), "ports left on the bridge: {:?}", br.ports());
    assert_netns_untouched(&netns_before, &refs, &[], "8 parallel add-port and del-port");
}

/// M=6 add-port runs for the same container and interface, naming the
/// container by name, full ID and ID prefixes: exactly one attaches, the
/// others are refused with exit 1; exactly one row and one veth. Three
/// rounds, to give the race several chances.
#[test]
fn six_runs_on_one_interface_exactly_one_wins() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let refs = [
        c.name.clone(),
        c.id.clone(),
        c.short_id().to_string(),
        c.name.clone(),
        c.id[..20].to_string(),
        c.id[..6].to_string(),
    ];

    for round in 0..3 {
        let runs = refs
            .iter()
            .map(|r| args(&["add-port", &br.name, "eth1", r, &format!("--ipaddress={}", net.v4p(2))]))
            .collect();
        let outs = all_at_once(runs);
        let winners: Vec<_> = outs.iter().filter(|o| o.success()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one run must attach:\n{}", show(&outs));
        for o in outs.iter().filter(|o| !o.success()) {
            o.fails(1, "add-port");
            assert!(
                o.stderr.contains("already attached") || o.stderr.contains("another ovs-docker is still working"),
                "round {round}: a losing run must say why:\n{o}"
            );
        }
        let after = leak_snapshot(&[&c], &[&br]);
        assert_eq!(after.veths(), 1, "round {round}: one host end: {after:#?}");
        assert_eq!(after.rows.len(), 1, "round {round}: one row: {after:#?}");
        let row = row_of(&c, "eth1");
        assert_eq!(br.ports(), [row.name.clone()].into());
        assert_eq!(marked_veths(&c.id), [row.name.clone()].into(), "round {round}: stray veths");
        assert_eq!(c.link_names().iter().filter(|l| l.starts_with("eth")).count(), 1);
        assert_ping(&c, &net.v4(1));
        ovs_docker(&["del-port", &br.name, "eth1", &refs[round]]).ok();
        assert_no_leak(&before, &[&c], &[&br], &format!("round {round}: after del-port"));
    }
}

fn show(outs: &[CmdOutput]) -> String {
    outs.iter().map(|o| o.to_string()).collect::<Vec<_>>().join("\n\n")
}

/// del-port, del-ports and set-vlan racing on overlapping ports of two
/// containers: each exits 0 or 1 (never 3, never killed), and once all the
/// deletions are through nothing is left.
#[test]
fn overlapping_deletions_and_set_vlan() {
    testbed();
    let br = TestBridge::new();
    let a = TestContainer::new();
    let b = TestContainer::new();
    let before = leak_snapshot(&[&a, &b], &[&br]);
    for round in 0..3 {
        for c in [&a, &b] {
            for iface in ["eth1", "eth2", "eth3"] {
                ovs_docker(&["add-port", &br.name, iface, &c.name]).ok();
            }
        }
        let mut runs = Vec::new();
        for c in [&a, &b] {
            let (n, id, short) = (c.name.as_str(), c.id.as_str(), c.short_id());
            runs.push(args(&["del-port", &br.name, "eth1", n]));
            runs.push(args(&["del-port", &br.name, "eth1", id]));
            runs.push(args(&["del-port", &br.name, "eth2", short]));
            runs.push(args(&["del-ports", &br.name, n]));
            runs.push(args(&["del-ports", &br.name, short]));
            runs.push(args(&["set-vlan", &br.name, "eth1", id, "5"]));
            runs.push(args(&["set-vlan", &br.name, "eth3", n, "7"]));
            runs.push(args(&["set-vlan", &br.name, "eth2", n, "4095"]));
        }
        let outs = all_at_once(runs);
        for o in &outs {
            assert!(matches!(o.code, Some(0) | Some(1)), "round {round}: exit must be 0 or 1:\n{o}");
            if o.code == Some(1) {
                let cmd = o.cmdline.split(' ').nth(1).unwrap_or_default().to_string();
                o.fails(1, &cmd);
            }
        }
        // del-ports of each container ran: nothing of theirs may be left.
        assert_no_leak(&before, &[&a, &b], &[&br], &format!("round {round}: after the racing deletions"));
        assert!(br.ports().is_empty(), "round {round}: ports left: {:?}", br.ports());
        for c in [&a, &b] {
            assert_eq!(c.link_names(), ["lo".to_string()].into(), "round {round}: interfaces left in {}", c.name);
        }
    }
}

/// Runs in progress are left alone: while an add-port is held between
/// creating its veth and writing its row (the veth looks like an orphan), or
/// a del-port between removing the row and deleting the veth, another
/// add-port or del-port of that interface gives up after --timeout with
/// "another ovs-docker is still working" (exit 1), and `gc` (any bridge or
/// all) does not touch their veth.
#[test]
fn runs_in_progress_are_left_alone() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    // gc runs on the whole machine here.
    let _gc = global_gc_guard();
    for (cmd, step) in [("add-port", "links-configured"), ("del-port", "row-removed")] {
        let context = format!("{cmd} held at {step}");
        if cmd == "del-port" {
            ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
        }
        let mut holder = Spawned::start(&[("OVS_DOCKER_PAUSE_AT", step)], &[cmd, &br.name, "eth1", &c.name]);
        holder.wait_for_stderr(&format!("paused at {step}"), 30);
        let s = leak_snapshot(&[&c], &[&br]);
        assert_eq!((s.veths(), s.rows.len()), (1, 0), "{context}: a veth without a row: {s:#?}");
        let veth = s.host_ends.iter().next().unwrap().clone();
        assert!(marked_veths(&c.id).contains(&veth), "{context}: {veth} is marked as ours");

        for other in ["add-port", "del-port"] {
            let t = std::time::Instant::now();
            let out = ovs_docker(&["--timeout=3", other, &br.name, "eth1", &c.id]);
            out.fails(1, other);
            if other == "add-port" {
                out.stderr_contains("another ovs-docker is still working");
            }
            assert!(t.elapsed() < std::time::Duration::from_secs(11), "{context}: {other} took {:?}", t.elapsed());
            assert_eq!(leak_snapshot(&[&c], &[&br]), s, "{context}: {other} changed something");
        }
        for args in [vec!["gc", br.name.as_str()], vec!["gc", "--dry-run"], vec!["gc"]] {
            let out = ovs_docker(&args);
            out.ok();
            assert!(!out.stdout.contains(&veth), "{context}: {args:?} went for {veth}:\n{out}");
            assert_eq!(leak_snapshot(&[&c], &[&br]), s, "{context}: {args:?} changed something");
        }
        holder.signal(libc::SIGKILL);
        let _ = holder.finish();
        // What the killed holder left (an orphan veth) heals as usual.
        ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
        assert_no_leak(&before, &[&c], &[&br], &format!("{context}: after del-port"));
    }
}
