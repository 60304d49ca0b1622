//! The network plugin on a stock Docker host: the test bed's second dockerd
//! runs with Docker's default firewall (iptables, nf_tables backend), and
//! each test sets `filter FORWARD`'s policy to DROP, as a stock dockerd
//! started at boot (ip_forward 0) does, and gives it back (ACCEPT) when done.
//! The "outside" namespace, reached only through the host, stands for
//! another machine.

mod common;

use std::sync::{Mutex, MutexGuard};

use common::plugin::*;
use common::*;

const STOCK_HOST: &str = "unix:///run/ovsdt-stock/docker.sock";
const POLICY_MARK: &str = "/run/ovs-docker-testbed/forward-policy-dropped";
/// The FORWARD policy is the host's: one test at a time changes it.
static POLICY: Mutex<()> = Mutex::new(());

/// The stock dockerd, with FORWARD's policy DROP until dropped.
struct StockHost {
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl StockHost {
    fn new() -> StockHost {
        testbed();
        let guard = POLICY.lock().unwrap_or_else(|e| e.into_inner());
        // Every `docker` of this test (and the plugin's Docker client) speaks
        // to the stock dockerd.
        std::env::set_var("DOCKER_HOST", STOCK_HOST);
        let v = run("docker", &["version", "--format", "{{.Server.Version}}"]);
        assert!(v.success(), "no stock dockerd on {STOCK_HOST} (scripts/testbed.sh up starts it):\n{v}");
        let chains = run("iptables", &["-S", "FORWARD"]).ok().stdout.clone();
        assert!(chains.contains("-j DOCKER-USER"), "the stock dockerd made no firewall:\n{chains}");
        // testbed.sh clean gives the policy back after a killed run.
        std::fs::write(POLICY_MARK, "").expect("mark the policy change");
        run("iptables", &["-P", "FORWARD", "DROP"]).ok();
        StockHost { _one_at_a_time: guard }
    }
}

impl Drop for StockHost {
    fn drop(&mut self) {
        let _ = run("iptables", &["-P", "FORWARD", "ACCEPT"]);
        let _ = std::fs::remove_file(POLICY_MARK);
    }
}

/// Our rules in iptables' table (`ip filter`) that name `network_id`.
fn forward_rules_of(network_id: &str) -> Vec<String> {
    let out = run("nft", &["-a", "list", "table", "ip", "filter"]);
    out.stdout
        .lines()
        .filter(|l| l.contains(&format!("ovs-docker:{network_id}")))
        .map(|l| l.trim().to_string())
        .collect()
}

fn delete_forward_rules_of(network_id: &str) {
    for line in forward_rules_of(network_id) {
        let handle = line.rsplit("# handle ").next().unwrap_or_default().to_string();
        run("nft", &["delete", "rule", "ip", "filter", "FORWARD", "handle", &handle]).ok();
    }
}

/// As [`remove_all_and_check`], and no FORWARD rule of the network stays.
#[track_caller]
fn remove_all_and_check_firewall(net: &TestNetwork, containers: Vec<TestContainer>, gateway: Option<&str>) {
    remove_all_and_check(net, containers, gateway);
    assert_eq!(forward_rules_of(&net.id), Vec::<String>::new(), "FORWARD rules of {} are left", net.name);
}

#[test]
fn nat_network_reaches_the_outside_through_dockers_firewall_and_heals_its_rules() {
    let _host = StockHost::new();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let c = net.container(&[]);
    outside.count_pings_from(&outside.host_addr(), &format!("{}/24", s.v4(0)));
    assert_ping(&c, &outside.addr());
    assert!(outside.counted("from-host") >= 1);
    // Two accept rules at the head of FORWARD, limited to the bridge and subnet.
    let rules = forward_rules_of(&net.id);
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(rules.iter().all(|r| r.contains(&net.bridge) && r.contains(&format!("{}/24", s.v4(0)))), "{rules:?}");
    // Before Docker's own rules (after the users' DOCKER-USER, if first).
    let listed = run("iptables", &["-S", "FORWARD"]).ok().stdout.clone();
    let at = |what: &str| listed.lines().position(|l| l.contains(what));
    let ours = at(&net.bridge).unwrap_or_else(|| panic!("no rule of ours in FORWARD:\n{listed}"));
    assert!(Some(ours) < at("DOCKER-ISOLATION"), "our rules come after Docker's:\n{listed}");

    // Taken away (as a firewall reload would): back within a few seconds,
    // with no new endpoint.
    // (No check that the ping fails meanwhile: the plugin's check every
    // 5 s may already have put them back.)
    delete_forward_rules_of(&net.id);
    wait_until("the FORWARD rules are back", 15, || forward_rules_of(&net.id).len() == 2);
    assert_ping(&c, &outside.addr());

    // A dockerd restart keeps them (or they come back).
    run("bash", &["scripts/testbed.sh", "restart-stock-dockerd"]).ok();
    wait_until("the FORWARD rules are there after a dockerd restart", 15, || forward_rules_of(&net.id).len() == 2);
    let c2 = net.container(&[]);
    assert_ping(&c2, &outside.addr());

    // `nft flush ruleset` takes everything away, Docker's chains and our
    // tables (the masquerade too); the user restarts dockerd to get Docker's
    // firewall back, whose FORWARD policy is DROP again. Our rules come back
    // by themselves, and the outside, which has no route to the subnet, is
    // reached again: masqueraded.
    run("nft", &["flush", "ruleset"]).ok();
    run("bash", &["scripts/testbed.sh", "restart-stock-dockerd"]).ok();
    run("iptables", &["-P", "FORWARD", "DROP"]).ok();
    wait_until("the FORWARD and NAT rules are back after a flush", 20, || {
        forward_rules_of(&net.id).len() == 2 && !nft_rules_of(&net.id).is_empty()
    });
    // (The restart stopped the containers, as it does without a restart policy.)
    let c3 = net.container(&[]);
    assert_ping(&c3, &outside.addr());
    remove_all_and_check_firewall(&net, vec![c, c2, c3], Some(&s.v4p(1)));
}

#[test]
fn rules_of_networks_gone_while_the_plugin_was_dead_are_removed_at_start() {
    let _host = StockHost::new();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    assert_eq!(forward_rules_of(&net.id).len(), 2);
    assert_eq!(nft_rules_of(&net.id).len(), 4);
    // The plugin dies and the network's bridge goes without it.
    plugin.kill9();
    vsctl(&["del-br", &net.bridge]).ok();
    plugin.restart();
    wait_until("the rules of the gone network are removed", 10, || {
        forward_rules_of(&net.id).is_empty() && nft_rules_of(&net.id).is_empty()
    });
    net.remove();
    assert_network_gone(&net, &[], Some(&s.v4p(1)));
}

#[test]
fn internal_and_icc_false_networks_on_the_stock_host() {
    let _host = StockHost::new();
    let plugin = Plugin::start();
    let outside = Outside::new();
    let s = Subnet::new();
    let internal = TestNetwork::create(&plugin, &["--internal", "--subnet", &format!("{}/24", s.v4(0))]);
    let (a, b) = (internal.container(&[]), internal.container(&[]));
    assert_ping(&a, &internal.address_of(&b, false));
    assert_no_ping(&a, &outside.addr());
    assert!(forward_rules_of(&internal.id).is_empty(), "an internal network was let through FORWARD");
    remove_all_and_check(&internal, vec![a, b], Some(&s.v4p(1)));

    let s = Subnet::new();
    let isolated = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "icc=false"]);
    let (a, b) = (isolated.container(&[]), isolated.container(&[]));
    assert_no_ping(&a, &isolated.address_of(&b, false));
    assert_ping(&a, &s.v4(1));
    assert_ping(&a, &outside.addr());
    remove_all_and_check(&isolated, vec![a, b], Some(&s.v4p(1)));
}

/// What `nc` reads from ADDR:PORT (the serving container's hostname).
fn fetch(via: &[&str], addr: &str, port: u16) -> String {
    let mut cmd: Vec<String> = via.iter().map(|s| s.to_string()).collect();
    cmd.extend(["busybox", "nc", "-w", "3", addr].map(String::from));
    cmd.push(port.to_string());
    let out = run(&cmd[0], &cmd[1..]);
    out.stdout.trim().to_string()
}

/// Serve the container's hostname on TCP `port`, for ever.
fn serve(c: &TestContainer, port: u16) {
    run("docker", &["exec", "-d", &c.name, "nc", "-ll", "-p", &port.to_string(), "-e", "/bin/hostname"]).ok();
}

#[test]
fn published_ports_reach_the_container_from_outside_the_host_and_its_network() {
    let _host = StockHost::new();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let host_ip = outside.host_addr();
    let base = 20000 + (std::process::id() % 20000) as u16;
    let (h1, h2, r) = (base, base + 1, base + 2);
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let p1 = format!("{h1}:80");
    let p2 = format!("{host_ip}:{h2}:81/tcp");
    let range = format!("{r}-{}:{r}-{}", r + 1, r + 1);
    let web = net.container(&["--hostname", "web", "-p", &p1, "-p", &p2, "-p", &range]);
    for port in [80, 81, r, r + 1] {
        serve(&web, port);
    }
    // The listeners start in the background (`docker exec -d`): each first
    // answer is waited for.
    let ns = ["ip", "netns", "exec", outside.ns.as_str()];
    // From another machine, through the host's address.
    for port in [h1, h2, r + 1] {
        let what = format!("the outside fetches \"web\" from host port {port}");
        wait_until(&what, 15, || fetch(&ns, &host_ip, port) == "web");
    }
    // From the host itself, through its own address.
    wait_until(&format!("the host fetches \"web\" from its port {h1}"), 15, || fetch(&[], &host_ip, h1) == "web");
    // From a container of the same network, through the host's address (hairpin).
    let client = net.container(&[]);
    // (Retried: one run in a few saw the first attempt time out.)
    let mut hairpin = exec(&client, &format!("nc -w 3 {host_ip} {h1}"));
    for _ in 0..2 {
        if hairpin.stdout.trim() == "web" {
            break;
        }
        hairpin = exec(&client, &format!("nc -w 3 {host_ip} {h1}"));
    }
    if hairpin.stdout.trim() != "web" {
        let diag = run(
            "sh",
            &["-c", "conntrack -L 2>&1 | grep -v 'dport=22 '; nft list table ip ovs-docker; iptables -S FORWARD"],
        );
        panic!("hairpin:\n{hairpin}\n{diag}\n{}", exec(&client, "ip route; ip addr"));
    }

    // A host port taken is refused, and nothing of the refused container stays.
    let rows = net.port_rows().len();
    let name = format!("{PREFIX}-{}", rand_hex(10));
    let out = run("docker", &["run", "-d", "--name", &name, "--network", &net.name, "-p", &p1, IMAGE, "sleep", "60"]);
    assert!(!out.success() && out.stderr.contains(&format!("host port {h1}/tcp is already published")), "{out}");
    let _ = run("docker", &["rm", "-f", &name]);
    wait_until("the refused endpoint is gone", 10, || net.port_rows().len() == rows);
    // No host port: refused, saying how to do it.
    let out = run("docker", &["run", "-d", "--name", &name, "--network", &net.name, "-p", "80", IMAGE, "sleep", "60"]);
    assert!(!out.success() && out.stderr.contains("a host port must be given"), "{out}");
    let _ = run("docker", &["rm", "-f", &name]);

    // disconnect, then rm: the rules go with the container.
    let web_rules = |eid_of: &str| nft_rules_of(&net.id).iter().filter(|r| r.contains(eid_of)).count();
    let eid: String = net
        .port_rows()
        .iter()
        .find_map(|r| {
            let id = r.id("docker_endpoint_id")?.to_string();
            (web_rules(&id) > 0).then_some(id)
        })
        .expect("the published container's rules");
    assert_eq!(web_rules(&eid), 4 * 4, "four rules per published port");
    run("docker", &["network", "disconnect", &net.name, &web.name]).ok();
    assert_eq!(web_rules(&eid), 0, "published ports outlive a disconnect");
    assert_eq!(fetch(&ns, &host_ip, h1), "");
    remove_all_and_check_firewall(&net, vec![web, client], Some(&s.v4p(1)));
}

/// A published container removed while the plugin is dead: once the plugin
/// is back, no rule of it stays, and its host port is free again.
#[test]
fn published_ports_of_a_container_removed_while_the_plugin_was_dead_leave_no_rule() {
    let _host = StockHost::new();
    let mut plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let host_ip = outside.host_addr();
    let port = 40000 + (std::process::id() % 20000) as u16;
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let published = format!("{port}:80");
    let web = net.container(&["--hostname", "web", "-p", &published]);
    serve(&web, 80);
    let ns = ["ip", "netns", "exec", outside.ns.as_str()];
    wait_until("the outside fetches \"web\" from the published port", 15, || fetch(&ns, &host_ip, port) == "web");
    let rules_before = nft_rules_of(&net.id).len();
    let base_rules = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", Subnet::new().v4(0))]);
    let base = nft_rules_of(&base_rules.id).len();
    base_rules.remove();
    assert!(rules_before > base, "no published-port rules to begin with: {rules_before}");

    // The plugin dies; the container is removed meanwhile (Docker cannot
    // reach the plugin and keeps trying); the plugin comes back.
    plugin.kill9();
    let rm = std::process::Command::new("docker")
        .args(["rm", "-f", web.name.as_str()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start docker rm");
    std::thread::sleep(std::time::Duration::from_secs(2));
    plugin.restart();
    wait_until("the removed container's published-port rules are gone", 90, || nft_rules_of(&net.id).len() == base);
    let mut rm = rm;
    let _ = rm.wait();
    assert_eq!(fetch(&ns, &host_ip, port), "", "the port still answers");
    // The host port is free again: another container may publish it.
    let again = net.container(&["--hostname", "again", "-p", &published]);
    serve(&again, 80);
    wait_until("the outside fetches \"again\" from the port published anew", 15, || {
        fetch(&ns, &host_ip, port) == "again"
    });
    remove_all_and_check_firewall(&net, vec![again], Some(&s.v4p(1)));
    drop(web);
}

/// A routed network through Docker's firewall: the FORWARD accepts in both
/// directions, no masquerade; the outside, which routes the subnet to this
/// host, opens a TCP connection to the container's own address and sees
/// the container's address as the source of its pings.
#[test]
fn routed_network_passes_dockers_firewall_both_ways_without_nat() {
    let _host = StockHost::new();
    let plugin = Plugin::start();
    let r = Routed::new(&plugin);
    let (net, c, outside) = (&r.net, &r.c, &r.outside);
    let rules = forward_rules_of(&net.id);
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_eq!(nft_rules_of(&net.id), Vec::<String>::new(), "a routed network has no NAT or isolation rule");
    r.route_back();
    outside.count_pings_from(&outside.host_addr(), &r.subnet);
    assert_ping(c, &outside.addr());
    assert!(outside.counted("from-subnet") >= 1, "the outside saw nothing from the subnet");
    assert_eq!(outside.counted("from-host"), 0, "a routed network's traffic was masqueraded");
    serve(c, 8080);
    let ns = ["ip", "netns", "exec", outside.ns.as_str()];
    let hostname = run("docker", &["exec", &c.name, "hostname"]).ok().stdout.trim().to_string();
    wait_until("the outside connects to the container's own address", 10, || fetch(&ns, &r.addr, 8080) == hostname);
    // Taken away: back with the next check, and the way in works again.
    delete_forward_rules_of(&net.id);
    wait_until("the FORWARD rules are back", 15, || forward_rules_of(&net.id).len() == 2);
    assert_eq!(fetch(&ns, &r.addr, 8080), hostname);
    let Routed { s, net, c, .. } = r;
    remove_all_and_check_firewall(&net, vec![c], Some(&s.v4p(1)));
}

/// Answer `text` to every connection to `addr`:`port`, for ever.
fn answer_on(addr: &str, port: u16, text: &'static str) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind((addr, port)).unwrap_or_else(|e| panic!("listen on {addr}:{port}: {e}"));
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let _ = c.write_all(text.as_bytes());
        }
    });
}

/// As with Docker's bridge, the host reaches its published ports through
/// 127.0.0.1 (`curl localhost:H`), also those published on 127.0.0.1 only,
/// which other machines cannot reach. The kernel routes loopback addresses
/// to the bridge only with its route_localnet on: that must not let the
/// network's containers reach the host's loopback-only services.
#[test]
fn published_ports_answer_on_the_hosts_loopback_which_containers_cannot_reach() {
    let _host = StockHost::new();
    let plugin = Plugin::start();
    let s = Subnet::new();
    let outside = Outside::new();
    let host_ip = outside.host_addr();
    let base = 20000 + (std::process::id() % 20000) as u16;
    let (h1, h2, private) = (base + 10, base + 11, base + 12);
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0))]);
    let (p1, p2) = (format!("{h1}:80"), format!("127.0.0.1:{h2}:81"));
    let web = net.container(&["--hostname", "web", "-p", &p1, "-p", &p2]);
    serve(&web, 80);
    serve(&web, 81);
    for port in [h1, h2] {
        wait_until(&format!("the host fetches \"web\" from 127.0.0.1:{port}"), 15, || {
            fetch(&[], "127.0.0.1", port) == "web"
        });
    }
    let ns = ["ip", "netns", "exec", outside.ns.as_str()];
    wait_until(&format!("the outside fetches \"web\" from host port {h1}"), 15, || fetch(&ns, &host_ip, h1) == "web");
    assert_eq!(fetch(&ns, &host_ip, h2), "", "a port published on 127.0.0.1 answers another machine");

    // A container that routes 127.0.0.2 to its gateway (a hostile one can)
    // reaches the host through the gateway address, not its loopback.
    let gw = s.v4(1);
    answer_on("127.0.0.2", private, "private\n");
    answer_on(&gw, private, "gateway\n");
    let c = net.container(&[]);
    let pid = c.pid().expect("the container runs");
    let netns = format!("--net=/proc/{pid}/ns/net");
    let inside = ["nsenter", netns.as_str()];
    for cmd in [
        &["sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1"][..],
        &["ip", "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local"],
        &["ip", "route", "add", "127.0.0.2/32", "via", gw.as_str(), "dev", "eth0"],
    ] {
        run("nsenter", &[&[netns.as_str()], cmd].concat()).ok();
    }
    wait_until("the container reaches the host at its gateway address", 15, || {
        fetch(&inside, &gw, private) == "gateway"
    });
    assert_eq!(fetch(&inside, "127.0.0.2", private), "", "a container reached the host's loopback");
    remove_all_and_check_firewall(&net, vec![web, c], Some(&s.v4p(1)));
}
