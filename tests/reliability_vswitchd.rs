//! ovs-vswitchd not applying changes: a private ovsdb-server, started by the
//! test in its own directory, with no ovs-vswitchd reading it. add-port
//! waits for `cur_cfg` in vain, gives up after --timeout with exit 3 naming
//! ovs-vswitchd, and undoes the row and the veth.
//! (Daemons out of reach are covered in tests/daemon_failures.rs.)

mod common;

use std::time::{Duration, Instant};

use common::*;

/// An ovsdb-server of our own on `DIR/db.sock`; killed (by its pidfile) and
/// its directory removed on drop.
struct PrivateOvsdb {
    dir: String,
    pub spec: String,
}

impl PrivateOvsdb {
    #[track_caller]
    fn start() -> PrivateOvsdb {
        let dir = format!("/run/ovs-docker-tests/privdb-{}", rand_hex(8));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {dir}: {e}"));
        let db = PrivateOvsdb { spec: format!("unix:{dir}/db.sock"), dir };
        let d = &db.dir;
        run("ovsdb-tool", &["create", &format!("{d}/conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]).ok();
        run(
            "ovsdb-server",
            &[
                &format!("{d}/conf.db"),
                &format!("--remote=punix:{d}/db.sock"),
                &format!("--pidfile={d}/ovsdb-server.pid"),
                &format!("--unixctl={d}/ovsdb-server.ctl"),
                &format!("--log-file={d}/ovsdb-server.log"),
                "--detach",
                "--no-chdir",
            ],
        )
        .ok();
        db.vsctl(&["init"]).ok();
        db
    }

    fn vsctl(&self, args: &[&str]) -> CmdOutput {
        let db = format!("--db={}", self.spec);
        let mut all = vec![db.as_str(), "--timeout=10", "--no-wait"];
        all.extend_from_slice(args);
        run("ovs-vsctl", &all)
    }

    /// Every Interface name in this database.
    fn interfaces(&self) -> Vec<String> {
        let out = self.vsctl(&["--bare", "--columns=name", "list", "Interface"]);
        out.ok().stdout.split_whitespace().map(str::to_string).collect()
    }

    fn bridges(&self) -> Vec<String> {
        self.vsctl(&["list-br"]).ok().stdout.split_whitespace().map(str::to_string).collect()
    }
}

impl Drop for PrivateOvsdb {
    fn drop(&mut self) {
        let pidfile = format!("{}/ovsdb-server.pid", self.dir);
        if let Some(pid) = std::fs::read_to_string(&pidfile).ok().and_then(|s| s.trim().parse::<i32>().ok()) {
            // Only if it is still the server we started (its command line
            // names our directory).
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&self.dir) {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(10);
                while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn add_port_fails_when_vswitchd_never_applies() {
    testbed();
    let db = PrivateOvsdb::start();
    let br = format!("{PREFIX}{}", rand_hex(6));
    db.vsctl(&["add-br", &br, "--", "set", "bridge", &br, "datapath_type=netdev"]).ok();
    let c = TestContainer::new();
    let iface = unique_iface();
    let before = leak_snapshot_watching(&[&c], &[], &[&iface]);
    let ifaces_before = db.interfaces();
    let dbarg = format!("--db={}", db.spec);

    // The bridge exists in that database.
    let t = Instant::now();
    let out = ovs_docker(&[&dbarg, "--timeout=3", "add-port", &br, &iface, &c.name, "--ipaddress=192.0.2.7/24"]);
    let took = t.elapsed();
    out.fails(3, "add-port").stderr_contains("ovs-vswitchd");
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(11), "took {took:?} with --timeout=3:\n{out}");
    assert_eq!(db.interfaces(), ifaces_before, "a row was left in the private database");
    assert_eq!(db.vsctl(&["list-ports", &br]).ok().stdout.trim(), "", "a port was left on {br}");
    assert_no_leak(&before, &[&c], &[], "after add-port timed out waiting for ovs-vswitchd");
    assert_eq!(leak_snapshot_watching(&[&c], &[], &[&iface]), before);

    // The bridge is missing and add-port would create it: gone again too.
    let missing = format!("{PREFIX}{}", rand_hex(6));
    let t = Instant::now();
    let out = ovs_docker(&[&dbarg, "--timeout=3", "add-port", &missing, &iface, &c.id, "--datapath-type=netdev"]);
    let took = t.elapsed();
    out.fails(3, "add-port").stderr_contains("ovs-vswitchd");
    assert!(took < Duration::from_secs(11), "took {took:?} with --timeout=3:\n{out}");
    assert_eq!(db.bridges(), vec![br.clone()], "the bridge add-port created was left in the private database");
    assert_eq!(db.interfaces(), ifaces_before);
    assert_no_leak(&before, &[&c], &[], "after add-port (creating the bridge) timed out");

    // With --no-wait nothing waits for ovs-vswitchd: the same works at once,
    // and del-port takes it away. (Had they waited, ovs-vswitchd, absent,
    // would never confirm: they would fail after the timeout.)
    ovs_docker(&[&dbarg, "--timeout=10", "--no-wait", "add-port", &br, &iface, &c.name]).ok();
    assert_eq!(db.interfaces().len(), ifaces_before.len() + 1);
    assert!(c.link_names().contains(&iface));
    ovs_docker(&[&dbarg, "--timeout=10", "--no-wait", "del-port", &br, &iface, &c.name]).ok();
    assert_eq!(db.interfaces(), ifaces_before);
    assert_no_leak(&before, &[&c], &[], "after --no-wait add-port and del-port");
}
