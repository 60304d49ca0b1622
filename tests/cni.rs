//! The CNI protocol, driven directly with the spec's environment (as a
//! runtime would): every verb, every error case, and nothing left behind.
//! Addresses come from Debian's host-local IPAM plugin.

mod common;

use serde_json::{json, Value};

use common::cni::*;
use common::*;

/// The container side's address `n` of a result.
fn address(result: &Value) -> String {
    result["ips"][0]["address"].as_str().unwrap_or_else(|| panic!("no address in {result}")).to_string()
}

fn ip_of(result: &Value) -> String {
    address(result).split('/').next().unwrap_or_default().to_string()
}

/// CHECK's configuration: the network's, with ADD's result as prevResult.
fn with_prev(conf: &Value, prev: &Value) -> Value {
    let mut c = conf.clone();
    c["prevResult"] = prev.clone();
    c
}

#[test]
fn version_answers_without_a_network() {
    let v = cni_call("VERSION", &json!({"cniVersion": "1.0.0"}), &[]).ok();
    assert_eq!(v["cniVersion"], "1.0.0");
    let versions: Vec<&str> = v["supportedVersions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for want in ["0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
        assert!(versions.contains(&want), "{v}");
    }
}

#[test]
fn the_command_line_still_works_with_cni_command_exported() {
    let out = ovs_docker_env(&[("CNI_COMMAND", "ADD")], &["--version"]);
    out.ok();
    assert!(!out.stdout.contains("cniVersion"), "{out}");
}

#[test]
fn add_check_del_on_one_vlan_and_isolation_from_another() {
    testbed();
    let net = CniNet::new();
    let (a, b, c) = (TestNetns::new(), TestNetns::new(), TestNetns::new());
    let (pa, pb, pc) = (a.path(), b.path(), c.path());
    let on10 = net.conf(json!({"vlan": 10, "mtu": 1400}));
    let on20 = net.conf(json!({"vlan": 20, "mtu": 1400}));
    let ra = cni_call("ADD", &on10, &cni_env("ovsdtca", &pa, "eth0")).ok();
    let rb = cni_call("ADD", &on10, &cni_env("ovsdtcb", &pb, "eth0")).ok();
    let rc = cni_call("ADD", &on20, &cni_env("ovsdtcc", &pc, "net1")).ok();
    // The result: host end and container interface, addresses, IPAM's routes.
    assert_eq!(ra["cniVersion"], "1.0.0");
    assert_eq!(ra["interfaces"][1]["name"], "eth0");
    assert_eq!(ra["interfaces"][1]["sandbox"], pa.as_str());
    assert_eq!(ra["ips"][0]["interface"], 1);
    assert_eq!(ra["routes"][0]["dst"], "0.0.0.0/0");
    let mac = ra["interfaces"][1]["mac"].as_str().unwrap().to_string();
    assert!(a.exec(&format!("ip link show eth0 | grep -q 'mtu 1400' && ip link show eth0 | grep -q {mac}")).success());
    assert!(a.exec(&format!("ip route | grep -q 'default via {}'", net.subnet.v4(1))).success());
    // Same VLAN: they reach each other; the other VLAN is isolated.
    assert!(a.exec(&format!("ping -c 1 -W 3 {}", ip_of(&rb))).success(), "a -> b on VLAN 10");
    assert!(!c.exec(&format!("ping -c 1 -W 1 {}", ip_of(&ra))).success(), "VLAN 20 reached VLAN 10");

    // The same records as add-port's, plus the CNI keys; list shows them.
    let rows = net.rows();
    assert_eq!(rows.len(), 3);
    let row = rows.iter().find(|r| r.id("cni_container_id") == Some("ovsdtca")).unwrap();
    assert_eq!(row.id("container_id"), Some(format!("netns:{pa}").as_str()));
    assert_eq!(row.id("container_iface"), Some("eth0"));
    assert_eq!(row.id("created_by"), Some("ovs-docker"));
    assert_eq!(row.tag, Some(10));
    let listed = list_json(&[&net.bridge.name]);
    assert_eq!(listed.len(), 3, "{listed:#?}");
    assert!(listed.iter().all(|r| r["state"] == "ok"), "{listed:#?}");

    // CHECK: fine as made; a missing address, a missing interface, a moved VLAN are reported.
    cni_call("CHECK", &with_prev(&on10, &ra), &cni_env("ovsdtca", &pa, "eth0")).ok();
    cni_call("CHECK", &with_prev(&on20, &ra), &cni_env("ovsdtca", &pa, "eth0")).error(100, "VLAN");
    cni_call("CHECK", &on10, &cni_env("ovsdtca", &pa, "eth0")).error(7, "prevResult");
    let mut old = with_prev(&on10, &ra);
    old["cniVersion"] = json!("0.3.1");
    cni_call("CHECK", &old, &cni_env("ovsdtca", &pa, "eth0")).error(1, "0.4.0");
    a.exec(&format!("ip addr del {} dev eth0", address(&ra))).ok();
    cni_call("CHECK", &with_prev(&on10, &ra), &cni_env("ovsdtca", &pa, "eth0")).error(100, "missing");
    cni_call("CHECK", &with_prev(&on10, &ra), &cni_env("ovsdtca", &pa, "eth9")).error(100, "has no port");

    // Reunion: c moved onto VLAN 10 (DEL, then ADD with the other config) reaches b.
    cni_call("DEL", &on20, &cni_env("ovsdtcc", &pc, "net1")).ok();
    let rc2 = cni_call("ADD", &on10, &cni_env("ovsdtcc", &pc, "net1")).ok();
    assert!(c.exec(&format!("ping -c 1 -W 3 {}", ip_of(&rb))).success(), "c -> b after the reunion");
    drop(rc);

    // DEL: everything goes, addresses back; DEL again, and DEL with the namespace gone, succeed.
    cni_call("DEL", &on10, &cni_env("ovsdtca", &pa, "eth0")).ok();
    cni_call("DEL", &on10, &cni_env("ovsdtca", &pa, "eth0")).ok();
    cni_call("DEL", &on10, &cni_env("ovsdtcb", &pb, "eth0")).ok();
    assert!(!b.exec("ip link show eth0").success());
    drop(c);
    cni_call("DEL", &on10, &cni_env("ovsdtcc", &pc, "net1")).ok();
    cni_call("DEL", &on10, &[("CNI_CONTAINERID", "ovsdtcc"), ("CNI_IFNAME", "net1"), ("CNI_PATH", CNI_PATH)]).ok();
    drop(rc2);
    net.assert_empty(&[&a, &b]);
}

#[test]
fn every_bad_call_is_refused_with_its_code_and_changes_nothing() {
    testbed();
    let net = CniNet::new();
    let ns = TestNetns::new();
    let p = ns.path();
    let good = net.conf(json!({}));
    let env = cni_env("ovsdtbad", &p, "eth0");
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    // Version, decoding, configuration.
    cni_call("ADD", &with("cniVersion", json!("9.9.9")), &env).error(1, "cniVersion");
    cni_call_raw_bad_json(&env);
    cni_call("ADD", &without("bridge"), &env).error(7, "bridge");
    cni_call("ADD", &without("name"), &env).error(7, "name");
    cni_call("ADD", &with("bridge", json!("ovsdt-no/such")), &env).error(7, "bridge");
    cni_call("ADD", &with("vlan", json!(4096)), &env).error(7, "vlan");
    cni_call("ADD", &with("trunk", json!([{"minID": 30, "maxID": 20}])), &env).error(7, "trunk");
    cni_call("ADD", &with("mac", json!("02:00:00:zz:00:01")), &env).error(7, "mac");
    cni_call("ADD", &with("mtu", json!(20)), &env).error(7, "mtu");
    cni_call("ADD", &with("ipam", json!({"type": "ovsdt-no-such-ipam"})), &env).error(7, "not found");
    // The environment.
    cni_call("FROB", &good, &env).error(4, "CNI_COMMAND");
    cni_call("ADD", &good, &[("CNI_CONTAINERID", "ovsdtbad"), ("CNI_IFNAME", "eth0")]).error(4, "CNI_NETNS");
    cni_call("ADD", &good, &[("CNI_CONTAINERID", "ovsdtbad"), ("CNI_NETNS", &p)]).error(4, "CNI_IFNAME");
    cni_call("ADD", &good, &cni_env("ovsdt/bad", &p, "eth0")).error(4, "CNI_CONTAINERID");
    cni_call("ADD", &good, &cni_env("ovsdtbad", &p, "this-name-is-too-long")).error(4, "CNI_IFNAME");
    let mut bad_args = env.clone();
    bad_args.push(("CNI_ARGS", "MAC=nonsense"));
    cni_call("ADD", &good, &bad_args).error(7, "MAC");
    // The host: a namespace or a bridge that does not exist.
    cni_call("ADD", &good, &cni_env("ovsdtbad", "/var/run/netns/ovsdt-none", "eth0")).error(3, "does not exist");
    cni_call("ADD", &with("bridge", json!("ovsdtnobr")), &env).error(7, "does not exist");
    cni_call("STATUS", &with("bridge", json!("ovsdtnobr")), &[]).error(50, "does not exist");
    cni_call("GC", &good, &[("CNI_PATH", CNI_PATH)]).error(7, "valid-attachments");
    // An address IPAM gives that the port layer refuses gives it back: a route via a far gateway.
    let mut far = good.clone();
    far["ipam"]["routes"] = json!([{"dst": "10.99.0.0/16", "gw": "198.51.100.1"}]);
    cni_call("ADD", &far, &env).error(7, "not on the subnet");
    // A second interface of the same name in the namespace: refused, and the first stays.
    cni_call("ADD", &good, &env).ok();
    ns.exec("ip link add eth1 type veth peer name ovsdtpeer").ok();
    cni_call("ADD", &good, &cni_env("ovsdtother", &p, "eth1")).error(100, "already exists");
    assert_eq!(net.rows().len(), 1);
    cni_call("STATUS", &good, &[]).ok();
    cni_call("DEL", &good, &env).ok();
    cni_call("DEL", &good, &cni_env("ovsdtother", &p, "eth1")).ok();
    assert!(ns.exec("ip link show eth1").success(), "DEL removed an interface it did not make");
    net.assert_empty(&[&ns]);
}

/// Undecodable input: code 6.
fn cni_call_raw_bad_json(env: &[(&str, &str)]) {
    let out = cni_call_with("sh", "ADD", &json!(null), &[]);
    drop(out);
    let mut cmd = std::process::Command::new(bin());
    cmd.env("CNI_COMMAND", "ADD").envs(env.iter().copied());
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap_or_else(|e| panic!("run {}: {e}", bin()));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!((out.status.code(), v["code"].as_u64()), (Some(1), Some(6)), "{v}");
}

#[test]
fn trunks_mac_and_rate_from_the_configuration() {
    testbed();
    let net = CniNet::new();
    let ns = TestNetns::new();
    let p = ns.path();
    let conf = net.conf(json!({
        "trunk": [{"id": 20}, {"minID": 30, "maxID": 32}], "vlan": 5,
        "mac": "02:00:00:00:00:aa", "runtimeConfig": {"mac": "02:00:00:00:00:bb"},
        "ingress_rate": 10000, "ingress_burst": 1000,
    }));
    let r = cni_call("ADD", &conf, &cni_env("ovsdttrunk", &p, "eth0")).ok();
    // runtimeConfig's MAC wins over the configuration's.
    assert_eq!(r["interfaces"][1]["mac"], "02:00:00:00:00:bb");
    let row = net.rows().pop().unwrap();
    assert_eq!(vsctl_get("Port", &row.name, "trunks"), "[20, 30, 31, 32]");
    assert_eq!(vsctl_get("Port", &row.name, "vlan_mode"), "native-untagged");
    assert_eq!(vsctl_get("Interface", &row.name, "ingress_policing_rate"), "10000");
    cni_call("CHECK", &with_prev(&conf, &r), &cni_env("ovsdttrunk", &p, "eth0")).ok();
    cni_call("DEL", &conf, &cni_env("ovsdttrunk", &p, "eth0")).ok();
    // CNI_ARGS' MAC too.
    let mut env = cni_env("ovsdttrunk", &p, "eth0");
    env.push(("CNI_ARGS", "IgnoreUnknown=1;MAC=02:00:00:00:00:cc"));
    let r = cni_call("ADD", &net.conf(json!({})), &env).ok();
    assert_eq!(r["interfaces"][1]["mac"], "02:00:00:00:00:cc");
    cni_call("DEL", &net.conf(json!({})), &env).ok();
    net.assert_empty(&[&ns]);
}

#[test]
fn a_killed_add_heals_and_leaves_no_duplicate() {
    testbed();
    let env_crash = [("OVS_DOCKER_CRASH_AT", "links-configured")];
    require_fault_injection(&env_crash);
    let net = CniNet::new();
    let ns = TestNetns::new();
    let p = ns.path();
    let conf = net.conf(json!({}));
    let mut env = cni_env("ovsdtkill", &p, "eth0");
    for step in ["veth-created", "links-configured", "row-committed"] {
        let mut crash = env.clone();
        crash.push(("OVS_DOCKER_CRASH_AT", step));
        let out = cni_call("ADD", &conf, &crash);
        assert_eq!(out.code, None, "not killed at {step}: {out:?}");
        // The runtime retries ADD (or calls DEL first): one port, working.
        let r = cni_call("ADD", &conf, &env).ok();
        assert_eq!(net.rows().len(), 1, "{step}: {:?}", net.rows());
        assert_eq!(net.bridge.ports().len(), 1, "{step}");
        assert!(ns.exec(&format!("ip addr show eth0 | grep -q {}", address(&r))).success(), "{step}");
        assert_eq!(net.allocations().len(), 1, "{step}: {:?}", net.allocations());
        cni_call("DEL", &conf, &env).ok();
        net.assert_empty(&[&ns]);
    }
    // A DEL killed half-way: DEL again finishes it.
    cni_call("ADD", &conf, &env).ok();
    env.push(("OVS_DOCKER_CRASH_AT", "row-removed"));
    assert_eq!(cni_call("DEL", &conf, &env).code, None);
    env.pop();
    cni_call("DEL", &conf, &env).ok();
    net.assert_empty(&[&ns]);
}

#[test]
fn gc_removes_what_is_not_valid_and_ovs_docker_gc_what_lost_its_namespace() {
    testbed();
    let _gc = global_gc_guard();
    let net = CniNet::new();
    let (a, b) = (TestNetns::new(), TestNetns::new());
    let (pa, pb) = (a.path(), b.path());
    // host-local (1.1.1 in Debian 12) speaks up to 1.0.0; GC is 1.1.
    let conf = net.conf(json!({}));
    cni_call("ADD", &conf, &cni_env("ovsdtgca", &pa, "eth0")).ok();
    cni_call("ADD", &conf, &cni_env("ovsdtgcb", &pb, "eth0")).ok();
    // GC with only a valid: b's port goes (its addresses are the runtime's to give back).
    let mut gc = conf.clone();
    gc["cniVersion"] = json!("1.1.0");
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "ovsdtgca", "ifname": "eth0"}]);
    cni_call("GC", &gc, &[("CNI_PATH", CNI_PATH)]).ok();
    let rows = net.rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].id("cni_container_id"), Some("ovsdtgca"));
    assert!(!b.exec("ip link show eth0").success());
    // ovs-docker gc keeps a live CNI port, and removes it once its namespace is gone.
    ovs_docker(&["gc", &net.bridge.name]).ok();
    assert_eq!(net.rows().len(), 1);
    drop(a);
    ovs_docker(&["gc", &net.bridge.name]).ok();
    assert!(net.rows().is_empty(), "{:?}", net.rows());
    assert!(net.bridge.ports().is_empty());
    // The runtime's DELs still succeed.
    cni_call("DEL", &conf, &[("CNI_CONTAINERID", "ovsdtgca"), ("CNI_IFNAME", "eth0"), ("CNI_PATH", CNI_PATH)]).ok();
    cni_call("DEL", &conf, &cni_env("ovsdtgcb", &pb, "eth0")).ok();
    net.assert_empty(&[&b]);
}
