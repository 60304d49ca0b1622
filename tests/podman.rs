//! A real CNI runtime: Podman (as Debian 12 ships it, CNI network backend,
//! set up by scripts/podman-setup.sh) runs containers on networks whose
//! conflist uses the binary under test as its plugin, installed for the
//! test as /usr/lib/cni/ovsdt-ovs-*. Addresses come from host-local.

mod common;

use serde_json::json;

use common::*;

const PODMAN_IMAGE: &str = "localhost/busybox:local";

/// The binary under test as a CNI plugin, and conflists of networks on one
/// bridge that use it; all removed on drop, with the containers run here.
struct Podman {
    plugin: String,
    bridge: TestBridge,
    subnet: Subnet,
    networks: Vec<String>,
    containers: std::cell::RefCell<Vec<String>>,
}

impl Podman {
    fn new() -> Podman {
        testbed();
        let version = run("podman", &["info", "--format", "{{.Host.NetworkBackend}}"]);
        assert_eq!(version.ok().stdout.trim(), "cni", "podman does not use CNI: run scripts/testbed.sh up");
        let plugin = format!("{PREFIX}-ovs-{}", rand_hex(6));
        std::os::unix::fs::symlink(bin(), format!("{}/{plugin}", common::cni::CNI_PATH))
            .unwrap_or_else(|e| panic!("install the plugin {plugin}: {e}"));
        Podman {
            plugin,
            bridge: TestBridge::new(),
            subnet: Subnet::new(),
            networks: vec![],
            containers: Default::default(),
        }
    }

    /// A network on VLAN `vlan`, its addresses from `first` to `last` of the subnet.
    fn network(&mut self, vlan: u16, first: u8, last: u8) -> String {
        let name = format!("{PREFIX}-{}", rand_hex(8));
        let conflist = json!({
            "cniVersion": "1.0.0",
            "name": name,
            "plugins": [{
                "type": self.plugin,
                "bridge": self.bridge.name,
                "vlan": vlan,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{
                        "subnet": format!("10.{}.{}.0/24", 200 + self.subnet.x, self.subnet.y),
                        "rangeStart": self.subnet.v4(first),
                        "rangeEnd": self.subnet.v4(last),
                    }]],
                },
            }],
        });
        std::fs::write(format!("/etc/cni/net.d/{name}.conflist"), conflist.to_string())
            .unwrap_or_else(|e| panic!("write the conflist of {name}: {e}"));
        self.networks.push(name.clone());
        name
    }

    fn run_on(&self, network: &str, env: &[(&str, &str)]) -> (String, CmdOutput) {
        let name = format!("{PREFIX}-{}", rand_hex(8));
        self.containers.borrow_mut().push(name.clone());
        let args =
            ["run", "-d", "--name", &name, "--cap-add=NET_RAW", "--network", network, PODMAN_IMAGE, "sleep", "600"];
        let out = try_run_env(env, "podman", &args, std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("podman: {e}"));
        (name, out)
    }

    fn ip(&self, container: &str, iface: &str) -> String {
        let out = run("podman", &["exec", container, "ip", "-o", "-4", "addr", "show", iface]);
        let line = out.ok().stdout.clone();
        let cidr = line.split_whitespace().skip_while(|w| *w != "inet").nth(1).unwrap_or_else(|| panic!("{line}"));
        cidr.split('/').next().unwrap_or_default().to_string()
    }

    fn pings(&self, container: &str, ip: &str) -> bool {
        (0..3).any(|_| run("podman", &["exec", container, "ping", "-c", "1", "-W", "2", ip]).success())
    }

    /// Rows of our networks' ports.
    fn rows(&self) -> Vec<IfaceRow> {
        interface_rows()
            .into_iter()
            .filter(|r| r.id("cni_network").is_some_and(|n| self.networks.iter().any(|m| m == n)))
            .collect()
    }

    fn allocations(&self) -> usize {
        self.networks
            .iter()
            .filter_map(|n| std::fs::read_dir(format!("/var/lib/cni/networks/{n}")).ok())
            .flat_map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()))
            .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
            .count()
    }

    #[track_caller]
    fn assert_nothing_left(&self) {
        assert!(self.rows().is_empty(), "rows left: {:?}", self.rows());
        assert!(self.bridge.ports().is_empty(), "ports left: {:?}", self.bridge.ports());
        assert_eq!(self.allocations(), 0, "host-local still holds addresses");
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let names = self.containers.borrow().clone();
        if !names.is_empty() {
            let mut args = vec!["rm", "-f", "-t", "0"];
            args.extend(names.iter().map(String::as_str));
            let _ = try_run("podman", &args, std::time::Duration::from_secs(60));
        }
        for n in &self.networks {
            let _ = std::fs::remove_file(format!("/etc/cni/net.d/{n}.conflist"));
            let _ = std::fs::remove_dir_all(format!("/var/lib/cni/networks/{n}"));
        }
        let _ = std::fs::remove_file(format!("{}/{}", common::cni::CNI_PATH, self.plugin));
    }
}

#[test]
fn podman_containers_ping_over_ovs_with_vlan_isolation_then_reunion() {
    let mut p = Podman::new();
    let ten = p.network(10, 10, 99);
    let twenty = p.network(20, 100, 199);
    let (a, out) = p.run_on(&ten, &[]);
    out.ok();
    let (b, out) = p.run_on(&ten, &[]);
    out.ok();
    let (c, out) = p.run_on(&twenty, &[]);
    out.ok();
    let (ip_a, ip_b) = (p.ip(&a, "eth0"), p.ip(&b, "eth0"));
    assert!(p.pings(&a, &ip_b), "a -> b on VLAN 10");
    assert!(p.pings(&b, &ip_a), "b -> a on VLAN 10");
    assert!(!run("podman", &["exec", &c, "ping", "-c", "2", "-W", "1", &ip_a]).success(), "VLAN 20 reached VLAN 10");
    // The ports are ovs-docker ports: list shows them, with the CNI container IDs.
    let rows = p.rows();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let id_a = run("podman", &["inspect", "-f", "{{.Id}}", &a]).ok().stdout.trim().to_string();
    assert!(rows.iter().any(|r| r.id("cni_container_id") == Some(id_a.as_str()) && r.tag == Some(10)), "{rows:?}");
    let listed = list_json(&[&p.bridge.name]);
    assert!(listed.len() == 3 && listed.iter().all(|r| r["state"] == "ok"), "{listed:#?}");

    // Reunion: c leaves VLAN 20 and joins VLAN 10 while running (CNI DEL
    // and ADD on a live container).
    run("podman", &["network", "disconnect", &twenty, &c]).ok();
    assert_eq!(p.rows().len(), 2);
    run("podman", &["network", "connect", &ten, &c]).ok();
    assert_eq!(p.rows().len(), 3);
    assert!(p.pings(&c, &ip_a), "c -> a once on VLAN 10");
    assert!(p.pings(&a, &ip_b), "a -> b still");

    // podman rm leaves no port, no row, no address held.
    run("podman", &["rm", "-f", "-t", "0", &a, &b, &c]).ok();
    p.assert_nothing_left();
}

#[test]
fn a_podman_run_killed_inside_the_plugin_heals() {
    let mut p = Podman::new();
    let net = p.network(0, 10, 99);
    for step in ["veth-created", "links-configured", "row-committed"] {
        let crash = [("OVS_DOCKER_CRASH_AT", step)];
        require_fault_injection(&crash);
        let (name, out) = p.run_on(&net, &crash);
        assert!(!out.success(), "{step}: {out}");
        assert!(out.stderr.contains("killed"), "{step}: {out}");
        // Podman gave up (and ran DEL): nothing of the attachment is left.
        p.assert_nothing_left();
        // Started again, it gets exactly one working port.
        run("podman", &["start", &name]).ok();
        assert_eq!(p.rows().len(), 1, "{step}: {:?}", p.rows());
        assert_eq!(p.bridge.ports().len(), 1, "{step}");
        let ip = p.ip(&name, "eth0");
        assert!(run("podman", &["exec", &name, "ping", "-c", "1", "-W", "2", &ip]).success(), "{step}");
        run("podman", &["rm", "-f", "-t", "0", &name]).ok();
        p.assert_nothing_left();
    }
    // A container whose runtime lost track (killed with its cleanup) leaves a
    // port whose namespace goes away: the next ADD on the host removes it.
    let (a, out) = p.run_on(&net, &[]);
    out.ok();
    let netns = p.rows()[0].id("container_id").unwrap_or_default().trim_start_matches("netns:").to_string();
    let (b, out) = p.run_on(&net, &[]);
    out.ok();
    run("umount", &[netns.as_str()]).ok();
    std::fs::remove_file(&netns).unwrap_or_else(|e| panic!("remove {netns}: {e}"));
    let (c, out) = p.run_on(&net, &[]);
    out.ok();
    let ids: Vec<String> = p.rows().iter().filter_map(|r| r.id("container_id").map(str::to_string)).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.iter().any(|i| i.ends_with(&netns)), "{ids:?}");
    run("podman", &["rm", "-f", "-t", "0", &a, &b, &c]).ok();
    // (host-local may keep a's address: podman skips DEL for a namespace it cannot find.)
    assert!(p.rows().is_empty(), "rows left: {:?}", p.rows());
    assert!(p.bridge.ports().is_empty(), "ports left: {:?}", p.bridge.ports());
}
