//! Containers that cannot take a port (stopped, paused, on the host's
//! network, sharing another container's network) are refused with exit 1
//! before anything is created: no veth, no row, no interface, no bridge.

mod common;

use common::*;

#[test]
fn unfit_containers_are_refused_before_anything_is_created() {
    testbed();
    let br = TestBridge::new();
    let stopped = TestContainer::new();
    run("docker", &["kill", &stopped.name]).ok();
    let paused = TestContainer::new();
    paused.pause();
    let host_net = TestContainer::with_args(&["--net=host"]);
    let owner = TestContainer::new();
    let shared = TestContainer::with_args(&[&format!("--net=container:{}", owner.name)]);
    let iface = unique_iface();
    // The host-network container's interfaces are the host's, which other
    // tests change: it is watched through the host names instead.
    let watched = [&stopped, &paused, &owner, &shared];
    let snapshot = |bridges: &[&TestBridge]| leak_snapshot_watching(&watched, bridges, &[&iface]);

    let before = snapshot(&[&br]);
    for (i, (c, why)) in [
        (&stopped, "not running"),
        (&paused, "paused"),
        (&host_net, "host"),
        (&shared, "network namespace of another container"),
    ]
    .into_iter()
    .enumerate()
    {
        // Each container by its name and by one of its IDs.
        let id_ref = if i % 2 == 0 { c.id.as_str() } else { c.short_id() };
        for reference in [c.name.as_str(), id_ref] {
            let context = format!("add-port for {why} container {reference}");
            ovs_docker(&["add-port", &br.name, &iface, reference, "--ipaddress=192.0.2.9/24"])
                .fails(1, "add-port")
                .stderr_contains(why);
            assert_eq!(snapshot(&[&br]), before, "{context}: something was created");
            assert!(br.ports().is_empty(), "{context}: ports on the bridge: {:?}", br.ports());
            for x in [c, &owner] {
                assert!(marked_veths(&x.id).is_empty(), "{context}: veth created for {}", x.name);
            }

            // With -v: it stops before the first change.
            let out = ovs_docker(&["-v", "add-port", &br.name, &iface, reference]);
            out.code_is(1);
            for step in ["creating veth", "adding port", "reclaiming", "deleting"] {
                assert!(!out.stderr.contains(step), "{context}: got as far as {step:?}:\n{out}");
            }

            // A missing bridge is not created either.
            let missing = format!("{PREFIX}{}", rand_hex(6));
            let mbr = TestBridge::adopt(&missing);
            ovs_docker(&["add-port", &missing, &iface, reference, "--datapath-type=netdev"])
                .fails(1, "add-port")
                .stderr_contains(why);
            assert!(!vsctl(&["br-exists", &missing]).success(), "{context}: bridge {missing} was created");
            assert_eq!(snapshot(&[&br, &mbr]), before, "{context}");
        }
    }
    // The containers themselves are as they were.
    assert_eq!(paused.link_names(), ["lo".to_string()].into());
    assert_eq!(owner.link_names(), ["lo".to_string()].into());
    let status = run("docker", &["inspect", "-f", "{{.State.Status}}", &paused.name]);
    assert_eq!(status.ok().stdout.trim(), "paused");
    run("docker", &["unpause", &paused.name]).ok();
}
