//! What add-port records with a port so that the port can be rebuilt
//! exactly after its container restarts (`watch`), and so that addresses
//! already in use on a bridge are known. It lives in the Interface row's
//! `external_ids`, next to upstream's `container_id` and `container_iface`,
//! so it survives anything that OVSDB survives and goes with the row.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::config::{IfAddr, Mac, Route};

use crate::ovsdb::keys::iface::{ADDRESSES, GATEWAYS, MAC, MTU, PERSIST, ROUTES};

/// The container side of a port, as add-port configured it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub addresses: Vec<IfAddr>,
    pub gateways: Vec<IpAddr>,
    pub routes: Vec<Route>,
    pub mac: Option<Mac>,
    pub mtu: Option<u32>,
    pub persist: bool,
}

pub use crate::ovsdb::keys::iface::address_key;

impl Record {
    /// The external_ids that carry this record for a port on `bridge`.
    pub fn to_external_ids(&self, bridge: &str) -> Vec<(String, String)> {
        let mut ids = Vec::new();
        let joined = |items: Vec<String>| items.join(" ");
        if !self.addresses.is_empty() {
            ids.push((ADDRESSES.to_string(), joined(self.addresses.iter().map(ToString::to_string).collect())));
            for a in &self.addresses {
                ids.push((address_key(a.ip), bridge.to_string()));
            }
        }
        if !self.gateways.is_empty() {
            ids.push((GATEWAYS.to_string(), joined(self.gateways.iter().map(ToString::to_string).collect())));
        }
        if !self.routes.is_empty() {
            ids.push((ROUTES.to_string(), joined(self.routes.iter().map(ToString::to_string).collect())));
        }
        if let Some(mac) = self.mac {
            ids.push((MAC.to_string(), mac.to_string()));
        }
        if let Some(mtu) = self.mtu {
            ids.push((MTU.to_string(), mtu.to_string()));
        }
        if !self.persist {
            ids.push((PERSIST.to_string(), "false".to_string()));
        }
        ids
    }

    /// Read a record back. Words that do not parse (a row edited by hand)
    /// are left out rather than failing the whole port.
    pub fn from_external_ids(ids: &BTreeMap<String, String>) -> Record {
        fn words<T: std::str::FromStr>(ids: &BTreeMap<String, String>, key: &str) -> Vec<T> {
            ids.get(key).map(|v| v.split_whitespace().filter_map(|w| w.parse().ok()).collect()).unwrap_or_default()
        }
        Record {
            addresses: words(ids, ADDRESSES),
            gateways: words(ids, GATEWAYS),
            routes: words(ids, ROUTES),
            mac: ids.get(MAC).and_then(|m| m.parse().ok()),
            mtu: ids.get(MTU).and_then(|m| m.parse().ok()),
            persist: ids.get(PERSIST).is_none_or(|v| v != "false"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let r = Record {
            addresses: vec!["10.0.0.2/24".parse().unwrap(), "fd00::2/64".parse().unwrap()],
            gateways: vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()],
            routes: vec!["10.9.0.0/16,via=10.0.0.254".parse().unwrap(), "192.168.5.0/24".parse().unwrap()],
            mac: Some("02:00:00:00:00:01".parse().unwrap()),
            mtu: Some(1400),
            persist: false,
        };
        let ids: BTreeMap<String, String> = r.to_external_ids("br0").into_iter().collect();
        assert_eq!(ids.get("ovs_docker_ip:10.0.0.2").map(String::as_str), Some("br0"));
        assert_eq!(ids.get("ovs_docker_ip:fd00::2").map(String::as_str), Some("br0"));
        assert_eq!(Record::from_external_ids(&ids), r);
    }

    #[test]
    fn an_upstream_row_has_an_empty_persistent_record() {
        let ids = BTreeMap::from([("container_id".to_string(), "web".to_string())]);
        assert_eq!(Record::from_external_ids(&ids), Record { persist: true, ..Record::default() });
    }
}
