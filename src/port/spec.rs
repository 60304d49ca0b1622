//! What a port is to be: the one input of [`super::attach`], made from
//! add-port's arguments (`commands::add_port`), from a port's record
//! (`watch`, after a container restart) or from a batch line.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::record::Record;
use crate::config::{IfAddr, IfName, Mac, Route};
use crate::docker::Container;
use crate::error::{Error, Result};
use crate::ovsdb::vswitch::AttachedPort;

/// A container port to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub bridge: String,
    /// The interface name inside the container.
    pub interface: IfName,
    /// The container as named (name, full ID or ID prefix), or
    /// `netns:PATH` / `pid:PID` (see [`super::target`]).
    pub target: String,
    pub addresses: Vec<IfAddr>,
    pub gateways: Vec<IpAddr>,
    pub routes: Vec<Route>,
    pub mac: Option<Mac>,
    pub mtu: Option<u32>,
    /// Datapath type of the bridge, if it must be created.
    pub datapath_type: Option<String>,
    /// Access VLAN, set in the transaction that adds the port.
    pub vlan: Option<u16>,
    /// Trunked VLANs (with `vlan` as the native one), set with the port.
    pub trunks: Vec<u16>,
    pub ingress_rate: Option<u32>,
    pub ingress_burst: Option<u32>,
    /// Re-created by `watch` after a container restart.
    pub persist: bool,
    /// Attach even if another port on the bridge holds one of the addresses.
    pub force: bool,
    pub ovn: OvnSpec,
    /// Further external_ids recorded on the Interface (the CNI plugin's
    /// container ID and network, see `ovsdb::keys::iface::CNI_*`).
    pub extra_ids: Vec<(String, String)>,
}

/// The OVN binding of a port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OvnSpec {
    /// The logical switch port to bind to (external_ids:iface-id).
    pub iface_id: Option<String>,
    /// Return only once ovn-controller has installed the port.
    pub wait: bool,
    /// The northbound database in which to create the logical switch port...
    pub nb: Option<String>,
    /// ...on this logical switch.
    pub switch: Option<String>,
}

impl PortSpec {
    /// A spec with only what upstream's add-port needs; the rest empty.
    pub fn new(bridge: &str, interface: IfName, target: &str) -> Self {
        PortSpec {
            bridge: bridge.to_string(),
            interface,
            target: target.to_string(),
            addresses: Vec::new(),
            gateways: Vec::new(),
            routes: Vec::new(),
            mac: None,
            mtu: None,
            datapath_type: None,
            vlan: None,
            trunks: Vec::new(),
            ingress_rate: None,
            ingress_burst: None,
            persist: true,
            force: false,
            ovn: OvnSpec::default(),
            extra_ids: Vec::new(),
        }
    }

    /// The port `p` as its record says it was made, for the container `c`
    /// (named by its full ID), to re-create it after a restart. None if
    /// the row is not a port we can rebuild (no bridge, or an interface
    /// name edited by hand into something invalid).
    pub fn recreate(p: &AttachedPort, c: &Container) -> Option<Self> {
        let record = Record::from_external_ids(&p.external_ids);
        let mut spec = PortSpec::new(p.bridge.as_deref()?, p.container_iface().parse().ok()?, &c.id);
        spec.addresses = record.addresses;
        spec.gateways = record.gateways;
        spec.routes = record.routes;
        spec.mac = record.mac;
        spec.mtu = record.mtu;
        spec.ingress_rate = (p.ingress_rate > 0).then_some(p.ingress_rate as u32);
        spec.ingress_burst = (p.ingress_burst > 0).then_some(p.ingress_burst as u32);
        // The old row held these addresses; it is replaced, not joined.
        spec.force = true;
        // The OVN binding (iface-id...) and VLAN come along with the old
        // row's columns (see `attach::NewRow`).
        Some(spec)
    }

    /// What is recorded with the port, its MAC being `mac` (the one the
    /// interface got).
    pub fn record(&self, mac: Option<Mac>) -> Record {
        Record {
            addresses: self.addresses.clone(),
            gateways: self.gateways.clone(),
            routes: self.routes.clone(),
            mac,
            mtu: self.mtu,
            persist: self.persist,
        }
    }

    /// Checks that need several fields at once (each field was checked on
    /// its own when it was parsed). Nothing is looked up.
    pub fn validate(&self) -> Result<()> {
        let a = self;
        let mut seen = std::collections::BTreeSet::new();
        for addr in &a.addresses {
            if !seen.insert(addr.ip) {
                return Err(Error::invalid(format!("address {} is given twice", addr.ip)));
            }
            if let (true, Some(mtu)) = (addr.ip.is_ipv6(), a.mtu) {
                if mtu < 1280 {
                    return Err(Error::invalid(format!("IPv6 address {addr} needs --mtu of at least 1280, not {mtu}")));
                }
            }
        }
        let on_a_subnet = |gw: IpAddr| {
            a.addresses.iter().any(|addr| IpNetwork::new(addr.ip, addr.prefix).is_ok_and(|net| net.contains(gw)))
        };
        for (i, gw) in a.gateways.iter().enumerate() {
            if a.gateways[..i].iter().any(|g| g.is_ipv4() == gw.is_ipv4()) {
                return Err(Error::invalid(format!("only one {} --gateway may be given", family(*gw))));
            }
            if !a.addresses.iter().any(|addr| addr.ip.is_ipv4() == gw.is_ipv4()) {
                return Err(Error::invalid(format!(
                    "--gateway={gw} needs an {} --ipaddress on its subnet",
                    family(*gw)
                )));
            }
            if a.addresses.iter().any(|addr| addr.ip == *gw) {
                return Err(Error::invalid(format!("gateway {gw} is the interface's own address")));
            }
            if !on_a_subnet(*gw) && !is_link_local(*gw) {
                return Err(Error::invalid(format!("gateway {gw} is not on the subnet of any --ipaddress")));
            }
        }
        for r in &a.routes {
            if r.dest.prefix() == 0 && a.gateways.iter().any(|g| g.is_ipv4() == r.dest.is_ipv4()) {
                return Err(Error::invalid(format!("route {r} repeats the default route of --gateway")));
            }
            if let Some(gw) = r.via {
                if !on_a_subnet(gw) && !is_link_local(gw) {
                    return Err(Error::invalid(format!("route {r}: {gw} is not on the subnet of any --ipaddress")));
                }
            }
        }
        Ok(())
    }
}

/// IPv6 routers are often reached by their link-local address.
fn is_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

pub(crate) fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec(addresses: &[&str], gateways: &[&str], routes: &[&str]) -> PortSpec {
        let mut s = PortSpec::new("br0", "eth1".parse().unwrap(), "web");
        s.addresses = addresses.iter().map(|a| a.parse().unwrap()).collect();
        s.gateways = gateways.iter().map(|a| a.parse().unwrap()).collect();
        s.routes = routes.iter().map(|a| a.parse().unwrap()).collect();
        s
    }

    #[test]
    fn addresses_gateways_and_routes_must_agree() {
        assert!(spec(&["10.0.0.2/24"], &["10.0.0.1"], &["10.9.0.0/16,via=10.0.0.254"]).validate().is_ok());
        assert!(spec(&["fd00::2/64"], &["fe80::1"], &[]).validate().is_ok());
        for (a, g, r, why) in [
            (&["10.0.0.2/24", "10.0.0.2/16"][..], &[][..], &[][..], "given twice"),
            (&["10.0.0.2/24"], &["10.0.0.1", "10.0.0.3"], &[], "only one IPv4 --gateway"),
            (&[], &["10.0.0.1"], &[], "needs an IPv4 --ipaddress"),
            (&["10.0.0.2/24"], &["10.0.0.2"], &[], "own address"),
            (&["10.0.0.2/24"], &["10.0.1.1"], &[], "not on the subnet"),
            (&["10.0.0.2/24"], &["10.0.0.1"], &["default,via=10.0.0.3"], "repeats the default route"),
            (&["10.0.0.2/24"], &[], &["10.9.0.0/16,via=10.1.0.1"], "not on the subnet"),
        ] {
            let e = spec(a, g, r).validate().unwrap_err();
            assert!(e.to_string().contains(why), "{e} / {why}");
            assert_eq!(e.exit_code(), 2);
        }
        let mut small = spec(&["fd00::2/64"], &[], &[]);
        small.mtu = Some(1200);
        assert!(small.validate().unwrap_err().to_string().contains("at least 1280"));
    }

    #[test]
    fn a_recorded_port_is_recreated_as_it_was_made() {
        let mut made = spec(&["10.0.0.2/24", "fd00::2/64"], &["10.0.0.1"], &["10.9.0.0/16,via=10.0.0.254"]);
        made.mtu = Some(1400);
        let mac: Mac = "02:00:00:00:00:07".parse().unwrap();
        let mut ids: BTreeMap<String, String> = made.record(Some(mac)).to_external_ids("br0").into_iter().collect();
        ids.insert("container_iface".into(), "eth1".into());
        let p = AttachedPort {
            iface_uuid: "u".into(),
            name: "0123456789abc_l".into(),
            external_ids: ids,
            port_uuid: Some("p".into()),
            bridge: Some("br0".into()),
            tag: Some(5),
            ingress_rate: 1000,
            ingress_burst: 800,
            ..Default::default()
        };
        let c = Container::running(&"f".repeat(64), "web");
        let again = PortSpec::recreate(&p, &c).unwrap();
        assert_eq!((again.addresses, again.gateways, again.routes), (made.addresses, made.gateways, made.routes));
        assert_eq!((again.mac, again.mtu, again.target.as_str()), (Some(mac), Some(1400), c.id.as_str()));
        assert_eq!((again.ingress_rate, again.ingress_burst, again.force), (Some(1000), Some(800), true));
        // No bridge (the Port row is gone), or a name edited into nonsense: nothing to rebuild.
        let mut bad = p.clone();
        bad.bridge = None;
        assert!(PortSpec::recreate(&bad, &c).is_none());
        let mut bad = p;
        bad.external_ids.insert("container_iface".into(), "a/b".into());
        assert!(PortSpec::recreate(&bad, &c).is_none());
    }
}
