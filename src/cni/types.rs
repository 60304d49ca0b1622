//! The CNI specification's values (1.0 and 1.1): the error object with its
//! well-known codes, and the success result (interfaces, IPs, routes, DNS).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Kind};

/// The versions whose configuration and result we speak (the result format
/// is the same from 0.3.0 on; 0.3.x also says each IP's `version`).
pub const SUPPORTED_VERSIONS: [&str; 5] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
/// What we answer in when the configuration cannot tell.
pub const LATEST: &str = "1.1.0";

/// The spec's well-known error codes (and ours, from 100 on).
pub mod code {
    pub const INCOMPATIBLE_VERSION: u32 = 1;
    pub const UNSUPPORTED_FIELD: u32 = 2;
    pub const UNKNOWN_CONTAINER: u32 = 3;
    pub const INVALID_ENV: u32 = 4;
    pub const IO_FAILURE: u32 = 5;
    pub const DECODE_FAILURE: u32 = 6;
    pub const INVALID_CONFIG: u32 = 7;
    pub const TRY_AGAIN_LATER: u32 = 11;
    /// STATUS: the plugin cannot serve ADD now.
    pub const NOT_AVAILABLE: u32 = 50;
    /// Ours: refused (a port already attached, a missing interface on CHECK...).
    pub const REFUSED: u32 = 100;
}

/// A CNI error, as written on standard output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniError {
    pub code: u32,
    pub msg: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError { code, msg: msg.into(), details: String::new() }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    /// An error of the port layer: bad input is invalid config, a refusal
    /// is ours, a daemon that cannot be reached is worth a retry, and any
    /// other daemon or kernel failure is an I/O failure.
    pub fn from_port(step: &str, e: &Error) -> Self {
        let code = match (e.kind(), e) {
            (Kind::Usage, _) => code::INVALID_CONFIG,
            (Kind::Refused, _) => code::REFUSED,
            (_, Error::Ovsdb { step, .. }) if step.starts_with("connect to OVSDB") => code::TRY_AGAIN_LATER,
            _ => code::IO_FAILURE,
        };
        CniError::new(code, format!("{step}: {e}"))
    }

    pub fn to_json(&self, cni_version: &str) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("cniVersion".into(), cni_version.into());
        }
        v
    }
}

pub type CniResult<T> = std::result::Result<T, CniError>;

/// One interface of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
}

/// One address of a result: `address` is CIDR (`10.1.0.2/24`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
    /// 0.3.x only ("4" or "6").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteConfig {
    pub dst: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<String>,
}

/// A success result (of ADD; an IPAM plugin's too, without interfaces).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CniResultBody {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub ips: Vec<IpConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
    /// Passed through from IPAM as it came.
    #[serde(default, skip_serializing_if = "is_empty_dns")]
    pub dns: Value,
}

fn is_empty_dns(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(|m| m.is_empty())
}

/// Whether `v` is a version we speak.
pub fn is_supported(v: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_version_code_and_message() {
        let e = CniError::new(code::INVALID_CONFIG, "missing \"bridge\"");
        let v = e.to_json("1.0.0");
        assert_eq!(v["cniVersion"], "1.0.0");
        assert_eq!(v["code"], 7);
        assert!(v.get("details").is_none());
        assert_eq!(CniError::from_port("x", &Error::refused("busy")).code, code::REFUSED);
        assert_eq!(CniError::from_port("x", &Error::invalid("bad")).code, code::INVALID_CONFIG);
    }

    #[test]
    fn an_ipam_result_decodes_and_dns_passes_through() {
        let r: CniResultBody = serde_json::from_str(
            r#"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/24","gateway":"10.1.0.1"}],
                "routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.1"]}}"#,
        )
        .unwrap();
        assert_eq!(r.ips[0].address, "10.1.0.2/24");
        assert_eq!(r.routes[0].gw, None);
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["dns"]["nameservers"][0], "10.1.0.1");
        assert!(out.get("interfaces").is_none());
    }
}
