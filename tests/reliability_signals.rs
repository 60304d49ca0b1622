//! Signals: SIGTERM, SIGINT and SIGHUP at each add-port step (held there by
//! `OVS_DOCKER_PAUSE_AT=STEP`) undo everything and exit with 128 + signal.

mod common;

use common::*;

const STEPS: [&str; 3] = ["veth-created", "links-configured", "row-committed"];
const SIGNALS: [(i32, &str, i32); 3] =
    [(libc::SIGTERM, "SIGTERM", 143), (libc::SIGINT, "SIGINT", 130), (libc::SIGHUP, "SIGHUP", 129)];

/// Start add-port paused at `step`, send `sig` once it says so, and return
/// what it printed and how it ended.
fn interrupt_at(step: &str, sig: i32, args: &[&str]) -> CmdOutput {
    let mut p = Spawned::start(&[("OVS_DOCKER_PAUSE_AT", step)], args);
    p.wait_for_stderr(&format!("paused at {step}"), 30);
    p.signal(sig);
    p.finish()
}

/// On an existing bridge: every step, every signal.
#[test]
fn signals_at_every_add_port_step_undo_everything() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let iface = unique_iface();
    let before = leak_snapshot_watching(&[&c], &[&br], &[&iface]);
    let addr = format!("--ipaddress={}", net.v4p(2));
    let gw = format!("--gateway={}", net.v4(1));
    for step in STEPS {
        for (sig, name, code) in SIGNALS {
            let context = format!("{name} at {step}");
            let out = interrupt_at(step, sig, &["add-port", &br.name, &iface, &c.name, &addr, &gw, "--mtu=1400"]);
            out.code_is(code);
            assert!(
                out.stderr.lines().last().is_some_and(|l| l.starts_with("ovs-docker: add-port: interrupted by signal")),
                "{context}: the last line should say it was interrupted:\n{out}"
            );
            assert_eq!(
                leak_snapshot_watching(&[&c], &[&br], &[&iface]),
                before,
                "{context}: something was left behind"
            );
            assert!(marked_veths(&c.id).is_empty(), "{context}: marked veths left: {:?}", marked_veths(&c.id));
            assert!(br.ports().is_empty(), "{context}: ports left: {:?}", br.ports());
            let routes = exec(&c, "ip route; ip -6 route");
            assert!(routes.ok().stdout.trim().is_empty(), "{context}: routes left in the container:\n{routes}");
        }
    }
    // And the interface can be attached normally afterwards.
    ovs_docker(&["add-port", &br.name, &iface, &c.name, &addr, &gw]).ok();
    assert_ping(&c, &net.v4(1));
    ovs_docker(&["del-port", &br.name, &iface, &c.name]).ok();
    assert_no_leak(&before, &[&c], &[&br], "after the final del-port");
}

/// When add-port created the bridge (missing, --datapath-type=netdev), a
/// signal at any step removes the bridge too.
#[test]
fn signals_remove_the_bridge_add_port_created() {
    testbed();
    let c = TestContainer::new();
    for step in STEPS {
        for (sig, name, code) in SIGNALS {
            let context = format!("{name} at {step}");
            let bname = format!("{PREFIX}{}", rand_hex(6));
            // Owned (deleted on drop) before it even exists.
            let br = TestBridge::adopt(&bname);
            let before = leak_snapshot(&[&c], &[&br]);
            let out = interrupt_at(step, sig, &["add-port", &bname, "eth1", &c.name, "--datapath-type=netdev"]);
            out.code_is(code);
            assert_no_leak(&before, &[&c], &[&br], &context);
            assert!(
                !vsctl(&["br-exists", &bname]).success(),
                "{context}: bridge {bname}, created by the interrupted add-port, is still there"
            );
            assert!(!host_link_exists(&bname), "{context}: the bridge's internal port {bname} is still on the host");
        }
    }
}

/// A signal while add-port waits for another run's lock: it exits 128 +
/// signal and leaves the other run's port alone.
#[test]
fn signal_while_waiting_for_the_lock_touches_nothing() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let mut holder =
        Spawned::start(&[("OVS_DOCKER_PAUSE_AT", "links-configured")], &["add-port", &br.name, "eth1", &c.name]);
    holder.wait_for_stderr("paused at links-configured", 30);
    let waiter = Spawned::start(&[], &["add-port", &br.name, "eth1", &c.id]);
    // Signalled while it waits for the lock (within its 10-second timeout):
    // it has looked the container and the bridge up well within 2 s.
    std::thread::sleep(std::time::Duration::from_secs(2));
    waiter.signal(libc::SIGTERM);
    let out = waiter.finish();
    out.code_is(143);
    // The holder is untouched: its veth is still there, and it completes
    // (here: is interrupted too, and cleans up after itself).
    let s = leak_snapshot(&[&c], &[&br]);
    assert_eq!(s.veths(), 1, "the paused run's veth must stay: {s:#?}");
    holder.signal(libc::SIGINT);
    holder.finish().code_is(130);
    assert_no_leak(&before, &[&c], &[&br], "after both runs were interrupted");
}
