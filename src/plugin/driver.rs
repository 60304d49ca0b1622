//! The handlers of the remote network driver. They keep no state of their
//! own: a network is its Bridge row (external_ids), an endpoint its
//! Port/Interface row, a NAT rule is found by its comment. So the plugin
//! can be killed at any moment and started again; every handler is also
//! idempotent, since Docker may retry a call the old process never answered.

use std::str::FromStr;

use ipnetwork::IpNetwork;
use serde_json::{json, Value};

use super::nat;
use super::network::{bridge_keys, Mode, NetworkConfig, CREATED_BY_PLUGIN};
use super::protocol::*;
use crate::commands::{reclaim, Ctx};
use crate::config::{host_port_alias, host_port_name, Mac};
use crate::error::{Context, Error, Result};
use crate::lock::PortLock;
use crate::netlink::Netlink;
use crate::netns::Netns;
use crate::ovsdb::vswitch::{insert_bridge, keys, AttachedPort, NewBridge, Vswitch};
use crate::ovsdb::{data, Cond, Op, Txn};

/// external_ids of an endpoint's Interface row, besides the upstream keys
/// and [`keys::ENDPOINT_ID`] / [`keys::NETWORK_ID`].
pub mod endpoint_keys {
    /// The veth end that Docker moves into the container.
    pub const PEER: &str = "ovs_docker_peer";
    pub const ADDRESSES: &str = "docker_addresses";
    pub const MAC: &str = "docker_mac";
    /// The container's namespace file, once joined.
    pub const SANDBOX: &str = "docker_sandbox";
}

/// Where ProgramExternalConnectivity carries `docker run -p` mappings.
const PORT_MAP: &str = "com.docker.network.portmap";

/// The "interface" part of the lock held on a network while CreateNetwork
/// makes it (see [`crate::lock`]).
const NETWORK_LOCK: &str = "network";

/// The interface name in the lock and the veth mark (see
/// [`crate::config::host_port_alias`]) of an endpoint: Docker names the
/// interface in the container only after Join.
pub const ENDPOINT_LOCK_IFACE: &str = "plugin";
/// Docker names the container end DST_PREFIX and a number of its choosing
/// (eth0, eth1...), after Join and out of our sight; `container_iface`
/// records the prefix, and `ovs-docker list` finds the interface by its
/// MAC ([`endpoint_keys::MAC`]).
pub const DST_PREFIX: &str = "eth";

pub struct Driver {
    pub ctx: Ctx,
    /// The name Docker knows the driver by (`docker network create -d NAME`).
    pub name: String,
    /// Datapath type of the bridges the plugin creates.
    pub datapath_type: Option<String>,
}

/// A network as found in OVSDB.
struct Net {
    uuid: String,
    cfg: NetworkConfig,
    created_by_us: bool,
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::invalid(format!("malformed request body: {e}")))
}

impl Driver {
    /// Answer one call, or None if `method` is not one we know.
    pub async fn call(&self, method: &str, body: &[u8]) -> Option<Result<Value>> {
        let r = match method {
            "Plugin.Activate" => Ok(json!(ActivateResponse { implements: vec!["NetworkDriver"] })),
            "NetworkDriver.GetCapabilities" => {
                Ok(json!(CapabilitiesResponse { scope: "local", connectivity_scope: "local" }))
            }
            "NetworkDriver.CreateNetwork" => match parse(body) {
                Ok(r) => self.create_network(r).await,
                Err(e) => Err(e),
            },
            "NetworkDriver.DeleteNetwork" => match parse::<NetworkRequest>(body) {
                Ok(r) => self.teardown(&r.network_id).await.map(|()| json!({})),
                Err(e) => Err(e),
            },
            "NetworkDriver.CreateEndpoint" => match parse(body) {
                Ok(r) => self.create_endpoint(r).await,
                Err(e) => Err(e),
            },
            "NetworkDriver.DeleteEndpoint" => match parse(body) {
                Ok(r) => self.delete_endpoint(r).await,
                Err(e) => Err(e),
            },
            "NetworkDriver.EndpointOperInfo" => match parse(body) {
                Ok(r) => self.oper_info(r).await,
                Err(e) => Err(e),
            },
            "NetworkDriver.Join" => match parse(body) {
                Ok(r) => self.join(r).await,
                Err(e) => Err(e),
            },

            // Port publishing (-p): Docker runs no proxy for a remote
            // driver, and we do no DNAT. Accepting it would show ports in
            // `docker ps` that nothing serves: refuse instead.
            "NetworkDriver.ProgramExternalConnectivity" => match parse::<Value>(body) {
                Ok(r) if r["Options"][PORT_MAP].as_array().is_some_and(|ports| !ports.is_empty()) => {
                    Err(Error::invalid("publishing ports (docker run -p) is not supported on ovs-docker networks"))
                }
                Ok(_) => Ok(json!({})),
                Err(e) => Err(e),
            },
            // Nothing to undo: Docker moves the interface out, and
            // DeleteEndpoint removes it.
            "NetworkDriver.Leave"
            | "NetworkDriver.RevokeExternalConnectivity"
            | "NetworkDriver.DiscoverNew"
            | "NetworkDriver.DiscoverDelete"
            | "NetworkDriver.AllocateNetwork"
            | "NetworkDriver.FreeNetwork" => Ok(json!({})),
            _ => return None,
        };
        Some(r)
    }

    async fn find_network(&self, ovs: &Vswitch, id: &str) -> Result<Option<Net>> {
        let res = ovs
            .select(vec![Op::Select {
                table: "Bridge",
                conds: vec![Cond::includes("external_ids", data::map([(keys::NETWORK_ID, id)]))],
                columns: vec!["_uuid", "name", "external_ids"],
            }])
            .await
            .step(|| format!("look up the bridge of network {id}"))?;
        let Some(row) = data::rows(&res[0]).into_iter().next() else { return Ok(None) };
        let name = row["name"].as_str().unwrap_or_default().to_string();
        let ids = data::as_map(&row["external_ids"]);
        let cfg = NetworkConfig::from_ids(&name, &ids).map_err(Error::refused)?;
        Ok(Some(Net {
            uuid: data::as_uuid(&row["_uuid"]).unwrap_or_default().to_string(),
            created_by_us: ids.get(keys::CREATED_BY).map(String::as_str) == Some(CREATED_BY_PLUGIN),
            cfg,
        }))
    }

    async fn network(&self, ovs: &Vswitch, id: &str) -> Result<Net> {
        self.find_network(ovs, id)
            .await?
            .ok_or_else(|| Error::refused(format!("network {id} is unknown to this plugin (no bridge carries it)")))
    }

    async fn find_endpoint(&self, ovs: &Vswitch, id: &str) -> Result<Option<AttachedPort>> {
        let conds = vec![Cond::includes("external_ids", data::map([(keys::ENDPOINT_ID, id)]))];
        let ports = ovs.find_ports(conds).await.step(|| format!("look up the port of endpoint {id}"))?;
        Ok(ports.into_iter().next())
    }

    async fn create_network(&self, req: CreateNetworkRequest) -> Result<Value> {
        let cfg = NetworkConfig::from_request(&req).map_err(Error::invalid)?;
        // Held while the network is being made: Docker lists a network only
        // once CreateNetwork returned, so a concurrent CreateNetwork on the
        // same bridge must not take this one for a killed call's leftover.
        let _lock = PortLock::acquire(&cfg.id, NETWORK_LOCK, self.ctx.timeout)
            .await
            .step(|| format!("lock network {}", cfg.id))?
            .ok_or_else(|| Error::refused(format!("network {} is being created by another call", cfg.id)))?;
        let mut ovs = self.ctx.vswitch().await?;
        if let Some(net) = self.find_network(&ovs, &cfg.id).await? {
            // A retried call: the first one went through.
            if net.cfg.bridge == cfg.bridge {
                self.setup_host(&net.cfg).await?;
                return Ok(json!({}));
            }
        }
        let res = ovs
            .select(vec![
                Op::Select {
                    table: "Bridge",
                    conds: vec![Cond::eq("name", cfg.bridge.as_str())],
                    columns: vec!["external_ids"],
                },
                Op::Select {
                    table: "Interface",
                    conds: vec![Cond::eq("name", cfg.bind_interface.as_deref().unwrap_or(""))],
                    columns: vec!["name"],
                },
            ])
            .await
            .step(|| format!("look up bridge {}", cfg.bridge))?;
        let mut existing = data::rows(&res[0]).into_iter().next();
        if let Some(row) = &existing {
            if let Some(other) = data::as_map(&row["external_ids"]).get(keys::NETWORK_ID) {
                // A plugin killed during an earlier CreateNetwork leaves a
                // network Docker never made: reclaim its bridge.
                if self.ctx.docker()?.network_ids().await?.contains(other) {
                    return Err(Error::refused(format!(
                        "bridge {} already carries Docker network {other}",
                        cfg.bridge
                    )));
                }
                // Not known to Docker yet, but its CreateNetwork is running.
                let Some(_other) =
                    PortLock::try_acquire(other, NETWORK_LOCK).step(|| format!("lock network {other}"))?
                else {
                    return Err(Error::refused(format!(
                        "bridge {} is being set up for network {other} right now",
                        cfg.bridge
                    )));
                };
                super::log::info(format_args!(
                    "bridge {} carries network {other}, which Docker does not know: removing it",
                    cfg.bridge
                ));
                self.teardown(other).await?;
                let res = ovs
                    .select(vec![Op::Select {
                        table: "Bridge",
                        conds: vec![Cond::eq("name", cfg.bridge.as_str())],
                        columns: vec!["external_ids"],
                    }])
                    .await
                    .step(|| format!("look up bridge {}", cfg.bridge))?;
                existing = data::rows(&res[0]).into_iter().next();
            }
        }
        if existing.is_some() && cfg.mode == Mode::Nat && cfg.vlan.is_some() {
            // The gateway would sit on the bridge's own internal port, which
            // is not ours to retag.
            return Err(Error::invalid(format!(
                "driver option vlan: with mode=nat the plugin must create the bridge, and {} exists",
                cfg.bridge
            )));
        }
        if let Some(bi) = &cfg.bind_interface {
            if !data::rows(&res[1]).is_empty() {
                return Err(Error::refused(format!("bind_interface {bi} is already a port of a bridge")));
            }
            let host = Netlink::host().step(|| "open a netlink socket".into())?;
            if host.link(bi).await.step(|| format!("look up bind_interface {bi}"))?.is_none() {
                return Err(Error::refused(format!("bind_interface {bi}: no such interface on this host")));
            }
        }

        let mut ids = cfg.to_ids(&self.name);
        let mut t = Txn::new();
        let bridge = cfg.bridge.as_str();
        let mut new_ports = Vec::new();
        if let Some(bi) = &cfg.bind_interface {
            t.push(Op::Wait {
                table: "Interface",
                conds: vec![Cond::eq("name", bi.as_str())],
                columns: vec!["name"],
                rows: vec![],
                what: format!("{bi} is not a port yet"),
            });
            t.push(Op::Insert { table: "Interface", row: json!({"name": bi}), uuid_name: Some("bind_iface".into()) });
            t.push(Op::Insert {
                table: "Port",
                row: json!({"name": bi, "interfaces": data::named("bind_iface")}),
                uuid_name: Some("bind_port".into()),
            });
            new_ports.push(data::named("bind_port"));
        }
        match &existing {
            Some(row) => {
                t.push(Op::Wait {
                    table: "Bridge",
                    conds: vec![Cond::eq("name", bridge)],
                    columns: vec!["external_ids"],
                    rows: vec![json!({"external_ids": row["external_ids"]})],
                    what: format!("bridge {bridge} is unchanged"),
                });
                let map = data::map(ids.iter().map(|(k, v)| (*k, v.as_str())));
                let mut mutations = vec![json!(["external_ids", "insert", map])];
                if !new_ports.is_empty() {
                    mutations.push(json!(["ports", "insert", data::set(new_ports)]));
                }
                t.push(Op::Mutate {
                    table: "Bridge",
                    conds: vec![Cond::eq("name", bridge)],
                    mutations: json!(mutations),
                });
            }
            None => {
                t.push(Op::Wait {
                    table: "Bridge",
                    conds: vec![Cond::eq("name", bridge)],
                    columns: vec!["name"],
                    rows: vec![],
                    what: format!("bridge {bridge} does not exist yet"),
                });
                ids.push((keys::CREATED_BY, CREATED_BY_PLUGIN.to_string()));
                // The gateway sits on the internal port: on the network's
                // VLAN, or it would receive the containers' frames tagged.
                insert_bridge(
                    &mut t,
                    NewBridge {
                        name: bridge,
                        datapath_type: self.datapath_type.as_deref(),
                        iface_columns: cfg.mtu.map_or_else(|| json!({}), |m| json!({"mtu_request": m})),
                        port_columns: cfg.vlan.map_or_else(|| json!({}), |tag| json!({"tag": tag})),
                        other_ports: new_ports,
                        external_ids: data::map(ids.iter().map(|(k, v)| (*k, v.as_str()))),
                    },
                );
            }
        }
        ovs.commit(t, true).await.step(|| format!("create bridge {bridge} for network {}", cfg.id))?;
        crate::fault::point("plugin-bridge-committed").await;
        if let Err(e) = self.setup_host(&cfg).await {
            // Undo: the network must not exist half-made.
            if let Err(undo) = self.teardown(&cfg.id).await {
                return Err(Error::Many(vec![e, undo]));
            }
            return Err(e);
        }
        Ok(json!({}))
    }

    /// The host side of a network: in nat mode the gateway addresses on the
    /// bridge's internal port, forwarding and the NAT rules; in flat mode
    /// the uplink up. Safe to run again.
    async fn setup_host(&self, cfg: &NetworkConfig) -> Result<()> {
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if let Some(bi) = &cfg.bind_interface {
            if let Some(l) = host.link(bi).await.step(|| format!("look up {bi}"))? {
                host.set_up(l.index).await.step(|| format!("set {bi} up"))?;
            }
        }
        if cfg.mode != Mode::Nat {
            return Ok(());
        }
        let bridge = &cfg.bridge;
        // ovs-vswitchd made the internal port when it applied the change;
        // it may take a moment to show in the kernel.
        let deadline = std::time::Instant::now() + self.ctx.timeout;
        let link = loop {
            if let Some(l) = host.link(bridge).await.step(|| format!("look up the internal port of {bridge}"))? {
                break l;
            }
            if std::time::Instant::now() > deadline {
                return Err(Error::refused(format!(
                    "bridge {bridge} got no internal port in the kernel (is its datapath type usable here?)"
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        if let Some(m) = cfg.mtu {
            host.set_mtu(link.index, m).await.step(|| format!("set the MTU of {bridge} to {m}"))?;
        }
        host.set_up(link.index).await.step(|| format!("set {bridge} up"))?;
        for gw in cfg.gateways() {
            match host.add_address(link.index, gw.ip(), gw.prefix()).await {
                Err(e) if e.is(libc::EEXIST) => {}
                r => r.step(|| format!("add gateway address {gw} to {bridge}"))?,
            }
        }
        let forward = crate::netns::host_net_sysctl("ipv4/ip_forward");
        crate::netns::write_sysctl(&forward, "1").step(|| format!("turn IPv4 forwarding on ({forward})"))?;
        if let Some((IpNetwork::V4(subnet), _)) = cfg.v4 {
            let id = cfg.id.clone();
            let n = nat::count_network_rules(&id).step(|| format!("list the NAT rules of network {id}"))?;
            if n == 0 {
                nat::add_network_rules(&id, subnet.network(), subnet.prefix(), bridge)
                    .step(|| format!("add the masquerade rule of network {id} (nf_tables table ip {})", nat::TABLE))?;
            }
        }
        Ok(())
    }

    /// Remove everything of network `id`: its endpoints' ports and veths,
    /// its NAT rules, and its bridge if the plugin made it (else what the
    /// plugin added to the bridge). Carries on after a failure and reports
    /// them all; nothing found is success.
    async fn teardown(&self, id: &str) -> Result<()> {
        let mut errors = Vec::new();
        if let Err(e) = nat::remove_network_rules(id) {
            errors.push(Error::io(format!("remove the NAT rules of network {id}"), e));
        }
        let mut ovs = self.ctx.vswitch().await?;
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        let conds = vec![Cond::includes("external_ids", data::map([(keys::NETWORK_ID, id)]))];
        let ports = ovs.find_ports(conds).await.step(|| format!("look up the ports of network {id}"))?;
        for p in &ports {
            if let Err(e) = reclaim::remove_port(&self.ctx, &mut ovs, &host, p).await {
                errors.push(e);
            }
        }
        let Some(net) = self.find_network(&ovs, id).await? else { return Error::all(errors) };
        let bridge = net.cfg.bridge.as_str();
        let mut t = Txn::new();
        if net.created_by_us {
            t.push(Op::Mutate {
                table: "Open_vSwitch",
                conds: vec![],
                mutations: json!([["bridges", "delete", data::set(vec![data::uuid(&net.uuid)])]]),
            });
        } else {
            if let Ok(Some(l)) = host.link(bridge).await {
                for gw in net.cfg.gateways() {
                    if let Err(e) = host.del_address(l.index, gw.ip(), gw.prefix()).await {
                        errors.push(Error::Netlink { step: format!("remove address {gw} from {bridge}"), source: e });
                    }
                }
            }
            let mut mutations = vec![];
            if let Some(bi) = &net.cfg.bind_interface {
                let res = ovs
                    .select(vec![Op::Select {
                        table: "Port",
                        conds: vec![Cond::eq("name", bi.as_str())],
                        columns: vec!["_uuid"],
                    }])
                    .await
                    .step(|| format!("look up port {bi}"))?;
                if let Some(u) =
                    data::rows(&res[0]).first().and_then(|r| data::as_uuid(&r["_uuid"]).map(str::to_string))
                {
                    mutations.push(json!(["ports", "delete", data::set(vec![data::uuid(&u)])]));
                }
            }
            let keys: Vec<Value> =
                std::iter::once(keys::NETWORK_ID).chain(bridge_keys::ALL).map(|k| json!(k)).collect();
            mutations.push(json!(["external_ids", "delete", data::set(keys)]));
            t.push(Op::Mutate {
                table: "Bridge",
                conds: vec![Cond::eq("_uuid", data::uuid(&net.uuid))],
                mutations: json!(mutations),
            });
        }
        if let Err(e) = ovs.commit(t, true).await {
            errors.push(Error::Ovsdb { step: format!("remove bridge {bridge} of network {id}"), source: e });
        }
        Error::all(errors)
    }

    /// Set up again the host side of every network this driver serves (the
    /// gateway addresses, forwarding, the NAT rules): a reboot or an OVS
    /// restart takes them away, and dockerd never repeats CreateNetwork for
    /// a remote driver. Returns how many networks were looked at.
    pub async fn restore_host_state(&self) -> Result<usize> {
        let ovs = self.ctx.vswitch().await?;
        let res = ovs
            .select(vec![Op::Select { table: "Bridge", conds: vec![], columns: vec!["name", "external_ids"] }])
            .await
            .step(|| "list bridges".into())?;
        let (mut restored, mut errors) = (0, Vec::new());
        for row in data::rows(&res[0]) {
            let ids = data::as_map(&row["external_ids"]);
            if !ids.contains_key(keys::NETWORK_ID) || ids.get(bridge_keys::DRIVER) != Some(&self.name) {
                continue;
            }
            // One broken network must not keep the others down.
            let name = row["name"].as_str().unwrap_or_default();
            let result = match NetworkConfig::from_ids(name, &ids) {
                Ok(cfg) => self.setup_host(&cfg).await,
                Err(e) => Err(Error::refused(format!("bridge {name}: {e}"))),
            };
            match result {
                Ok(()) => restored += 1,
                Err(e) => errors.push(e),
            }
        }
        Error::all(errors).map(|()| restored)
    }

    /// Delete the veths made for an endpoint that never got its OVSDB row
    /// (the plugin was killed in between; Docker, told the call failed,
    /// never deletes such an endpoint). A held lock means a call in
    /// progress, in this process or another: left alone. Returns how many.
    pub async fn sweep_orphan_veths(&self) -> Result<usize> {
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        let links = host.links().await.step(|| "list host links".into())?;
        let mut removed = 0;
        for l in links {
            let Some((eid, iface)) = l.alias.as_deref().and_then(crate::config::parse_host_port_alias) else {
                continue;
            };
            if iface != ENDPOINT_LOCK_IFACE {
                continue;
            }
            let Some(_lock) = PortLock::try_acquire(eid, iface).step(|| format!("lock endpoint {eid}"))? else {
                continue;
            };
            if reclaim::remove_orphan_veths_checked(&self.ctx, &host, &l.name, false).await? {
                super::log::info(format_args!("deleted veth {} of endpoint {eid}, left by a killed plugin", l.name));
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn create_endpoint(&self, req: CreateEndpointRequest) -> Result<Value> {
        let eid = req.endpoint_id.as_str();
        if eid.is_empty() || !eid.bytes().all(|b| b.is_ascii_alphanumeric()) || eid.len() > 64 {
            return Err(Error::invalid(format!("invalid endpoint ID \"{}\"", eid.escape_default())));
        }
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
        let mut ovs = self.ctx.vswitch().await?;
        let net = self.network(&ovs, &req.network_id).await?;
        if net.cfg.mode == Mode::Nat {
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
        let _lock = PortLock::acquire(eid, ENDPOINT_LOCK_IFACE, self.ctx.timeout)
            .await
            .step(|| format!("lock endpoint {eid}"))?
            .ok_or_else(|| Error::refused(format!("endpoint {eid} is being worked on by another process")))?;
        if let Some(p) = self.find_endpoint(&ovs, eid).await? {
            // A retried call.
            let mac = p.external_ids.get(endpoint_keys::MAC).cloned().unwrap_or_default();
            return Ok(json!(endpoint_answer(given_mac.is_none(), mac)));
        }
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        // What a crash before the commit left for this endpoint.
        for name in reclaim::our_veths(&host, eid, ENDPOINT_LOCK_IFACE).await? {
            host.delete(&name).await.step(|| format!("delete veth {name} left by an interrupted run"))?;
        }
        let host_ns = Netns::current().step(|| "open the host network namespace".into())?;
        let port = host_port_name(&uuid::Uuid::new_v4());
        let peer = format!("{}_c", &port[..port.len() - 2]);
        let mac = given_mac.unwrap_or_else(|| mac_for(&iface.address));
        let alias = host_port_alias(eid, ENDPOINT_LOCK_IFACE);
        let index = host
            .create_veth(&port, &alias, &peer, &host_ns, net.cfg.mtu, Some(mac.0))
            .await
            .step(|| format!("create veth {port} for endpoint {eid}"))?;
        crate::fault::point("plugin-veth-created").await;
        let result = self.attach(&mut ovs, &host, &net, &req, index, &port, &peer, &mac, &addresses).await;
        if let Err(e) = result {
            if let Err(undo) = host.delete(&port).await {
                return Err(Error::Many(vec![
                    e,
                    Error::Netlink { step: format!("delete veth {port} (undo)"), source: undo },
                ]));
            }
            return Err(e);
        }
        Ok(json!(endpoint_answer(given_mac.is_none(), mac.to_string())))
    }

    /// Configure a new veth and commit its port.
    #[allow(clippy::too_many_arguments)]
    async fn attach(
        &self,
        ovs: &mut Vswitch,
        host: &Netlink,
        net: &Net,
        req: &CreateEndpointRequest,
        index: u32,
        port: &str,
        peer: &str,
        mac: &Mac,
        addresses: &[String],
    ) -> Result<()> {
        let eid = req.endpoint_id.as_str();
        let bridge = net.cfg.bridge.as_str();
        let netdev = self.bridge_is_netdev(ovs, bridge).await?;
        if netdev {
            crate::netns::quiet_netdev_host_end(port)?;
            // The peer is still in the host namespace: ethtool settings
            // survive Docker's move into the container.
            let sock = crate::ethtool::socket().step(|| "open a socket for ethtool".into())?;
            crate::ethtool::disable_tx_checksum(&sock, peer)
                .step(|| format!("turn TX checksum offload off on {peer} (needed by the netdev datapath)"))?;
        }
        host.set_up(index).await.step(|| format!("set veth {port} up"))?;
        let ids: Vec<(&str, String)> = vec![
            (keys::CONTAINER_ID, eid.to_string()),
            (keys::CONTAINER_IFACE, DST_PREFIX.to_string()),
            (keys::CREATED_BY, CREATED_BY_PLUGIN.to_string()),
            (keys::ENDPOINT_ID, eid.to_string()),
            (keys::NETWORK_ID, net.cfg.id.clone()),
            (endpoint_keys::PEER, peer.to_string()),
            (endpoint_keys::MAC, mac.to_string()),
            (endpoint_keys::ADDRESSES, addresses.join(",")),
        ];
        let mut t = Txn::new();
        t.push(Op::Wait {
            table: "Bridge",
            conds: vec![Cond::eq("_uuid", data::uuid(&net.uuid))],
            columns: vec!["name"],
            rows: vec![json!({"name": bridge})],
            what: format!("bridge {bridge} of network {} still exists", net.cfg.id),
        });
        t.push(Op::Insert {
            table: "Interface",
            row: json!({"name": port, "external_ids": data::map(ids.iter().map(|(k, v)| (*k, v.as_str())))}),
            uuid_name: Some("iface".into()),
        });
        let mut port_row = json!({"name": port, "interfaces": data::named("iface")});
        if let Some(tag) = net.cfg.vlan {
            port_row["tag"] = json!(tag);
        }
        t.push(Op::Insert { table: "Port", row: port_row, uuid_name: Some("port".into()) });
        t.push(Op::Mutate {
            table: "Bridge",
            conds: vec![Cond::eq("_uuid", data::uuid(&net.uuid))],
            mutations: json!([["ports", "insert", data::set(vec![data::named("port")])]]),
        });
        ovs.commit(t, true).await.step(|| format!("add port {port} to bridge {bridge} for endpoint {eid}"))?;
        crate::fault::point("plugin-port-committed").await;
        Ok(())
    }

    async fn bridge_is_netdev(&self, ovs: &Vswitch, bridge: &str) -> Result<bool> {
        let dp = ovs.bridge_datapath_type(bridge).await.step(|| format!("look up bridge {bridge}"))?;
        Ok(dp.as_deref() == Some("netdev"))
    }

    async fn delete_endpoint(&self, req: EndpointRequest) -> Result<Value> {
        let eid = req.endpoint_id.as_str();
        let _lock = PortLock::acquire(eid, ENDPOINT_LOCK_IFACE, self.ctx.timeout)
            .await
            .step(|| format!("lock endpoint {eid}"))?
            .ok_or_else(|| Error::refused(format!("endpoint {eid} is being worked on by another process")))?;
        let mut ovs = self.ctx.vswitch().await?;
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if let Some(p) = self.find_endpoint(&ovs, eid).await? {
            reclaim::remove_port(&self.ctx, &mut ovs, &host, &p).await?;
        }
        for name in reclaim::our_veths(&host, eid, ENDPOINT_LOCK_IFACE).await? {
            host.delete(&name).await.step(|| format!("delete veth {name} of endpoint {eid}"))?;
        }
        Ok(json!({}))
    }

    async fn join(&self, req: JoinRequest) -> Result<Value> {
        let eid = req.endpoint_id.as_str();
        let mut ovs = self.ctx.vswitch().await?;
        let net = self.network(&ovs, &req.network_id).await?;
        let p = self
            .find_endpoint(&ovs, eid)
            .await?
            .ok_or_else(|| Error::refused(format!("endpoint {eid} is unknown to this plugin")))?;
        let peer = p
            .external_ids
            .get(endpoint_keys::PEER)
            .cloned()
            .ok_or_else(|| Error::refused(format!("port {} of endpoint {eid} names no veth peer", p.name)))?;
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if host.link(&peer).await.step(|| format!("look up veth {peer}"))?.is_none() {
            return Err(Error::refused(format!("the container end {peer} of endpoint {eid} is gone")));
        }
        if !req.sandbox_key.is_empty() {
            let mut t = Txn::new();
            t.push(Op::Mutate {
                table: "Interface",
                conds: vec![Cond::eq("_uuid", data::uuid(&p.iface_uuid))],
                mutations: json!([
                    ["external_ids", "delete", data::set(vec![json!(endpoint_keys::SANDBOX)])],
                    ["external_ids", "insert", data::map([(endpoint_keys::SANDBOX, req.sandbox_key.as_str())])]
                ]),
            });
            ovs.commit(t, false).await.step(|| format!("record the sandbox of endpoint {eid}"))?;
        }
        let gw = |v: &Option<(IpNetwork, Option<IpNetwork>)>| {
            v.as_ref().and_then(|(_, g)| g.map(|g| g.ip().to_string())).unwrap_or_default()
        };
        Ok(json!(JoinResponse {
            interface_name: InterfaceName { src_name: peer, dst_prefix: DST_PREFIX.into() },
            gateway: gw(&net.cfg.v4),
            gateway_ipv6: gw(&net.cfg.v6),
        }))
    }

    async fn oper_info(&self, req: EndpointRequest) -> Result<Value> {
        let ovs = self.ctx.vswitch().await?;
        let mut value = std::collections::BTreeMap::new();
        if let Some(p) = self.find_endpoint(&ovs, &req.endpoint_id).await? {
            value.insert("port".to_string(), p.name.clone());
            if let Some(b) = &p.bridge {
                value.insert("bridge".to_string(), b.clone());
            }
            for (k, name) in [(endpoint_keys::MAC, "mac"), (endpoint_keys::ADDRESSES, "addresses")] {
                if let Some(v) = p.external_ids.get(k) {
                    value.insert(name.to_string(), v.clone());
                }
            }
        }
        Ok(json!(OperInfoResponse { value }))
    }
}

fn endpoint_answer(we_chose_mac: bool, mac: String) -> CreateEndpointResponse {
    CreateEndpointResponse {
        interface: we_chose_mac.then(|| EndpointInterface { mac_address: mac, ..Default::default() }),
    }
}

/// The MAC of an endpoint that Docker gave none: derived from its IPv4
/// address as Docker's bridge driver does (02:42 and the four bytes), so a
/// restarted container, which gets a new endpoint but keeps its address,
/// keeps its MAC too and its peers' ARP caches stay right. Random (locally
/// administered) without an IPv4 address.
fn mac_for(address: &str) -> Mac {
    match address.split('/').next().and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()) {
        Some(ip) => {
            let o = ip.octets();
            Mac([0x02, 0x42, o[0], o[1], o[2], o[3]])
        }
        None => {
            let b = uuid::Uuid::new_v4().into_bytes();
            Mac([0x02, b[0], b[1], b[2], b[3], b[4]])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_follow_the_ipv4_address() {
        assert_eq!(mac_for("10.20.0.2/24").to_string(), "02:42:0a:14:00:02");
        let random = mac_for("");
        assert_eq!(random.0[0], 0x02);
        assert_ne!(random, mac_for(""));
    }
}
