//! Hostile input: odd bytes, newlines, 10 KB strings, shell metacharacters
//! in every positional argument, and malformed or out-of-range option
//! values. Each is refused with exit 2 before anything is created; no shell
//! ever sees them; /var/run/netns is never created or touched.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use common::*;

const PWNED: &str = "/tmp/pwned";

fn os(s: &str) -> OsString {
    OsString::from(s)
}

/// The hostile values for a positional argument: non-UTF-8, newlines, a
/// 10 KB string, shell metacharacters, and other invalid names.
fn hostile_values() -> Vec<(String, OsString)> {
    let mut v: Vec<(String, OsString)> = vec![
        ("non-UTF-8 byte".into(), OsString::from_vec(b"eth\xff1".to_vec())),
        ("lone continuation byte".into(), OsString::from_vec(b"\x80".to_vec())),
        ("overlong UTF-8".into(), OsString::from_vec(b"\xc0\xafetc".to_vec())),
        ("newline".into(), os("eth\n1")),
        ("only a newline".into(), os("\n")),
        ("carriage return".into(), os("eth1\r")),
        ("tab".into(), os("eth\t1")),
        ("escape sequence".into(), os("\x1b[2Jeth")),
        ("10 KB".into(), os(&"a".repeat(10 * 1024))),
        ("10 KB of multibyte".into(), os(&"é".repeat(5 * 1024))),
        ("empty".into(), os("")),
        ("space".into(), os("eth 1")),
        ("dot-dot".into(), os("..")),
        ("path".into(), os("../../etc")),
    ];
    for m in ["$(touch /tmp/pwned)", ";rm -rf /", "`touch /tmp/pwned`", "a;touch /tmp/pwned", "|| touch /tmp/pwned"] {
        v.push((format!("shell {m:?}"), os(m)));
    }
    v
}

/// The argument lists of every command, with `slot` (0 bridge, 1 interface,
/// 2 container) replaced by `bad`; commands without that slot are skipped.
fn command_lines(br: &str, c: &str, slot: usize, bad: &OsString) -> Vec<Vec<OsString>> {
    let pick = |i: usize, good: &str| if i == slot { bad.clone() } else { os(good) };
    let (b, i, k) = (pick(0, br), pick(1, "eth1"), pick(2, c));
    let mut lines = vec![
        vec![os("add-port"), b.clone(), i.clone(), k.clone(), os("--ipaddress=192.0.2.2/24")],
        vec![os("del-port"), b.clone(), i.clone(), k.clone()],
        vec![os("set-vlan"), b.clone(), i.clone(), k.clone(), os("5")],
    ];
    if slot != 1 {
        lines.push(vec![os("del-ports"), b.clone(), k.clone()]);
    }
    if slot == 0 {
        lines.push(vec![os("list"), b.clone()]);
        lines.push(vec![os("gc"), b.clone(), os("--dry-run")]);
        lines.push(vec![os("gc"), b.clone()]);
    }
    if slot == 2 {
        lines.push(vec![os("list"), os("--container"), k.clone()]);
    }
    lines
}

/// Assert a usage error: exit 2, one line on stderr, nothing on stdout.
#[track_caller]
fn refused_as_invalid(out: &CmdOutput, context: &str) {
    assert_eq!(out.code, Some(2), "{context}: expected exit 2:\n{out}");
    assert!(out.stdout.is_empty(), "{context}: nothing on stdout:\n{out}");
    let err = out.stderr.trim_end();
    assert!(err.starts_with("ovs-docker: ") && err.lines().count() == 1, "{context}: one line on stderr:\n{out}");
}

/// A bridge, a container with one port (so that a slip would show as a
/// change), and the state to compare against.
struct Bed {
    br: TestBridge,
    c: TestContainer,
    before: Snapshot,
    tag: Option<i64>,
    netns: Option<std::collections::BTreeSet<String>>,
}

impl Bed {
    fn new() -> Bed {
        let br = TestBridge::new();
        let c = TestContainer::new();
        ovs_docker(&["add-port", &br.name, "eth0", &c.name]).ok();
        ovs_docker(&["set-vlan", &br.name, "eth0", &c.name, "9"]).ok();
        let before = leak_snapshot_watching(&[&c], &[&br], &["eth1"]);
        let tag = row_of(&c, "eth0").tag;
        Bed { br, c, before, tag, netns: netns_dir_state() }
    }

    #[track_caller]
    fn assert_untouched(&self, context: &str) {
        assert_no_leak(&self.before, &[&self.c], &[&self.br], context);
        assert_eq!(leak_snapshot_watching(&[&self.c], &[&self.br], &["eth1"]), self.before, "{context}");
        assert_eq!(row_of(&self.c, "eth0").tag, self.tag, "{context}: the VLAN changed");
        assert!(!std::path::Path::new(PWNED).exists(), "{context}: {PWNED} exists: a shell ran our input");
        assert_netns_untouched(&self.netns, &[&self.c], &[], context);
    }

    fn done(self) {
        ovs_docker(&["del-ports", &self.br.name, &self.c.name]).ok();
        assert_no_ports(&[&self.c], &[&self.br]);
    }
}

#[test]
fn hostile_positional_arguments_are_refused() {
    testbed();
    let _ = std::fs::remove_file(PWNED);
    let bed = Bed::new();
    let (br, c) = (bed.br.name.as_str(), bed.c.name.as_str());
    let mut count = 0;
    for (what, bad) in hostile_values() {
        for (slot, slot_name) in ["BRIDGE", "INTERFACE", "CONTAINER"].iter().enumerate() {
            for args in command_lines(br, c, slot, &bad) {
                let context = format!("{} with {what} as {slot_name}", args[0].to_string_lossy());
                refused_as_invalid(&ovs_docker_os(&args), &context);
                count += 1;
            }
        }
        bed.assert_untouched(&format!("after the runs with {what}"));
    }
    assert!(count > 200, "only {count} runs");
    bed.done();
}

/// Option values malformed or out of range: exit 2, nothing created.
#[test]
fn malformed_option_values_are_refused() {
    testbed();
    let _ = std::fs::remove_file(PWNED);
    let bed = Bed::new();
    let (br, c) = (bed.br.name.as_str(), bed.c.name.as_str());
    let big = "9".repeat(10 * 1024);
    let non_utf8 = |prefix: &str| {
        let mut v = prefix.as_bytes().to_vec();
        v.extend_from_slice(b"10.0.0.\xff");
        OsString::from_vec(v)
    };
    let add = |opts: &[&str]| -> Vec<OsString> {
        let mut v = vec![os("add-port"), os(br), os("eth1"), os(c)];
        v.extend(opts.iter().map(|o| os(o)));
        v
    };
    let mut cases: Vec<Vec<OsString>> = Vec::new();
    for a in [
        "10.0.0.300/24",
        "10.0.0.1/33",
        "fd00::1/129",
        "0.0.0.0",
        "0.0.0.0/0",
        "224.0.0.1/24",
        "255.255.255.255",
        "127.0.0.2/8",
        "::1",
        "::",
        "ff02::1/64",
        "10.0.0.1/",
        "10.0.0.1/-1",
        "10.0.0.1/24/24",
        "10.0.0",
        "",
        "x",
        "10.0.0.1\n/24",
        "$(touch /tmp/pwned)",
        "`touch /tmp/pwned`",
        ";rm -rf /",
        &big,
    ] {
        cases.push(add(&[&format!("--ipaddress={a}")]));
    }
    for m in [
        "01:00:00:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "00:00:00:00:00:00",
        "02:00:00:00:00",
        "02:00:00:00:00:00:00",
        "zz:00:00:00:00:01",
        "02-00-00-00-00-01",
        "0200.0000.0001",
        "2:0:0:0:0:1",
        "",
        "02:00:00:00:00:01\n",
        &big,
        "$(touch /tmp/pwned)",
    ] {
        cases.push(add(&[&format!("--macaddress={m}")]));
    }
    for m in ["0", "67", "65536", "-1", "1e3", "4294967296", "18446744073709551616", "", "1500 ", "15.0", "0x5dc", &big]
    {
        cases.push(add(&[&format!("--mtu={m}")]));
    }
    for g in ["x", "10.0.0.1/24", "0.0.0.0", "224.0.0.1", "::1", "", &big] {
        cases.push(add(&["--ipaddress=10.0.0.2/24", &format!("--gateway={g}")]));
    }
    // Valid values that do not go together.
    for opts in [
        &["--gateway=10.0.0.1"][..],
        &["--ipaddress=10.0.0.2/24", "--gateway=10.0.1.1"],
        &["--ipaddress=10.0.0.2/24", "--gateway=fd00::1"],
        &["--ipaddress=fd00::2/64", "--gateway=10.0.0.1"],
        &["--ipaddress=10.0.0.2/24", "--gateway=10.0.0.2"],
        &["--ipaddress=fd00::2/64", "--mtu=1279"],
        &["--ipaddress=10.0.0.2/24", "--ipaddress=10.0.0.2/32"],
        &["--ipaddress=10.0.0.2/24", "--ipaddress=10.0.1.2/24", "--gateway=10.0.0.1", "--gateway=10.0.1.1"],
        &["--ipaddress=10.0.0.2/24", "--route=10.9.0.0/16,via=10.0.5.1"],
        &["--ipaddress=10.0.0.2/24", "--gateway=10.0.0.1", "--route=default,via=10.0.0.3"],
        &["--ingress-burst=100"],
        &["--netns=/var/run/netns/x"],
        &["--mtu=1400", "--mtu=1500"],
        &["--bogus=1"],
        &["--ipaddress"],
    ] {
        cases.push(add(opts));
    }
    for opt in ["--ipaddress=", "--macaddress=02:00:00:00:00:", "--mtu=1", "--gateway="] {
        let mut v = add(&[]);
        v.push(non_utf8(opt));
        cases.push(v);
    }
    for vlan in ["4096", "-1", "65536", "1.5", "", "0x10", " 5", "5 ", "five", "5\n", &big] {
        cases.push(vec![os("set-vlan"), os(br), os("eth0"), os(c), os(vlan)]);
    }
    cases.push(vec![os("set-vlan"), os(br), os("eth0"), os(c), OsString::from_vec(b"5\xff".to_vec())]);
    cases.push(vec![os("set-vlan"), os(br), os("eth0"), os(c), os("5"), os("6")]);
    for t in ["0", "3601", "-1", "", "1s", &big] {
        cases.push(vec![os(&format!("--timeout={t}")), os("add-port"), os(br), os("eth1"), os(c)]);
    }
    cases.push(vec![os("list"), os("--format=xml")]);
    cases.push(vec![os("list"), os(&format!("--format={big}"))]);
    cases.push(vec![os("add-port"), os(br), os("eth1"), os(c), os("extra")]);

    for args in &cases {
        let shown: Vec<String> = args.iter().map(|a| a.to_string_lossy().chars().take(60).collect()).collect();
        refused_as_invalid(&ovs_docker_os(args), &format!("{shown:?}"));
    }
    bed.assert_untouched("after the malformed options");
    bed.done();
}

/// Non-UTF-8 bytes as the first argument (the subcommand, or a global
/// option): exit 2 like anywhere else, not a panic.
#[test]
fn non_utf8_first_argument_is_a_usage_error() {
    testbed();
    for first in [
        OsString::from_vec(b"\xff".to_vec()),
        OsString::from_vec(b"add-port\xff".to_vec()),
        OsString::from_vec(b"--db=unix:/x\xff".to_vec()),
        OsString::from_vec(b"--timeout=\xff".to_vec()),
    ] {
        let out = ovs_docker_os(&[first.clone(), os("list")]);
        refused_as_invalid(&out, &format!("{first:?} first"));
    }
}

/// `--datapath-type` is free text passed to OVSDB: with a value
/// ovs-vswitchd cannot use (a typo, a newline, 10 KB) it fails to create the
/// bridge ("unknown datapath type"), the port never gets an OpenFlow port
/// (`ofport` empty, `error` empty), yet add-port exits 0 and `list` says
/// "ok". It should be refused (exit 2) or fail and undo (exit 3).
#[test]
fn unusable_datapath_type_is_refused() {
    testbed();
    let c = TestContainer::new();
    for dp in ["netdve", "net\ndev", &"x".repeat(10 * 1024)] {
        let name = format!("{PREFIX}{}", rand_hex(6));
        let br = TestBridge::adopt(&name);
        let before = leak_snapshot(&[&c], &[&br]);
        let out = ovs_docker(&["--timeout=3", "add-port", &name, "eth1", &c.name, &format!("--datapath-type={dp}")]);
        assert!(matches!(out.code, Some(2) | Some(3)), "datapath type {dp:?} must not be accepted:\n{out}");
        assert_no_leak(&before, &[&c], &[&br], &format!("datapath type {dp:?}"));
        assert!(!vsctl(&["br-exists", &name]).success(), "bridge {name} with datapath type {dp:?} was created");
    }
}

/// An interface name full of shell metacharacters that the kernel accepts
/// (no space, `/` or `:`) is used literally: the interface gets exactly that
/// name, and no shell runs it.
#[test]
fn shell_metacharacters_in_a_valid_interface_name_are_literal() {
    testbed();
    let _ = std::fs::remove_file(PWNED);
    let br = TestBridge::new();
    let c = TestContainer::new();
    let before = leak_snapshot(&[&c], &[&br]);
    let netns = netns_dir_state();
    for name in ["$(reboot)", "`id`;|&", "x;touch${IFS}q", "'\"*?[]<>!"] {
        assert!(name.len() <= 15);
        ovs_docker(&["add-port", &br.name, name, &c.name]).ok();
        assert!(c.link_names().contains(name), "no interface named {name:?} in the container: {:?}", c.link_names());
        assert_eq!(row_of(&c, name).id("container_iface"), Some(name));
        let rows = list_json(&["--container", c.name.as_str()]);
        assert!(rows.iter().any(|r| r["interface"] == name), "{rows:#?}");
        ovs_docker(&["set-vlan", &br.name, name, &c.name, "3"]).ok();
        ovs_docker(&["del-port", &br.name, name, &c.id]).ok();
        assert_no_leak(&before, &[&c], &[&br], &format!("interface {name:?}"));
    }
    assert!(!std::path::Path::new(PWNED).exists());
    assert!(!std::path::Path::new("q").exists());
    assert_netns_untouched(&netns, &[&c], &[], "interfaces named with shell metacharacters");
}

/// A whole lifecycle (add-port with every option, list, set-vlan, a stale
/// port reclaimed, del-port, del-ports, gc BRIDGE) never creates or
/// changes /var/run/netns, not even for an instant: watched with inotify,
/// which sees an entry made and removed again (as upstream does with the
/// container's PID). Entries of other containers (concurrent upstream runs
/// of other tests) are reported but not held against us.
#[test]
fn var_run_netns_is_never_touched() {
    testbed();
    let state_before = netns_dir_state();
    let watch = NetnsWatch::start();
    let net = Subnet::new();
    let br = TestBridge::with_address(&net);
    let c = TestContainer::new();
    let mut pids_seen = vec![c.pid().expect("running").to_string()];
    let before = leak_snapshot(&[&c], &[&br]);
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        &format!("--ipaddress={}", net.v4p(2)),
        &format!("--gateway={}", net.v4(1)),
        "--macaddress=02:11:22:33:44:55",
        "--mtu=1400",
    ])
    .ok();
    ovs_docker(&["add-port", &br.name, "eth2", &c.id, &format!("--ipaddress={}", net.v6p(2))]).ok();
    ovs_docker(&["list"]).ok();
    ovs_docker(&["list", "--format=json", "--container", c.short_id()]).ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", &c.name, "0"]).ok();
    assert_ping(&c, &net.v4(1));
    run("docker", &["restart", "-t", "0", &c.name]).ok();
    pids_seen.push(c.pid().expect("running").to_string());
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["gc", &br.name, "--dry-run"]).ok();
    ovs_docker(&["gc", &br.name]).ok();
    ovs_docker(&["del-port", &br.name, "eth1", &c.name]).ok();
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_leak(&before, &[&c], &[&br], "after the lifecycle");

    let mut ours = netns_names_of(&[&c]);
    ours.extend(pids_seen.iter().cloned());
    let (mine, foreign): (Vec<_>, Vec<_>) = watch.events().into_iter().partition(|(wd, _, name)| {
        // The directory itself created, or an entry named for our container.
        (*wd == 1 && name == "netns" && state_before.is_none()) || ours.contains(name)
    });
    if !foreign.is_empty() {
        eprintln!("/var/run/netns events of other processes (ignored): {foreign:?}");
    }
    assert!(mine.is_empty(), "/var/run/netns was touched for our container: {mine:?}");
    assert_netns_untouched(&state_before, &[&c], &pids_seen, "after the lifecycle");
}

/// inotify on /run (creation of `netns`) and, if it exists, on
/// /run/netns itself (any entry created, removed, renamed or changed).
/// /var/run is /run on Debian.
struct NetnsWatch {
    fd: i32,
}

impl NetnsWatch {
    fn start() -> NetnsWatch {
        // SAFETY: plain syscalls on a descriptor we own.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            assert!(fd >= 0, "inotify_init1: {}", std::io::Error::last_os_error());
            let run_dir = std::fs::canonicalize("/var/run").unwrap_or_else(|_| "/run".into());
            let netns = run_dir.join("netns");
            let c = |p: &std::path::Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
            let w = libc::inotify_add_watch(fd, c(&run_dir).as_ptr(), libc::IN_CREATE | libc::IN_MOVED_TO);
            assert!(w >= 0, "inotify_add_watch {run_dir:?}: {}", std::io::Error::last_os_error());
            if netns.is_dir() {
                let mask = libc::IN_CREATE
                    | libc::IN_DELETE
                    | libc::IN_MOVED_FROM
                    | libc::IN_MOVED_TO
                    | libc::IN_ATTRIB
                    | libc::IN_MODIFY
                    | libc::IN_DELETE_SELF;
                let w = libc::inotify_add_watch(fd, c(&netns).as_ptr(), mask);
                assert!(w >= 0, "inotify_add_watch {netns:?}: {}", std::io::Error::last_os_error());
            }
            NetnsWatch { fd }
        }
    }

    /// Events that concern /run/netns: (watch, mask, name).
    fn events(&self) -> Vec<(i32, u32, String)> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: reading into a buffer we own, of the length given.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            let mut off = 0usize;
            while off + std::mem::size_of::<libc::inotify_event>() <= n as usize {
                // SAFETY: the kernel wrote a whole event at `off`.
                let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[off..].as_ptr().cast()) };
                let name_start = off + std::mem::size_of::<libc::inotify_event>();
                let name_bytes = &buf[name_start..name_start + ev.len as usize];
                let name = String::from_utf8_lossy(name_bytes).trim_end_matches('\0').to_string();
                // Watch 1 is /run: only `netns` there matters.
                if ev.wd != 1 || name == "netns" {
                    out.push((ev.wd, ev.mask, name));
                }
                off = name_start + ev.len as usize;
            }
        }
        out
    }
}

impl Drop for NetnsWatch {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor we own.
        unsafe { libc::close(self.fd) };
    }
}
