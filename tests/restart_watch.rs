//! `watch`: ports that survive container restarts, a watcher killed and
//! restarted, removed containers' ports removed, --no-persist respected.

mod common;

use std::process::{Child, Command, Stdio};

use common::*;

/// A watcher acts on every container of the host: the tests of this file,
/// which restart containers and expect a given watcher behaviour, run one
/// at a time. (cargo runs test binaries one after another.)
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running `ovs-docker watch`, killed (SIGKILL, by pid) on drop.
struct Watcher {
    child: Child,
    log: String,
}

impl Watcher {
    fn start() -> Watcher {
        let log = format!("/tmp/{PREFIX}-watch-{}.log", rand_hex(8));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin())
            .arg("watch")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start ovs-docker watch: {e}"));
        Watcher { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn restart(c: &TestContainer) {
    run("docker", &["restart", "-t", "0", &c.name]).ok();
}

/// The container's view of `iface`: "MAC MTU" and its routes.
fn inside(c: &TestContainer, iface: &str) -> (String, String) {
    let link = exec(c, &format!("cat /sys/class/net/{iface}/address /sys/class/net/{iface}/mtu")).ok().stdout.clone();
    let mut routes: Vec<String> = exec(c, "ip route; ip -6 route").ok().stdout.lines().map(str::to_string).collect();
    routes.sort();
    let routes = routes.join("\n");
    (link.split_whitespace().collect::<Vec<_>>().join(" "), routes)
}

fn state_of(c: &TestContainer, iface: &str) -> String {
    list_json(&["--container", &c.name])
        .into_iter()
        .find(|r| r["interface"] == iface)
        .map(|r| r["state"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| "absent".into())
}

#[test]
fn ports_come_back_after_restarts_with_the_same_configuration() {
    let _serial = serial();
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    br.add_address(&format!("{}/32", net.far_v4()));
    let c = TestContainer::new();
    let once = TestContainer::new();
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--ipaddress={}", net.v6p(2)),
        &format!("--gateway={}", net.v6(1)),
        &format!("--route={}/32,via={}", net.far_v4(), net.v4(1)),
        "--macaddress=02:0d:00:00:00:42",
        "--mtu=1400",
    ])
    .ok();
    ovs_docker(&["add-port", &br.name, "eth2", &c.name, &format!("--ipaddress={}", net.v4p(12))]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth2", &c.name, "7", "--trunk=10,20"]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &once.name, &format!("--ipaddress={}", net.v4p(3)), "--no-persist"])
        .ok();
    let before = inside(&c, "eth1");
    assert!(before.0.starts_with("02:0d:00:00:00:42 1400"), "{before:?}");
    assert_ping(&c, &net.far_v4());
    assert_ping(&c, &net.v6(1));

    // 1. With the watcher running: back within seconds, same everything.
    let w = Watcher::start();
    restart(&c);
    restart(&once);
    wait_until("eth1 and eth2 of the restarted container are back", 10, || {
        state_of(&c, "eth1") == "ok" && state_of(&c, "eth2") == "ok"
    });
    assert_eq!(inside(&c, "eth1"), before, "MAC, MTU and routes after the restart");
    assert_ping(&c, &net.far_v4());
    assert_ping(&c, &net.v6(1));
    let eth2 = row_of(&c, "eth2");
    assert_eq!(eth2.tag, Some(7));
    assert_eq!(vsctl_get("Port", &eth2.name, "trunks"), "[10, 20]");
    assert_eq!(vsctl_get("Port", &eth2.name, "vlan_mode"), "native-untagged");
    // The stale rows were replaced, not joined.
    assert_eq!(rows_of(&c).len(), 2);
    // --no-persist: left stale.
    wait_until("the --no-persist port is left stale", 20, || state_of(&once, "eth1") == "link missing");

    // 2. Watcher killed; the container restarts meanwhile; a new watcher
    // reconciles on start.
    w.kill();
    restart(&c);
    wait_until("the port is stale while nobody watches", 30, || state_of(&c, "eth1") == "link missing");
    let w = Watcher::start();
    wait_until("the new watcher re-created the ports", 30, || {
        state_of(&c, "eth1") == "ok" && state_of(&c, "eth2") == "ok"
    });
    assert_eq!(inside(&c, "eth1"), before);
    assert_ping(&c, &net.far_v4());

    // 3. Removed container: its ports go.
    let rows: Vec<String> = rows_of(&c).into_iter().map(|r| r.name).collect();
    run("docker", &["rm", "-f", &c.name]).ok();
    wait_until("the removed container's ports are gone", 10, || {
        let names = br.ports();
        rows.iter().all(|r| !names.contains(r))
    });
    let log = w.log();
    assert!(log.contains("re-created port") && log.contains("removed port"), "watch log:\n{log}");
    drop(w);
    ovs_docker(&["del-ports", &br.name, &once.name]).ok();
    assert_no_ports(&[&once], &[&br]);
}

/// A watcher killed at any step of re-creating a port leaves the record
/// intact: the next reconcile finishes the job.
#[test]
fn a_watcher_killed_while_recreating_loses_nothing() {
    let _serial = serial();
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let peer = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &peer.name, &format!("--ipaddress={}", net.v4p(3))]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    let mac = exec(&c, "cat /sys/class/net/eth1/address").ok().stdout.trim().to_string();
    for step in ["veth-created", "links-configured", "row-committed"] {
        restart(&c);
        wait_until("the port is stale", 30, || state_of(&c, "eth1") == "link missing");
        let crashed = ovs_docker_env(&[("OVS_DOCKER_CRASH_AT", step)], &["watch", "--once"]);
        assert!(!crashed.success(), "watch --once should have been killed at {step}:\n{crashed}");
        ovs_docker(&["watch", "--once"]).ok();
        assert_eq!(state_of(&c, "eth1"), "ok", "after a crash at {step}");
        assert_eq!(rows_of(&c).len(), 1, "after a crash at {step}");
        assert_eq!(exec(&c, "cat /sys/class/net/eth1/address").ok().stdout.trim(), mac);
        assert_ping(&c, &net.v4(3));
    }
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    ovs_docker(&["del-ports", &br.name, &peer.name]).ok();
    assert_no_ports(&[&c, &peer], &[&br]);
}

/// After a restart the old namespace can outlive the container for a while
/// (here: held open by a file descriptor, as a TCP socket would), with the
/// old veth in it. The port must still be re-created in the new namespace,
/// the old veth deleted, and hand-set VLAN settings kept to the letter.
#[test]
fn a_lingering_old_namespace_does_not_hide_a_restart() {
    let _serial = serial();
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let peer = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &peer.name, &format!("--ipaddress={}", net.v4p(3)), "--vlan=9"]).ok();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2)), "--vlan=9"]).ok();
    let old = row_of(&c, "eth1").name;
    vsctl(&["set", "Port", &old, "vlan_mode=access"]).ok();
    let pid = c.pid().expect("pid");
    let hold = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("open the container's namespace");
    restart(&c);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(host_link_exists(&old), "the held namespace keeps the old veth");
    ovs_docker(&["watch", "--once"]).ok();
    let new = row_of(&c, "eth1");
    assert_ne!(new.name, old);
    assert!(!host_link_exists(&old), "the old namespace's veth was deleted");
    assert_eq!(state_of(&c, "eth1"), "ok");
    assert_eq!(new.tag, Some(9));
    assert_eq!(vsctl_get("Port", &new.name, "vlan_mode"), "access");
    assert_ping(&c, &net.v4(3));
    // add-port too sees through the lingering namespace: after another
    // restart it reclaims the port instead of calling it attached.
    let again = std::fs::File::open(format!("/proc/{}/ns/net", c.pid().expect("pid"))).unwrap();
    restart(&c);
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(2)), "--vlan=9"]).ok();
    assert_ping(&c, &net.v4(3));
    drop((hold, again));
    for x in [&c, &peer] {
        ovs_docker(&["del-ports", &br.name, &x.name]).ok();
    }
    assert_no_ports(&[&c, &peer], &[&br]);
}
