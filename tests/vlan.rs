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

/// A trunk port with a native VLAN reaches exactly the access ports of its
/// VLANs: tagged frames those of the trunked VLANs, untagged frames the
/// native VLAN's; set-vlan --clear makes it an ordinary port again.
#[test]
fn trunk_and_native_vlan_traffic() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let test_ns = TestNetns::new();
    let ns = test_ns.name.clone();
    let access: Vec<(TestContainer, u16)> =
        [10u16, 20, 30, 40].into_iter().map(|v| (TestContainer::new(), v)).collect();
    for (i, (c, vlan)) in access.iter().enumerate() {
        // add-port --vlan tags in the transaction that adds the port.
        ovs_docker(&[
            "add-port",
            &br.name,
            "eth1",
            &c.name,
            &format!("--ipaddress={}", net.v4p(10 + i as u8)),
            &format!("--vlan={vlan}"),
        ])
        .ok();
        assert_eq!(tag_of(c, "eth1"), Some(i64::from(*vlan)));
    }
    let netns = format!("--netns=/var/run/netns/{ns}");
    ovs_docker(&["add-port", &br.name, "eth1", &netns]).ok();
    run("ip", &["netns", "exec", &ns, "ip", "link", "set", "eth1", "up"]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", &netns, "30", "--trunk=10,20"]).ok();
    let port = interface_rows()
        .into_iter()
        .find(|r| r.id("container_id") == Some(&format!("netns:/var/run/netns/{ns}")))
        .unwrap()
        .name;
    assert_eq!(vsctl_get("Port", &port, "trunks"), "[10, 20]");
    assert_eq!(vsctl_get("Port", &port, "vlan_mode"), "native-untagged");

    let ip = |i: u8| net.v4(10 + i);
    let in_ns = ["ip", "netns", "exec", ns.as_str()];
    assert!(arp_answered_from_trunk(&in_ns, "eth1", &ip(0), Some(10)), "VLAN 10 tagged reaches the VLAN 10 port");
    assert!(arp_answered_from_trunk(&in_ns, "eth1", &ip(1), Some(20)), "VLAN 20 tagged reaches the VLAN 20 port");
    assert!(arp_answered_from_trunk(&in_ns, "eth1", &ip(2), None), "untagged reaches the native VLAN 30");
    assert!(!arp_from_trunk(&in_ns, "eth1", &ip(3), Some(40)), "VLAN 40 is not trunked");
    assert!(!arp_from_trunk(&in_ns, "eth1", &ip(0), Some(20)), "VLAN 20 does not reach VLAN 10");
    assert!(!arp_from_trunk(&in_ns, "eth1", &ip(0), None), "untagged does not reach VLAN 10");

    // --clear: no tag, no trunks, no mode.
    ovs_docker(&["set-vlan", &br.name, "eth1", &netns, "--clear"]).ok();
    for col in ["tag", "trunks", "vlan_mode"] {
        assert_eq!(vsctl_get("Port", &port, col), "[]", "{col}");
    }
    let listed = list_json(&[&br.name]);
    assert!(listed.iter().all(|r| r["trunks"] == serde_json::json!([])), "{listed:#?}");
    ovs_docker(&["del-port", &br.name, "eth1", &netns]).ok();
    for (c, _) in &access {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    let refs: Vec<&TestContainer> = access.iter().map(|(c, _)| c).collect();
    assert_no_ports(&refs, &[&br]);
}
