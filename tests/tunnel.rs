//! `tunnel` on the test bed's own OVS: what ovs-vswitchd refuses is undone.
//! (Traffic through tunnels is tested across simulated hosts in
//! tests/multihost.rs.)

mod common;

use common::*;

/// OVS takes a VXLAN tunnel without a key and one with key 0 to the same
/// remote for the same tunnel: the second is refused by ovs-vswitchd, and
/// its row must not stay behind.
#[test]
fn a_tunnel_ovs_vswitchd_refuses_is_undone() {
    testbed();
    let br = TestBridge::new();
    ovs_docker(&["tunnel", "add", &br.name, "192.0.2.9", "--type", "vxlan"]).ok();
    let before = br.ports();
    assert_eq!(before.len(), 1, "{before:?}");
    let name = format!("{PREFIX}{}", rand_hex(4));
    ovs_docker(&["tunnel", "add", &br.name, "192.0.2.9", "--type", "vxlan", "--key", "0", "--name", &name])
        .fails(3, "tunnel add")
        .stderr_contains("could not add network device");
    assert_eq!(br.ports(), before, "the refused tunnel's port stayed");
    assert!(vsctl(&["--columns=name", "find", "Interface", &format!("name={name}")]).ok().stdout.trim().is_empty());
    let first = before.into_iter().next().unwrap();
    ovs_docker(&["tunnel", "del", &br.name, &first]).ok();
    assert!(br.ports().is_empty());
}
