//! mode=ovn networks: the network is an OVN logical switch (`-o
//! ovn_switch`) that every host creating the network shares, its gateway a
//! port of a distributed logical router (`-o ovn_router`, shared by the
//! networks naming it; else a router of the network's own, named after the
//! switch), each endpoint a logical switch port bound to its port on br-int.
//!
//! What is stored where: the switch, router, ports and each host's use of
//! the switch in the northbound database ([`crate::ovsdb::ovn_networks`]);
//! the host's Docker network on the bridge's external_ids (one key per
//! network, [`keys::bridge::OVN_NETWORK_PREFIX`]); the endpoint's port, bound
//! by `iface-id`, in OVSDB as for any endpoint. Nothing in memory.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde_json::{json, Value};

use super::ipam::{one_switch, RESERVED_PREFIX};
use super::network::NetworkConfig;
use super::networks::Net;
use super::Driver;
use crate::config::Mac;
use crate::error::{Context, Error, Result};
use crate::ovsdb::networks::BridgeRow;
use crate::ovsdb::northbound::{del_lsp_txn, Northbound};
use crate::ovsdb::ovn_networks::*;
use crate::ovsdb::vswitch::Vswitch;
use crate::ovsdb::{keys, Cond, Op, OvsdbError, Precondition, Txn};
use crate::port::spec::OvnSpec;

/// How often a change is tried again after another host changed the same
/// rows first.
const ATTEMPTS: usize = 20;

/// The router of a network: `-o ovn_router`, else one of its own.
fn router_of(cfg: &NetworkConfig, switch: &str) -> String {
    cfg.ovn_router.clone().unwrap_or_else(|| format!("lr-{switch}"))
}

/// The router port's MAC: from the gateway address, as endpoint MACs are
/// (02:42 and the address), with 02:43 so that the two never meet.
fn router_mac(gw: IpNetwork) -> String {
    match gw.ip() {
        IpAddr::V4(a) => {
            let o = a.octets();
            Mac([0x02, 0x43, o[0], o[1], o[2], o[3]]).to_string()
        }
        IpAddr::V6(_) => Mac([0x02, 0x43, 0, 0, 0, 1]).to_string(),
    }
}

pub(super) fn local_key(id: &str) -> String {
    format!("{}{id}", keys::bridge::OVN_NETWORK_PREFIX)
}

/// The settings of the network `id` if `row` carries it as a mode=ovn network.
fn local_settings(row: &BridgeRow, id: &str) -> Option<std::result::Result<NetworkConfig, String>> {
    let text = row.external_ids.get(&local_key(id))?;
    let ids: BTreeMap<String, String> = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => return Some(Err(format!("bridge {}: external_ids:{}: {e}", row.name, local_key(id)))),
    };
    Some(NetworkConfig::from_ids(&row.name, &ids))
}

/// The settings a host asked for, against those of the existing switch.
fn check_same_switch(sw: &SwitchRow, switch: &str, subnet: &str, gateway: &str, router: &str) -> Result<()> {
    let get = |k: &str| sw.external_ids.get(k).map(String::as_str).unwrap_or("none");
    let theirs = (get(keys::ovn::SUBNET), get(keys::ovn::GATEWAY), get(keys::ovn::ROUTER));
    if theirs != (subnet, gateway, router) {
        return Err(Error::refused(format!(
            "logical switch {switch} exists with subnet {}, gateway {} and router {}; this network asks for {subnet}, {gateway} and {router}",
            theirs.0, theirs.1, theirs.2
        )));
    }
    Ok(())
}

/// Refuse a subnet that overlaps one that router `r` (named `name`)
/// already routes: its routes would be ambiguous and one of the networks
/// unreachable. The transaction that adds the port requires the router's
/// ports unchanged since this read.
async fn check_subnet_free(nb: &Northbound, r: &RouterRow, name: &str, subnet: &str) -> Result<()> {
    let ports = nb.router_ports(r).await.step(|| format!("look up the ports of logical router {name}"))?;
    match overlapping(&ports, subnet) {
        Some((port, net)) => Err(Error::refused(format!(
            "logical router {name} already routes {net} (its port {port}), which overlaps subnet {subnet}: \
             networks on one router need subnets apart"
        ))),
        None => Ok(()),
    }
}

/// The first router port and network of `ports` that overlaps `subnet`.
fn overlapping<'a>(ports: &'a [RouterPortRow], subnet: &str) -> Option<(&'a str, &'a str)> {
    let subnet: IpNetwork = subnet.parse().ok()?;
    ports.iter().find_map(|p| {
        p.networks.iter().find_map(|n| {
            let net: IpNetwork = n.parse().ok()?;
            let overlaps = match (net, subnet) {
                (IpNetwork::V4(a), IpNetwork::V4(b)) => a.overlaps(b),
                (IpNetwork::V6(a), IpNetwork::V6(b)) => a.overlaps(b),
                _ => false,
            };
            overlaps.then_some((p.name.as_str(), n.as_str()))
        })
    })
}

/// Remove host `host`'s use of `switch`; the last host deletes the switch,
/// its router port and (if the plugin made it and nothing else is on it)
/// its router. Already done is success.
pub(super) async fn leave_switch(nb: &Northbound, switch: &str, host: &str) -> Result<()> {
    let key = host_key(host);
    for _ in 0..ATTEMPTS {
        let Some(sw) = one_switch(nb, switch).await? else { return Ok(()) };
        let txn = if sw.hosts().any(|h| h != host) {
            leave_switch_txn(&sw, switch, &key)
        } else {
            let router = sw.external_ids.get(keys::ovn::ROUTER).cloned().unwrap_or_default();
            let routers = nb.routers(&router).await.step(|| format!("look up logical router {router}"))?;
            let lrp = nb.router_port_uuid(&router_port(switch)).await.step(|| "look up the router port".into())?;
            remove_switch_txn(&sw, switch, routers.first().map(|r| (r, router.as_str())), lrp.as_deref())
        };
        match nb.transact(txn).await {
            Err(OvsdbError::Precondition(_)) => continue,
            r => return r.map(|_| ()).step(|| format!("remove this host's use of logical switch {switch}")),
        }
    }
    Err(Error::refused(format!("logical switch {switch} kept changing under us: try again")))
}

impl Driver {
    /// The mode=ovn network `id` of this host, if any.
    pub(super) async fn find_ovn_network(&self, ovs: &Vswitch, id: &str) -> Result<Option<Net>> {
        let bridges = ovs.bridges().await.step(|| "list bridges".into())?;
        for row in bridges {
            if let Some(cfg) = local_settings(&row, id) {
                let cfg = cfg.map_err(Error::refused)?;
                return Ok(Some(Net { row, cfg }));
            }
        }
        Ok(None)
    }

    /// CreateNetwork of a mode=ovn network: the switch made or joined in the
    /// northbound database, then the network recorded on the bridge.
    pub(super) async fn create_ovn_network(&self, cfg: &NetworkConfig) -> Result<Value> {
        let (Some(switch), Some((subnet, Some(gw)))) = (&cfg.ovn_switch, cfg.v4) else {
            return Err(Error::invalid("mode ovn needs ovn_switch and an IPv4 subnet with a gateway"));
        };
        let ovs = self.ctx.vswitch().await?;
        let bridge = &cfg.bridge;
        if ovs.bridge_named(bridge).await.step(|| format!("look up bridge {bridge}"))?.is_none() {
            return Err(Error::refused(format!(
                "bridge {bridge} does not exist on this host (is ovn-controller running, with ovn-bridge={bridge}?)"
            )));
        }
        let host = self.system_id(&ovs).await?;
        let nb = self.nb().await?;
        let (subnet, gateway, router) = (subnet.to_string(), gw.to_string(), router_of(cfg, switch));
        let new = NewSwitch {
            name: switch,
            subnet: &subnet,
            gateway: &gateway,
            router: &router,
            router_row: None,
            mac: &router_mac(gw),
            host_key: &host_key(&host),
            network_id: &cfg.id,
        };
        self.join_or_create_switch(nb, new).await?;
        crate::fault::point("plugin-ovn-switch-joined").await;
        let settings: BTreeMap<String, String> =
            cfg.to_ids(&self.name).into_iter().map(|(k, v)| (k.into(), v)).collect();
        let text = serde_json::to_string(&settings).map_err(|e| Error::invalid(format!("network settings: {e}")))?;
        let key = local_key(&cfg.id);
        let mut t = Txn::new();
        t.push(Op::Mutate {
            table: "Bridge",
            conds: vec![Cond::eq("name", bridge.as_str())],
            mutations: json!([["external_ids", "insert", crate::ovsdb::data::map([(key.as_str(), text.as_str())])]]),
        });
        let mut ovs = ovs;
        ovs.commit(t, false).await.step(|| format!("record network {} on bridge {bridge}", cfg.id))?;
        Ok(json!({}))
    }

    async fn join_or_create_switch(&self, nb: &Northbound, new: NewSwitch<'_>) -> Result<()> {
        let switch = new.name;
        for _ in 0..ATTEMPTS {
            let txn = match one_switch(nb, switch).await? {
                Some(sw) => {
                    check_same_switch(&sw, switch, new.subnet, new.gateway, new.router)?;
                    join_switch_txn(&sw.uuid, switch, new.host_key, new.network_id)
                }
                None => {
                    let routers =
                        nb.routers(new.router).await.step(|| format!("look up logical router {}", new.router))?;
                    if routers.len() > 1 {
                        return Err(Error::refused(format!(
                            "{} logical routers are named {}",
                            routers.len(),
                            new.router
                        )));
                    }
                    if let Some(r) = routers.first() {
                        check_subnet_free(nb, r, new.router, new.subnet).await?;
                    }
                    create_switch_txn(&NewSwitch { router_row: routers.first(), ..new })
                }
            };
            match nb.transact(txn).await {
                Err(OvsdbError::Precondition(_)) => continue,
                r => return r.map(|_| ()).step(|| format!("create or join logical switch {switch}")),
            }
        }
        Err(Error::refused(format!("logical switch {switch} kept changing under us: try again")))
    }

    /// DeleteNetwork of a mode=ovn network (its endpoints' ports are gone):
    /// the network's record on the bridge removed, then this host's use of
    /// the switch (the switch and its router port with the last host). The
    /// record goes first: Docker forgets the network whatever the answer,
    /// and the sweep ([`Driver::sweep_ovn`]) removes a host's use that no
    /// record names, but never a record; so a northbound database out of
    /// reach, or a refused leave, is logged and left to the sweep.
    pub(super) async fn ovn_teardown(&self, mut ovs: Vswitch, net: &Net) -> Result<()> {
        let Some(switch) = &net.cfg.ovn_switch else { return Ok(()) };
        let mut t = Txn::new();
        t.push(Op::Mutate {
            table: "Bridge",
            conds: vec![Cond::eq("_uuid", crate::ovsdb::data::uuid(&net.row.uuid))],
            mutations: json!([[
                "external_ids",
                "delete",
                crate::ovsdb::data::set(vec![json!(local_key(&net.cfg.id))])
            ]]),
        });
        ovs.commit(t, false).await.step(|| format!("remove network {} from bridge {}", net.cfg.id, net.cfg.bridge))?;
        let left = async {
            let host = self.system_id(&ovs).await?;
            leave_switch(self.nb().await?, switch, &host).await
        };
        if let Err(e) = left.await {
            log::warn!(
                "network {}: {e} (this host's use of logical switch {switch} is left to the periodic sweep)",
                net.cfg.id
            );
        }
        Ok(())
    }

    /// CreateEndpoint on a mode=ovn network: the endpoint's address port,
    /// reserved by the IPAM driver or made now, gets the endpoint's MAC and
    /// address. Returns the external_ids that bind the port to it.
    pub(super) async fn ovn_endpoint(
        &self,
        ovs: &Vswitch,
        net: &Net,
        eid: &str,
        ip: IpAddr,
        mac: Mac,
    ) -> Result<Vec<(&'static str, String)>> {
        let Some(switch) = &net.cfg.ovn_switch else { return Ok(Vec::new()) };
        let host = self.system_id(ovs).await?;
        let nb = self.nb().await?;
        let name = address_lsp(switch, ip);
        let mac_text = mac.to_string();
        let binding = Binding { mac: &mac_text, ip };
        let ids = vec![(keys::iface::IFACE_ID, name.clone()), (keys::iface::ATTACHED_MAC, mac.to_string())];
        for _ in 0..ATTEMPTS {
            let lsp = nb.lsp(&name).await.step(|| format!("look up logical switch port {name}"))?;
            let txn = match &lsp {
                Some(l) if l.owner() == Some(eid) => return Ok(ids),
                Some(l)
                    if l.owner().is_some_and(|o| o.starts_with(RESERVED_PREFIX))
                        && l.external_ids.get(keys::ovn::HOST) == Some(&host) =>
                {
                    claim_lsp_txn(l, switch, binding, eid)
                }
                Some(_) => {
                    return Err(Error::refused(format!("address {ip} is in use on logical switch {switch}")));
                }
                None => {
                    let sw = one_switch(nb, switch)
                        .await?
                        .ok_or_else(|| Error::refused(format!("logical switch {switch} does not exist")))?;
                    let owner = [(keys::ovn::HOST, host.as_str()), (keys::lsp::FOR_PORT, eid)];
                    add_address_lsp_txn(&sw.uuid, switch, &name, Some(binding), &owner)
                }
            };
            match nb.transact(txn).await {
                Err(OvsdbError::Precondition(Precondition::SwitchExists(_))) => {
                    return Err(Error::refused(format!("logical switch {switch} was removed meanwhile")));
                }
                Err(OvsdbError::Precondition(Precondition::MacFree { .. })) => {
                    // Unless a replay of our own transaction took it.
                    let l = nb.lsp(&name).await.step(|| format!("look up logical switch port {name}"))?;
                    if l.is_some_and(|l| l.owner() == Some(eid)) {
                        return Ok(ids);
                    }
                    return Err(Error::refused(format!("MAC {mac} is in use on logical switch {switch}")));
                }
                Err(OvsdbError::Precondition(_)) => continue,
                r => {
                    r.step(|| format!("set up logical switch port {name} for endpoint {eid}"))?;
                    crate::fault::point("plugin-ovn-lsp-claimed").await;
                    return Ok(ids);
                }
            }
        }
        Err(Error::refused(format!("logical switch port {name} kept changing under us: try again")))
    }

    /// DeleteEndpoint: delete the logical switch ports of endpoint `eid`.
    pub(super) async fn release_ovn_endpoint(&self, eid: &str) -> Result<()> {
        let nb = self.nb().await?;
        for l in nb.endpoint_lsps(eid).await.step(|| format!("look up the logical ports of endpoint {eid}"))? {
            nb.transact(del_lsp_txn(&l.uuid)).await.step(|| format!("delete logical switch port {}", l.name))?;
        }
        Ok(())
    }

    /// Join: wait until ovn-controller has installed the endpoint's port,
    /// so that the container can send at once.
    pub(super) async fn wait_ovn_installed(&self, ovs: &Vswitch, port: &str, lsp: &str) -> Result<()> {
        let spec = OvnSpec { iface_id: Some(lsp.to_string()), wait: true, nb: None, switch: None };
        crate::port::ovn::wait_installed(&self.ctx, &spec, ovs, port).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnet_a_router_port_already_covers_is_found() {
        let port = |name: &str, nets: &[&str]| RouterPortRow {
            name: name.into(),
            networks: nets.iter().map(|n| n.to_string()).collect(),
        };
        let ports = [port("lrp-a", &["10.30.3.1/24"]), port("lrp-b", &["10.30.4.1/24", "fd00::1/64"])];
        assert_eq!(overlapping(&ports, "10.30.3.0/24"), Some(("lrp-a", "10.30.3.1/24")));
        assert_eq!(overlapping(&ports, "10.30.0.0/16"), Some(("lrp-a", "10.30.3.1/24")));
        assert_eq!(overlapping(&ports, "10.30.4.128/25"), Some(("lrp-b", "10.30.4.1/24")));
        assert_eq!(overlapping(&ports, "10.30.5.0/24"), None);
        assert_eq!(overlapping(&ports, "fd00::/48"), Some(("lrp-b", "fd00::1/64")));
    }
}
