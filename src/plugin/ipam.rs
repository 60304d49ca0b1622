//! The IPAM driver (`docker network create --ipam-driver NAME --ipam-opt
//! ovn_switch=SWITCH --subnet ...`), for mode=ovn networks: addresses come
//! from the logical switch in the OVN northbound database, so that hosts
//! sharing the switch never hand out the same one.
//!
//! An address is a logical switch port named `SWITCH:IP` (see
//! [`crate::ovsdb::ovn_networks`]): RequestAddress inserts it, without
//! addresses, in a transaction that requires the name free, which makes the
//! address this host's alone; CreateEndpoint then claims it with the
//! endpoint's MAC. The gateway is the switch's router port, shared by every
//! host: it is handed out, never reserved. Pool IDs are `SWITCH/SUBNET`, so
//! the driver keeps no state of its own.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use ipnetwork::Ipv4Network;
use serde_json::{json, Value};

use super::network::parse_ovn_name;
use super::protocol::{AddressRequest, RequestPoolRequest};
use super::Driver;
use crate::error::{Context, Error, Result};
use crate::ovsdb::northbound::{del_lsp_txn, Northbound};
use crate::ovsdb::ovn_networks::{add_address_lsp_txn, address_lsp, SwitchRow};
use crate::ovsdb::vswitch::Vswitch;
use crate::ovsdb::{keys, OvsdbError, Precondition};

/// Where Docker says which address it asks for (RequestAddress options).
const REQUEST_TYPE: &str = "RequestAddressType";
const GATEWAY_TYPE: &str = "com.docker.network.gateway";
/// How often an allocation is tried again after another host took the
/// address it picked.
const ATTEMPTS: usize = 64;
/// The owner of an address port between RequestAddress and CreateEndpoint:
/// this prefix, the time it was reserved (seconds since the epoch) and a
/// random token, `reserved/1764600000/UUID`.
pub const RESERVED_PREFIX: &str = "reserved/";

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn reservation_token() -> String {
    format!("{RESERVED_PREFIX}{}/{}", now_secs(), uuid::Uuid::new_v4())
}

/// How old the reservation `owner` is, if it is one.
pub fn reservation_age(owner: &str) -> Option<u64> {
    let secs: u64 = owner.strip_prefix(RESERVED_PREFIX)?.split('/').next()?.parse().ok()?;
    Some(now_secs().saturating_sub(secs))
}

pub fn capabilities() -> Value {
    json!({"RequiresMACAddress": false, "RequiresRequestReplay": false})
}

pub fn address_spaces() -> Value {
    json!({"LocalDefaultAddressSpace": "ovn-local", "GlobalDefaultAddressSpace": "ovn-global"})
}

fn option<'a>(options: &'a Option<BTreeMap<String, Value>>, key: &str) -> Option<&'a str> {
    options.as_ref().and_then(|o| o.get(key)).and_then(Value::as_str)
}

/// `SWITCH/SUBNET` back into its parts.
fn parse_pool_id(id: &str) -> Result<(String, Ipv4Network)> {
    let bad = || Error::invalid(format!("pool ID \"{}\" is not SWITCH/SUBNET", id.escape_default()));
    let (switch, pool) = id.split_once('/').ok_or_else(bad)?;
    let switch = parse_ovn_name("ovn_switch", switch).map_err(Error::invalid)?;
    Ok((switch, Ipv4Network::from_str(pool).map_err(|_| bad())?))
}

/// The one switch named `name`, or a refusal.
pub async fn one_switch(nb: &Northbound, name: &str) -> Result<Option<SwitchRow>> {
    let mut rows = nb.switches(name).await.step(|| format!("look up logical switch {name}"))?;
    match rows.len() {
        0 | 1 => Ok(rows.pop()),
        n => Err(Error::refused(format!("{n} logical switches are named {name}: expected one"))),
    }
}

impl Driver {
    /// The session to the northbound database (made once, then shared by
    /// every call: no TLS handshake and leader lookup per call), or a
    /// refusal if the plugin was started without one.
    pub(super) async fn nb(&self) -> Result<&Northbound> {
        let Some(db) = &self.ovn_nb else {
            return Err(Error::refused("mode ovn and the IPAM driver need the plugin started with --ovn-nb"));
        };
        // Made at once, connecting with the first request and within its
        // --timeout: a call never queues behind another's attempt to reach
        // an unreachable database here, nor fails here.
        Ok(self.nb_session.get_or_init(|| async { Northbound::lazy(db, self.ctx.timeout) }).await)
    }

    /// This host's OVS system-id, which names its records in the northbound
    /// database, read on the caller's OVSDB connection.
    pub(super) async fn system_id(&self, ovs: &Vswitch) -> Result<String> {
        ovs.system_id().await.step(|| "read this host's system-id".into())?.ok_or_else(|| {
            Error::refused("this host's Open_vSwitch row has no external_ids:system-id (ovn-controller needs one too)")
        })
    }

    pub(super) async fn request_pool(&self, r: RequestPoolRequest) -> Result<Value> {
        if r.v6 {
            return Err(Error::invalid("IPAM driver: IPv6 pools are not supported"));
        }
        let switch = option(&r.options, "ovn_switch")
            .ok_or_else(|| Error::invalid("IPAM driver: --ipam-opt ovn_switch=SWITCH is required"))?;
        let switch = parse_ovn_name("ovn_switch", switch).map_err(Error::invalid)?;
        if r.pool.is_empty() || !r.sub_pool.is_empty() {
            return Err(Error::invalid("IPAM driver: give the subnet (--subnet) and no --ip-range"));
        }
        let pool = Ipv4Network::from_str(&r.pool)
            .map_err(|e| Error::invalid(format!("IPAM driver: subnet \"{}\": {e}", r.pool.escape_default())))?;
        let nb = self.nb().await?;
        if let Some(sw) = one_switch(nb, &switch).await? {
            let theirs = sw.external_ids.get(keys::ovn::SUBNET).map(String::as_str).unwrap_or("none");
            if theirs != pool.to_string() {
                return Err(Error::refused(format!("logical switch {switch} exists with subnet {theirs}, not {pool}")));
            }
        }
        Ok(json!({"PoolID": format!("{switch}/{pool}"), "Pool": pool.to_string(), "Data": {}}))
    }

    pub(super) async fn request_address(&self, r: AddressRequest) -> Result<Value> {
        let (switch, pool) = parse_pool_id(&r.pool_id)?;
        let asked = match r.address.as_str() {
            "" => None,
            a => Some(Ipv4Addr::from_str(a).map_err(|e| Error::invalid(format!("address \"{a}\": {e}")))?),
        };
        if asked.is_some_and(|a| !pool.contains(a)) {
            return Err(Error::invalid(format!("address {} is not in subnet {pool}", r.address)));
        }
        let answer = |ip: Ipv4Addr| Ok(json!({"Address": format!("{ip}/{}", pool.prefix()), "Data": {}}));
        if option(&r.options, REQUEST_TYPE) == Some(GATEWAY_TYPE) {
            // Shared by every host: the router port's address.
            return answer(asked.unwrap_or_else(|| pool.nth(1).unwrap_or(pool.network())));
        }
        let host = self.system_id(&self.ctx.vswitch().await?).await?;
        let nb = self.nb().await?;
        let sw = one_switch(nb, &switch).await?.ok_or_else(|| {
            Error::refused(format!("logical switch {switch} does not exist (create the network first)"))
        })?;
        let token = reservation_token();
        let reserve = |ip: Ipv4Addr| reserve(nb, &sw, &switch, ip, &host, &token);
        if let Some(ip) = asked {
            return match reserve(ip).await? {
                true => {
                    crate::fault::point("plugin-ovn-address-reserved").await;
                    answer(ip)
                }
                false => Err(Error::refused(format!("address {ip} is already in use on logical switch {switch}"))),
            };
        }
        let gateway = sw.external_ids.get(keys::ovn::GATEWAY).and_then(|g| g.split('/').next()?.parse().ok());
        // Addresses refused by the name-free wait though not listed as
        // taken (another host got there first, or a port `SWITCH:IP` that
        // another tool made without the plugin's keys): not tried again.
        let mut refused = std::collections::BTreeSet::new();
        for _ in 0..ATTEMPTS {
            let taken = nb.address_lsps(&switch).await.step(|| format!("list the addresses of switch {switch}"))?;
            let taken: std::collections::BTreeSet<&str> = taken.iter().map(|l| l.name.as_str()).collect();
            let free = first_free(pool, gateway, |ip| {
                refused.contains(&ip) || taken.contains(address_lsp(&switch, IpAddr::V4(ip)).as_str())
            });
            let Some(ip) = free else {
                return Err(Error::refused(format!("no free address left in {pool} on logical switch {switch}")));
            };
            if reserve(ip).await? {
                crate::fault::point("plugin-ovn-address-reserved").await;
                return answer(ip);
            }
            refused.insert(ip);
        }
        Err(Error::refused(format!("could not reserve an address on logical switch {switch}: too much contention")))
    }

    /// ReleaseAddress: delete this host's port of the address (claimed or
    /// not); already gone (or the gateway) is success.
    pub(super) async fn release_address(&self, r: AddressRequest) -> Result<Value> {
        let (switch, _) = parse_pool_id(&r.pool_id)?;
        let ip = IpAddr::from_str(&r.address).map_err(|e| Error::invalid(format!("address \"{}\": {e}", r.address)))?;
        let host = self.system_id(&self.ctx.vswitch().await?).await?;
        let nb = self.nb().await?;
        let name = address_lsp(&switch, ip);
        let lsp = nb.lsp(&name).await.step(|| format!("look up logical switch port {name}"))?;
        if let Some(l) = lsp.filter(|l| l.external_ids.get(keys::ovn::HOST) == Some(&host)) {
            nb.transact(del_lsp_txn(&l.uuid)).await.step(|| format!("delete logical switch port {name}"))?;
        }
        Ok(json!({}))
    }
}

/// The first address of `pool` that may be handed out (not the network,
/// broadcast or gateway address) and is not `used`.
fn first_free(pool: Ipv4Network, gateway: Option<Ipv4Addr>, used: impl Fn(Ipv4Addr) -> bool) -> Option<Ipv4Addr> {
    pool.iter().skip(1).filter(|ip| *ip != pool.broadcast() && Some(*ip) != gateway).find(|ip| !used(*ip))
}

/// Reserve `ip` on the switch for this host: true if done (also when a
/// replayed transaction had done it), false if it is taken.
async fn reserve(nb: &Northbound, sw: &SwitchRow, switch: &str, ip: Ipv4Addr, host: &str, token: &str) -> Result<bool> {
    let name = address_lsp(switch, IpAddr::V4(ip));
    let ids = [(keys::ovn::HOST, host), (keys::lsp::FOR_PORT, token)];
    match nb.transact(add_address_lsp_txn(&sw.uuid, switch, &name, None, &ids)).await {
        Ok(_) => Ok(true),
        Err(OvsdbError::Precondition(Precondition::LspNameFree(_))) => {
            let l = nb.lsp(&name).await.step(|| format!("look up logical switch port {name}"))?;
            Ok(l.is_some_and(|l| l.owner() == Some(token)))
        }
        Err(OvsdbError::Precondition(Precondition::SwitchExists(_))) => {
            Err(Error::refused(format!("logical switch {switch} was removed meanwhile")))
        }
        Err(e) => Err(e).step(|| format!("reserve address {ip} on logical switch {switch}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_say_their_age() {
        assert!(reservation_age(&reservation_token()).is_some_and(|a| a < 5));
        assert_eq!(reservation_age("reserved/100/x"), Some(now_secs() - 100));
        assert_eq!(reservation_age("0123abcd"), None);
    }

    #[test]
    fn picking_skips_special_taken_and_refused_addresses() {
        let pool: Ipv4Network = "10.30.0.0/29".parse().unwrap();
        let ip = |s: &str| Ipv4Addr::from_str(s).unwrap();
        let gw = Some(ip("10.30.0.1"));
        assert_eq!(first_free(pool, gw, |_| false), Some(ip("10.30.0.2")));
        // One refused each round (a foreign port of that name): the picks
        // move on instead of trying the same address again.
        let mut refused = std::collections::BTreeSet::new();
        let mut picks = Vec::new();
        while let Some(a) = first_free(pool, gw, |a| refused.contains(&a) || a == ip("10.30.0.3")) {
            picks.push(a.to_string());
            refused.insert(a);
        }
        assert_eq!(picks, ["10.30.0.2", "10.30.0.4", "10.30.0.5", "10.30.0.6"]);
        assert_eq!(first_free("10.30.0.0/30".parse().unwrap(), Some(ip("10.30.0.1")), |a| a == ip("10.30.0.2")), None);
    }

    #[test]
    fn pool_ids_round_trip_and_bad_ones_are_refused() {
        let (s, p) = parse_pool_id("web/10.30.0.0/24").unwrap();
        assert_eq!((s.as_str(), p.to_string().as_str()), ("web", "10.30.0.0/24"));
        for bad in ["web", "/10.0.0.0/24", "web/x", "a b/10.0.0.0/24"] {
            assert!(parse_pool_id(bad).is_err(), "{bad}");
        }
    }
}
