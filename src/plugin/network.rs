//! A network's settings: parsed from `docker network create` (driver
//! options and Docker's IPAM data), and kept as external_ids on its Bridge
//! row, which is the only place they live.

use std::collections::BTreeMap;
use std::str::FromStr;

use ipnetwork::IpNetwork;
use serde_json::Value;

use super::protocol::{CreateNetworkRequest, IpamData, ENABLE_IPV6, GENERIC_OPTIONS};
use crate::config::{self, IfName};
use crate::ovsdb::keys;

pub const OPTIONS: [&str; 10] =
    ["bridge", "mode", "mtu", "vlan", "bind_interface", "icc", "ovn_switch", "ovn_router", DOCKER_MTU, DOCKER_ICC];

/// The bridge of a mode=ovn network unless `-o bridge=` names another: the
/// one ovn-controller manages.
pub const OVN_BRIDGE: &str = "br-int";

/// Docker's own keys for the MTU and inter-container connectivity (its
/// bridge driver's), taken like `mtu` and `icc`.
pub const DOCKER_MTU: &str = "com.docker.network.driver.mtu";
pub const DOCKER_ICC: &str = "com.docker.network.bridge.enable_icc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The gateway on the bridge; what leaves the subnet is masqueraded.
    Nat,
    /// The gateway on the bridge; the host routes the subnet, no NAT: other
    /// hosts reach containers by their own addresses.
    Routed,
    /// Pure layer 2: nothing on the host.
    Flat,
    /// The network is an OVN logical switch shared by every host that
    /// creates it (see [`crate::plugin::ovn`]).
    Ovn,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Nat => "nat",
            Mode::Routed => "routed",
            Mode::Flat => "flat",
            Mode::Ovn => "ovn",
        }
    }

    /// The `mode` driver option.
    fn parse(text: &str) -> Result<Mode, String> {
        match text {
            "nat" => Ok(Mode::Nat),
            "routed" => Ok(Mode::Routed),
            "flat" => Ok(Mode::Flat),
            "ovn" => Ok(Mode::Ovn),
            _ => Err(format!("driver option mode: \"{}\" is not nat, routed, flat or ovn", text.escape_default())),
        }
    }

    /// Whether the host is the network's router: the gateway address on
    /// the bridge's internal port, forwarding, firewall rules.
    pub fn host_routes(self) -> bool {
        matches!(self, Mode::Nat | Mode::Routed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    pub id: String,
    pub bridge: String,
    pub mode: Mode,
    pub mtu: Option<u32>,
    pub vlan: Option<u16>,
    pub bind_interface: Option<String>,
    /// Whether containers of the network may reach each other (else their
    /// ports are protected: they reach only the gateway and the uplink).
    pub icc: bool,
    /// `--internal`: no NAT, no forwarding out, no gateway given to Docker.
    pub internal: bool,
    /// (subnet, gateway with the subnet's prefix length).
    pub v4: Option<(IpNetwork, Option<IpNetwork>)>,
    pub v6: Option<(IpNetwork, Option<IpNetwork>)>,
    /// mode=ovn: the logical switch, and the logical router of its gateway
    /// (None: a router of the network's own).
    pub ovn_switch: Option<String>,
    pub ovn_router: Option<String>,
}

/// The bridge of a network that `-o bridge=` did not name: `ovs-` and the
/// start of the network ID (15 bytes, the kernel's limit).
pub fn default_bridge(network_id: &str) -> String {
    let hex: String = network_id.chars().filter(char::is_ascii_alphanumeric).take(11).collect();
    format!("ovs-{hex}")
}

fn parse_bool(key: &str, text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("driver option {key}: \"{}\" is not true or false", text.escape_default())),
    }
}

pub(super) fn option_text(key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("driver option {key}: expected a string, got {v}")),
    }
}

fn ipam(data: &Option<Vec<IpamData>>, family: &str) -> Result<Option<(IpNetwork, Option<IpNetwork>)>, String> {
    let list: Vec<&IpamData> = data.iter().flatten().filter(|d| !d.pool.is_empty()).collect();
    match list.as_slice() {
        [] => Ok(None),
        [d] => {
            let pool = IpNetwork::from_str(&d.pool).map_err(|e| format!("{family} subnet \"{}\": {e}", d.pool))?;
            let gw = if d.gateway.is_empty() {
                None
            } else {
                Some(IpNetwork::from_str(&d.gateway).map_err(|e| format!("{family} gateway \"{}\": {e}", d.gateway))?)
            };
            Ok(Some((pool, gw)))
        }
        _ => Err(format!("only one {family} subnet per network is supported, got {}", list.len())),
    }
}

/// A logical switch or router name given as an option: 1 to 64 letters,
/// digits, `-`, `_` or `.` (it becomes part of port names).
pub fn parse_ovn_name(key: &str, text: &str) -> Result<String, String> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    if text.is_empty() || text.len() > 64 || !text.bytes().all(ok) {
        return Err(format!(
            "option {key}: \"{}\" is not 1 to 64 letters, digits, '-', '_' or '.'",
            text.escape_default()
        ));
    }
    Ok(text.to_string())
}

/// Set in CreateNetwork's Options by `docker network create --internal`.
const INTERNAL: &str = "com.docker.network.internal";

impl NetworkConfig {
    /// Validate a CreateNetwork request. Nothing is looked up or changed:
    /// every message names the option at fault.
    pub fn from_request(r: &CreateNetworkRequest) -> Result<Self, String> {
        if r.network_id.is_empty() || !r.network_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("invalid network ID \"{}\"", r.network_id.escape_default()));
        }
        let opts = r.options.as_ref();
        let generic = match opts.and_then(|o| o.get(GENERIC_OPTIONS)) {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => return Err(format!("driver options: expected an object, got {other}")),
        };
        let internal = opts.and_then(|o| o.get(INTERNAL)).is_some_and(|v| v == true || v == "true");
        let mut icc = true;
        let mut bridge = None;
        let mut mode = Mode::Nat;
        let (mut mtu, mut vlan, mut bind_interface) = (None, None, None);
        let (mut ovn_switch, mut ovn_router) = (None, None);
        for (k, v) in &generic {
            let text = option_text(k, v)?;
            match k.as_str() {
                "bridge" => {
                    bridge = Some(config::parse_bridge(&text).map_err(|e| format!("driver option bridge: {e}"))?)
                }
                "mode" => mode = Mode::parse(&text)?,
                "ovn_switch" => ovn_switch = Some(parse_ovn_name(k, &text)?),
                "ovn_router" => ovn_router = Some(parse_ovn_name(k, &text)?),
                "mtu" | DOCKER_MTU => {
                    mtu = Some(config::parse_mtu(&text).map_err(|e| format!("driver option {k}: {e}"))?)
                }
                "icc" | DOCKER_ICC => icc = parse_bool(k, &text)?,
                "vlan" => vlan = Some(config::parse_vlan(&text).map_err(|e| format!("driver option vlan: {e}"))?),
                "bind_interface" => {
                    let name = IfName::from_str(&text).map_err(|e| format!("driver option bind_interface: {e}"))?;
                    bind_interface = Some(name.as_str().to_string());
                }
                other => {
                    return Err(format!(
                        "unknown driver option \"{}\" (known: {})",
                        other.escape_default(),
                        OPTIONS.join(", ")
                    ))
                }
            }
        }
        let bridge = bridge.unwrap_or_else(|| match mode {
            Mode::Ovn => OVN_BRIDGE.to_string(),
            _ => default_bridge(&r.network_id),
        });
        if bind_interface.is_some() && mode != Mode::Flat {
            return Err(format!(
                "driver option bind_interface needs mode=flat (a {} network routes through the host)",
                mode.as_str()
            ));
        }
        let v4 = ipam(&r.ipv4_data, "IPv4")?;
        let ipv6_enabled = opts.and_then(|o| o.get(ENABLE_IPV6)).is_some_and(|v| v == true || v == "true");
        let v6 = if ipv6_enabled { ipam(&r.ipv6_data, "IPv6")? } else { None };
        if mode.host_routes() && v4.as_ref().is_none_or(|(_, gw)| gw.is_none()) {
            return Err(format!("mode {} needs an IPv4 subnet with a gateway", mode.as_str()));
        }
        if let (Some(_), Some(m)) = (&v6, mtu) {
            if m < 1280 {
                return Err(format!("driver option mtu: IPv6 needs at least 1280, not {m}"));
            }
        }
        if internal && bind_interface.is_some() {
            return Err("driver option bind_interface: an internal network (--internal) has no uplink".into());
        }
        if bind_interface.as_deref() == Some(bridge.as_str()) {
            return Err("driver option bind_interface: the bridge itself cannot be its uplink".into());
        }
        let cfg = NetworkConfig {
            id: r.network_id.clone(),
            bridge,
            mode,
            mtu,
            vlan,
            bind_interface,
            icc,
            internal,
            v4,
            v6,
            ovn_switch,
            ovn_router,
        };
        cfg.check_ovn()?;
        Ok(cfg)
    }

    /// What mode=ovn needs and refuses, and the OVN options without it.
    fn check_ovn(&self) -> Result<(), String> {
        if self.mode != Mode::Ovn {
            if self.ovn_switch.is_some() || self.ovn_router.is_some() {
                return Err("driver options ovn_switch and ovn_router need mode=ovn".into());
            }
            return Ok(());
        }
        if self.ovn_switch.is_none() {
            return Err("mode ovn needs driver option ovn_switch (the logical switch, the same on every host)".into());
        }
        if !matches!(self.v4, Some((IpNetwork::V4(_), Some(_)))) || self.v6.is_some() {
            return Err("mode ovn needs an IPv4 subnet with a gateway (and no IPv6)".into());
        }
        let unsupported = [
            (self.vlan.is_some(), "vlan"),
            (self.bind_interface.is_some(), "bind_interface"),
            (!self.icc, "icc=false"),
            (self.internal, "--internal"),
        ];
        match unsupported.iter().find(|(set, _)| *set) {
            Some((_, what)) => Err(format!("mode ovn: {what} is not supported")),
            None => Ok(()),
        }
    }

    /// The Bridge row's external_ids (without `created_by`).
    pub fn to_ids(&self, driver: &str) -> Vec<(&'static str, String)> {
        let mut ids = vec![
            (keys::iface::NETWORK_ID, self.id.clone()),
            (keys::bridge::MODE, self.mode.as_str().to_string()),
            (keys::bridge::DRIVER, driver.to_string()),
        ];
        if let Some(m) = self.mtu {
            ids.push((keys::bridge::MTU, m.to_string()));
        }
        if let Some(v) = self.vlan {
            ids.push((keys::bridge::VLAN, v.to_string()));
        }
        if let Some(b) = &self.bind_interface {
            ids.push((keys::bridge::BIND_INTERFACE, b.clone()));
        }
        if !self.icc {
            ids.push((keys::bridge::ICC, "false".to_string()));
        }
        if self.internal {
            ids.push((keys::bridge::INTERNAL, "true".to_string()));
        }
        if let Some(s) = &self.ovn_switch {
            ids.push((keys::bridge::OVN_SWITCH, s.clone()));
        }
        if let Some(r) = &self.ovn_router {
            ids.push((keys::bridge::OVN_ROUTER, r.clone()));
        }
        let fams = [&self.v4, &self.v6];
        let subnets: Vec<String> = fams.iter().filter_map(|f| f.as_ref().map(|(s, _)| s.to_string())).collect();
        let gws: Vec<String> =
            fams.iter().filter_map(|f| f.as_ref().and_then(|(_, g)| g.map(|g| g.to_string()))).collect();
        if !subnets.is_empty() {
            ids.push((keys::bridge::SUBNETS, subnets.join(",")));
        }
        if !gws.is_empty() {
            ids.push((keys::bridge::GATEWAYS, gws.join(",")));
        }
        ids
    }

    /// Read back what [`NetworkConfig::to_ids`] wrote on bridge `bridge`.
    pub fn from_ids(bridge: &str, ids: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |k: &str| ids.get(k).map(String::as_str);
        let id = get(keys::iface::NETWORK_ID).ok_or("no network ID")?.to_string();
        let mode = match get(keys::bridge::MODE) {
            Some("flat") => Mode::Flat,
            Some("ovn") => Mode::Ovn,
            Some("routed") => Mode::Routed,
            _ => Mode::Nat,
        };
        let bad = |k: &str, e: String| format!("bridge {bridge}: external_ids:{k}: {e}");
        let mtu = get(keys::bridge::MTU).map(config::parse_mtu).transpose().map_err(|e| bad(keys::bridge::MTU, e))?;
        let vlan =
            get(keys::bridge::VLAN).map(config::parse_vlan).transpose().map_err(|e| bad(keys::bridge::VLAN, e))?;
        let parse_list = |k: &str| -> Result<Vec<IpNetwork>, String> {
            get(k)
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| IpNetwork::from_str(s).map_err(|e| bad(k, e.to_string())))
                .collect()
        };
        let subnets = parse_list(keys::bridge::SUBNETS)?;
        let gws = parse_list(keys::bridge::GATEWAYS)?;
        let fam = |v4: bool| {
            subnets.iter().find(|s| s.is_ipv4() == v4).map(|s| (*s, gws.iter().find(|g| g.is_ipv4() == v4).copied()))
        };
        Ok(NetworkConfig {
            id,
            bridge: bridge.to_string(),
            mode,
            mtu,
            vlan,
            bind_interface: get(keys::bridge::BIND_INTERFACE).map(str::to_string),
            icc: get(keys::bridge::ICC) != Some("false"),
            internal: get(keys::bridge::INTERNAL) == Some("true"),
            v4: fam(true),
            v6: fam(false),
            ovn_switch: get(keys::bridge::OVN_SWITCH).map(str::to_string),
            ovn_router: get(keys::bridge::OVN_ROUTER).map(str::to_string),
        })
    }

    pub fn gateways(&self) -> impl Iterator<Item = IpNetwork> + '_ {
        [&self.v4, &self.v6].into_iter().filter_map(|f| f.as_ref().and_then(|(_, g)| *g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(generic: Value) -> CreateNetworkRequest {
        serde_json::from_value(json!({
            "NetworkID": "0123456789abcdef0123",
            "Options": {"com.docker.network.generic": generic, "com.docker.network.enable_ipv6": true},
            "IPv4Data": [{"Pool": "10.20.0.0/24", "Gateway": "10.20.0.1/24"}],
            "IPv6Data": [{"Pool": "fd00:20::/64", "Gateway": "fd00:20::1/64"}]
        }))
        .unwrap()
    }

    #[test]
    fn defaults_and_round_trip() {
        let c = NetworkConfig::from_request(&req(json!({}))).unwrap();
        assert_eq!(c.bridge, "ovs-0123456789a");
        assert_eq!(c.mode, Mode::Nat);
        let c = NetworkConfig::from_request(&req(
            json!({"bridge": "br-app", "mode": "nat", "mtu": "1450", "vlan": "10", "icc": "false"}),
        ))
        .unwrap();
        assert!(!c.icc && !c.internal);
        let ids: BTreeMap<String, String> = c.to_ids("ovs").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(ids[keys::bridge::GATEWAYS], "10.20.0.1/24,fd00:20::1/64");
        assert_eq!(NetworkConfig::from_ids("br-app", &ids).unwrap(), c);
    }

    #[test]
    fn bad_options_are_refused_with_their_name() {
        for (opts, needle) in [
            (json!({"colour": "red"}), "unknown driver option \"colour\""),
            (json!({"mode": "bridge"}), "mode"),
            (json!({"mtu": "12"}), "mtu"),
            (json!({"mtu": "1000"}), "IPv6 needs at least 1280"),
            (json!({"vlan": "5000"}), "vlan"),
            (json!({"bridge": "a-name-far-too-long"}), "bridge"),
            (json!({"bind_interface": "eth0"}), "needs mode=flat"),
            (json!({"icc": "no"}), "driver option icc"),
            (json!({DOCKER_ICC: "maybe"}), DOCKER_ICC),
            (json!({DOCKER_MTU: "20"}), DOCKER_MTU),
        ] {
            let e = NetworkConfig::from_request(&req(opts.clone())).unwrap_err();
            assert!(e.contains(needle), "{opts}: {e}");
        }
        assert!(NetworkConfig::from_request(&req(json!({"mode": "flat", "bind_interface": "eth0"}))).is_ok());
        let e = NetworkConfig::from_request(&req(json!({"mode": "routed", "bind_interface": "eth0"}))).unwrap_err();
        assert!(e.contains("a routed network routes through the host"), "{e}");
    }

    #[test]
    fn routed_mode_round_trips_and_needs_a_gateway() {
        let c = NetworkConfig::from_request(&req(json!({"mode": "routed"}))).unwrap();
        assert_eq!(c.mode, Mode::Routed);
        let ids: BTreeMap<String, String> = c.to_ids("ovs").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(ids[keys::bridge::MODE], "routed");
        assert_eq!(NetworkConfig::from_ids(&c.bridge, &ids).unwrap(), c);
        let mut r = req(json!({"mode": "routed"}));
        r.ipv4_data = None;
        assert!(NetworkConfig::from_request(&r).unwrap_err().contains("mode routed needs an IPv4 subnet"));
    }

    #[test]
    fn mode_ovn_needs_a_switch_and_refuses_what_ovn_does_not_carry() {
        let mut r = req(json!({"mode": "ovn", "ovn_switch": "web", "ovn_router": "r1"}));
        r.options.as_mut().unwrap().remove(ENABLE_IPV6);
        let c = NetworkConfig::from_request(&r).unwrap();
        assert_eq!(
            (c.bridge.as_str(), c.ovn_switch.as_deref(), c.ovn_router.as_deref()),
            ("br-int", Some("web"), Some("r1"))
        );
        let ids: BTreeMap<String, String> = c.to_ids("ovs").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(NetworkConfig::from_ids(&c.bridge, &ids).unwrap(), c);
        for (opts, needle) in [
            (json!({"mode": "ovn"}), "needs driver option ovn_switch"),
            (json!({"mode": "ovn", "ovn_switch": "a b"}), "option ovn_switch"),
            (json!({"mode": "ovn", "ovn_switch": "web", "vlan": "5"}), "vlan is not supported"),
            (json!({"mode": "ovn", "ovn_switch": "web", "icc": "false"}), "icc=false"),
            (json!({"ovn_switch": "web"}), "need mode=ovn"),
        ] {
            let mut r = req(opts.clone());
            r.options.as_mut().unwrap().remove(ENABLE_IPV6);
            let e = NetworkConfig::from_request(&r).unwrap_err();
            assert!(e.contains(needle), "{opts}: {e}");
        }
        // With IPv6: refused (OVN's gateway router port here is IPv4 only).
        let e = NetworkConfig::from_request(&req(json!({"mode": "ovn", "ovn_switch": "web"}))).unwrap_err();
        assert!(e.contains("no IPv6"), "{e}");
    }

    #[test]
    fn dockers_own_keys_and_internal() {
        let c = NetworkConfig::from_request(&req(json!({DOCKER_MTU: "1400", DOCKER_ICC: "false"}))).unwrap();
        assert_eq!((c.mtu, c.icc), (Some(1400), false));
        let mut r = req(json!({}));
        r.options.as_mut().unwrap().insert(INTERNAL.into(), json!(true));
        let c = NetworkConfig::from_request(&r).unwrap();
        assert!(c.internal && c.icc);
        let ids: BTreeMap<String, String> = c.to_ids("ovs").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(NetworkConfig::from_ids(&c.bridge, &ids).unwrap(), c);
        r.options.as_mut().unwrap().insert(GENERIC_OPTIONS.into(), json!({"mode": "flat", "bind_interface": "eth0"}));
        assert!(NetworkConfig::from_request(&r).unwrap_err().contains("no uplink"));
    }
}
