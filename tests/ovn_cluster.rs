//! The CLI's `--ovn-nb` on OVN's northbound database as production runs
//! it: a 3-member raft cluster behind TLS (tests/common/ovn_cluster.rs).
//! The client connects to the leader, follows it when it is killed, even
//! with transactions in flight (each completes or fails cleanly, nothing
//! is made twice or left half-made), and refuses a server whose
//! certificate another CA signed. Bad TLS options are refused before
//! anything is done.

mod common;

use std::collections::BTreeSet;

use common::multihost::*;
use common::ovn_cluster::{Db, OvnCluster, Pki};
use common::*;

/// Names of the logical switch ports on the cluster.
fn lsps(cluster: &OvnCluster) -> BTreeSet<String> {
    let out = cluster.nbctl(&["--bare", "--columns=name", "list", "Logical_Switch_Port"]);
    out.stdout.split_whitespace().map(str::to_string).collect()
}

/// `add-port br-int eth1 C --ipaddress=IP/24 --iface-id=LSP --ovn-nb=... --ovn-switch=sw --wait-ovn`
/// on `host`, with `tls` (the TLS options).
fn add_port(host: &Host, c: &TestContainer, ip: &str, lsp: &str, nb: &str, tls: &[String]) -> CmdOutput {
    add_port_on(&On::from(host), c, ip, lsp, nb, tls)
}

/// What runs a command on a host, to be sent to another thread.
struct On {
    ns: String,
    rundir: String,
}

impl From<&Host> for On {
    fn from(h: &Host) -> On {
        On { ns: h.ns.clone(), rundir: format!("OVS_RUNDIR={}", h.dir.display()) }
    }
}

fn add_port_on(on: &On, c: &TestContainer, ip: &str, lsp: &str, nb: &str, tls: &[String]) -> CmdOutput {
    let (ip, id, nb) = (format!("--ipaddress={ip}/24"), format!("--iface-id={lsp}"), format!("--ovn-nb={nb}"));
    let mut args = vec!["netns", "exec", &on.ns, "env", &on.rundir, bin(), "add-port", "br-int", "eth1"];
    args.extend([c.name.as_str(), &ip, &id, &nb, "--ovn-switch=sw", "--wait-ovn", "--timeout=20"]);
    args.extend(tls.iter().map(String::as_str));
    run("ip", &args)
}

#[test]
fn tls_options_are_checked_before_anything() {
    testbed();
    let c = TestContainer::new();
    let dir = TempDir(std::path::PathBuf::from(format!("/tmp/{PREFIX}-tls-{}", rand_hex(6))));
    let pki = Pki::new(&dir.0.join("pki"));
    let ends = || host_links().into_keys().filter(|n| is_host_end_name(n)).collect::<BTreeSet<_>>();
    let before = ends();
    let tls = pki.client_args();
    let add = |extra: &[&str]| {
        let mut args = vec!["add-port", "br-nope", "eth1", c.name.as_str(), "--iface-id=x"];
        args.extend_from_slice(extra);
        run(bin(), &args)
    };
    // Half the TLS options.
    add(&["--ovn-nb=ssl:127.0.0.1:1", "--ovn-switch=sw", &tls[0]]).usage_error();
    // ssl: without them, on --ovn-nb and on --db.
    add(&["--ovn-nb=tcp:127.0.0.1:1,ssl:127.0.0.1:2", "--ovn-switch=sw"])
        .fails(2, "add-port")
        .stderr_contains("ssl:127.0.0.1:2 needs --private-key, --certificate and --ca-cert");
    run(bin(), &["--db=ssl:127.0.0.1:1", "list"]).fails(2, "list").stderr_contains("needs --private-key");
    // Files that are missing or are not what they should be.
    let missing = format!("--ca-cert={}", dir.0.join("nope.pem").display());
    add(&["--ovn-nb=ssl:127.0.0.1:1", "--ovn-switch=sw", &tls[0], &tls[1], &missing])
        .fails(2, "add-port")
        .stderr_contains("nope.pem");
    let key_as_cert = format!("--certificate={}", pki.client_key.display());
    add(&["--ovn-nb=ssl:127.0.0.1:1", "--ovn-switch=sw", &tls[0], &key_as_cert, &tls[2]])
        .fails(2, "add-port")
        .stderr_contains("--certificate");
    let other_key = format!("--private-key={}", pki.server_key.display());
    add(&["--ovn-nb=ssl:127.0.0.1:1", "--ovn-switch=sw", &other_key, &tls[1], &tls[2]])
        .fails(2, "add-port")
        .stderr_contains("does not go with");
    add(&["--ovn-nb=ssl:127.0.0.1", "--ovn-switch=sw"]).usage_error();
    assert!(!c.link_names().contains("eth1"));
    assert_eq!(ends(), before, "a refused add-port left a veth");
}

/// Two hosts whose ovn-controllers and the binary reach both clusters over
/// ssl. A port made through the cluster carries traffic across hosts; the
/// NB leader killed between two add-ports, and again while six run at
/// once; a server signed by another CA refused; del-port cleans up.
#[test]
fn cli_on_a_tls_cluster_follows_the_leader() {
    let bed = Testbed::new();
    let mut cluster = OvnCluster::new(&bed);
    let h1 = bed.host(1);
    let h2 = bed.host(2);
    for h in [&h1, &h2] {
        h.start_ovn_controller(&cluster);
    }
    for (h, o) in [(&h1, &h2), (&h2, &h1)] {
        let geneve = poll(30, || h.interfaces_of_type("geneve").len() == 1);
        assert!(geneve.is_ok(), "host {}: no geneve tunnel\n{}\n{}", h.n, h.logs(), cluster.logs());
        h.prime_tunnels(&[o]);
    }
    cluster.nbctl(&["ls-add", "sw"]);
    let nb = cluster.nb();
    let tls = cluster.pki.client_args();

    // Through the cluster, across hosts.
    let a = TestContainer::new();
    let b = TestContainer::new();
    add_port(&h1, &a, "10.40.0.1", "a", &nb, &tls).ok();
    add_port(&h2, &b, "10.40.0.2", "b", &nb, &tls).ok();
    assert_ping(&a, "10.40.0.2");

    // The leader killed between two commands: the next finds the new one.
    let leader = cluster.leader(Db::Nb);
    cluster.kill(Db::Nb, leader);
    let c = TestContainer::new();
    add_port(&h1, &c, "10.40.0.3", "c", &nb, &tls).ok();
    assert_ping(&c, "10.40.0.2");
    cluster.restart(Db::Nb, leader);

    // ... and while six add-ports are under way.
    let many: Vec<TestContainer> = (0..6).map(|_| TestContainer::new()).collect();
    let leader = cluster.leader(Db::Nb);
    let on = [On::from(&h1), On::from(&h2)];
    let outcomes: Vec<(String, CmdOutput)> = std::thread::scope(|s| {
        let runs: Vec<_> = many
            .iter()
            .enumerate()
            .map(|(i, ct)| {
                let (on, nb, tls) = (&on[i % 2], &nb, &tls);
                s.spawn(move || {
                    let lsp = format!("m{i}");
                    let out = add_port_on(on, ct, &format!("10.40.0.{}", 10 + i), &lsp, nb, tls);
                    (lsp, out)
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(150));
        cluster.kill(Db::Nb, leader);
        runs.into_iter().map(|r| r.join().expect("add-port thread")).collect()
    });
    let codes: Vec<Option<i32>> = outcomes.iter().map(|(_, o)| o.code).collect();
    eprintln!("add-ports across the leader's death exited with {codes:?}");
    let mut made = BTreeSet::from(["a".to_string(), "b".to_string(), "c".to_string()]);
    for (lsp, out) in &outcomes {
        if out.code == Some(0) {
            made.insert(lsp.clone());
        } else {
            // A clean failure: one line, from add-port, saying why.
            out.fails(3, "add-port");
        }
    }
    assert!(made.len() >= 3 + 3, "most add-ports must ride over the election: {outcomes:#?}");
    assert_eq!(lsps(&cluster), made, "the NB must hold one logical port per port made, and nothing else");
    let ports = h1.container_port_names().len() + h2.container_port_names().len();
    assert_eq!(ports, made.len(), "one OVS port per logical port");
    assert_eq!(h1.host_end_links().len() + h2.host_end_links().len(), made.len(), "a failed add-port left a veth");
    cluster.restart(Db::Nb, leader);

    // A server whose certificate another CA signed: refused, nothing made.
    let rogue = Pki::new(&bed.dir.join("rogue"));
    let mut rogue_tls = tls.clone();
    rogue_tls[2] = format!("--ca-cert={}", rogue.ca_cert.display());
    let d = TestContainer::new();
    let out = add_port(&h1, &d, "10.40.0.30", "d", &nb, &rogue_tls);
    out.fails(3, "add-port").stderr_contains("certificate");
    // And our certificate signed by another CA: the server refuses us.
    let mut stranger = rogue.client_args();
    stranger[2] = tls[2].clone();
    add_port(&h1, &d, "10.40.0.30", "d", &nb, &stranger).fails(3, "add-port");
    assert_eq!(lsps(&cluster), made);
    assert!(!d.link_names().contains("eth1"));

    // del-port deletes the logical ports, through the cluster.
    for ct in [&a, &c].into_iter().chain(many.iter().step_by(2)) {
        h1.ovs_docker(&[&["del-ports", "br-int", ct.name.as_str()][..], &strs(&tls)].concat()).ok();
    }
    for ct in [&b].into_iter().chain(many.iter().skip(1).step_by(2)) {
        h2.ovs_docker(&[&["del-ports", "br-int", ct.name.as_str()][..], &strs(&tls)].concat()).ok();
    }
    assert_eq!(lsps(&cluster), BTreeSet::new());
    assert!(h1.container_port_names().is_empty() && h2.container_port_names().is_empty());
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A folder removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
