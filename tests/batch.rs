//! `batch FILE`: many commands in one invocation, with per-line errors.

mod common;

use std::io::Write;

use common::*;

fn batch_file(lines: &[String]) -> tempfile_path::TempPath {
    tempfile_path::TempPath::with(&lines.join("\n"))
}

/// A file under /tmp removed on drop (no extra crate for one file).
mod tempfile_path {
    pub struct TempPath(pub String);
    impl TempPath {
        pub fn with(text: &str) -> TempPath {
            let path = format!("/tmp/ovsdt-batch-{}-{}", std::process::id(), super::rand_hex(8));
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
            TempPath(path)
        }
    }
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Attach several containers in one batch (file and stdin), ping between
/// them, then detach them all in one batch: nothing left.
#[test]
fn batch_attaches_and_detaches_many_containers() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let cs: Vec<TestContainer> = (0..4).map(|_| TestContainer::new()).collect();
    let refs: Vec<&TestContainer> = cs.iter().collect();
    let before = leak_snapshot(&refs, &[&br]);

    let mut lines = vec!["# attach four containers".to_string(), String::new()];
    for (i, c) in cs.iter().enumerate() {
        lines.push(format!("add-port {} eth1 {} --ipaddress={}", br.name, c.name, net.v4p(10 + i as u8)));
    }
    lines.push(format!("set-vlan {} eth1 {} 7", br.name, cs[3].name));
    let file = batch_file(&lines);
    ovs_docker(&["batch", &file.0]).ok();
    for c in &cs {
        assert_eq!(row_of(c, "eth1").external_ids.get("container_iface").map(String::as_str), Some("eth1"));
    }
    assert_eq!(row_of(&cs[3], "eth1").tag, Some(7));
    assert!(ping(&cs[0], &net.v4(12), 3), "no ping between batch-attached containers");
    assert!(!ping(&cs[0], &net.v4(13), 1), "VLAN 7 set by the batch does not isolate");

    // Detach through standard input, by ID this time.
    let input: String = cs.iter().map(|c| format!("del-port {} eth1 {}\n", br.name, c.id)).collect();
    let out = ovs_docker_stdin(&["batch", "-"], &input);
    out.ok();
    assert_unchanged(&before, &leak_snapshot(&refs, &[&br]), "after the detach batch");
}

/// One bad line: nothing runs, every bad line is reported with its number.
#[test]
fn a_parse_error_on_any_line_runs_nothing() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let file = batch_file(&[
        format!("add-port {} eth1 {}", br.name, c.name),
        format!("add-port {} eth2 {} --mtu=9", br.name, c.name),
        format!("set-vlan {} eth1 {} 4096", br.name, c.name),
    ]);
    let out = ovs_docker(&["batch", &file.0]);
    out.code_is(2);
    out.stderr_contains("ovs-docker: batch: line 2:").stderr_contains("ovs-docker: batch: line 3:");
    out.stderr_contains("nothing was run");
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after a refused batch");
}

/// A line that fails is reported with its number, undone on its own, and the
/// other lines still run; the exit status is the failing line's.
#[test]
fn a_failing_line_is_reported_and_the_others_run() {
    testbed();
    let br = TestBridge::new();
    let a = TestContainer::new();
    let b = TestContainer::new();
    let file = batch_file(&[
        format!("add-port {} eth1 {}", br.name, a.name),
        format!("add-port {} eth1 ovsdt-no-such-container-{}", br.name, rand_hex(6)),
        format!("add-port {} eth1 {}", br.name, b.name),
    ]);
    let out = ovs_docker(&["batch", &file.0]);
    out.code_is(1);
    out.stderr_contains("ovs-docker: batch: line 2: add-port:");
    assert!(host_link_exists(&row_of(&a, "eth1").name));
    assert!(host_link_exists(&row_of(&b, "eth1").name));
    ovs_docker(&["del-ports", &br.name, &a.name]).ok();
    ovs_docker(&["del-ports", &br.name, &b.name]).ok();
}

fn ovs_docker_stdin(args: &[&str], input: &str) -> CmdOutput {
    let mut child = std::process::Command::new(bin())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ovs-docker");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("wait for ovs-docker");
    CmdOutput {
        cmdline: format!("{} {} < (stdin)", bin(), args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A port added and removed again by later lines of the same batch is not
/// reported as missing by the batch's final check.
#[test]
fn a_port_added_then_removed_in_one_batch_is_fine() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let file = batch_file(&[
        format!("add-port {} eth1 {}", br.name, c.name),
        format!("add-port {} eth2 {}", br.name, c.name),
        format!("del-port {} eth1 {}", br.name, c.name),
        format!("del-ports {} {}", br.name, c.id),
    ]);
    ovs_docker(&["batch", &file.0]).ok();
    assert_unchanged(&before, &leak_snapshot(&[&c], &[&br]), "after add and del in one batch");
}
