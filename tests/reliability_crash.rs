//! Crash safety: a run killed with SIGKILL at any point leaves a state the
//! next command heals. The fault hook `OVS_DOCKER_CRASH_AT=STEP` makes the
//! process SIGKILL itself at STEP; random-delay kills cover the points in
//! between.
//!
//! Steps: add-port `veth-created`, `links-configured`, `row-committed`;
//! del-port, del-ports, gc (and add-port reclaiming a stale port)
//! `row-removed` and `veth-deleted`. del-port removes the row first and the
//! veth (marked as ours beforehand) second, so a kill in between leaves a
//! marked orphan veth, not a stale row (README, "Crash safety").

mod common;

use std::time::Duration;

use common::*;

/// `gc` without a bridge acts on every orphan of the host, and each test
/// here leaves orphans on purpose and expects its own gc to report them:
/// the tests of this file run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const ADD_STEPS: [&str; 3] = ["veth-created", "links-configured", "row-committed"];

/// A container on a bridge with an address, for the working-port checks.
struct Bed {
    net: Subnet,
    br: TestBridge,
    c: TestContainer,
    before: Snapshot,
}

impl Bed {
    fn new() -> Bed {
        let net = Subnet::new();
        let br = TestBridge::with_address(&net);
        let c = TestContainer::new();
        let before = leak_snapshot(&[&c], &[&br]);
        Bed { net, br, c, before }
    }

    fn add_args(&self) -> Vec<String> {
        ["add-port", &self.br.name, "eth1", &self.c.name, &format!("--ipaddress={}", self.net.v4p(2))]
            .map(str::to_string)
            .to_vec()
    }

    /// add-port killed by the fault hook at `step`.
    #[track_caller]
    fn crash_add(&self, step: &str) {
        let out = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", step)], &self.add_args());
        assert_eq!(out.code, None, "add-port should have been killed at {step}:\n{out}");
    }

    /// Exactly one complete, working port for eth1.
    #[track_caller]
    fn assert_one_working_port(&self, context: &str) {
        let s = leak_snapshot(&[&self.c], &[&self.br]);
        assert_eq!((s.veths(), s.rows.len()), (1, 1), "{context}: one veth and one row expected: {s:#?}");
        let row = row_of(&self.c, "eth1");
        assert_eq!(marked_veths(&self.c.id), [row.name.clone()].into(), "{context}: stray veths");
        assert_eq!(self.br.ports(), [row.name.clone()].into(), "{context}");
        assert_eq!(list_state(&self.br.name, &row.name).as_deref(), Some("ok"), "{context}");
        assert_ping(&self.c, &self.net.v4(1));
    }

    #[track_caller]
    fn assert_clean(&self, context: &str) {
        assert_no_leak(&self.before, &[&self.c], &[&self.br], context);
        assert!(self.br.ports().is_empty(), "{context}: ports left: {:?}", self.br.ports());
    }

    /// What a crash at `step` left, before anything heals it: the veth
    /// (peer inside the container) and, from row-committed on, the row.
    #[track_caller]
    fn assert_crash_left(&self, step: &str) -> String {
        let s = leak_snapshot(&[&self.c], &[&self.br]);
        assert_eq!(s.veths(), 1, "a crash at {step} leaves the veth: {s:#?}");
        let veth = s.host_ends.iter().next().unwrap().clone();
        let want_rows = usize::from(step == "row-committed");
        assert_eq!(s.rows.len(), want_rows, "a crash at {step} leaves {want_rows} rows: {s:#?}");
        assert!(self.c.link_names().contains("eth1"), "a crash at {step} leaves eth1 in the container");
        if step != "veth-created" {
            // The alias is set right after the veth is made.
            assert!(marked_veths(&self.c.id).contains(&veth), "{veth} should carry our alias after {step}");
        }
        veth
    }
}

/// For every add-port step: crash there, then the next add-port of the
/// same container and interface attaches a working port (or, after
/// row-committed, says it already is, and the port works).
#[test]
fn add_port_after_a_crashed_add_port() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    let _stale = stale_states_guard();
    for step in ADD_STEPS {
        bed.crash_add(step);
        bed.assert_crash_left(step);
        let out = ovs_docker(&bed.add_args());
        if step == "row-committed" {
            out.fails(1, "add-port").stderr_contains("already attached");
        } else {
            out.ok();
        }
        bed.assert_one_working_port(&format!("add-port after a crash at {step}"));
        ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.name]).ok();
        bed.assert_clean(&format!("del-port after add-port after a crash at {step}"));
    }
}

/// For every add-port step: crash there, then del-port removes what was
/// left and exits 0.
#[test]
fn del_port_after_a_crashed_add_port() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    let _stale = stale_states_guard();
    for step in ADD_STEPS {
        bed.crash_add(step);
        bed.assert_crash_left(step);
        ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.id]).ok();
        bed.assert_clean(&format!("del-port after a crash at {step}"));
        // Nothing left to delete now.
        ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.name]).fails(1, "del-port");
    }
}

/// A crash after the veth got its alias leaves a marked orphan: `gc BRIDGE`
/// leaves it (it is on no bridge), `gc --dry-run` names it and removes
/// nothing, `gc` removes it. A crash after the row was committed leaves a
/// complete port, which gc leaves alone.
#[test]
fn gc_after_a_crashed_add_port() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    // Global gc: keep other tests' stale scenarios out of its reach, and
    // ours out of theirs.
    let _gc = global_gc_guard();

    bed.crash_add("links-configured");
    let veth = bed.assert_crash_left("links-configured");
    let out = ovs_docker(&["gc", &bed.br.name]);
    out.ok();
    assert!(!out.stdout.contains(&veth), "gc BRIDGE must leave orphan veths alone:\n{out}");
    assert!(host_link_exists(&veth), "gc BRIDGE removed the orphan veth {veth}");

    let out = ovs_docker(&["gc", "--dry-run"]);
    out.ok();
    let mine = lines_mentioning(&out.stdout, &[&veth, &bed.c.id, &bed.br.name]);
    assert_eq!(mine.len(), 1, "gc --dry-run should name the orphan once:\n{out}");
    assert!(mine[0].starts_with(&format!("would remove orphan veth {veth} ")), "{out}");
    assert!(host_link_exists(&veth), "gc --dry-run removed {veth}");

    let out = ovs_docker(&["gc"]);
    out.ok();
    let mine = lines_mentioning(&out.stdout, &[&veth, &bed.c.id, &bed.br.name]);
    assert_eq!(mine.len(), 1, "gc should report the orphan once:\n{out}");
    assert!(mine[0].starts_with(&format!("removed orphan veth {veth} ")), "{out}");
    bed.assert_clean("gc after a crash at links-configured");

    // The port is healthy again afterwards.
    ovs_docker(&bed.add_args()).ok();
    bed.assert_one_working_port("add-port after gc");
    ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.name]).ok();

    // A crash after the commit left a complete port: not gc's business.
    bed.crash_add("row-committed");
    let veth = bed.assert_crash_left("row-committed");
    for args in [vec!["gc", bed.br.name.as_str()], vec!["gc"]] {
        let out = ovs_docker(&args);
        out.ok();
        assert!(!out.stdout.contains(&veth), "gc must leave the complete port {veth} alone:\n{out}");
    }
    bed.assert_one_working_port("gc after a crash at row-committed");
    ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.name]).ok();
    bed.assert_clean("del-port after a crash at row-committed");
}

/// What a del-port or del-ports killed at `step` leaves, per README: at
/// `row-removed` the row is gone and the veth, marked as ours, is still
/// there (an orphan, its peer still in the container); at `veth-deleted`
/// everything is gone. Returns the orphan's name, if any.
#[track_caller]
fn assert_del_crash_left(bed: &Bed, step: &str, veth: &str, context: &str) -> Option<String> {
    let s = leak_snapshot(&[&bed.c], &[&bed.br]);
    assert!(s.rows.is_empty(), "{context}: the row goes first: {s:#?}");
    assert!(list_json(&[bed.br.name.as_str()]).is_empty(), "{context}: list still shows the port");
    if step == "row-removed" {
        assert_eq!(s.host_ends, [veth.to_string()].into(), "{context}: the veth stays: {s:#?}");
        assert_eq!(marked_veths(&bed.c.id), [veth.to_string()].into(), "{context}: the veth is marked as ours");
        assert!(bed.c.link_names().contains("eth1"), "{context}: eth1 stays with its veth");
        Some(veth.to_string())
    } else {
        assert!(s.host_ends.is_empty() && marked_veths(&bed.c.id).is_empty(), "{context}: {s:#?}");
        assert!(!bed.c.link_names().contains("eth1"), "{context}: eth1 goes with its veth");
        None
    }
}

/// del-port and del-ports killed at row-removed (row gone, veth not yet)
/// and at veth-deleted (all done): the next del-port, `gc` or add-port heals
/// what was left, and exits as it should.
#[test]
fn crashed_del_port_heals() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    // Orphans must stay until we heal them, and gc heals some: run alone.
    let _gc = global_gc_guard();
    let (br, c) = (bed.br.name.as_str(), &bed.c);
    for crash in ["del-port", "del-ports"] {
        for step in ["row-removed", "veth-deleted"] {
            for heal in ["del-port", "gc", "add-port"] {
                let context = format!("{crash} killed at {step}, then {heal}");
                ovs_docker(&bed.add_args()).ok();
                let veth = row_of(c, "eth1").name;
                let crash_args = match crash {
                    "del-port" => vec!["del-port", br, "eth1", c.name.as_str()],
                    _ => vec!["del-ports", br, c.short_id()],
                };
                let out = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", step)], &crash_args);
                assert_eq!(out.code, None, "{context}: should have been killed:\n{out}");
                let orphan = assert_del_crash_left(&bed, step, &veth, &context);
                match (heal, &orphan) {
                    ("del-port", Some(_)) => {
                        ovs_docker(&["del-port", br, "eth1", c.id.as_str()]).ok();
                    }
                    ("del-port", None) => {
                        ovs_docker(&["del-port", br, "eth1", c.id.as_str()])
                            .fails(1, "del-port")
                            .stderr_contains("no port attached");
                    }
                    ("gc", _) => {
                        // gc BRIDGE leaves orphans (on no bridge); gc removes them.
                        let out = ovs_docker(&["gc", br]);
                        out.ok();
                        assert!(out.stdout.is_empty(), "{context}: gc {br}:\n{out}");
                        let out = ovs_docker(&["gc"]);
                        out.ok();
                        let mine = lines_mentioning(&out.stdout, &[&veth, &c.id, br]);
                        let want: Vec<String> = orphan
                            .iter()
                            .map(|v| {
                                format!("removed orphan veth {v} (container {}, interface eth1): no OVSDB row", c.name)
                            })
                            .collect();
                        assert_eq!(mine, want, "{context}:\n{out}");
                    }
                    _ => {
                        ovs_docker(&bed.add_args()).ok();
                        bed.assert_one_working_port(&context);
                        ovs_docker(&["del-port", br, "eth1", c.name.as_str()]).ok();
                    }
                }
                bed.assert_clean(&context);
            }
        }
    }
}

/// del-ports killed at row-removed leaves a marked orphan veth (and the
/// interface in the container); running the same del-ports again should
/// heal it, as every other command does after a crash.
#[test]
fn del_ports_heals_its_own_crash() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    let _stale = stale_states_guard();
    let br = bed.br.name.as_str();
    ovs_docker(&bed.add_args()).ok();
    let veth = row_of(&bed.c, "eth1").name;
    let out = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", "row-removed")], &["del-ports", br, bed.c.name.as_str()]);
    assert_eq!(out.code, None, "should have been killed:\n{out}");
    assert_del_crash_left(&bed, "row-removed", &veth, "del-ports killed at row-removed");
    ovs_docker(&["del-ports", br, bed.c.name.as_str()]).ok();
    bed.assert_clean("del-ports after a killed del-ports");
}

/// gc and add-port killed at row-removed while removing a stale port (its
/// container was restarted, so its veth is gone already): the row is gone,
/// nothing else is left, and the next gc has nothing to do. (veth-deleted is
/// not reached there: there is no veth to delete.)
#[test]
fn crashed_stale_port_removal_heals() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    let _stale = stale_states_guard();
    let br = bed.br.name.as_str();
    for (who, args) in [("gc", vec!["gc".to_string(), br.to_string()]), ("add-port", bed.add_args())] {
        let context = format!("{who} killed at row-removed while removing a stale port");
        ovs_docker(&bed.add_args()).ok();
        let row = row_of(&bed.c, "eth1");
        run("docker", &["restart", "-t", "0", &bed.c.name]).ok();
        wait_until("the veth dies with the old namespace", 30, || !host_link_exists(&row.name));
        assert_eq!(list_state(br, &row.name).as_deref(), Some("link missing"), "{context}");
        let out = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", "row-removed")], &args);
        assert_eq!(out.code, None, "{context}: should have been killed:\n{out}");
        bed.assert_clean(&context);
        let out = ovs_docker(&["gc", br]);
        out.ok();
        assert!(out.stdout.is_empty(), "{context}: nothing left for gc:\n{out}");
        ovs_docker(&bed.add_args()).ok();
        bed.assert_one_working_port(&format!("{context}: add-port"));
        ovs_docker(&["del-port", br, "eth1", &bed.c.name]).ok();
        bed.assert_clean(&format!("{context}: del-port"));
    }
    // With the veth already gone, veth-deleted is never reached: gc completes.
    ovs_docker(&bed.add_args()).ok();
    let row = row_of(&bed.c, "eth1");
    run("docker", &["restart", "-t", "0", &bed.c.name]).ok();
    wait_until("the veth dies with the old namespace", 30, || !host_link_exists(&row.name));
    let out = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", "veth-deleted")], &["gc", br]);
    out.ok().stdout_contains(&format!("removed port {} on bridge {br}", row.name));
    bed.assert_clean("gc of a stale port with OVS_DOCKER_CRASH_AT=veth-deleted");
}

/// add-port SIGKILLed after a random delay of 0 to 30 ms, 20 times; after
/// each, add-port (exit 0, or "already attached" when the kill came after
/// the commit) gives one working port and del-port leaves nothing.
#[test]
fn add_port_killed_at_random_points() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for i in 0..20 {
        let delay = rand_below(31);
        let p = Spawned::start(&[], &bed.add_args());
        std::thread::sleep(Duration::from_millis(delay));
        p.signal(libc::SIGKILL);
        let killed = p.finish();
        let context = format!("iteration {i}, SIGKILL after {delay} ms");
        let key = match killed.code {
            None => "killed".to_string(),
            Some(c) => format!("exit {c}"),
        };
        *outcomes.entry(key).or_default() += 1;
        assert!(matches!(killed.code, None | Some(0)), "{context}: the run should be killed or succeed:\n{killed}");

        let out = ovs_docker(&bed.add_args());
        if !out.success() {
            out.fails(1, "add-port").stderr_contains("already attached");
        }
        bed.assert_one_working_port(&format!("{context}: healing add-port"));
        ovs_docker(&["del-port", &bed.br.name, "eth1", &bed.c.name]).ok();
        bed.assert_clean(&format!("{context}: after del-port"));
    }
    eprintln!("add-port random kills: {outcomes:?}");
}

/// del-port SIGKILLed after a random delay of 0 to 30 ms, 20 times. The
/// states it can leave: intact, an orphan veth (row gone, veth marked as
/// ours), or nothing. del-port, add-port or gc then leaves nothing.
#[test]
fn del_port_killed_at_random_points() {
    let _serial = serial();
    testbed();
    let bed = Bed::new();
    // It runs gc on the whole machine, and relies on orphans staying put.
    let _gc = global_gc_guard();
    let br = bed.br.name.as_str();
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for i in 0..20 {
        ovs_docker(&bed.add_args()).ok();
        let veth = row_of(&bed.c, "eth1").name;
        let delay = rand_below(31);
        let p = Spawned::start(&[], &["del-port", br, "eth1", bed.c.name.as_str()]);
        std::thread::sleep(Duration::from_millis(delay));
        p.signal(libc::SIGKILL);
        let killed = p.finish();
        let context = format!("iteration {i}, SIGKILL after {delay} ms");
        assert!(matches!(killed.code, None | Some(0)), "{context}: the run should be killed or succeed:\n{killed}");
        let s = leak_snapshot(&[&bed.c], &[&bed.br]);
        let state = match (s.veths(), s.rows.len()) {
            (1, 1) => "intact",
            (1, 0) => {
                assert!(marked_veths(&bed.c.id).contains(&veth), "{context}: the orphan {veth} must be marked: {s:#?}");
                "orphan veth"
            }
            (0, 0) => "removed",
            _ => panic!("{context}: del-port removes the row first, then the veth: {s:#?}"),
        };
        let how = if killed.code.is_none() { "killed" } else { "exit 0" };
        *outcomes.entry(format!("{how}, {state}")).or_default() += 1;
        match state {
            "orphan veth" if i % 3 == 1 => {
                let out = ovs_docker(&["gc"]);
                out.ok().stdout_contains(&format!("removed orphan veth {veth} "));
            }
            "orphan veth" if i % 3 == 2 => {
                ovs_docker(&bed.add_args()).ok();
                bed.assert_one_working_port(&format!("{context}: add-port over an orphan"));
                ovs_docker(&["del-port", br, "eth1", bed.c.name.as_str()]).ok();
            }
            "removed" => {
                ovs_docker(&["del-port", br, "eth1", bed.c.name.as_str()])
                    .fails(1, "del-port")
                    .stderr_contains("no port attached");
            }
            _ => {
                ovs_docker(&["del-port", br, "eth1", bed.c.name.as_str()]).ok();
            }
        }
        bed.assert_clean(&format!("{context}: after healing"));
    }
    eprintln!("del-port random kills: {outcomes:?}");
}
