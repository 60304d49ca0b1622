//! Rate limits: add-port --ingress-rate and set-qos. The limit must hold
//! back a TCP transfer from the container; removing it must lift it.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn an_ingress_rate_limits_tcp_from_the_container() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let server = TestContainer::new();
    let client = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &server.name, &format!("--ipaddress={}", net.v4p(2))]).ok();
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &client.name,
        &format!("--ipaddress={}", net.v4p(3)),
        "--ingress-rate=4000",
        "--ingress-burst=400",
    ])
    .ok();
    assert_ping(&client, &net.v4(2));
    let row = row_of(&client, "eth1");
    assert_eq!(vsctl_get("Interface", &row.name, "ingress_policing_rate"), "4000");
    assert_eq!(vsctl_get("Interface", &row.name, "ingress_policing_burst"), "400");
    let listed = list_json(&["--container", &client.name]);
    assert_eq!(listed[0]["ingress_rate"], 4000);

    // 2 MB at 4 Mbit/s (500 kB/s) with a 50 kB bucket cannot take less than
    // about 3.9 s, however fast or slow the machine is.
    let limited = assert_tcp(&client, &server, &net.v4(2), 2_000_000);
    assert!(limited >= Duration::from_millis(3500), "2 MB at 4 Mbit/s took only {limited:?}");

    // set-qos lifts it (0), then sets another.
    ovs_docker(&["set-qos", &br.name, "eth1", &client.name, "--ingress-rate=0"]).ok();
    assert_eq!(vsctl_get("Interface", &row.name, "ingress_policing_rate"), "0");
    assert!(!exec(&client, "tc qdisc show dev eth1 2>/dev/null; cat /proc/net/psched >/dev/null")
        .stdout
        .contains("tbf"));
    let free = assert_tcp(&client, &server, &net.v4(2), 2_000_000);
    assert!(free < limited, "unlimited {free:?} vs limited {limited:?}");
    ovs_docker(&["set-qos", &br.name, "eth1", &client.name, "--ingress-rate=2000"]).ok();
    assert_eq!(vsctl_get("Interface", &row.name, "ingress_policing_rate"), "2000");
    // 1 MB at 2 Mbit/s: at least about 3.5 s.
    let again = assert_tcp(&client, &server, &net.v4(2), 1_000_000);
    assert!(again >= Duration::from_millis(3000), "1 MB at 2 Mbit/s took only {again:?}");
    ovs_docker(&["set-qos", &br.name, "eth2", &client.name, "--ingress-rate=10"]).fails(1, "set-qos");
    for c in [&server, &client] {
        ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    }
    assert_no_ports(&[&server, &client], &[&br]);
}
