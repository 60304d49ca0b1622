//! `set-vlan`: Port.tag, and what it does to traffic on a netdev bridge.

mod common;

use common::*;

fn tag_of(c: &TestContainer, iface: &str) -> Option<i64> {
    row_of(c, iface).tag
}

/// Three containers on one bridge: different VLANs cut them apart, the same
/// VLAN brings them back together.
#[test]
fn vlan_isolation_and_reunion() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c1 = TestContainer::new();
    let c2 = TestContainer::new();
    let c3 = TestContainer::new();
    for (c, host) in [(&c1, 2u8), (&c2, 3), (&c3, 4)] {
        ovs_docker(&["add-port", &br.name, "eth1", &c.name, &format!("--ipaddress={}", net.v4p(host))]).ok();
    }
    // Untagged: everybody talks.
    assert_ping(&c1, &net.v4(3));
    assert_ping(&c1, &net.v4(4));

    // By name, by short ID, by full ID.
    ovs_docker(&["set-vlan", &br.name, "eth1", &c1.name, "10"]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", c2.short_id(), "20"]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", &c3.id, "10"]).ok();
    assert_eq!(tag_of(&c1, "eth1"), Some(10));
    assert_eq!(tag_of(&c2, "eth1"), Some(20));
    assert_eq!(tag_of(&c3, "eth1"), Some(10));
    assert_eq!(vsctl_get("Port", &row_of(&c2, "eth1").name, "tag"), "20");

    assert_ping(&c1, &net.v4(4));
    assert_no_ping(&c1, &net.v4(3));
    assert_no_ping(&c2, &net.v4(4));

    // Reunion: c2 joins VLAN 10.
    ovs_docker(&["set-vlan", &br.name, "eth1", &c2.name, "10"]).ok();
    assert_eq!(tag_of(&c2, "eth1"), Some(10));
    assert_ping(&c2, &net.v4(2));
    assert_ping(&c2, &net.v4(4));

    for c in [&c1, &c2, &c3] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&c1, &c2, &c3], &[&br]);
}

/// Bad VLANs are usage errors, an unknown port is refused, and neither
/// touches the tag.
#[test]
fn set_vlan_refusals_leave_the_tag_alone() {
    testbed();
    let br = TestBridge::new();
    let other = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", &c.name, "4095"]).ok();
    assert_eq!(tag_of(&c, "eth1"), Some(4095));
    ovs_docker(&["set-vlan", &br.name, "eth1", &c.name, "7"]).ok();

    for bad in ["4096", "65536", "-1", "ten", ""] {
        ovs_docker(&["set-vlan", &br.name, "eth1", &c.name, bad]).usage_error();
        assert_eq!(tag_of(&c, "eth1"), Some(7), "VLAN {bad:?} changed the tag");
    }
    ovs_docker(&["set-vlan", &br.name, "eth1", &c.name]).usage_error();
    ovs_docker(&["set-vlan", &br.name, "eth2", &c.name, "8"]).fails(1, "set-vlan");
    ovs_docker(&["set-vlan", &other.name, "eth1", &c.name, "8"]).fails(1, "set-vlan");
    ovs_docker(&["set-vlan", &br.name, "eth1", &format!("{PREFIX}-{}", rand_hex(10)), "8"]).fails(1, "set-vlan");
    assert_eq!(tag_of(&c, "eth1"), Some(7));

    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    assert_no_ports(&[&c], &[&br, &other]);
}
