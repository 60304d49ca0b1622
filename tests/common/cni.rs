//! Driving the binary as a CNI plugin: the spec's environment and a
//! network configuration on standard input; and a CNI network (an OVS
//! bridge, a subnet and host-local's data folder) that cleans up after itself.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::*;

/// Where Debian's containernetworking-plugins puts host-local.
pub const CNI_PATH: &str = "/usr/lib/cni";

/// What one CNI call gave.
#[derive(Debug)]
pub struct CniOut {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CniOut {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.code, Some(0), "{self:?}");
        if self.stdout.trim().is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
    /// A CNI error with this code: exit 1 and the error object on stdout.
    #[track_caller]
    pub fn error(&self, code: u64, needle: &str) -> Value {
        assert_eq!(self.code, Some(1), "{self:?}");
        let v = self.json();
        assert_eq!(v["code"], code, "{self:?}");
        assert!(v["msg"].as_str().is_some_and(|m| m.contains(needle)), "{needle:?} not in {self:?}");
        assert!(v["cniVersion"].is_string(), "{self:?}");
        v
    }
}

/// Run the binary under test (or `program`) as the runtime would.
pub fn cni_call_with(program: &str, verb: &str, conf: &Value, env: &[(&str, &str)]) -> CniOut {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CNI_COMMAND", verb)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("run {program}: {e}"));
    let input = conf.to_string();
    child.stdin.take().map(|mut s| s.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("wait for {program}: {e}"));
    CniOut {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn cni_call(verb: &str, conf: &Value, env: &[(&str, &str)]) -> CniOut {
    cni_call_with(bin(), verb, conf, env)
}

/// A CNI network on its own bridge and subnet; host-local keeps its
/// allocations in a folder of its own.
pub struct CniNet {
    pub name: String,
    pub bridge: TestBridge,
    pub subnet: Subnet,
    pub ipam_dir: String,
}

impl CniNet {
    pub fn new() -> CniNet {
        let name = format!("{PREFIX}-{}", rand_hex(8));
        let ipam_dir = format!("/run/ovs-docker-testbed/{name}-ipam");
        CniNet { name, bridge: TestBridge::new(), subnet: Subnet::new(), ipam_dir }
    }

    /// The network configuration, with host-local on the subnet and `extra` merged in.
    pub fn conf(&self, extra: Value) -> Value {
        let mut c = json!({
            "cniVersion": "1.0.0",
            "name": self.name,
            "type": "ovs-docker",
            "bridge": self.bridge.name,
            "ipam": {
                "type": "host-local",
                "subnet": format!("10.{}.{}.0/24", 200 + self.subnet.x, self.subnet.y),
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": self.ipam_dir,
            },
        });
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    }

    /// Addresses host-local still holds for this network.
    pub fn allocations(&self) -> Vec<String> {
        let dir = format!("{}/{}", self.ipam_dir, self.name);
        let Ok(entries) = std::fs::read_dir(&dir) else { return vec![] };
        entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
            .collect()
    }

    /// Rows of this network's ports.
    pub fn rows(&self) -> Vec<IfaceRow> {
        interface_rows().into_iter().filter(|r| r.id("cni_network") == Some(self.name.as_str())).collect()
    }

    /// Nothing of this network is left: no row, no marked veth, no address held.
    #[track_caller]
    pub fn assert_empty(&self, namespaces: &[&TestNetns]) {
        assert!(self.rows().is_empty(), "rows left: {:?}", self.rows());
        for ns in namespaces {
            let marked = marked_veths(&format!("netns:{}", ns.path()));
            assert!(marked.is_empty(), "veths left for {}: {marked:?}", ns.name);
        }
        assert!(self.allocations().is_empty(), "addresses still held: {:?}", self.allocations());
        assert!(self.bridge.ports().is_empty(), "ports left: {:?}", self.bridge.ports());
    }
}

impl Drop for CniNet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.ipam_dir);
    }
}

/// The environment of an ADD, DEL or CHECK.
pub fn cni_env<'a>(id: &'a str, netns: &'a str, ifname: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("CNI_CONTAINERID", id), ("CNI_NETNS", netns), ("CNI_IFNAME", ifname), ("CNI_PATH", CNI_PATH)]
}
