//! No request can stop the network plugin: malformed JSON, wrong types,
//! missing fields, IDs that are not ASCII or not UTF-8, oversized bodies,
//! unknown paths and methods, and a client that never finishes its request
//! each get an error answer (or are dropped), while the plugin goes on
//! serving everyone else. (The decoding of every call is also
//! property-tested: `decode_properties` in src/plugin/protocol.rs.)

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::plugin::*;
use common::*;

/// One request on a fresh connection: the status (0 if the plugin closed
/// the connection without an answer) and the body.
fn request(plugin: &Plugin, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = UnixStream::connect(&plugin.socket).expect("connect to the plugin");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("set a read timeout");
    let head = format!(
        "{head} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("send the head");
    // The plugin may answer (and close) before a huge body is all sent.
    let _ = s.write_all(body);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

fn post(plugin: &Plugin, method: &str, body: &[u8]) -> (u16, String) {
    request(plugin, &format!("POST /{method}"), body)
}

/// The plugin still answers, and is the same process.
#[track_caller]
fn assert_serving(plugin: &Plugin, pid: u32, after: &str) {
    let (code, body) = post(plugin, "Plugin.Activate", b"{}");
    assert_eq!((code, body.as_str()), (200, r#"{"Implements":["NetworkDriver","IpamDriver"]}"#), "after {after}");
    assert_eq!(plugin.pid(), pid);
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "the plugin died after {after}");
}

const CALLS: [&str; 11] = [
    "CreateNetwork",
    "DeleteNetwork",
    "CreateEndpoint",
    "DeleteEndpoint",
    "EndpointOperInfo",
    "Join",
    "Leave",
    "ProgramExternalConnectivity",
    "RevokeExternalConnectivity",
    "DiscoverNew",
    "AllocateNetwork",
];

#[test]
fn hostile_requests_get_error_answers_and_the_plugin_keeps_serving() {
    testbed();
    let plugin = Plugin::start();
    let pid = plugin.pid();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed JSON", b"{\"NetworkID\": ".to_vec()),
        ("not an object", b"[1, 2, 3]".to_vec()),
        ("empty body", Vec::new()),
        ("wrong types", br#"{"NetworkID": 12, "EndpointID": ["x"], "Options": "no", "Interface": 7}"#.to_vec()),
        ("missing fields", b"{}".to_vec()),
        ("non-ASCII network ID", "{\"NetworkID\": \"\u{e9}t\u{e9}\u{65e5}\u{672c}\", \"EndpointID\": \"e1\"}".into()),
        ("non-ASCII endpoint ID", "{\"NetworkID\": \"n1\", \"EndpointID\": \"\u{1f980}\u{1f980}\"}".into()),
        ("non-UTF-8 body", b"{\"NetworkID\": \"\xff\xfe\xc3\x28\", \"EndpointID\": \"e1\"}".to_vec()),
        ("NUL in ID", b"{\"NetworkID\": \"ab\\u0000cd\", \"EndpointID\": \"e1\"}".to_vec()),
        ("ID too long", format!("{{\"NetworkID\": \"{}\", \"EndpointID\": \"e1\"}}", "a".repeat(5000)).into()),
        ("deep nesting", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into()),
    ];
    for call in CALLS {
        let method = format!("NetworkDriver.{call}");
        for (what, body) in &bodies {
            let (code, answer) = post(&plugin, &method, body);
            // An error answer (Err), or {} for the calls that need nothing
            // of the body; never a dropped connection.
            assert_eq!(code, 200, "{method} with {what}: {answer}");
            let v: serde_json::Value =
                serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{what}: {e}: {answer}"));
            if !["DiscoverNew", "AllocateNetwork"].contains(&call) && *what != "missing fields" {
                assert!(v["Err"].is_string(), "{method} with {what} was accepted: {answer}");
            }
        }
        assert_serving(&plugin, pid, &method);
    }
    // The non-ASCII ID is named in the answer, as it came.
    let (_, answer) = post(&plugin, "NetworkDriver.Join", &bodies[5].1);
    assert!(answer.contains("invalid NetworkID"), "{answer}");

    // An oversized body: refused, not read into memory.
    let (code, answer) = post(&plugin, "NetworkDriver.CreateNetwork", &vec![b' '; 3 << 20]);
    assert!(code == 400 || code == 0, "oversized body: {code} {answer}");
    assert_serving(&plugin, pid, "an oversized body");
    // Unknown paths and methods other than POST.
    for head in ["POST /Nope.Nope", "POST /NetworkDriver.Cr\u{e9}ate", "POST /../../etc/passwd", "GET /Plugin.Activate"]
    {
        let (code, answer) = request(&plugin, head, b"{}");
        assert!([404, 405].contains(&code), "{head}: {code} {answer}");
        assert_serving(&plugin, pid, head);
    }
    let (code, _) = request(&plugin, &format!("POST /{}", "A".repeat(20_000)), b"{}");
    assert!(code >= 400 || code == 0, "{code}");
    assert_serving(&plugin, pid, "a 20 kB path");
    // Garbage instead of HTTP.
    let mut s = UnixStream::connect(&plugin.socket).expect("connect");
    s.write_all(b"\x00\xff\xfe garbage\r\n\r\n").expect("send");
    let _ = s.read_to_end(&mut Vec::new());
    assert_serving(&plugin, pid, "garbage");
}

#[test]
fn a_client_that_never_finishes_its_request_is_dropped_and_others_are_served() {
    testbed();
    let plugin = Plugin::start();
    let pid = plugin.pid();
    // Half a head, and half a body, then silence.
    let mut head_only = UnixStream::connect(&plugin.socket).expect("connect");
    head_only.write_all(b"POST /Plugin.Activate HTTP/1.1\r\nHost: plug").expect("send");
    let mut half_body = UnixStream::connect(&plugin.socket).expect("connect");
    half_body
        .write_all(b"POST /NetworkDriver.Join HTTP/1.1\r\nHost: p\r\nContent-Length: 100\r\n\r\n{\"Net")
        .expect("send");
    let started = Instant::now();
    // Meanwhile everyone else is served at once.
    for _ in 0..20 {
        assert_serving(&plugin, pid, "a stalled client");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "stalled clients slowed the others down");
    for (what, mut s) in [("head", head_only), ("body", half_body)] {
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("set a read timeout");
        let mut rest = Vec::new();
        let r = s.read_to_end(&mut rest);
        assert!(r.is_ok(), "the plugin kept a client that never finished its {what} for 30 s");
        assert!(started.elapsed() < Duration::from_secs(25), "{what}: dropped only after {:?}", started.elapsed());
    }
    assert_serving(&plugin, pid, "dropping stalled clients");
}
