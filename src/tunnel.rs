//! Tunnel ports (VXLAN, GRE, Geneve) that join a bridge to the same bridge
//! on other hosts, as the multi-host recipes do (`tunnel add|del|list`);
//! and the MTU warning add-port gives on a bridge with tunnels.
//!
//! A tunnel is an Interface of type vxlan, gre or geneve with
//! `options:remote_ip` (and `options:key`), in a Port of the bridge (see
//! [`crate::ovsdb::tunnels`]). Ours are marked `external_ids:created_by=ovs-docker`.

use std::net::IpAddr;

use crate::config::TunnelType;
use crate::context::Ctx;
use crate::error::{Context, Error, Result};
use crate::ovsdb::tunnels::{add_tunnel_txn, del_ports_txn, Tunnel};
use crate::ovsdb::{OvsdbError, Precondition};
use crate::port::journal::{Journal, Step};

/// The MTU of the underlay, which we cannot know: the usual Ethernet one.
pub const ASSUMED_UNDERLAY_MTU: u32 = 1500;

/// The default MTU of a new veth (add-port without --mtu).
const DEFAULT_MTU: u32 = 1500;

/// A tunnel to add.
#[derive(Debug, Clone)]
pub struct TunnelSpec {
    pub bridge: String,
    pub remote_ip: IpAddr,
    pub kind: TunnelType,
    pub key: Option<u32>,
    /// The port name [default: see [`default_name`]].
    pub name: Option<String>,
}

/// The tunnels to delete: the port named `target`, or every tunnel of ours
/// to the remote address `target` (of `kind`, if given).
#[derive(Debug, Clone)]
pub struct TunnelDeletion {
    pub bridge: String,
    pub target: String,
    pub kind: Option<TunnelType>,
    pub if_exists: bool,
}

/// Bytes of headers `t` puts around a container's frame.
pub fn overhead_of(t: &Tunnel) -> u32 {
    overhead(&t.kind, t.key.is_some(), t.remote_ip.as_deref().is_some_and(|ip| ip.contains(':')))
}

/// Headers around an inner frame (whose own Ethernet header counts, since
/// the container's MTU does not include it), for an IPv4 underlay; an IPv6
/// one adds 20. vxlan: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14.
/// geneve: the same 50 plus its options; OVN adds 8 bytes of them, so 58.
/// gre: outer IP 20 + GRE 4 + inner Ethernet 14, and 4 more with a key.
pub fn overhead(kind: &str, keyed: bool, ipv6: bool) -> u32 {
    let base = match kind {
        "vxlan" => 50,
        "geneve" => 58,
        "gre" | "ip6gre" => 38 + if keyed { 4 } else { 0 },
        "stt" => 72,
        _ => 50,
    };
    base + if ipv6 { 20 } else { 0 }
}

/// The default port name: the type and the remote address in hex, such as
/// `vxlan-c0a80102` for 192.168.1.2 (at most 15 bytes, a kernel-like name).
/// An IPv6 address does not fit: its 32-bit FNV-1a hash stands in for it.
pub fn default_name(kind: TunnelType, remote: IpAddr) -> String {
    let id = match remote {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6.octets().iter().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)),
    };
    format!("{}-{id:08x}", kind.as_str())
}

/// What clap cannot check alone: the VNI range of the type, and a remote
/// address that can be a host's.
pub fn check(a: &TunnelSpec) -> Result<()> {
    let ip = a.remote_ip;
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if ip.is_unspecified() || ip.is_multicast() || broadcast {
        return Err(Error::invalid(format!("invalid remote IP {ip}: not the address of a host")));
    }
    match (a.kind, a.key) {
        (TunnelType::Vxlan | TunnelType::Geneve, Some(k)) if k > 0xff_ffff => {
            Err(Error::invalid(format!("invalid key {k}: a {} VNI is 0 to 16777215", a.kind.as_str())))
        }
        _ => Ok(()),
    }
}

/// Add the tunnel `a` (journalled in `journal`, so that the caller can undo
/// it). Adding the same tunnel again succeeds and changes nothing.
pub async fn add(ctx: &Ctx, a: &TunnelSpec, journal: &Journal) -> Result<()> {
    let name = a.name.clone().unwrap_or_else(|| default_name(a.kind, a.remote_ip));
    let remote = a.remote_ip.to_string();
    let key = a.key.map(|k| k.to_string());
    let mut ovs = ctx.vswitch().await?;
    // A concurrent identical `tunnel add` can win the race for the name:
    // then ours finds its tunnel there, which is success.
    for attempt in 0..2 {
        let (datapath, existing) = tokio::join!(ovs.bridge_datapath_type(&a.bridge), ovs.tunnels(None));
        if datapath.step(|| format!("look up bridge {}", a.bridge))?.is_none() {
            return Err(Error::refused(format!("bridge {} does not exist", a.bridge)));
        }
        let existing = existing.step(|| "look up tunnel ports".into())?;
        let same = |t: &Tunnel| {
            t.kind == a.kind.as_str()
                && t.remote_ip.as_deref().and_then(|r| r.parse::<IpAddr>().ok()) == Some(a.remote_ip)
                && t.key == key
        };
        if let Some(t) = existing.iter().find(|t| t.port == name) {
            if t.bridge == a.bridge && same(t) {
                ctx.step(format_args!("tunnel {name} already exists as asked"));
                return Ok(());
            }
            // The default name says type and remote only: another key (or
            // another bridge) to the same remote needs a name of its own.
            let hint = if a.name.is_none() { "; give --name to add another tunnel to this remote" } else { "" };
            return Err(Error::refused(format!(
                "port {name} already exists with other settings: {} on bridge {}{hint}",
                describe(t),
                t.bridge
            )));
        }
        if let Some(t) = existing.iter().find(|t| t.bridge == a.bridge && same(t)) {
            return Err(Error::refused(format!(
                "bridge {} already has this tunnel, as port {} (OVS allows one per type, remote and key)",
                a.bridge, t.port
            )));
        }
        if ovs.has_interface(&name).await.step(|| format!("look up port {name}"))? {
            return Err(Error::refused(format!("port {name} already exists and is not a tunnel")));
        }
        let mut options = vec![("remote_ip", remote.as_str())];
        if let Some(k) = &key {
            options.push(("key", k.as_str()));
        }
        let txn = add_tunnel_txn(&a.bridge, &name, a.kind.as_str(), &options);
        ctx.step(format_args!("adding {} tunnel {name} to {remote} on bridge {}", a.kind.as_str(), a.bridge));
        journal.record(Step::Row(name.clone()));
        match ovs.commit(txn, ctx.wait).await {
            Ok(_) => break,
            Err(OvsdbError::Precondition(Precondition::InterfaceNameFree(_))) if attempt == 0 => {
                // Not ours: do not undo the winner's port.
                journal.forget(&Step::Row(name.clone()));
            }
            Err(OvsdbError::Precondition(Precondition::BridgeExists(_))) => {
                return Err(Error::refused(format!("bridge {} does not exist", a.bridge)));
            }
            Err(e) => {
                return Err(Error::Ovsdb { step: format!("add tunnel {name} to bridge {}", a.bridge), source: e })
            }
        }
    }
    if ctx.wait {
        crate::port::check_interface(&ovs, &name, &a.bridge).await?;
    }
    Ok(())
}

fn describe(t: &Tunnel) -> String {
    format!(
        "type {}, remote_ip {}, key {}",
        t.kind,
        t.remote_ip.as_deref().unwrap_or("(none)"),
        t.key.as_deref().unwrap_or("(none)")
    )
}

/// Delete the tunnels `a` names, in one transaction.
pub async fn del(ctx: &Ctx, a: &TunnelDeletion) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    // A missing bridge is said as such, --if-exists or not.
    crate::port::find::require_bridge(&ovs, &a.bridge).await?;
    let all = ovs.tunnels(None).await.step(|| "look up tunnel ports".into())?;
    let doomed: Vec<&Tunnel> = match a.target.parse::<IpAddr>() {
        // By remote address: only ours (others' are deleted by name).
        Ok(ip) => all
            .iter()
            .filter(|t| {
                t.bridge == a.bridge
                    && t.is_ours()
                    && t.remote_ip.as_deref().and_then(|r| r.parse::<IpAddr>().ok()) == Some(ip)
                    && a.kind.is_none_or(|k| k.as_str() == t.kind)
            })
            .collect(),
        Err(_) => {
            crate::config::parse_port_name(&a.target).map_err(Error::invalid)?;
            match all.iter().find(|t| t.port == a.target) {
                Some(t) if t.bridge != a.bridge => {
                    return Err(Error::refused(format!(
                        "tunnel {} is on bridge {}, not {}",
                        t.port, t.bridge, a.bridge
                    )))
                }
                Some(t) if a.kind.is_some_and(|k| k.as_str() != t.kind) => {
                    return Err(Error::refused(format!(
                        "tunnel {} is of type {}, not {}",
                        t.port,
                        t.kind,
                        a.kind.map(TunnelType::as_str).unwrap_or_default()
                    )))
                }
                Some(t) => vec![t],
                None if ovs.has_interface(&a.target).await.step(|| format!("look up port {}", a.target))? => {
                    return Err(Error::refused(format!("port {} is not a tunnel", a.target)));
                }
                None => vec![],
            }
        }
    };
    if doomed.is_empty() {
        if a.if_exists {
            return Ok(());
        }
        return Err(Error::refused(match a.target.parse::<IpAddr>() {
            Ok(_) => format!("no tunnel made by ovs-docker to {} on bridge {}", a.target, a.bridge),
            Err(_) => format!("no tunnel port {} on bridge {}", a.target, a.bridge),
        }));
    }
    let uuids: Vec<&str> = doomed.iter().map(|t| t.port_uuid.as_str()).collect();
    let t = del_ports_txn(&a.bridge, &uuids);
    let names = doomed.iter().map(|t| t.port.as_str()).collect::<Vec<_>>().join(", ");
    ctx.step(format_args!("removing tunnels {names} from bridge {}", a.bridge));
    ovs.commit(t, ctx.wait).await.step(|| format!("remove tunnels {names} from bridge {}", a.bridge))?;
    Ok(())
}

/// Every tunnel port (on `bridge`, if given), sorted by bridge and name.
pub async fn list(ctx: &Ctx, bridge: Option<&str>) -> Result<Vec<Tunnel>> {
    let ovs = ctx.vswitch().await?;
    if let Some(b) = bridge {
        crate::port::find::require_bridge(&ovs, b).await?;
    }
    let mut ts = ovs.tunnels(bridge).await.step(|| "list tunnel ports".into())?;
    ts.sort_by(|x, y| (&x.bridge, &x.port).cmp(&(&y.bridge, &y.port)));
    Ok(ts)
}

/// add-port: warn (one line on stderr, not an error) when the container
/// interface's MTU plus a tunnel's headers exceeds the (assumed 1500-byte)
/// underlay MTU, for any tunnel on the bridge: such frames are dropped.
pub fn warn_mtu(tunnels: Result<Vec<Tunnel>, OvsdbError>, bridge: &str, iface: &str, mtu: Option<u32>) {
    let mtu = mtu.unwrap_or(DEFAULT_MTU);
    let ts = match tunnels {
        Ok(ts) => ts,
        Err(e) => {
            log::debug!("could not look for tunnels on {bridge} (MTU check skipped): {e}");
            return;
        }
    };
    if let Some(t) = ts.iter().max_by_key(|t| overhead_of(t)) {
        let room = ASSUMED_UNDERLAY_MTU.saturating_sub(overhead_of(t));
        if mtu > room {
            log::warn!(
                "MTU {mtu} of {iface} is too large for {} tunnel {} on bridge {bridge}: \
                 its {} bytes of headers leave {room} in a {ASSUMED_UNDERLAY_MTU}-byte underlay (give --mtu={room} \
                 or less, unless the underlay MTU is larger)",
                t.kind,
                t.port,
                overhead_of(t)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_fit_in_an_interface_name() {
        let v4: IpAddr = "192.168.1.2".parse().unwrap();
        assert_eq!(default_name(TunnelType::Vxlan, v4), "vxlan-c0a80102");
        assert_eq!(default_name(TunnelType::Gre, v4), "gre-c0a80102");
        assert_eq!(default_name(TunnelType::Geneve, "255.255.255.255".parse().unwrap()), "geneve-ffffffff");
        let a = default_name(TunnelType::Geneve, "fd00::1".parse().unwrap());
        let b = default_name(TunnelType::Geneve, "fd00::2".parse().unwrap());
        assert!(a.len() <= 15 && b.len() <= 15 && a != b, "{a} {b}");
    }

    #[test]
    fn overheads_for_an_ipv4_underlay() {
        assert_eq!(overhead("vxlan", true, false), 50);
        assert_eq!(overhead("geneve", false, false), 58);
        assert_eq!(overhead("gre", false, false), 38);
        assert_eq!(overhead("gre", true, false), 42);
        assert_eq!(overhead("vxlan", false, true), 70);
    }

    #[test]
    fn a_tunnel_knows_its_overhead_and_maker() {
        let t = Tunnel {
            bridge: "br0".into(),
            port: "vxlan-0a000002".into(),
            kind: "vxlan".into(),
            remote_ip: Some("10.0.0.2".into()),
            key: Some("5".into()),
            created_by: Some("ovs-docker".into()),
            state: "ok".into(),
            port_uuid: "u1".into(),
        };
        assert!(t.is_ours());
        assert_eq!(overhead_of(&t), 50);
    }

    #[test]
    fn vni_range_is_checked_by_type() {
        let args = |kind, key| TunnelSpec {
            bridge: "br0".into(),
            remote_ip: "10.0.0.1".parse().unwrap(),
            kind,
            key: Some(key),
            name: None,
        };
        assert!(check(&args(TunnelType::Vxlan, 0xff_ffff)).is_ok());
        assert!(check(&args(TunnelType::Vxlan, 0x100_0000)).is_err());
        assert!(check(&args(TunnelType::Geneve, 0x100_0000)).is_err());
        assert!(check(&args(TunnelType::Gre, u32::MAX)).is_ok());
        let mut a = args(TunnelType::Vxlan, 1);
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1"] {
            a.remote_ip = bad.parse().unwrap();
            assert!(check(&a).is_err(), "{bad}");
        }
    }
}
