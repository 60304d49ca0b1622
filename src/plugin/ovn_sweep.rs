//! What a plugin killed in the middle of a mode=ovn call leaves in the
//! northbound database, found and removed when it starts and every few
//! seconds after (the "heal" tick): Docker was told the call failed, so it
//! never undoes it itself.
//!
//! - a host's use of a switch for a network this host does not have (killed
//!   between recording the use and recording the network on the bridge, or
//!   a DeleteNetwork that could not reach the northbound database);
//! - an address this host reserved that no endpoint claimed within
//!   [`RESERVATION_TTL`] (killed between reserving it and answering
//!   RequestAddress: Docker asked again and got another);
//! - an address an endpoint claimed whose port this host never made
//!   (killed between the claim and the port) or no longer has (a
//!   DeleteEndpoint that could not reach the northbound database).
//!
//! A network or endpoint whose lock is held is being worked on: left alone.

use std::collections::BTreeSet;

use super::ipam::reservation_age;
use super::ovn::{leave_switch, local_key};
use super::{Driver, NETWORK_LOCK};
use crate::error::{Context, Error, Result};
use crate::ovsdb::northbound::{del_lsp_txn, Northbound};
use crate::ovsdb::ovn_networks::host_key;
use crate::ovsdb::vswitch::Vswitch;
use crate::port::endpoint::{self, ENDPOINT_LOCK_IFACE};
use crate::sys::lock::PortLock;

/// How long Docker may hold an address it got from RequestAddress before
/// CreateEndpoint claims it (milliseconds, normally; a claim that finds
/// its reservation gone makes the port anew).
pub const RESERVATION_TTL: u64 = 30;

impl Driver {
    /// Remove what killed calls of this host left in the northbound
    /// database; returns how many records went. One record that cannot be
    /// removed does not keep the others (and the addresses, whose pool
    /// would run dry) in place: the failures are reported together.
    pub async fn sweep_ovn(&self) -> Result<usize> {
        if self.ovn_nb.is_none() {
            return Ok(0);
        }
        let ovs = self.ctx.vswitch().await?;
        let host = self.system_id(&ovs).await?;
        let nb = self.nb().await?;
        let mut errors = Vec::new();
        let removed = match self.sweep_switches(nb, &ovs, &host).await {
            Ok(n) => n,
            Err(e) => {
                errors.push(e);
                0
            }
        };
        let (addresses, more) = self.sweep_addresses(nb, &ovs, &host).await;
        errors.extend(more);
        Error::all(errors).map(|()| removed + addresses)
    }

    /// This host's uses of switches for networks it does not have.
    async fn sweep_switches(&self, nb: &Northbound, ovs: &Vswitch, host: &str) -> Result<usize> {
        let bridges = ovs.bridges().await.step(|| "list bridges".into())?;
        let local: BTreeSet<String> = bridges.iter().flat_map(|b| b.external_ids.keys().cloned()).collect();
        let (mut removed, mut errors) = (0, Vec::new());
        let key = host_key(host);
        for (name, sw) in nb.plugin_switches().await.step(|| "list the plugin's logical switches".into())? {
            let Some(net) = sw.external_ids.get(&key) else { continue };
            if local.contains(&local_key(net)) {
                continue;
            }
            let Ok(Some(_lock)) = PortLock::try_acquire(net, NETWORK_LOCK) else { continue };
            log::info!("logical switch {name}: removing this host's use for network {net}, which it does not have");
            match leave_switch(nb, &name, host).await {
                Ok(()) => removed += 1,
                Err(e) => errors.push(e),
            }
        }
        Error::all(errors).map(|()| removed)
    }

    /// This host's addresses reserved and never claimed, or claimed by an
    /// endpoint whose port is gone: how many went, and what failed.
    async fn sweep_addresses(&self, nb: &Northbound, ovs: &Vswitch, host: &str) -> (usize, Vec<Error>) {
        let (mut removed, mut errors) = (0, Vec::new());
        let lsps = match nb.host_lsps(host).await.step(|| "list this host's logical switch ports".into()) {
            Ok(l) => l,
            Err(e) => return (0, vec![e]),
        };
        for l in lsps {
            let Some(owner) = l.owner() else { continue };
            let stale = match reservation_age(owner) {
                Some(age) => age > RESERVATION_TTL,
                None => {
                    let Ok(Some(_lock)) = PortLock::try_acquire(owner, ENDPOINT_LOCK_IFACE) else { continue };
                    match endpoint::find(ovs, owner).await {
                        Ok(port) => port.is_none(),
                        Err(e) => {
                            errors.push(e);
                            continue;
                        }
                    }
                }
            };
            if stale {
                log::info!("removing logical switch port {} ({owner}), left by a killed call", l.name);
                match nb.transact(del_lsp_txn(&l.uuid)).await.step(|| format!("delete logical switch port {}", l.name))
                {
                    Ok(_) => removed += 1,
                    Err(e) => errors.push(e),
                }
            }
        }
        (removed, errors)
    }
}
