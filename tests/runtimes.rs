//! Targets other than Docker containers: a network namespace file
//! (`--netns`, as `ip netns` or Podman make them) and a process
//! (`--pid`, any runtime). Listed, removed and cleaned like the others.

mod common;

use std::process::{Child, Command, Stdio};

use common::*;

/// A `sleep` in a fresh network namespace of its own (unshare -n), killed
/// on drop.
struct NsProcess {
    child: Child,
}

impl NsProcess {
    fn new() -> NsProcess {
        let child = Command::new("unshare")
            .args(["-n", "sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("unshare: {e}"));
        let p = NsProcess { child };
        let me = std::fs::read_link("/proc/self/ns/net").unwrap();
        wait_until("the process has its own namespace", 5, || {
            std::fs::read_link(format!("/proc/{}/ns/net", p.pid())).is_ok_and(|ns| ns != me)
        });
        p
    }
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for NsProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn netns_rows(reference: &str) -> Vec<IfaceRow> {
    interface_rows().into_iter().filter(|r| r.id("container_id") == Some(reference)).collect()
}

#[test]
fn a_plain_network_namespace_attached_by_path() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let ns = TestNetns::new();
    let c = TestContainer::new();
    let reference = format!("netns:{}", ns.path());
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &format!("--netns={}", ns.path()),
        &format!("--ipaddress={}", net.v4p(2)),
    ])
    .ok();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(3))]).ok();
    assert_ping(&c, &net.v4(2));
    assert!(ns.exec(&format!("ping -c 1 -W 2 {}", net.v4(3))).success());
    // TCP too: TX checksum offload is off on netdev bridges for namespaces as well.
    assert!(ns.exec("ethtool -k eth1 | grep -q 'tx-checksumming: off'").success());

    let rows = list_json(&[&br.name]);
    let row = rows.iter().find(|r| r["container"] == reference.as_str()).unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(row["state"], "ok");
    assert_eq!(row["addresses"], serde_json::json!([net.v4p(2)]));
    assert_eq!(row["persist"], false);
    // Attached twice: refused.
    ovs_docker(&["add-port", &br.name, "eth1", &format!("--netns={}", ns.path())]).fails(1, "add-port");
    ovs_docker(&["del-port", &br.name, "eth1", &format!("--netns={}", ns.path())]).ok();
    assert!(netns_rows(&reference).is_empty());
    assert!(!ns.exec("ip link show eth1").success());

    // A namespace that goes away leaves a stale port that gc removes.
    ovs_docker(&["add-port", &br.name, "eth2", &format!("--netns={}", ns.path())]).ok();
    let port = netns_rows(&reference)[0].name.clone();
    run("ip", &["netns", "del", &ns.name]).ok();
    wait_until("the veth went with the namespace", 10, || !host_link_exists(&port));
    ovs_docker(&["gc", &br.name]).ok().stdout_contains(&port);
    assert!(netns_rows(&reference).is_empty());
    // A namespace that does not exist is refused before anything is done.
    let before = leak_snapshot(&[&c], &[&br]);
    ovs_docker(&["add-port", &br.name, "eth1", &format!("--netns={}", ns.path())])
        .fails(1, "add-port")
        .stderr_contains("does not exist");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "missing namespace");
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

#[test]
fn a_process_namespace_attached_by_pid() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let p = NsProcess::new();
    let reference = format!("pid:{}", p.pid());
    ovs_docker(&["add-port", &br.name, "eth1", &format!("--pid={}", p.pid()), &format!("--ipaddress={}", net.v4p(2))])
        .ok();
    // Docker's own container, by its PID, as another runtime would give it.
    let pid = c.pid().expect("container pid").to_string();
    ovs_docker(&["add-port", &br.name, "eth5", &format!("--pid={pid}"), &format!("--ipaddress={}", net.v4p(3))]).ok();
    exec(&c, "ip link show eth5").ok();
    assert_ping(&c, &net.v4(2));
    assert_eq!(list_json(&[&br.name]).iter().filter(|r| r["state"] == "ok").count(), 2);
    // The host's own namespace is refused.
    ovs_docker(&["add-port", &br.name, "eth1", &format!("--pid={}", std::process::id())])
        .fails(1, "add-port")
        .stderr_contains("host's network namespace");
    ovs_docker(&["del-ports", &br.name, &format!("--pid={pid}")]).ok();
    // The process ends: its port is stale, gc removes it.
    let port = netns_rows(&reference)[0].name.clone();
    drop(p);
    wait_until("the veth went with the process", 10, || !host_link_exists(&port));
    let stale = list_json(&[&br.name]);
    assert_eq!(stale.iter().find(|r| r["port"] == port.as_str()).unwrap()["stale"], true);
    // Only this bridge: the other test of this file has stale ports of its own.
    ovs_docker(&["gc", &br.name]).ok().stdout_contains(&port);
    assert!(netns_rows(&reference).is_empty());
    assert_no_ports(&[&c], &[&br]);
}
