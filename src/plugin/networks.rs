//! The network handlers: CreateNetwork, DeleteNetwork, and the host side
//! of a network (gateway addresses, forwarding, NAT rules), set up again
//! when the plugin starts.

use serde_json::{json, Value};

use super::network::{Mode, NetworkConfig};
use super::protocol::CreateNetworkRequest;
use super::{Driver, NETWORK_LOCK};
use crate::error::{Context, Error, Result};
use crate::ovsdb::networks::{create_network_txn, delete_network_txn, BridgeRow, NetworkBridge};
use crate::ovsdb::vswitch::Vswitch;
use crate::ovsdb::{data, keys, Cond};
use crate::port::remove::{remove_port, Veths};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::netns::{host_net_sysctl, write_sysctl};
use crate::sys::nftables;

/// A network as found in OVSDB.
pub struct Net {
    pub row: BridgeRow,
    pub cfg: NetworkConfig,
}

/// Let the host reach the published ports of nat network `id` through
/// 127.0.0.1 (see [`nftables::ensure_localnet`]): its rules first, then
/// the kernel's `route_localnet` on the bridge, never the other way round.
fn serve_loopback(id: &str, bridge: &str) -> Result<()> {
    nftables::ensure_localnet(id, bridge)
        .step(|| format!("add the loopback rules of network {id} (nf_tables table ip {})", nftables::TABLE))?;
    let path = host_net_sysctl(&format!("ipv4/conf/{bridge}/route_localnet"));
    write_sysctl(&path, "1").step(|| format!("let 127.0.0.1 reach network {id} ({path})"))
}

impl Driver {
    pub(super) async fn find_network(&self, ovs: &Vswitch, id: &str) -> Result<Option<Net>> {
        let Some(row) = ovs.network_bridge(id).await.step(|| format!("look up the bridge of network {id}"))? else {
            return self.find_ovn_network(ovs, id).await;
        };
        let cfg = NetworkConfig::from_ids(&row.name, &row.external_ids).map_err(Error::refused)?;
        Ok(Some(Net { row, cfg }))
    }

    pub(super) async fn network(&self, ovs: &Vswitch, id: &str) -> Result<Net> {
        self.find_network(ovs, id)
            .await?
            .ok_or_else(|| Error::refused(format!("network {id} is unknown to this plugin (no bridge carries it)")))
    }

    pub(super) async fn create_network(&self, req: CreateNetworkRequest) -> Result<Value> {
        let cfg = NetworkConfig::from_request(&req).map_err(Error::invalid)?;
        if cfg.mode.host_routes() && nftables::legacy_filter_table_in_use() {
            return Err(Error::refused(format!(
                "mode {}: this host's iptables uses the legacy backend (x_tables has a filter table), whose \
                 FORWARD policy the plugin cannot see nor pass; switch to the nf_tables backend \
                 (update-alternatives --set iptables /usr/sbin/iptables-nft, then restart dockerd)",
                cfg.mode.as_str()
            )));
        }
        // Held while the network is being made: Docker lists a network only
        // once CreateNetwork returned, so a concurrent CreateNetwork on the
        // same bridge must not take this one for a killed call's leftover.
        let _lock = PortLock::acquire(&cfg.id, NETWORK_LOCK, self.ctx.timeout)
            .await
            .step(|| format!("lock network {}", cfg.id))?
            .ok_or_else(|| Error::refused(format!("network {} is being created by another call", cfg.id)))?;
        if cfg.mode == Mode::Ovn {
            // Idempotent: a retried call finds its work done.
            return self.create_ovn_network(&cfg).await;
        }
        let mut ovs = self.ctx.vswitch().await?;
        if let Some(net) = self.find_network(&ovs, &cfg.id).await? {
            // A retried call: the first one went through.
            if net.cfg.bridge == cfg.bridge {
                self.setup_host(&net.cfg).await?;
                return Ok(json!({}));
            }
        }
        let look_up =
            || async { ovs.bridge_named(&cfg.bridge).await.step(|| format!("look up bridge {}", cfg.bridge)) };
        let mut existing = look_up().await?;
        if let Some(other) = existing.as_ref().and_then(BridgeRow::network_id) {
            let other = other.to_string();
            self.reclaim_leftover(&cfg.bridge, &other).await?;
            existing = look_up().await?;
        }
        self.check_bridge_and_uplink(&ovs, &cfg, existing.is_some()).await?;
        let txn = create_network_txn(&NetworkBridge {
            name: &cfg.bridge,
            ids: cfg.to_ids(&self.name),
            uplink: cfg.bind_interface.as_deref(),
            existing: existing.as_ref(),
            datapath_type: Some(self.datapath_type.as_str()),
            mtu: cfg.mtu,
            vlan: cfg.vlan,
        });
        ovs.commit(txn, true).await.step(|| format!("create bridge {} for network {}", cfg.bridge, cfg.id))?;
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

    /// `bridge` carries network `other`. A plugin killed during an earlier
    /// CreateNetwork leaves a network Docker never made: remove it, unless
    /// Docker knows it or its CreateNetwork is still running.
    async fn reclaim_leftover(&self, bridge: &str, other: &str) -> Result<()> {
        if self.ctx.docker()?.network_ids().await?.iter().any(|n| n == other) {
            return Err(Error::refused(format!("bridge {bridge} already carries Docker network {other}")));
        }
        let Some(_other) = PortLock::try_acquire(other, NETWORK_LOCK).step(|| format!("lock network {other}"))? else {
            return Err(Error::refused(format!("bridge {bridge} is being set up for network {other} right now")));
        };
        log::info!("bridge {bridge} carries network {other}, which Docker does not know: removing it");
        self.teardown(other).await
    }

    /// What only OVSDB and the kernel can say about the options.
    async fn check_bridge_and_uplink(&self, ovs: &Vswitch, cfg: &NetworkConfig, exists: bool) -> Result<()> {
        if exists && cfg.mode.host_routes() && cfg.vlan.is_some() {
            // The gateway would sit on the bridge's own internal port, which
            // is not ours to retag.
            return Err(Error::invalid(format!(
                "driver option vlan: with mode={} the plugin must create the bridge, and {} exists",
                cfg.mode.as_str(),
                cfg.bridge
            )));
        }
        let Some(bi) = &cfg.bind_interface else { return Ok(()) };
        if ovs.has_interface(bi).await.step(|| format!("look up bind_interface {bi}"))? {
            return Err(Error::refused(format!("bind_interface {bi} is already a port of a bridge")));
        }
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if host.link(bi).await.step(|| format!("look up bind_interface {bi}"))?.is_none() {
            return Err(Error::refused(format!("bind_interface {bi}: no such interface on this host")));
        }
        Ok(())
    }

    pub(super) async fn setup_host(&self, cfg: &NetworkConfig) -> Result<()> {
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        if let Some(bi) = &cfg.bind_interface {
            if let Some(l) = host.link(bi).await.step(|| format!("look up {bi}"))? {
                host.set_up(l.index).await.step(|| format!("set {bi} up"))?;
            }
        }
        if !cfg.mode.host_routes() {
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
        self.setup_firewall(cfg)
    }

    /// Forwarding, and the rules of each family the network has a subnet
    /// of: masquerade (or, internal, nothing out) and isolation in our
    /// tables, and the accept rules in iptables' FORWARD. A routed network
    /// has nothing in our tables (no NAT, and other hosts may open
    /// connections to its containers), only the FORWARD accepts.
    fn setup_firewall(&self, cfg: &NetworkConfig) -> Result<()> {
        let (id, bridge) = (cfg.id.as_str(), cfg.bridge.as_str());
        for (family, subnet, sysctl) in [
            ("ip", cfg.v4.map(|(s, _)| s), "ipv4/ip_forward"),
            ("ip6", cfg.v6.map(|(s, _)| s), "ipv6/conf/all/forwarding"),
        ] {
            let Some(subnet) = subnet else { continue };
            let subnet = nftables::Subnet { addr: subnet.network(), prefix: subnet.prefix() };
            let forward = host_net_sysctl(sysctl);
            write_sysctl(&forward, "1").step(|| format!("turn {family} forwarding on ({forward})"))?;
            let ours = cfg.mode == Mode::Nat || cfg.internal;
            let n = nftables::count_network_rules(id, subnet)
                .step(|| format!("list the rules of network {id} (nf_tables table {family} {})", nftables::TABLE))?;
            if ours && n == 0 {
                nftables::add_network_rules(id, subnet, bridge, cfg.internal).step(|| {
                    format!("add the firewall rules of network {id} (nf_tables table {family} {})", nftables::TABLE)
                })?;
            }
            if !cfg.internal {
                nftables::ensure_forward_accepts(id, subnet, bridge).step(|| {
                    format!(
                        "let network {id} through iptables' FORWARD chain (nf_tables table {family} {})",
                        nftables::DOCKER_TABLE
                    )
                })?;
            }
            if family == "ip" && cfg.mode == Mode::Nat && !cfg.internal {
                serve_loopback(id, bridge)?;
            }
        }
        Ok(())
    }

    /// DeleteNetwork: [`Driver::teardown`] under the network's lock, so that
    /// the periodic check of the host side does not put back a rule of a
    /// network being removed.
    pub(super) async fn delete_network(&self, id: &str) -> Result<Value> {
        let _lock = PortLock::acquire(id, NETWORK_LOCK, self.ctx.timeout)
            .await
            .step(|| format!("lock network {id}"))?
            .ok_or_else(|| Error::refused(format!("network {id} is busy")))?;
        self.teardown(id).await.map(|()| json!({}))
    }

    /// Remove the firewall rules that name a network no bridge carries any
    /// more (its plugin died, and the network went without it), and the
    /// published ports of endpoints whose container went meanwhile.
    pub async fn sweep_stale_rules(&self) -> Result<usize> {
        let ovs = self.ctx.vswitch().await?;
        let bridges = ovs.bridges().await.step(|| "list bridges".into())?;
        let live: std::collections::BTreeSet<&str> = bridges.iter().filter_map(BridgeRow::network_id).collect();
        let ruled = nftables::networks_with_rules().step(|| "list the nf_tables rules of networks".into())?;
        let mut removed = 0;
        for id in ruled.iter().filter(|id| !live.contains(id.as_str())) {
            log::info!("removing the firewall rules of network {id}, which no bridge carries");
            removed += nftables::remove_network_rules(id).step(|| format!("remove the rules of gone network {id}"))?;
        }
        // Published ports of endpoints whose port went while the plugin was
        // dead.
        let published = nftables::ports::endpoints_with_bindings().step(|| "list the published ports".into())?;
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        for eid in &published {
            // Gone: no port row, or its veth died with the container.
            let alive = match crate::port::endpoint::find(&ovs, eid).await? {
                Some(p) => host.link(&p.name).await.step(|| format!("look up veth {}", p.name))?.is_some(),
                None => false,
            };
            if !alive {
                log::info!("removing the published ports of endpoint {eid}, which is gone");
                removed += nftables::ports::remove_endpoint_bindings(eid)
                    .step(|| format!("remove the published ports of endpoint {eid}"))?;
            }
        }
        Ok(removed)
    }

    /// Remove everything of network `id`: its endpoints' ports and veths,
    /// its NAT rules, and its bridge if the plugin made it (else what the
    /// plugin added to the bridge). Carries on after a failure and reports
    /// them all; nothing found is success.
    pub(super) async fn teardown(&self, id: &str) -> Result<()> {
        let mut errors = Vec::new();
        let mut ovs = self.ctx.vswitch().await?;
        // Removing the ports leaves the bridge's row as it is: one lookup.
        let found = self.find_network(&ovs, id).await?;
        // A bridge that outlives the network (not made by the plugin) gets
        // its route_localnet back off before the drop that guards it goes.
        if let Some(net) = found.as_ref().filter(|n| !n.row.made_by_plugin() && n.cfg.mode == Mode::Nat) {
            let path = host_net_sysctl(&format!("ipv4/conf/{}/route_localnet", net.cfg.bridge));
            if std::path::Path::new(&path).exists() {
                if let Err(e) = write_sysctl(&path, "0") {
                    errors.push(Error::io(format!("turn route_localnet off ({path})"), e));
                }
            }
        }
        if let Err(e) = nftables::remove_network_rules(id) {
            errors.push(Error::io(format!("remove the NAT rules of network {id}"), e));
        }
        let host = Netlink::host().step(|| "open a netlink socket".into())?;
        let conds = vec![Cond::includes("external_ids", data::map([(keys::iface::NETWORK_ID, id)]))];
        let ports = ovs.find_ports(conds).await.step(|| format!("look up the ports of network {id}"))?;
        for p in &ports {
            if let Err(e) = remove_port(&self.ctx, &mut ovs, &host, p, &Veths::Now).await {
                errors.push(e);
            }
        }
        let Some(net) = found else { return Error::all(errors) };
        if net.cfg.mode == Mode::Ovn {
            // A logical switch port whose port is gone is the sweep's to
            // remove if this fails (see Driver::ovn_teardown).
            for eid in ports.iter().filter_map(|p| p.external_ids.get(keys::iface::ENDPOINT_ID)) {
                if let Err(e) = self.release_ovn_endpoint(eid).await {
                    log::warn!("endpoint {eid}: {e} (its logical switch ports are left to the periodic sweep)");
                }
            }
            if let Err(e) = self.ovn_teardown(ovs, &net).await {
                errors.push(e);
            }
            return Error::all(errors);
        }
        let bridge = net.cfg.bridge.as_str();
        let mut uplink = None;
        if !net.row.made_by_plugin() {
            if let Ok(Some(l)) = host.link(bridge).await {
                for gw in net.cfg.gateways() {
                    if let Err(e) = host.del_address(l.index, gw.ip(), gw.prefix()).await {
                        errors.push(Error::Netlink { step: format!("remove address {gw} from {bridge}"), source: e });
                    }
                }
            }
            if let Some(bi) = &net.cfg.bind_interface {
                uplink = ovs.port_uuid(bi).await.step(|| format!("look up port {bi}"))?;
            }
        }
        if let Err(e) = ovs.commit(delete_network_txn(&net.row, uplink.as_deref()), true).await {
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
        let bridges = ovs.bridges().await.step(|| "list bridges".into())?;
        let (mut restored, mut errors) = (0, Vec::new());
        for row in bridges {
            let ids = &row.external_ids;
            if row.network_id().is_none() || ids.get(keys::bridge::DRIVER) != Some(&self.name) {
                continue;
            }
            // A network being made, changed or removed is its call's to
            // set up.
            let Some(id) = row.network_id() else { continue };
            let Ok(Some(_lock)) = PortLock::try_acquire(id, NETWORK_LOCK) else { continue };
            // One broken network must not keep the others down.
            let result = match NetworkConfig::from_ids(&row.name, ids) {
                Ok(cfg) => match self.setup_host(&cfg).await {
                    Ok(()) => self.restore_rate_limits(&ovs, &cfg).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(Error::refused(format!("bridge {}: {e}", row.name))),
            };
            match result {
                Ok(()) => restored += 1,
                Err(e) => errors.push(e),
            }
        }
        Error::all(errors).map(|()| restored)
    }
}
