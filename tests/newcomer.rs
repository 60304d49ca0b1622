//! What a new user trips on (issue 19), each on the real binary: `list`
//! finds every port it shows (plugin ports, namespaces by identity), shows
//! what is recorded, documents its JSON; the man page holds every command;
//! exit codes keep their promise; tunnel options mean what they say; and
//! messages name the value and the container.

mod common;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use common::plugin::*;
use common::*;

fn ports_of(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| r["port"].as_str().unwrap_or_default().to_string()).collect()
}

/// A namespace made with `ip netns add ovsdt...` and a `sleep` inside it
/// (so that it can also be named by PID); both removed on drop.
struct NamedNetns {
    name: String,
    sleeper: Child,
}

impl NamedNetns {
    fn new() -> NamedNetns {
        let name = format!("{PREFIX}{}", rand_hex(8));
        run("ip", &["netns", "add", &name]).ok();
        let sleeper = Command::new("ip")
            .args(["netns", "exec", &name, "sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("ip netns exec: {e}"));
        let ns = NamedNetns { name, sleeper };
        let want = std::fs::metadata(ns.path()).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap();
        wait_until("the sleeper is in the namespace", 5, || {
            std::fs::metadata(format!("/proc/{}/ns/net", ns.pid()))
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::ino(&m) == want)
        });
        ns
    }
    fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }
    fn pid(&self) -> u32 {
        self.sleeper.id()
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        let _ = self.sleeper.kill();
        let _ = self.sleeper.wait();
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// Item 1: `list --container`/`--netns`/`--pid` find what plain `list`
/// shows: namespace ports by the namespace's identity, whichever way they
/// were added, and ports of the network plugin by their container.
#[test]
fn list_selects_every_kind_of_target() {
    testbed();
    let br = TestBridge::new();
    let ns = NamedNetns::new();
    let by_path = format!("--netns={}", ns.path());
    let by_pid = format!("--pid={}", ns.pid());
    ovs_docker(&["add-port", &br.name, "eth1", &by_path]).ok();
    ovs_docker(&["add-port", &br.name, "eth2", &by_pid]).ok();
    let all: BTreeSet<String> = ports_of(&list_json(&[br.name.as_str()]));
    assert_eq!(all.len(), 2, "{all:?}");
    for sel in [
        vec![by_path.clone()],
        vec![by_pid.clone()],
        vec!["--container".to_string(), format!("netns:{}", ns.path())],
        vec!["--container".to_string(), format!("pid:{}", ns.pid())],
    ] {
        let rows = list_json(&sel);
        assert_eq!(ports_of(&rows), all, "list {sel:?} must find both ports of the namespace: {rows:#?}");
    }
    // Another namespace's selection finds neither.
    let me = format!("--pid={}", std::process::id());
    assert!(list_json(&[me.as_str(), br.name.as_str()]).is_empty());
    // The table shows them, and with --netns no tunnel block.
    ovs_docker(&["list", &by_path]).ok().stdout_contains(&format!("netns:{}", ns.path()));
    ovs_docker(&["list", "--container=netns:relative"]).usage_error();
    ovs_docker(&["list", &by_path, &by_pid]).usage_error();
    ovs_docker(&["del-port", &br.name, "eth1", &by_path]).ok();
    ovs_docker(&["del-port", &br.name, "eth2", &by_pid]).ok();
    assert!(br.ports().is_empty());

    // The network plugin's port: found by the container's name, ID, prefix.
    let plugin = Plugin::start();
    let s = Subnet::new();
    let net = TestNetwork::create(&plugin, &["--subnet", &format!("{}/24", s.v4(0)), "-o", "mode=flat"]);
    let c = net.container(&[]);
    let port = net.port_rows().into_iter().next().unwrap_or_else(|| panic!("no plugin port")).name;
    let plain = list_json(&[net.bridge.as_str()]);
    let row = plain.iter().find(|r| r["port"] == port.as_str()).unwrap_or_else(|| panic!("{plain:#?}"));
    assert_eq!(row["container_name"], c.name.as_str(), "{row}");
    assert_eq!(row["container"], c.name.as_str(), "a plugin port's container is its container's name: {row}");
    assert!(row["endpoint_id"].as_str().is_some_and(|e| e.len() == 64), "{row}");
    for r in [c.name.as_str(), c.id.as_str(), c.short_id(), &c.id[..6]] {
        let rows = list_json(&["--container", r]);
        assert_eq!(ports_of(&rows), [port.clone()].into(), "list --container {r}: {rows:#?}");
    }
    c.remove();
    net.remove();
}

/// Items 2 and 3: the RATE column; a stopped container's port shows the
/// MAC and addresses recorded with it; JSON rows have exactly README's
/// keys, of README's types, trunks a list of numbers.
#[test]
fn list_shows_what_is_recorded_and_documents_its_json() {
    testbed();
    let net = Subnet::new();
    let br = TestBridge::new();
    let c = TestContainer::new();
    let addr = net.v4p(7);
    ovs_docker(&[
        "add-port",
        &br.name,
        "eth1",
        &c.name,
        &format!("--ipaddress={addr}"),
        "--macaddress=02:00:0a:0b:0c:19",
        "--mtu=1400",
        "--ingress-rate=1000",
    ])
    .ok();
    ovs_docker(&["set-vlan", &br.name, "eth1", &c.name, "5", "--trunk=10,20-21"]).ok();
    let port = row_of(&c, "eth1").name;
    let table = ovs_docker(&["list", &br.name]);
    let lines: Vec<&str> = table.ok().stdout.lines().collect();
    assert!(lines[0].split_whitespace().any(|h| h == "RATE"), "{table}");
    let line = lines.iter().find(|l| l.contains(&port)).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("1000kbit/s") && line.contains("5+trunk 10,20-21"), "{table}");

    let rows = list_json(&[br.name.as_str()]);
    check_documented_keys(&rows);
    assert_eq!(rows[0]["trunks"], serde_json::json!([10, 20, 21]), "{rows:#?}");
    assert_eq!((rows[0]["ingress_rate"].as_i64(), rows[0]["vlan"].as_i64()), (Some(1000), Some(5)));

    c.stop();
    let rows = list_json(&[br.name.as_str()]);
    let r = &rows[0];
    assert_eq!(r["state"], "container stopped", "{r}");
    assert_eq!(r["mac"], "02:00:0a:0b:0c:19", "a stopped container's port shows its recorded MAC: {r}");
    assert_eq!(r["addresses"], serde_json::json!([addr]), "{r}");
    assert_eq!(r["mtu"], 1400, "{r}");
    let table = ovs_docker(&["list", &br.name]);
    let line = table.ok().stdout.lines().find(|l| l.contains(&port)).unwrap_or_default().to_string();
    assert!(line.contains("02:00:0a:0b:0c:19") && line.contains(&addr), "{table}");
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

/// README's `| \`key\` | type |` rows, as (key, type).
fn readme_keys() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("| key | type | meaning |").expect("README has the JSON key table");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect()
}

fn check_documented_keys(rows: &[Value]) {
    let documented = readme_keys();
    assert!(documented.len() >= 20, "{documented:?}");
    for r in rows {
        let have: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = documented.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(have, want, "a row's keys are README's: {r}");
        for (key, ty) in &documented {
            let v = &r[key.as_str()];
            let ok = match ty.as_str() {
                "string" => v.is_string(),
                "string or null" => v.is_string() || v.is_null(),
                "number" => v.is_i64() || v.is_u64(),
                "number or null" => v.is_i64() || v.is_u64() || v.is_null(),
                "boolean" => v.is_boolean(),
                "array of strings" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                "array of numbers" => v.as_array().is_some_and(|a| a.iter().all(Value::is_u64)),
                other => panic!("README type {other:?} of key {key} is not one this test knows"),
            };
            assert!(ok, "key {key} should be {ty}: {r}");
        }
    }
}

/// Item 4: the man page holds every command, nested ones too, with every
/// option `--help` shows; it is what `generate` makes now.
#[test]
fn man_page_holds_every_command_and_option() {
    let dir = std::env::temp_dir().join(format!("{PREFIX}-man-{}", rand_hex(6)));
    ovs_docker(&["generate", dir.to_str().unwrap()]).ok();
    let page = std::fs::read_to_string(dir.join("man/ovs-docker.1")).unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/ovs-docker.1")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(page == committed, "man/ovs-docker.1 is stale: run `cargo run -- generate .`");
    let commands: &[&[&str]] = &[
        &["add-port"],
        &["del-port"],
        &["del-ports"],
        &["set-vlan"],
        &["set-qos"],
        &["list"],
        &["gc"],
        &["watch"],
        &["batch"],
        &["tunnel", "add"],
        &["tunnel", "del"],
        &["tunnel", "list"],
        &["plugin"],
    ];
    let roff = |s: &str| s.replace('-', "\\-");
    for cmd in commands {
        let title = format!("ovs-docker {}", cmd.join(" "));
        assert!(page.contains(&roff(&title)), "man page lacks {title}");
        let mut args: Vec<&str> = cmd.to_vec();
        args.push("--help");
        let help = ovs_docker(&args);
        for word in help.ok().stdout.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == '=') {
            let opt = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            if opt.starts_with("--") && opt.len() > 2 && opt != "--help" && opt != "--version" {
                assert!(page.contains(&roff(opt)), "man page lacks {opt} of {title}");
            }
        }
    }
    for section in ["LIST STATES", "LIST JSON", "EXIT STATUS", "not joined", "endpoint_id"] {
        assert!(page.contains(section), "man page lacks {section}");
    }
}

/// Item 5: exit codes, per command, as README says.
#[test]
fn exit_codes_keep_their_promise() {
    testbed();
    let out = ovs_docker::<&str>(&[]);
    out.code_is(2);
    assert!(out.stdout.is_empty() && out.stderr.contains("Usage:"), "usage on stderr, exit 2:\n{out}");
    ovs_docker(&["batch", "/nonexistent"]).fails(2, "batch").stderr_contains("/nonexistent");
    let missing = format!("{PREFIX}{}", rand_hex(8));
    let br = TestBridge::new();
    let c = TestContainer::new();
    let gone = format!("{PREFIX}-{}", rand_hex(10));
    let why = format!("bridge {missing} does not exist");
    ovs_docker(&["list", &missing]).fails(1, "list").stderr_contains(&why);
    ovs_docker(&["gc", &missing, "--dry-run"]).fails(1, "gc").stderr_contains(&why);
    ovs_docker(&["del-ports", &missing, &c.name]).fails(1, "del-ports").stderr_contains(&why);
    ovs_docker(&["del-port", &missing, "eth1", &c.name]).fails(1, "del-port").stderr_contains(&why);
    ovs_docker(&["tunnel", "list", &missing]).fails(1, "tunnel list").stderr_contains(&why);
    // Nothing to remove on a bridge that exists: success, as upstream; an
    // unknown container is said on stderr.
    let out = ovs_docker(&["del-ports", &br.name, &c.name]);
    assert!(out.ok().stderr.is_empty(), "{out}");
    ovs_docker(&["del-ports", &br.name, &gone]).ok().stderr_contains("warning: no container");
    // A port on another bridge is refused by del-port.
    ovs_docker(&["add-port", &br.name, "eth1", &c.name]).ok();
    let other = TestBridge::new();
    ovs_docker(&["del-port", &other.name, "eth1", &c.name]).fails(1, "del-port").stderr_contains(&br.name);
    ovs_docker(&["del-ports", &br.name, &c.name]).ok();
    assert_no_ports(&[&c], &[&br]);
}

/// Item 6: tunnel options mean what they say.
#[test]
fn tunnel_options_mean_what_they_say() {
    testbed();
    // A tunnel remote in TEST-NET-3 that nothing answers: a blackhole route
    // keeps anything sent there on this machine. Only a /28 of it: these
    // machines' package mirrors answer at 203.0.113.80.
    run("ip", &["route", "replace", "blackhole", "203.0.113.16/28", "metric", "4000"]).ok();
    let br = TestBridge::new();
    ovs_docker(&["tunnel", "add", &br.name, "203.0.113.19", "--key=5"]).ok();
    let vx = "vxlan-cb007113";
    assert_eq!(br.ports(), [vx.to_string()].into());
    ovs_docker(&["tunnel", "del", &br.name, vx, "--type=gre"])
        .fails(1, "tunnel del")
        .stderr_contains("is of type vxlan, not gre");
    assert_eq!(br.ports(), [vx.to_string()].into(), "a --type that does not match deletes nothing");
    // The same remote with another key: the refusal says --name is the way.
    ovs_docker(&["tunnel", "add", &br.name, "203.0.113.19", "--key=6"])
        .fails(1, "tunnel add")
        .stderr_contains("--name");
    let named = format!("{PREFIX}{}", rand_hex(4));
    ovs_docker(&["tunnel", "add", &br.name, "203.0.113.19", "--key=6", "--name", &named]).ok();
    assert_eq!(br.ports(), [vx.to_string(), named.clone()].into());
    // Parse errors point to the nested command's help.
    ovs_docker(&["tunnel", "add", &br.name, "203.0.113"]).usage_error().stderr_contains("ovs-docker tunnel add --help");
    ovs_docker(&["tunnel", "del", &br.name]).usage_error().stderr_contains("ovs-docker tunnel del --help");
    // A missing bridge is named as such.
    let missing = format!("{PREFIX}{}", rand_hex(8));
    ovs_docker(&["tunnel", "del", &missing, vx])
        .fails(1, "tunnel del")
        .stderr_contains(&format!("bridge {missing} does not exist"));
    ovs_docker(&["tunnel", "del", &br.name, vx, "--type=vxlan"]).ok();
    ovs_docker(&["tunnel", "del", &br.name, &named]).ok();
    assert!(br.ports().is_empty());
}

/// Item 7: messages name the range, and the container by its name.
#[test]
fn messages_name_the_range_and_the_container() {
    testbed();
    let br = TestBridge::new();
    let c = TestContainer::new();
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, "--ipaddress=10.0.1.5/33"])
        .usage_error()
        .stderr_contains("prefix length /33")
        .stderr_contains("0 to 32");
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, "--ipaddress=fd00::5/129"])
        .usage_error()
        .stderr_contains("0 to 128");
    ovs_docker(&["add-port", &br.name, "eth1", &c.name, "--ingress-rate=99999999999"])
        .usage_error()
        .stderr_contains("0 to 4294967295");
    assert!(br.ports().is_empty());
    // A port added by full ID, its container removed: gc names it by name.
    ovs_docker(&["add-port", &br.name, "eth1", &c.id]).ok();
    let port = row_of(&c, "eth1").name;
    c.remove();
    let out = ovs_docker(&["gc", &br.name]);
    out.ok();
    let line = out.stdout.lines().find(|l| l.contains(&port)).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(&format!("container {}", c.name)) && !line.contains(&c.id), "{out}");
    assert!(br.ports().is_empty());
}
