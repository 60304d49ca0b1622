//! `tunnel add|del|list`: tunnel ports (VXLAN, GRE, Geneve) that join a
//! bridge to the same bridge on other hosts, as the multi-host recipes do;
//! and the MTU warning add-port gives on a bridge with tunnels.
//!
//! A tunnel is an Interface of type vxlan, gre or geneve with
//! `options:remote_ip` (and `options:key`), in a Port of the bridge. Ours
//! are marked `external_ids:created_by=ovs-docker`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;

use super::undo::{guarded, Journal, Signals, Step};
use super::Ctx;
use crate::cli::{Format, TunnelAddArgs, TunnelCommand, TunnelDelArgs, TunnelListArgs, TunnelType};
use crate::error::{Context, Error, Result};
use crate::ovsdb::vswitch::{self, keys, Vswitch};
use crate::ovsdb::{data, Cond, Op, OvsdbError, Txn};

/// Interface types `tunnel list` shows (OVS has a few more kinds of tunnel
/// than `tunnel add` makes).
const TUNNEL_TYPES: [&str; 7] = ["vxlan", "gre", "geneve", "ip6gre", "stt", "gtpu", "bareudp"];

/// The MTU of the underlay, which we cannot know: the usual Ethernet one.
pub const ASSUMED_UNDERLAY_MTU: u32 = 1500;

/// The default MTU of a new veth (add-port without --mtu).
const DEFAULT_MTU: u32 = 1500;

pub fn command_name(t: &TunnelCommand) -> &'static str {
    match t {
        TunnelCommand::Add(_) => "tunnel add",
        TunnelCommand::Del(_) => "tunnel del",
        TunnelCommand::List(_) => "tunnel list",
    }
}

pub async fn exec(ctx: &Ctx, t: TunnelCommand) -> Result<()> {
    match t {
        TunnelCommand::Add(a) => {
            check_args(&a)?;
            let journal = Journal::default();
            let mut signals = Signals::install();
            guarded(ctx, &journal, &mut signals, add(ctx, &a, &journal)).await
        }
        TunnelCommand::Del(a) => del(ctx, &a).await,
        TunnelCommand::List(a) => list(ctx, &a).await,
    }
}

/// A tunnel port as found in OVSDB.
#[derive(Debug, Clone, Serialize)]
pub struct Tunnel {
    pub bridge: String,
    pub port: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub remote_ip: Option<String>,
    pub key: Option<String>,
    /// Who made it (`ovs-docker` for ours), from external_ids:created_by.
    pub created_by: Option<String>,
    /// ok, no OpenFlow port, or error: MESSAGE.
    pub state: String,
    /// The Port row, for `tunnel del`.
    #[serde(skip)]
    pub port_uuid: String,
}

impl Tunnel {
    pub fn is_ours(&self) -> bool {
        self.created_by.as_deref() == Some(vswitch::CREATED_BY_US)
    }

    /// Bytes of headers this tunnel puts around a container's frame.
    pub fn overhead(&self) -> u32 {
        overhead(&self.kind, self.key.is_some(), self.remote_ip.as_deref().is_some_and(|ip| ip.contains(':')))
    }
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
fn check_args(a: &TunnelAddArgs) -> Result<()> {
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

async fn add(ctx: &Ctx, a: &TunnelAddArgs, journal: &Journal) -> Result<()> {
    let name = a.name.clone().unwrap_or_else(|| default_name(a.kind, a.remote_ip));
    let remote = a.remote_ip.to_string();
    let key = a.key.map(|k| k.to_string());
    let mut ovs = ctx.vswitch().await?;
    // A concurrent identical `tunnel add` can win the race for the name:
    // then ours finds its tunnel there, which is success.
    for attempt in 0..2 {
        let (datapath, existing) = tokio::join!(ovs.bridge_datapath_type(&a.bridge), tunnels(&ovs, None));
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
            return Err(Error::refused(format!(
                "port {name} already exists with other settings: {} on bridge {}",
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
        let txn = add_txn(&a.bridge, &name, a.kind.as_str(), &options);
        ctx.step(format_args!("adding {} tunnel {name} to {remote} on bridge {}", a.kind.as_str(), a.bridge));
        journal.record(Step::Row(name.clone()));
        match ovs.commit(txn, ctx.wait).await {
            Ok(_) => break,
            Err(OvsdbError::Precondition(what)) if what.starts_with("no interface") && attempt == 0 => {
                // Not ours: do not undo the winner's port.
                journal.forget(&Step::Row(name.clone()));
            }
            Err(OvsdbError::Precondition(what)) if what.starts_with("bridge ") => {
                return Err(Error::refused(format!("bridge {} does not exist", a.bridge)));
            }
            Err(e) => {
                return Err(Error::Ovsdb { step: format!("add tunnel {name} to bridge {}", a.bridge), source: e })
            }
        }
    }
    if ctx.wait {
        super::add_port::check_interface(&ovs, &name, &a.bridge).await?;
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

/// Add the tunnel port, requiring that the bridge exists and the name is free.
fn add_txn(bridge: &str, name: &str, kind: &str, options: &[(&str, &str)]) -> Txn {
    let mut t = Txn::new();
    t.push(Op::Wait {
        table: "Bridge",
        conds: vec![Cond::eq("name", bridge)],
        columns: vec!["name"],
        rows: vec![json!({"name": bridge})],
        what: format!("bridge {bridge} exists"),
    });
    t.push(Op::Wait {
        table: "Interface",
        conds: vec![Cond::eq("name", name)],
        columns: vec!["name"],
        rows: vec![],
        what: format!("no interface is named {name}"),
    });
    t.push(Op::Insert {
        table: "Interface",
        row: json!({
            "name": name,
            "type": kind,
            "options": data::map(options.iter().copied()),
            "external_ids": data::map([(keys::CREATED_BY, vswitch::CREATED_BY_US)]),
        }),
        uuid_name: Some("iface".into()),
    });
    t.push(Op::Insert {
        table: "Port",
        row: json!({"name": name, "interfaces": data::named("iface")}),
        uuid_name: Some("port".into()),
    });
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("name", bridge)],
        mutations: json!([["ports", "insert", data::set(vec![data::named("port")])]]),
    });
    t
}

async fn del(ctx: &Ctx, a: &TunnelDelArgs) -> Result<()> {
    let mut ovs = ctx.vswitch().await?;
    let all = tunnels(&ovs, None).await.step(|| "look up tunnel ports".into())?;
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
            crate::cli::parse_port_name(&a.target).map_err(Error::invalid)?;
            match all.iter().find(|t| t.port == a.target) {
                Some(t) if t.bridge != a.bridge => {
                    return Err(Error::refused(format!(
                        "tunnel {} is on bridge {}, not {}",
                        t.port, t.bridge, a.bridge
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
    let mut t = Txn::new();
    t.push(Op::Mutate {
        table: "Bridge",
        conds: vec![Cond::eq("name", a.bridge.as_str())],
        mutations: json!([["ports", "delete", data::set(uuids.iter().map(|u| data::uuid(u)).collect())]]),
    });
    let names = doomed.iter().map(|t| t.port.as_str()).collect::<Vec<_>>().join(", ");
    ctx.step(format_args!("removing tunnels {names} from bridge {}", a.bridge));
    ovs.commit(t, ctx.wait).await.step(|| format!("remove tunnels {names} from bridge {}", a.bridge))?;
    Ok(())
}

async fn list(ctx: &Ctx, a: &TunnelListArgs) -> Result<()> {
    let ovs = ctx.vswitch().await?;
    let mut ts = tunnels(&ovs, a.bridge.as_deref()).await.step(|| "list tunnel ports".into())?;
    ts.sort_by(|x, y| (&x.bridge, &x.port).cmp(&(&y.bridge, &y.port)));
    match a.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&ts).map_err(|e| Error::io("encode JSON", e.into()))?;
            crate::out!("{text}");
        }
        Format::Table => print_table(&ts, true),
    }
    Ok(())
}

/// Print tunnels as a table (`by`: with the CREATED_BY column).
pub fn print_table(ts: &[Tunnel], by: bool) {
    let mut header = vec!["BRIDGE", "TUNNEL", "TYPE", "REMOTE_IP", "KEY"];
    if by {
        header.push("CREATED_BY");
    }
    header.push("STATE");
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<Vec<String>> = ts
        .iter()
        .map(|t| {
            let mut row = vec![t.bridge.clone(), t.port.clone(), t.kind.clone(), dash(&t.remote_ip), dash(&t.key)];
            if by {
                row.push(dash(&t.created_by));
            }
            row.push(t.state.clone());
            row
        })
        .collect();
    print_columns(&header, &cells);
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
pub fn print_columns(header: &[&str], cells: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths.iter()).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        crate::out!("{}", s.trim_end());
    };
    line(header.to_vec());
    for row in cells {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Every tunnel port (on `bridge` only, if given). One round trip when
/// there is none, which is the common case for add-port's MTU check, and
/// one pass over the Interface table (the `type` column has no index):
/// what is neither a plain system port nor an internal one (the bulk of any
/// large bridge) is read, and the tunnels kept.
pub async fn tunnels(ovs: &Vswitch, bridge: Option<&str>) -> Result<Vec<Tunnel>, OvsdbError> {
    let res = ovs
        .select(vec![Op::Select {
            table: "Interface",
            conds: vec![Cond::ne("type", ""), Cond::ne("type", "internal")],
            columns: vec!["_uuid", "name", "type", "options", "external_ids", "ofport", "error"],
        }])
        .await?;
    let ifaces: Vec<serde_json::Value> = res
        .iter()
        .flat_map(data::rows)
        .filter(|i| i["type"].as_str().is_some_and(|t| TUNNEL_TYPES.contains(&t)))
        .collect();
    if ifaces.is_empty() {
        return Ok(Vec::new());
    }
    // Each interface's Port, then each Port's Bridge, in one transaction each.
    let uuids: Vec<&str> = ifaces.iter().map(|i| data::as_uuid(&i["_uuid"]).unwrap_or_default()).collect();
    let located = ovs.locate(&uuids, &[], true).await?;
    let mut out = Vec::new();
    // An Interface in no Port, or a Port on no bridge, is on no bridge.
    for (i, (port, bridge_name)) in ifaces.iter().zip(located) {
        let (Some(port), Some(bridge_name)) = (port, bridge_name) else { continue };
        if bridge.is_some_and(|want| want != bridge_name) {
            continue;
        }
        let options: BTreeMap<String, String> = data::as_map(&i["options"]);
        let ids = data::as_map(&i["external_ids"]);
        let error = data::as_opt_str(&i["error"]);
        let state = match (error, data::as_opt_int(&i["ofport"])) {
            (Some(e), _) => format!("error: {e}"),
            (None, Some(n)) if n > 0 => "ok".into(),
            _ => "no OpenFlow port".into(),
        };
        out.push(Tunnel {
            bridge: bridge_name,
            port: i["name"].as_str().unwrap_or_default().to_string(),
            kind: i["type"].as_str().unwrap_or_default().to_string(),
            remote_ip: options.get("remote_ip").cloned(),
            key: options.get("key").cloned(),
            created_by: ids.get(keys::CREATED_BY).cloned(),
            state,
            port_uuid: data::as_uuid(&port["_uuid"]).unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

/// add-port: warn (one line on stderr, not an error) when the container
/// interface's MTU plus a tunnel's headers exceeds the (assumed 1500-byte)
/// underlay MTU, for any tunnel on the bridge: such frames are dropped.
pub fn warn_mtu(ctx: &Ctx, tunnels: Result<Vec<Tunnel>, OvsdbError>, bridge: &str, iface: &str, mtu: Option<u32>) {
    let mtu = mtu.unwrap_or(DEFAULT_MTU);
    let ts = match tunnels {
        Ok(ts) => ts,
        Err(e) => {
            ctx.step(format_args!("could not look for tunnels on {bridge} (MTU check skipped): {e}"));
            return;
        }
    };
    if let Some(t) = ts.iter().max_by_key(|t| t.overhead()) {
        let room = ASSUMED_UNDERLAY_MTU.saturating_sub(t.overhead());
        if mtu > room {
            crate::say!(
                "ovs-docker: add-port: warning: MTU {mtu} of {iface} is too large for {} tunnel {} on bridge {bridge}: \
                 its {} bytes of headers leave {room} in a {ASSUMED_UNDERLAY_MTU}-byte underlay (give --mtu={room} \
                 or less, unless the underlay MTU is larger)",
                t.kind,
                t.port,
                t.overhead()
            );
        }
    }
}

/// Extra keys of `list` rows (flattened into them): what kind of row it is,
/// a tunnel's settings, and a container port's OVN binding. Added keys
/// only, so consumers of the existing ones are unaffected.
#[derive(Debug, Default, Serialize)]
pub struct ListExtra {
    /// `container` or `tunnel`.
    pub kind: &'static str,
    pub tunnel_type: Option<String>,
    pub remote_ip: Option<String>,
    pub key: Option<String>,
    /// The OVN logical switch port the port is bound to (external_ids:iface-id).
    pub iface_id: Option<String>,
    /// `installed` once ovn-controller reports it (ovn-installed), else `pending`.
    pub ovn: Option<&'static str>,
}

impl ListExtra {
    pub fn container(p: &crate::ovsdb::vswitch::AttachedPort) -> Self {
        let binding = super::ovn::binding(p);
        ListExtra {
            kind: "container",
            ovn: binding.as_ref().map(|(_, up)| if *up { "installed" } else { "pending" }),
            iface_id: binding.map(|(lsp, _)| lsp),
            ..Default::default()
        }
    }

    pub fn tunnel(t: &Tunnel) -> Self {
        ListExtra {
            kind: "tunnel",
            tunnel_type: Some(t.kind.clone()),
            remote_ip: t.remote_ip.clone(),
            key: t.key.clone(),
            ..Default::default()
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
    fn list_rows_get_added_keys_only() {
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
        let v = serde_json::to_value(ListExtra::tunnel(&t)).unwrap();
        assert_eq!(
            v,
            json!({"kind": "tunnel", "tunnel_type": "vxlan", "remote_ip": "10.0.0.2", "key": "5",
                   "iface_id": null, "ovn": null})
        );
        assert!(t.is_ours());
        assert_eq!(t.overhead(), 50);
    }

    #[test]
    fn vni_range_is_checked_by_type() {
        let args = |kind, key| TunnelAddArgs {
            bridge: "br0".into(),
            remote_ip: "10.0.0.1".parse().unwrap(),
            kind,
            key: Some(key),
            name: None,
        };
        assert!(check_args(&args(TunnelType::Vxlan, 0xff_ffff)).is_ok());
        assert!(check_args(&args(TunnelType::Vxlan, 0x100_0000)).is_err());
        assert!(check_args(&args(TunnelType::Geneve, 0x100_0000)).is_err());
        assert!(check_args(&args(TunnelType::Gre, u32::MAX)).is_ok());
        let mut a = args(TunnelType::Vxlan, 1);
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1"] {
            a.remote_ip = bad.parse().unwrap();
            assert!(check_args(&a).is_err(), "{bad}");
        }
    }
}
