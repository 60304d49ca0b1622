//! The handlers of the remote network driver. They keep no state of their
//! own: a network is its Bridge row (external_ids), an endpoint its
//! Port/Interface row, a NAT rule is found by its comment. So the plugin
//! can be killed at any moment and started again; every handler is also
//! idempotent, since Docker may retry a call the old process never answered.

use std::str::FromStr;

use ipnetwork::IpNetwork;
use serde_json::{json, Value};

use super::endpoint_options::EndpointOptions;
use super::network::{Mode, NetworkConfig};
use super::protocol::*;
use super::{Driver, NETWORK_LOCK};
use crate::config::Mac;
use crate::error::{Context, Error, Result};
use crate::ovsdb::networks::set_iface_id_txn;
use crate::ovsdb::vswitch::Vswitch;
use crate::ovsdb::{data, keys, Cond};
use crate::port::endpoint::{self, EndpointSpec, DST_PREFIX};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::nftables::ports::{self, Binding};
use crate::sys::nftables::Subnet;

/// Where ProgramExternalConnectivity carries `docker run -p` mappings.
const PORT_MAP: &str = "com.docker.network.portmap";
/// The lock held while published ports are checked and added, so that two
/// containers cannot take the same host port at once.
const PORTS_LOCK: (&str, &str) = ("published", "ports");

/// Remove the published ports of an endpoint (none is success).
fn unpublish(eid: &str) -> Result<()> {
    ports::remove_endpoint_bindings(eid).map(|_| ()).step(|| format!("remove the published ports of endpoint {eid}"))
}

/// Docker's port bindings (`docker run -p`), checked: TCP or UDP, a host
/// port given, an IPv4 (or any) host address.
pub fn bindings(options: &Option<std::collections::BTreeMap<String, Value>>) -> Result<Vec<Binding>> {
    let Some(list) = options.as_ref().and_then(|o| o.get(PORT_MAP)).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for p in list {
        let num = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0);
        let (proto, port, host_port, end) = (num("Proto"), num("Port"), num("HostPort"), num("HostPortEnd"));
        let proto = match proto {
            6 => 6,
            17 => 17,
            other => return Err(Error::invalid(format!("publishing ports: protocol {other} (only tcp and udp)"))),
        };
        if host_port == 0 {
            return Err(Error::invalid(
                "publishing ports: a host port must be given (-p HOSTPORT:PORT); -P and -p PORT are not supported",
            ));
        }
        if end != 0 && end != host_port {
            return Err(Error::invalid(format!(
                "publishing ports: a host port range ({host_port}-{end}) for one port is not supported"
            )));
        }
        let (Ok(port), Ok(host_port)) = (u16::try_from(port), u16::try_from(host_port)) else {
            return Err(Error::invalid(format!("publishing ports: port {port} or {host_port} out of range")));
        };
        if port == 0 {
            return Err(Error::invalid("publishing ports: container port 0"));
        }
        let ip = p.get("HostIP").and_then(Value::as_str).unwrap_or("");
        let host_ip = match ip.parse::<std::net::IpAddr>() {
            _ if ip.is_empty() => None,
            Ok(a) if a.is_unspecified() => None,
            Ok(std::net::IpAddr::V4(a)) => Some(a),
            _ => {
                return Err(Error::invalid(format!(
                    "publishing ports: host address \"{}\" (IPv4 only)",
                    ip.escape_default()
                )))
            }
        };
        out.push(Binding { proto, host_ip, host_port, container_port: port });
    }
    Ok(out)
}

impl Driver {
    /// Answer one call, or None if `method` is not one we know.
    pub async fn call(&self, method: &str, body: &[u8]) -> Option<Result<Value>> {
        let call = match decode(method, body)? {
            Ok(c) => c,
            Err(e) => return Some(Err(Error::invalid(e))),
        };
        let r = match call {
            Call::Activate => Ok(json!(ActivateResponse { implements: vec!["NetworkDriver", "IpamDriver"] })),
            Call::Capabilities => Ok(json!(CapabilitiesResponse { scope: "local", connectivity_scope: "local" })),
            Call::CreateNetwork(r) => self.create_network(r).await,
            Call::DeleteNetwork(r) => self.delete_network(&r.network_id).await,
            Call::CreateEndpoint(r) => self.create_endpoint(r).await,
            Call::DeleteEndpoint(r) => self.delete_endpoint(&r.endpoint_id).await,
            Call::OperInfo(r) => self.oper_info(r).await,
            Call::Join(r) => self.join(r).await,
            Call::ProgramExternalConnectivity(r) => self.publish(r).await,
            Call::RevokeExternalConnectivity(r) => unpublish(&r.endpoint_id).map(|()| json!({})),
            // Nothing to undo: Docker moves the interface out, and
            // DeleteEndpoint removes it.
            Call::Leave(_) | Call::Nothing | Call::ReleasePool => Ok(json!({})),
            Call::IpamCapabilities => Ok(super::ipam::capabilities()),
            Call::AddressSpaces => Ok(super::ipam::address_spaces()),
            Call::RequestPool(r) => self.request_pool(r).await,
            Call::RequestAddress(r) => self.request_address(r).await,
            Call::ReleaseAddress(r) => self.release_address(r).await,
        };
        Some(r)
    }

    async fn create_endpoint(&self, req: CreateEndpointRequest) -> Result<Value> {
        let eid = req.endpoint_id.as_str();
        let iface = req.interface.clone().unwrap_or_default();
        let given_mac = if iface.mac_address.is_empty() {
            None
        } else {
            Some(Mac::from_str(&iface.mac_address).map_err(|e| Error::invalid(format!("endpoint {eid}: {e}")))?)
        };
        let mut addresses = Vec::new();
        for a in [&iface.address, &iface.address_ipv6] {
            if !a.is_empty() {
                let n = IpNetwork::from_str(a).map_err(|e| Error::invalid(format!("endpoint address \"{a}\": {e}")))?;
                addresses.push(n.to_string());
            }
        }
        // Checked before anything is made: a bad option fails the connect.
        let own = EndpointOptions::from_options(&req.options).map_err(Error::invalid)?;
        let mut ovs = self.ctx.vswitch().await?;
        let net = self.network(&ovs, &req.network_id).await?;
        if net.cfg.mode.host_routes() {
            // An nftables reload (`flush ruleset`) takes the NAT rules away
            // and nothing tells us: check the host side with every endpoint
            // (idempotent; under the network's lock, so that concurrent
            // endpoints do not add a missing rule twice).
            let id = net.cfg.id.as_str();
            let _net_lock = PortLock::acquire(id, NETWORK_LOCK, self.ctx.timeout)
                .await
                .step(|| format!("lock network {id}"))?
                .ok_or_else(|| Error::refused(format!("network {id} is busy")))?;
            self.setup_host(&net.cfg).await?;
        }
        let _lock = endpoint::lock(&self.ctx, eid).await?;
        if let Some(p) = endpoint::find(&ovs, eid).await? {
            // A retried call.
            let mac = p.external_ids.get(keys::iface::ENDPOINT_MAC).cloned().unwrap_or_default();
            return Ok(json!(endpoint_answer(given_mac.is_none(), mac)));
        }
        let mac = given_mac.unwrap_or_else(|| endpoint::mac_for(&iface.address));
        let extra_ids = match net.cfg.mode {
            // A tag on a port of OVN's br-int would cut it off its logical port.
            Mode::Ovn if own.vlan.is_some() || !own.trunks.is_empty() => {
                return Err(Error::invalid(format!("endpoint {eid}: vlan and trunks are not supported with mode ovn")));
            }
            Mode::Ovn => {
                let ip =
                    addresses.first().and_then(|a| IpNetwork::from_str(a).ok()).map(|n| n.ip()).ok_or_else(|| {
                        Error::invalid(format!("endpoint {eid}: mode ovn needs an IPv4 address from Docker's IPAM"))
                    })?;
                self.ovn_endpoint(&ovs, &net, eid, ip, mac).await?
            }
            _ => Vec::new(),
        };
        let (vlan, trunks) = own.vlans(net.cfg.vlan);
        let spec = EndpointSpec {
            endpoint_id: eid.to_string(),
            network_id: net.cfg.id.clone(),
            bridge: net.cfg.bridge.clone(),
            mtu: net.cfg.mtu,
            vlan,
            trunks,
            ingress_rate: own.ingress_rate,
            ingress_burst: own.ingress_burst,
            protected: !net.cfg.icc,
            mac,
            addresses,
            created_by: keys::CREATED_BY_PLUGIN,
            extra_ids,
        };
        if let Err(e) = endpoint::create(&mut ovs, &spec).await {
            if net.cfg.mode == Mode::Ovn {
                if let Err(undo) = self.release_ovn_endpoint(eid).await {
                    return Err(Error::Many(vec![e, undo]));
                }
            }
            return Err(e);
        }
        Ok(json!(endpoint_answer(given_mac.is_none(), spec.mac.to_string())))
    }

    async fn join(&self, req: JoinRequest) -> Result<Value> {
        let eid = req.endpoint_id.as_str();
        let mut ovs = self.ctx.vswitch().await?;
        let net = self.network(&ovs, &req.network_id).await?;
        let p = endpoint::find(&ovs, eid)
            .await?
            .ok_or_else(|| Error::refused(format!("endpoint {eid} is unknown to this plugin")))?;
        let peer = p
            .external_ids
            .get(keys::iface::PEER)
            .cloned()
            .ok_or_else(|| Error::refused(format!("port {} of endpoint {eid} names no veth peer", p.name)))?;
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if host.link(&peer).await.step(|| format!("look up veth {peer}"))?.is_none() {
            return Err(Error::refused(format!("the container end {peer} of endpoint {eid} is gone")));
        }
        if !req.sandbox_key.is_empty() {
            let t = set_iface_id_txn(&p.iface_uuid, keys::iface::SANDBOX, &req.sandbox_key);
            ovs.commit(t, false).await.step(|| format!("record the sandbox of endpoint {eid}"))?;
            if p.ingress_rate > 0 && self.is_netdev(&ovs, &net.cfg.bridge).await? {
                let mut p = p.clone();
                p.external_ids.insert(keys::iface::SANDBOX.to_string(), req.sandbox_key.clone());
                let within = self.ctx.timeout.max(std::time::Duration::from_secs(10));
                // Docker moves the interface once this call has answered.
                tokio::task::spawn_local(async move {
                    if let Err(e) = endpoint::limit_inside_once_moved(&p, within).await {
                        log::warn!("{e}");
                    }
                });
            }
        }
        if let (Mode::Ovn, Some(lsp)) = (net.cfg.mode, p.external_ids.get(keys::iface::IFACE_ID)) {
            self.wait_ovn_installed(&ovs, &p.name, lsp).await?;
        }
        // An internal network gives no gateway: Docker would make it the
        // containers' default route, a way out.
        let internal = net.cfg.internal;
        let gw = |v: &Option<(IpNetwork, Option<IpNetwork>)>| {
            v.as_ref().and_then(|(_, g)| g.filter(|_| !internal).map(|g| g.ip().to_string())).unwrap_or_default()
        };
        Ok(json!(JoinResponse {
            interface_name: InterfaceName { src_name: peer, dst_prefix: DST_PREFIX.into() },
            gateway: gw(&net.cfg.v4),
            gateway_ipv6: gw(&net.cfg.v6),
        }))
    }

    /// DeleteEndpoint: its published ports, its port, then its logical
    /// switch ports (if bound to OVN, or if its port is gone already and
    /// OVN is configured). The port goes first: Docker forgets the endpoint
    /// whatever the answer, and a port left behind is never removed, while
    /// a logical switch port whose port is gone is the sweep's
    /// ([`Driver::sweep_ovn`]) to remove if the northbound database cannot
    /// be reached now; so only the port's removal failing fails the call.
    async fn delete_endpoint(&self, eid: &str) -> Result<Value> {
        unpublish(eid)?;
        let ovn_bound = match &self.ovn_nb {
            None => false,
            Some(_) => {
                let ovs = self.ctx.vswitch().await?;
                // None: a retried call, whose network may not be one of OVN's.
                endpoint::find(&ovs, eid).await?.is_none_or(|p| p.external_ids.contains_key(keys::iface::IFACE_ID))
            }
        };
        endpoint::delete(&self.ctx, eid).await?;
        if ovn_bound {
            if let Err(e) = self.release_ovn_endpoint(eid).await {
                log::warn!("endpoint {eid}: {e} (its logical switch ports are left to the periodic sweep)");
            }
        }
        Ok(json!({}))
    }

    async fn is_netdev(&self, ovs: &Vswitch, bridge: &str) -> Result<bool> {
        let datapath = ovs.bridge_datapath_type(bridge).await.step(|| format!("look up bridge {bridge}"))?;
        Ok(datapath.as_deref() == Some("netdev"))
    }

    /// The in-container rate limits of the endpoints of network `cfg` (on
    /// a netdev bridge), from what their rows record: a plugin killed
    /// before an endpoint's interface arrived in its container, or a limit
    /// removed by hand, is made good here (see [`endpoint::limit_inside`]).
    pub(super) async fn restore_rate_limits(&self, ovs: &Vswitch, cfg: &NetworkConfig) -> Result<()> {
        if !self.is_netdev(ovs, &cfg.bridge).await? {
            return Ok(());
        }
        let id = cfg.id.as_str();
        let conds = vec![Cond::includes("external_ids", data::map([(keys::iface::NETWORK_ID, id)]))];
        let ports = ovs.find_ports(conds).await.step(|| format!("look up the ports of network {id}"))?;
        let mut errors = Vec::new();
        for p in ports.iter().filter(|p| p.ingress_rate > 0) {
            if let Err(e) = endpoint::limit_inside(p).await {
                errors.push(e);
            }
        }
        Error::all(errors)
    }

    async fn oper_info(&self, req: EndpointRequest) -> Result<Value> {
        let ovs = self.ctx.vswitch().await?;
        let mut value = std::collections::BTreeMap::new();
        if let Some(p) = endpoint::find(&ovs, &req.endpoint_id).await? {
            value.insert("port".to_string(), p.name.clone());
            if let Some(b) = &p.bridge {
                value.insert("bridge".to_string(), b.clone());
            }
            for (k, name) in [(keys::iface::ENDPOINT_MAC, "mac"), (keys::iface::ENDPOINT_ADDRESSES, "addresses")] {
                if let Some(v) = p.external_ids.get(k) {
                    value.insert(name.to_string(), v.clone());
                }
            }
        }
        Ok(json!(OperInfoResponse { value }))
    }
}

impl Driver {
    /// ProgramExternalConnectivity: publish the endpoint's ports (DNAT
    /// from the host's addresses), refusing a host port another endpoint
    /// holds; all or nothing.
    async fn publish(&self, req: ConnectivityRequest) -> Result<Value> {
        let list = bindings(&req.options)?;
        if list.is_empty() {
            return Ok(json!({}));
        }
        let eid = req.endpoint_id.as_str();
        let ovs = self.ctx.vswitch().await?;
        let net = self.network(&ovs, &req.network_id).await?;
        if net.cfg.mode == Mode::Routed {
            // Nothing to translate: the container's own address is reachable,
            // on every port it listens on.
            return Err(Error::invalid(
                "publishing ports (-p) on a routed network: its containers are reached at their own addresses, \
                 on any port they listen on; drop -p",
            ));
        }
        let (Mode::Nat, false, Some((IpNetwork::V4(subnet), _))) = (net.cfg.mode, net.cfg.internal, net.cfg.v4) else {
            return Err(Error::invalid("publishing ports (-p) needs a nat network that is not internal"));
        };
        let p = endpoint::find(&ovs, eid)
            .await?
            .ok_or_else(|| Error::refused(format!("endpoint {eid} is unknown to this plugin")))?;
        let addrs = p.external_ids.get(keys::iface::ENDPOINT_ADDRESSES).cloned().unwrap_or_default();
        let container = addrs
            .split(',')
            .filter_map(|a| a.split('/').next()?.parse::<std::net::Ipv4Addr>().ok())
            .next()
            .ok_or_else(|| Error::refused(format!("endpoint {eid} has no IPv4 address to publish ports to")))?;
        let _lock = PortLock::acquire(PORTS_LOCK.0, PORTS_LOCK.1, self.ctx.timeout)
            .await
            .step(|| "lock the published ports".into())?
            .ok_or_else(|| Error::refused("the published ports are busy"))?;
        let subnet = Subnet { addr: subnet.network().into(), prefix: subnet.prefix() };
        let result = (|| {
            for b in &list {
                let shown = format!("{}/{}", b.host_port, if b.proto == 17 { "udp" } else { "tcp" });
                if let Some(other) = ports::port_holder(b, eid).step(|| format!("look up host port {shown}"))? {
                    return Err(Error::refused(format!(
                        "host port {shown} is already published by endpoint {}",
                        other.chars().take(12).collect::<String>()
                    )));
                }
                ports::add_binding(&net.cfg.id, eid, subnet, &net.cfg.bridge, container, b)
                    .step(|| format!("publish host port {shown} to {container}:{}", b.container_port))?;
            }
            Ok(json!({}))
        })();
        if result.is_err() {
            // Nothing of a refused call stays.
            let _ = unpublish(eid);
        }
        result
    }
}

fn endpoint_answer(we_chose_mac: bool, mac: String) -> CreateEndpointResponse {
    CreateEndpointResponse {
        interface: we_chose_mac.then(|| EndpointInterface { mac_address: mac, ..Default::default() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: Value) -> Option<std::collections::BTreeMap<String, Value>> {
        Some([(PORT_MAP.to_string(), v)].into_iter().collect())
    }

    #[test]
    fn port_bindings_as_docker_sends_them() {
        let b = bindings(&opts(serde_json::json!([
            {"Proto": 6, "IP": "", "Port": 80, "HostIP": "", "HostPort": 8080, "HostPortEnd": 8080},
            {"Proto": 17, "Port": 53, "HostIP": "10.1.2.3", "HostPort": 5353},
            {"Proto": 6, "Port": 81, "HostIP": "0.0.0.0", "HostPort": 8081, "HostPortEnd": 0}
        ])))
        .unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].proto, b[0].host_ip, b[0].host_port, b[0].container_port), (6, None, 8080, 80));
        assert_eq!((b[1].proto, b[1].host_ip), (17, Some("10.1.2.3".parse().unwrap())));
        assert_eq!(b[2].host_ip, None);
        assert!(bindings(&None).unwrap().is_empty());
        for (bad, needle) in [
            (serde_json::json!([{"Proto": 132, "Port": 80, "HostPort": 80}]), "protocol 132"),
            (serde_json::json!([{"Proto": 6, "Port": 80, "HostPort": 0}]), "a host port must be given"),
            (serde_json::json!([{"Proto": 6, "Port": 80, "HostPort": 8000, "HostPortEnd": 8010}]), "range"),
            (serde_json::json!([{"Proto": 6, "Port": 80, "HostPort": 70000}]), "out of range"),
            (serde_json::json!([{"Proto": 6, "Port": 80, "HostPort": 80, "HostIP": "fd00::1"}]), "IPv4 only"),
        ] {
            let e = bindings(&opts(bad)).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
