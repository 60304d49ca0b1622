//! Daemon failures: an OVSDB server that never answers, an ovs-vswitchd that
//! never confirms a change, Docker out of reach. Exit 3, within --timeout,
//! and whatever was done undone.
//!
//! The misbehaving daemons are stand-ins on private unix sockets; the real
//! ovsdb-server is only reached through a proxy that withholds monitor
//! updates, so the real ovs-vswitchd's confirmation never arrives.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::*;

const REAL_DB: &str = "/var/run/openvswitch/db.sock";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accept connections, read what comes, never answer.
    Silent,
    /// Forward everything to the real ovsdb-server, except the `update` and `update2`
    /// notifications of monitors (so `cur_cfg` never seems to move).
    DropUpdates,
}

/// A unix socket standing in for a daemon; removed on drop.
struct FakeDaemon {
    pub spec: String,
    path: String,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeDaemon {
    fn start(mode: Mode) -> FakeDaemon {
        std::fs::create_dir_all("/run/ovs-docker-tests").unwrap();
        let path = format!("/run/ovs-docker-tests/fake-{}.sock", rand_hex(8));
        let listener = UnixListener::bind(&path).unwrap_or_else(|e| panic!("bind {path}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let accept = std::thread::spawn(move || {
            let held: Mutex<Vec<UnixStream>> = Mutex::new(Vec::new());
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        match mode {
                            Mode::Silent => {
                                // Swallow the requests, keep the connection open.
                                let mut reader = conn.try_clone().unwrap();
                                std::thread::spawn(move || {
                                    let mut buf = [0u8; 4096];
                                    while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
                                });
                                held.lock().unwrap().push(conn);
                            }
                            Mode::DropUpdates => proxy(conn),
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            for c in held.lock().unwrap().iter() {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        });
        FakeDaemon { spec: format!("unix:{path}"), path, stop, accept: Some(accept) }
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Forward one client connection to the real ovsdb-server, dropping the
/// server's `update` notifications.
fn proxy(client: UnixStream) {
    let server = UnixStream::connect(REAL_DB).unwrap_or_else(|e| panic!("connect {REAL_DB}: {e}"));
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(std::net::Shutdown::Write);
    });
    let mut c_write = client;
    std::thread::spawn(move || {
        // JSON-RPC messages are back-to-back JSON texts.
        for msg in serde_json::Deserializer::from_reader(server).into_iter::<Value>() {
            let Ok(msg) = msg else { break };
            if msg["method"] == "update" || msg["method"] == "update2" {
                continue;
            }
            if c_write.write_all(&serde_json::to_vec(&msg).unwrap()).is_err() {
                break;
            }
        }
        let _ = c_write.shutdown(std::net::Shutdown::Both);
    });
}

/// Timed run of the binary.
fn timed<S: AsRef<str>>(args: &[S]) -> (CmdOutput, Duration) {
    let t = Instant::now();
    let out = ovs_docker(args);
    (out, t.elapsed())
}

/// An ovsdb-server that accepts but never answers: every command gives up
/// after --timeout with exit 3, and add-port has created nothing.
#[test]
fn ovsdb_not_answering_times_out() {
    testbed();
    let fake = FakeDaemon::start(Mode::Silent);
    let br = TestBridge::new();
    let c = TestContainer::new();
    let iface = unique_iface();
    let db = format!("--db={}", fake.spec);
    let before = leak_snapshot_watching(&[&c], &[&br], &[&iface]);
    for (cmd, args) in [
        ("add-port", vec!["add-port", br.name.as_str(), iface.as_str(), c.name.as_str(), "--ipaddress=192.0.2.7/24"]),
        ("del-port", vec!["del-port", br.name.as_str(), iface.as_str(), c.name.as_str()]),
        ("del-ports", vec!["del-ports", br.name.as_str(), c.name.as_str()]),
        ("set-vlan", vec!["set-vlan", br.name.as_str(), iface.as_str(), c.name.as_str(), "5"]),
        ("list", vec!["list"]),
    ] {
        let mut all = vec![db.as_str(), "--timeout=3"];
        all.extend(args);
        let (out, took) = timed(&all);
        out.fails(3, cmd);
        assert!(took < Duration::from_secs(11), "{cmd} took {took:?} despite --timeout=3:\n{out}");
        assert_unchanged(&before, &leak_snapshot_watching(&[&c], &[&br], &[&iface]), cmd);
    }
}

/// ovs-vswitchd never confirms the change (its confirmation is withheld):
/// add-port gives up after --timeout with exit 3, and undoes the row, the
/// veth and the container's interface.
#[test]
fn add_port_undoes_everything_when_vswitchd_does_not_confirm() {
    testbed();
    let proxy = FakeDaemon::start(Mode::DropUpdates);
    let br = TestBridge::new();
    let c = TestContainer::new();
    let db = format!("--db={}", proxy.spec);
    // The proxy itself works: reads go through.
    ovs_docker(&[db.as_str(), "list", br.name.as_str()]).ok();
    let before = leak_snapshot(&[&c], &[&br]);

    let (out, took) = timed(&[
        db.as_str(),
        "--timeout=2",
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        "--ipaddress=192.0.2.7/24",
        "--gateway=192.0.2.1",
        "--mtu=1400",
    ]);
    out.fails(3, "add-port").stderr_contains("ovs-vswitchd");
    assert!(took < Duration::from_secs(8), "took {took:?} despite --timeout=2:\n{out}");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "add-port after ovs-vswitchd timed out");
    assert!(br.ports().is_empty(), "port left on the bridge: {:?}", br.ports());
    let routes = exec(&c, "ip route");
    assert!(routes.ok().stdout.trim().is_empty(), "routes left in the container:\n{routes}");

    // With --no-wait nothing waits for ovs-vswitchd: it succeeds through the
    // same proxy, and the port is there.
    // (A --timeout well above the bound below: had it waited, it would
    // have taken the whole timeout and failed, as ovs-vswitchd never
    // confirms through this proxy.)
    let (out, took) = timed(&[db.as_str(), "--timeout=20", "--no-wait", "add-port", &br.name, "eth1", &c.name]);
    out.ok();
    assert!(took < Duration::from_secs(10), "--no-wait still waited {took:?}");
    let row = row_of(&c, "eth1");
    assert_eq!(br.ports(), [row.name.clone()].into());
    ovs_docker(&[db.as_str(), "--no-wait", "del-port", &br.name, "eth1", &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

/// The same when add-port had to create the bridge: nothing of this run may
/// stay, the bridge included.
#[test]
fn add_port_undoes_the_bridge_it_created_when_vswitchd_does_not_confirm() {
    testbed();
    let proxy = FakeDaemon::start(Mode::DropUpdates);
    let c = TestContainer::new();
    let name = format!("{PREFIX}{}", rand_hex(6));
    let br = TestBridge::adopt(&name);
    let before = leak_snapshot(&[&c], &[&br]);
    let db = format!("--db={}", proxy.spec);
    ovs_docker(&[db.as_str(), "--timeout=2", "add-port", &name, "eth1", &c.name, "--datapath-type=netdev"])
        .fails(3, "add-port");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "add-port after ovs-vswitchd timed out");
    assert!(!vsctl(&["br-exists", &name]).success(), "bridge {name}, created by the failed add-port, is still there");
}

/// Docker out of reach (DOCKER_HOST names no socket, or a socket that never
/// answers): exit 3, nothing created.
#[test]
fn docker_out_of_reach() {
    testbed();
    let silent = FakeDaemon::start(Mode::Silent);
    let br = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    let before = leak_snapshot(&[&c], &[&br]);
    let silent_host = format!("unix://{}", silent.spec.trim_start_matches("unix:"));
    for host in ["unix:///nonexistent/docker.sock", silent_host.as_str()] {
        let env = [("DOCKER_HOST", host)];
        for (cmd, args) in [
            ("add-port", vec!["add-port", br.name.as_str(), "eth2", c.name.as_str()]),
            ("del-port", vec!["del-port", br.name.as_str(), "eth1", c.name.as_str()]),
            ("del-ports", vec!["del-ports", br.name.as_str(), c.name.as_str()]),
            ("set-vlan", vec!["set-vlan", br.name.as_str(), "eth1", c.name.as_str(), "5"]),
            ("list", vec!["list", br.name.as_str()]),
        ] {
            let mut all = vec!["--timeout=3"];
            all.extend(args);
            let t = Instant::now();
            let out = ovs_docker_env(&env, &all);
            out.fails(3, cmd);
            assert!(t.elapsed() < Duration::from_secs(11), "{cmd} took {:?} despite --timeout=3:\n{out}", t.elapsed());
            assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), &format!("{cmd} with DOCKER_HOST={host}"));
        }
    }
    assert_eq!(row_of(&c, "eth1").tag, None);
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}
