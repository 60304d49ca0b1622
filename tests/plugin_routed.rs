//! `-o mode=routed` networks of the plugin: the gateway on the bridge as
//! in nat mode, but no NAT: an "outside" namespace that routes the subnet
//! to this host reaches containers at their own addresses, and sees their
//! own addresses as the source. (The same on the stock dockerd, with
//! Docker's firewall: tests/plugin_stock_firewall.rs.)

mod common;

use common::plugin::*;
use common::*;

#[test]
fn a_routed_network_is_reached_at_the_containers_own_addresses() {
    testbed();
    let plugin = Plugin::start();
    let r = Routed::new(&plugin);
    let (net, c, outside, addr) = (&r.net, &r.c, &r.outside, r.addr.as_str());
    // No rule of ours in nf_tables: no masquerade, no isolation drop.
    assert_eq!(nft_rules_of(&net.id), Vec::<String>::new());
    // Without a route back to the subnet, the outside cannot answer: the
    // container's packets leave with its own address.
    outside.count_pings_from(&outside.host_addr(), &r.subnet);
    assert_no_ping(c, &outside.addr());
    assert!(outside.counted("from-subnet") >= 1, "the outside saw nothing from the subnet");
    assert_eq!(outside.counted("from-host"), 0, "a routed network's traffic was masqueraded");
    // With one (as another host's router would have), both ways work.
    r.route_back();
    assert_ping(c, &outside.addr());
    let from_outside = outside.exec(&["ping", "-c", "1", "-W", "2", addr]);
    assert!(from_outside.success(), "the outside cannot reach {addr}:\n{from_outside}");
    assert_eq!(outside.counted("from-host"), 0, "a routed network's traffic was masqueraded");
    // Nothing to publish: -p is refused with the reason.
    let mut run_args = vec!["run", "-d", "--network", net.name.as_str(), "-p", "18080:80", IMAGE, "sleep", "60"];
    let name = format!("{PREFIX}-{}", rand_hex(10));
    run_args.splice(2..2, ["--name", name.as_str()]);
    let out = run("docker", &run_args);
    let _published = TestContainer { name: name.clone(), id: String::new() };
    assert!(!out.success(), "-p on a routed network was taken:\n{out}");
    assert!(out.stderr.contains("routed network"), "the refusal does not say why:\n{out}");
    run("docker", &["rm", "-f", &name]).ok();
    let Routed { s, net, c, .. } = r;
    remove_all_and_check(&net, vec![c], Some(&s.v4p(1)));
}

#[test]
fn routed_is_a_known_mode_and_needs_a_gateway_like_nat() {
    testbed();
    let plugin = Plugin::start();
    let out = TestNetwork::try_create(&plugin, &["-o", "mode=routd"]).err().expect("mode=routd was taken");
    assert!(out.stderr.contains("is not nat, routed, flat or ovn"), "{out}");
    let out = TestNetwork::try_create(&plugin, &["-o", "mode=routed", "-o", "bind_interface=lo"])
        .err()
        .expect("routed with bind_interface was taken");
    assert!(out.stderr.contains("needs mode=flat"), "{out}");
}
