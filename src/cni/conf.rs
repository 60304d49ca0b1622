//! What a CNI call is given: the `CNI_*` environment and the network
//! configuration on standard input, checked before anything is changed.

use serde::Deserialize;
use serde_json::Value;

use super::types::{code, is_supported, CniError, CniResult, SUPPORTED_VERSIONS};
use crate::config::{parse_bridge, parse_datapath_type, parse_mtu, IfName, Mac};

/// The verbs of CNI 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Del,
    Check,
    Version,
    Status,
    Gc,
}

impl Verb {
    pub fn parse(s: &str) -> CniResult<Verb> {
        Ok(match s {
            "ADD" => Verb::Add,
            "DEL" => Verb::Del,
            "CHECK" => Verb::Check,
            "VERSION" => Verb::Version,
            "STATUS" => Verb::Status,
            "GC" => Verb::Gc,
            other => return Err(CniError::new(code::INVALID_ENV, format!("unknown CNI_COMMAND \"{other}\""))),
        })
    }
}

/// The environment of an ADD, DEL or CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub container_id: String,
    /// None on a DEL whose namespace is gone.
    pub netns: Option<String>,
    pub ifname: IfName,
    /// `CNI_ARGS`' `MAC=`.
    pub mac: Option<Mac>,
}

impl Env {
    /// Read from `get` (the process environment in real use).
    pub fn read(verb: Verb, get: &dyn Fn(&str) -> Option<String>) -> CniResult<Env> {
        let need = |k: &str| get(k).filter(|v| !v.is_empty());
        let missing = |k: &str| CniError::new(code::INVALID_ENV, format!("{k} is not set"));
        let container_id = need("CNI_CONTAINERID").ok_or_else(|| missing("CNI_CONTAINERID"))?;
        let id_ok = container_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !id_ok || !container_id.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(CniError::new(code::INVALID_ENV, format!("invalid CNI_CONTAINERID \"{container_id}\"")));
        }
        let netns = need("CNI_NETNS");
        if netns.is_none() && verb != Verb::Del {
            return Err(missing("CNI_NETNS"));
        }
        let ifname = need("CNI_IFNAME").ok_or_else(|| missing("CNI_IFNAME"))?;
        let ifname: IfName =
            ifname.parse().map_err(|e: String| CniError::new(code::INVALID_ENV, format!("CNI_IFNAME: {e}")))?;
        let mut mac = None;
        for pair in get("CNI_ARGS").unwrap_or_default().split(';').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("MAC", v)) => mac = Some(parse_mac(v, "CNI_ARGS MAC")?),
                Some(_) => {}
                None => return Err(CniError::new(code::INVALID_ENV, format!("invalid CNI_ARGS item \"{pair}\""))),
            }
        }
        Ok(Env { container_id, netns, ifname, mac })
    }
}

/// A trunk entry as ovs-cni takes it: `{"id": 10}` or `{"minID": 10, "maxID": 20}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TrunkEntry {
    pub id: Option<u16>,
    #[serde(rename = "minID")]
    pub min_id: Option<u16>,
    #[serde(rename = "maxID")]
    pub max_id: Option<u16>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuntimeConfig {
    pub mac: Option<String>,
}

/// A GC's valid attachment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Attachment {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
}

/// The network configuration, as decoded (unknown keys are ignored, as the
/// spec asks).
#[derive(Debug, Clone, Deserialize)]
pub struct RawConf {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    #[serde(default)]
    pub name: String,
    pub bridge: Option<String>,
    pub mtu: Option<u32>,
    pub vlan: Option<u32>,
    pub trunk: Option<Vec<TrunkEntry>>,
    pub mac: Option<String>,
    pub ingress_rate: Option<u32>,
    pub ingress_burst: Option<u32>,
    pub iface_id: Option<String>,
    pub datapath_type: Option<String>,
    /// The OVSDB endpoint (default: the local socket).
    pub ovsdb: Option<String>,
    pub ipam: Option<Value>,
    #[serde(rename = "prevResult")]
    pub prev_result: Option<Value>,
    #[serde(rename = "runtimeConfig", default)]
    pub runtime_config: RuntimeConfig,
    #[serde(rename = "cni.dev/valid-attachments")]
    pub valid_attachments: Option<Vec<Attachment>>,
}

/// The network configuration, checked.
#[derive(Debug, Clone)]
pub struct NetConf {
    pub cni_version: String,
    pub name: String,
    pub bridge: String,
    pub mtu: Option<u32>,
    pub vlan: Option<u16>,
    pub trunks: Vec<u16>,
    pub mac: Option<Mac>,
    pub ingress_rate: Option<u32>,
    pub ingress_burst: Option<u32>,
    pub iface_id: Option<String>,
    pub datapath_type: Option<String>,
    pub ovsdb: Option<String>,
    /// The IPAM plugin's type, if any.
    pub ipam: Option<String>,
    pub prev_result: Option<Value>,
    pub valid_attachments: Option<Vec<Attachment>>,
}

/// The `cniVersion` of `stdin`, if it can be read at all (for errors).
pub fn version_of(stdin: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(stdin).ok()?;
    v.get("cniVersion")?.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// Decode and check the configuration.
pub fn parse(stdin: &[u8]) -> CniResult<NetConf> {
    let raw: RawConf = serde_json::from_slice(stdin)
        .map_err(|e| CniError::new(code::DECODE_FAILURE, format!("decode the network configuration: {e}")))?;
    if !is_supported(&raw.cni_version) {
        return Err(CniError::new(
            code::INCOMPATIBLE_VERSION,
            format!("unsupported cniVersion \"{}\"", raw.cni_version),
        )
        .with_details(format!("supported: {}", SUPPORTED_VERSIONS.join(", "))));
    }
    let invalid = |m: String| CniError::new(code::INVALID_CONFIG, m);
    if raw.name.is_empty() {
        return Err(invalid("the network configuration has no \"name\"".into()));
    }
    let bridge = raw.bridge.clone().ok_or_else(|| invalid("the network configuration has no \"bridge\"".into()))?;
    let bridge = parse_bridge(&bridge).map_err(|e| invalid(format!("\"bridge\": {e}")))?;
    let mtu = raw.mtu.map(|m| parse_mtu(&m.to_string())).transpose().map_err(|e| invalid(format!("\"mtu\": {e}")))?;
    let vlan = match raw.vlan {
        Some(v) if v > 4095 => return Err(invalid(format!("\"vlan\": {v} is not 0 to 4095"))),
        v => v.map(|v| v as u16),
    };
    let trunks = trunks(raw.trunk.as_deref().unwrap_or_default()).map_err(invalid)?;
    // The runtime's MAC wins over the configuration's.
    let mac = match raw.runtime_config.mac.as_deref().or(raw.mac.as_deref()) {
        Some(m) => Some(parse_mac(m, "\"mac\"")?),
        None => None,
    };
    if raw.ingress_burst.is_some() && raw.ingress_rate.is_none() {
        return Err(invalid("\"ingress_burst\" needs \"ingress_rate\"".into()));
    }
    if let Some(id) = raw.iface_id.as_deref().filter(|i| i.is_empty() || i.contains(char::is_whitespace)) {
        return Err(invalid(format!("\"iface_id\": invalid logical port name \"{id}\"")));
    }
    let datapath_type = raw
        .datapath_type
        .as_deref()
        .map(parse_datapath_type)
        .transpose()
        .map_err(|e| invalid(format!("\"datapath_type\": {e}")))?;
    let ipam = match &raw.ipam {
        None => None,
        Some(v) if v.as_object().is_some_and(|m| m.is_empty()) => None,
        Some(v) => Some(ipam_type(v).map_err(invalid)?),
    };
    Ok(NetConf {
        cni_version: raw.cni_version,
        name: raw.name,
        bridge,
        mtu,
        vlan,
        trunks,
        mac,
        ingress_rate: raw.ingress_rate,
        ingress_burst: raw.ingress_burst,
        iface_id: raw.iface_id,
        datapath_type,
        ovsdb: raw.ovsdb,
        ipam,
        prev_result: raw.prev_result,
        valid_attachments: raw.valid_attachments,
    })
}

fn ipam_type(v: &Value) -> Result<String, String> {
    let t = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let plain = !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) && t != "..";
    if plain {
        Ok(t.to_string())
    } else {
        Err(format!("\"ipam\": invalid or missing \"type\" \"{}\"", t.escape_default()))
    }
}

fn parse_mac(s: &str, what: &str) -> CniResult<Mac> {
    s.parse().map_err(|e: String| CniError::new(code::INVALID_CONFIG, format!("{what}: {e}")))
}

/// The VLANs of ovs-cni's `trunk` list, sorted and without repeats.
fn trunks(entries: &[TrunkEntry]) -> Result<Vec<u16>, String> {
    let mut v = std::collections::BTreeSet::new();
    for e in entries {
        let (lo, hi) = match (e.id, e.min_id, e.max_id) {
            (Some(id), None, None) => (id, id),
            (None, Some(lo), Some(hi)) if lo <= hi => (lo, hi),
            _ => return Err("\"trunk\": each entry is {\"id\": N} or {\"minID\": N, \"maxID\": M} with N <= M".into()),
        };
        if hi > 4095 {
            return Err(format!("\"trunk\": VLAN {hi} is not 0 to 4095"));
        }
        v.extend(lo..=hi);
    }
    Ok(v.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(extra: &str) -> CniResult<NetConf> {
        parse(format!(r#"{{"cniVersion":"1.0.0","name":"n","type":"ovs","bridge":"br0"{extra}}}"#).as_bytes())
    }

    #[test]
    fn a_good_configuration_is_read() {
        let c = conf(r#","vlan":10,"trunk":[{"id":20},{"minID":30,"maxID":32}],"mtu":1400,"mac":"02:00:00:00:00:01","runtimeConfig":{"mac":"02:00:00:00:00:02"},"ipam":{"type":"host-local"}"#).unwrap();
        assert_eq!((c.vlan, c.trunks, c.mtu), (Some(10), vec![20, 30, 31, 32], Some(1400)));
        assert_eq!(c.mac, Some("02:00:00:00:00:02".parse().unwrap()));
        assert_eq!(c.ipam.as_deref(), Some("host-local"));
    }

    #[test]
    fn bad_configurations_get_their_code() {
        for (extra, code, why) in [
            (r#","vlan":5000"#, 7, "vlan"),
            (r#","trunk":[{"minID":5,"maxID":2}]"#, 7, "trunk"),
            (r#","mac":"zz""#, 7, "mac"),
            (r#","ipam":{"type":"../x"}"#, 7, "ipam"),
            (r#","mtu":10"#, 7, "mtu"),
            (r#","ingress_burst":10"#, 7, "ingress_rate"),
        ] {
            let e = conf(extra).unwrap_err();
            assert_eq!(e.code, code, "{extra}");
            assert!(e.msg.contains(why), "{}", e.msg);
        }
        assert_eq!(parse(b"{").unwrap_err().code, 6);
        assert_eq!(parse(br#"{"cniVersion":"9.9.9","name":"n","bridge":"b"}"#).unwrap_err().code, 1);
        assert_eq!(parse(br#"{"cniVersion":"1.0.0","name":"n"}"#).unwrap_err().code, 7);
    }

    #[test]
    fn the_environment_is_checked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let ok = env(&[
            ("CNI_CONTAINERID", "abc"),
            ("CNI_NETNS", "/run/netns/x"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_ARGS", "IgnoreUnknown=1;MAC=02:00:00:00:00:09"),
        ]);
        let e = Env::read(Verb::Add, &ok).unwrap();
        assert_eq!(e.mac, Some("02:00:00:00:00:09".parse().unwrap()));
        let no_ns = env(&[("CNI_CONTAINERID", "abc"), ("CNI_IFNAME", "eth0")]);
        assert_eq!(Env::read(Verb::Add, &no_ns).unwrap_err().code, 4);
        assert!(Env::read(Verb::Del, &no_ns).is_ok());
        let bad_id = env(&[("CNI_CONTAINERID", "a/b"), ("CNI_IFNAME", "eth0")]);
        assert_eq!(Env::read(Verb::Del, &bad_id).unwrap_err().code, 4);
        assert_eq!(Verb::parse("FOO").unwrap_err().code, 4);
    }
}
