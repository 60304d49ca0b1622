//! An endpoint's own settings: `docker network connect --driver-opt
//! KEY=VALUE NETWORK CONTAINER`, which reach CreateEndpoint's Options next
//! to Docker's own keys (`com.docker.network.endpoint.exposedports`,
//! `com.docker.network.portmap`...). They are kept on the endpoint's
//! Port and Interface rows (tag, trunks, ingress policing), nowhere else.

use std::collections::BTreeMap;

use serde_json::Value;

use super::network::option_text;
use crate::config::{self, Trunks};

/// The keys an endpoint takes.
pub const OPTIONS: [&str; 4] = ["vlan", "trunks", "ingress_rate", "ingress_burst"];

/// Docker's own keys, which are not ours to judge.
const DOCKER_PREFIX: &str = "com.docker.";

/// An endpoint's settings; empty ones take the network's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOptions {
    /// Access VLAN, overriding the network's; with `trunks`, the native VLAN.
    pub vlan: Option<u16>,
    pub trunks: Vec<u16>,
    /// kbit/s, and burst in kbit, as add-port's `--ingress-rate`/`--ingress-burst`.
    pub ingress_rate: Option<u32>,
    pub ingress_burst: Option<u32>,
}

impl EndpointOptions {
    /// Validate CreateEndpoint's Options. Nothing is looked up or changed:
    /// every message names the option at fault.
    pub fn from_options(options: &Option<BTreeMap<String, Value>>) -> Result<Self, String> {
        let mut o = EndpointOptions::default();
        for (k, v) in options.iter().flatten() {
            if k.starts_with(DOCKER_PREFIX) {
                continue;
            }
            let text = option_text(k, v).map_err(|e| format!("endpoint {e}"))?;
            let bad = |e: String| format!("endpoint driver option {k}: {e}");
            match k.as_str() {
                "vlan" => o.vlan = Some(config::parse_vlan(&text).map_err(bad)?),
                // The docker CLI splits `--driver-opt` values at commas
                // (`'"trunks=10,20"'` quotes them): `:` does as well.
                "trunks" => o.trunks = text.replace(':', ",").parse::<Trunks>().map_err(bad)?.0,
                "ingress_rate" => o.ingress_rate = Some(config::parse_kbits(&text).map_err(bad)?),
                "ingress_burst" => o.ingress_burst = Some(config::parse_kbits(&text).map_err(bad)?),
                other => {
                    return Err(format!(
                        "unknown endpoint driver option \"{}\" (known: {})",
                        other.escape_default(),
                        OPTIONS.join(", ")
                    ))
                }
            }
        }
        if o.ingress_burst.is_some() && o.ingress_rate.is_none() {
            return Err("endpoint driver option ingress_burst needs ingress_rate".into());
        }
        Ok(o)
    }

    /// The port's (tag, trunks) on a network whose VLAN is `network_vlan`:
    /// the endpoint's VLAN or trunk replaces the network's VLAN.
    pub fn vlans(&self, network_vlan: Option<u16>) -> (Option<u16>, Vec<u16>) {
        match (self.vlan, self.trunks.is_empty()) {
            (v, false) => (v, self.trunks.clone()),
            (Some(v), true) => (Some(v), Vec::new()),
            (None, true) => (network_vlan, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> Option<BTreeMap<String, Value>> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn options_as_docker_sends_them() {
        let o = EndpointOptions::from_options(&opts(json!({
            "com.docker.network.endpoint.exposedports": [{"Proto": 6, "Port": 80}],
            "com.docker.network.portmap": [],
            "vlan": "10", "trunks": "20:30-32", "ingress_rate": "2000", "ingress_burst": "200"
        })))
        .unwrap();
        assert_eq!(
            o,
            EndpointOptions {
                vlan: Some(10),
                trunks: vec![20, 30, 31, 32],
                ingress_rate: Some(2000),
                ingress_burst: Some(200)
            }
        );
        assert_eq!(o.vlans(Some(5)), (Some(10), vec![20, 30, 31, 32]));
        assert_eq!(EndpointOptions::from_options(&None).unwrap(), EndpointOptions::default());
        assert_eq!(EndpointOptions::default().vlans(Some(5)), (Some(5), vec![]));
        let trunk_only = EndpointOptions { trunks: vec![7], ..Default::default() };
        assert_eq!(trunk_only.vlans(Some(5)), (None, vec![7]));
    }

    #[test]
    fn bad_options_are_refused_with_their_name() {
        for (o, needle) in [
            (json!({"colour": "red"}), "unknown endpoint driver option \"colour\""),
            (json!({"vlan": "4096"}), "endpoint driver option vlan"),
            (json!({"vlan": "ten"}), "endpoint driver option vlan"),
            (json!({"trunks": "30-20"}), "endpoint driver option trunks"),
            (json!({"trunks": "10,,20"}), "endpoint driver option trunks"),
            (json!({"ingress_rate": "-1"}), "endpoint driver option ingress_rate"),
            (json!({"ingress_rate": "1000", "ingress_burst": "x"}), "endpoint driver option ingress_burst"),
            (json!({"ingress_burst": "100"}), "needs ingress_rate"),
            (json!({"vlan": ["1"]}), "vlan"),
        ] {
            let e = EndpointOptions::from_options(&opts(o.clone())).unwrap_err();
            assert!(e.contains(needle), "{o}: {e}");
        }
    }
}
