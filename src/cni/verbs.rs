//! The verbs on top of the port layer. A CNI port is an ordinary
//! ovs-docker port whose target is the namespace file (`netns:PATH`), with
//! the runtime's container ID and the network's name recorded next to
//! upstream's keys: `ovs-docker list` and `gc` see it like any other.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::conf::{Env, NetConf};
use super::ipam;
use super::types::{code, CniError, CniResult, CniResultBody, Interface, IpConfig};
use crate::config::{IfAddr, Route};
use crate::context::Ctx;
use crate::error::Error;
use crate::ovsdb::vswitch::{AttachedPort, Vswitch};
use crate::ovsdb::{data, keys, Cond};
use crate::port::target::Target;
use crate::port::{PortSpec, Veths};
use crate::sys::lock::PortLock;
use crate::sys::netlink::Netlink;
use crate::sys::netns::Netns;

fn port_err(step: &str) -> impl Fn(Error) -> CniError + '_ {
    move |e| CniError::from_port(step, &e)
}

pub(super) async fn connect(ctx: &Ctx) -> CniResult<Vswitch> {
    ctx.vswitch().await.map_err(port_err("connect to OVSDB"))
}

pub(super) fn host_netlink() -> CniResult<Netlink> {
    Netlink::host().map_err(|e| CniError::new(code::IO_FAILURE, format!("open a netlink socket: {e}")))
}

/// The namespace of an ADD or CHECK, which must exist.
pub(super) fn existing_netns(env: &Env) -> CniResult<&str> {
    let path = env.netns.as_deref().unwrap_or_default();
    if Target::Netns(path).probe().is_none() {
        return Err(CniError::new(code::UNKNOWN_CONTAINER, format!("network namespace {path} does not exist")));
    }
    Ok(path)
}

/// Our ports of this attachment (container ID and interface) on this network.
pub(super) async fn attachment_ports(ovs: &Vswitch, env: &Env, conf: &NetConf) -> CniResult<Vec<AttachedPort>> {
    let ids =
        [(keys::iface::CNI_CONTAINER_ID, env.container_id.as_str()), (keys::iface::CNI_NETWORK, conf.name.as_str())];
    ovs.find_ports(vec![
        Cond::includes("external_ids", data::map(ids)),
        Cond::includes("external_ids", data::map([(keys::iface::CONTAINER_IFACE, env.ifname.as_str())])),
    ])
    .await
    .map_err(|e| {
        CniError::from_port("look up container ports in OVSDB", &Error::Ovsdb { step: String::new(), source: e })
    })
}

/// Remove `ports`, each under the lock add-port takes; carry on after a failure.
async fn remove_locked(ctx: &Ctx, ovs: &mut Vswitch, host: &Netlink, ports: &[AttachedPort]) -> CniResult<()> {
    let mut errors = Vec::new();
    for p in ports {
        let (key, iface) = (p.full_id().unwrap_or(p.container_ref()), p.container_iface());
        let result = match PortLock::acquire(key, iface, ctx.timeout).await {
            Ok(Some(_lock)) => crate::port::remove_port(ctx, ovs, host, p, &Veths::Now).await,
            Ok(None) => Err(Error::refused(format!("another ovs-docker is still working on {key}/{iface}"))),
            Err(e) => Err(Error::io(format!("lock {key}/{iface}"), e)),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    Error::all(errors).map_err(port_err("remove port"))
}

/// ADD: leftovers of an earlier ADD of this attachment, and CNI ports whose
/// namespace is gone (a killed runtime), are removed first; then IPAM is
/// asked for addresses and the port attached. A failure gives the
/// addresses back.
pub async fn add(ctx: &Ctx, env: &Env, conf: &NetConf, stdin: &[u8]) -> CniResult<CniResultBody> {
    let netns = existing_netns(env)?;
    let mut ovs = connect(ctx).await?;
    let datapath = ovs.bridge_datapath_type(&conf.bridge).await;
    let datapath =
        datapath.map_err(|e| CniError::new(code::IO_FAILURE, format!("look up bridge {}: {e}", conf.bridge)))?;
    if datapath.is_none() && conf.datapath_type.is_none() {
        return Err(CniError::new(
            code::INVALID_CONFIG,
            format!("bridge {} does not exist (create it, or set \"datapath_type\" to have it created)", conf.bridge),
        ));
    }
    let host = host_netlink()?;
    let mut stale = attachment_ports(&ovs, env, conf).await?;
    for p in gone_namespaces(&ovs).await? {
        if !stale.contains(&p) {
            stale.push(p);
        }
    }
    remove_locked(ctx, &mut ovs, &host, &stale).await?;
    drop(ovs);
    let given = match &conf.ipam {
        // A runtime never calls ADD twice for an attachment without a DEL
        // between (CNI spec): anything IPAM holds for it is left by an ADD
        // that was killed, and is given back first.
        Some(kind) => {
            ipam::exec(kind, "DEL", stdin)?;
            ipam::add(kind, stdin)?
        }
        None => CniResultBody::default(),
    };
    let attached = match spec(env, conf, netns, &given) {
        Ok(spec) => crate::port::add(ctx, &spec).await.map_err(port_err("attach the port")),
        Err(e) => Err(e),
    };
    let port = match attached {
        Ok(a) => a.port,
        Err(e) => {
            if let Some(kind) = &conf.ipam {
                if let Err(r) = ipam::exec(kind, "DEL", stdin) {
                    log::warn!("give back the addresses: {}", r.msg);
                }
            }
            return Err(e);
        }
    };
    result(env, conf, netns, &host, &port, given).await
}

/// CNI ports (on any network) whose namespace file is gone.
async fn gone_namespaces(ovs: &Vswitch) -> CniResult<Vec<AttachedPort>> {
    let all = ovs
        .find_ports(vec![])
        .await
        .map_err(|e| CniError::new(code::IO_FAILURE, format!("look up container ports in OVSDB: {e}")))?;
    Ok(all
        .into_iter()
        .filter(|p| p.external_ids.contains_key(keys::iface::CNI_CONTAINER_ID))
        .filter(|p| matches!(Target::parse(p.container_ref()), t @ Target::Netns(_) if t.probe().is_none()))
        .collect())
}

/// The port to attach: the configuration with the addresses IPAM gave.
fn spec(env: &Env, conf: &NetConf, netns: &str, given: &CniResultBody) -> CniResult<PortSpec> {
    let mut s = PortSpec::new(&conf.bridge, env.ifname.clone(), &Target::Netns(netns).reference());
    let bad = |m: String| CniError::new(code::INVALID_CONFIG, format!("the IPAM result: {m}"));
    for ip in &given.ips {
        s.addresses.push(ip.address.parse::<IfAddr>().map_err(bad)?);
    }
    for r in &given.routes {
        let dest: IpNetwork = r.dst.parse().map_err(|e| bad(format!("route {}: {e}", r.dst)))?;
        let dest = IpNetwork::new(dest.network(), dest.prefix()).map_err(|e| bad(format!("route {}: {e}", r.dst)))?;
        // A route without a gateway goes through the gateway of its family.
        let via = match &r.gw {
            Some(gw) => Some(gw.parse::<IpAddr>().map_err(|e| bad(format!("route gateway {gw}: {e}")))?),
            None => given
                .ips
                .iter()
                .filter_map(|ip| ip.gateway.as_deref()?.parse::<IpAddr>().ok())
                .find(|gw| gw.is_ipv4() == dest.is_ipv4()),
        };
        s.routes.push(Route { dest, via });
    }
    s.mac = env.mac.or(conf.mac);
    s.mtu = conf.mtu;
    s.datapath_type = conf.datapath_type.clone();
    s.vlan = conf.vlan;
    s.trunks = conf.trunks.clone();
    s.ingress_rate = conf.ingress_rate;
    s.ingress_burst = conf.ingress_burst;
    // The runtime re-creates its containers itself; `watch` must not.
    s.persist = false;
    s.ovn.iface_id = conf.iface_id.clone();
    s.extra_ids = vec![
        (keys::iface::CNI_CONTAINER_ID.into(), env.container_id.clone()),
        (keys::iface::CNI_NETWORK.into(), conf.name.clone()),
    ];
    s.validate().map_err(port_err("check the port"))?;
    Ok(s)
}

/// ADD's result: the host end and the container's interface, the
/// addresses on the latter, IPAM's routes and DNS as they came.
async fn result(
    env: &Env,
    conf: &NetConf,
    netns: &str,
    host: &Netlink,
    port: &str,
    given: CniResultBody,
) -> CniResult<CniResultBody> {
    let io = |what: String| {
        move |e: crate::sys::netlink::NetlinkError| CniError::new(code::IO_FAILURE, format!("{what}: {e}"))
    };
    let host_end = host.link(port).await.map_err(io(format!("look up veth {port}")))?;
    let ns = Netns::open(netns).map_err(|e| CniError::new(code::IO_FAILURE, format!("open {netns}: {e}")))?;
    let inside = Netlink::inside(&ns).map_err(io(format!("open a netlink socket in {netns}")))?;
    let iface = env.ifname.as_str();
    let peer = inside.link(iface).await.map_err(io(format!("look up {iface} in {netns}")))?;
    let mac = |m: Option<[u8; 6]>| m.map(|m| crate::config::Mac(m).to_string()).unwrap_or_default();
    let old = conf.cni_version.starts_with("0.3");
    let ips = given
        .ips
        .into_iter()
        .map(|ip| IpConfig {
            version: old.then(|| if ip.address.contains(':') { "6" } else { "4" }.to_string()),
            interface: Some(1),
            ..ip
        })
        .collect();
    Ok(CniResultBody {
        cni_version: conf.cni_version.clone(),
        interfaces: vec![
            Interface {
                name: port.to_string(),
                mac: mac(host_end.and_then(|l| l.mac)),
                mtu: None,
                sandbox: String::new(),
            },
            Interface {
                name: iface.to_string(),
                mac: mac(peer.as_ref().and_then(|l| l.mac)),
                mtu: peer.and_then(|l| l.mtu),
                sandbox: netns.to_string(),
            },
        ],
        ips,
        routes: given.routes,
        dns: given.dns,
    })
}

/// DEL: the attachment's ports, and a veth a killed ADD left, are removed
/// (none is success: DEL is idempotent, also with the namespace gone), then
/// the addresses are given back.
pub async fn del(ctx: &Ctx, env: &Env, conf: &NetConf, stdin: &[u8]) -> CniResult<()> {
    let mut ovs = connect(ctx).await?;
    let host = host_netlink()?;
    let ports = attachment_ports(&ovs, env, conf).await?;
    remove_locked(ctx, &mut ovs, &host, &ports).await?;
    if let Some(netns) = &env.netns {
        let reference = Target::Netns(netns).reference();
        crate::port::reclaim::remove_orphan_veths(ctx, &host, &reference, env.ifname.as_str())
            .await
            .map_err(port_err("remove the veth of an interrupted ADD"))?;
    }
    if let Some(kind) = &conf.ipam {
        ipam::exec(kind, "DEL", stdin)?;
    }
    Ok(())
}

/// GC: remove this network's ports of attachments the runtime no longer
/// lists; then IPAM's GC, where the IPAM plugin has one.
pub async fn gc(ctx: &Ctx, conf: &NetConf, stdin: &[u8]) -> CniResult<()> {
    // Without the list every port of the network would look invalid: refuse.
    let valid = conf
        .valid_attachments
        .clone()
        .ok_or_else(|| CniError::new(code::INVALID_CONFIG, "GC needs \"cni.dev/valid-attachments\"".to_string()))?;
    let mut ovs = connect(ctx).await?;
    let host = host_netlink()?;
    let ours = ovs
        .find_ports(vec![Cond::includes("external_ids", data::map([(keys::iface::CNI_NETWORK, conf.name.as_str())]))])
        .await
        .map_err(|e| CniError::new(code::IO_FAILURE, format!("look up container ports in OVSDB: {e}")))?;
    let stale: Vec<_> = ours
        .into_iter()
        .filter(|p| {
            let id = p.external_ids.get(keys::iface::CNI_CONTAINER_ID).map(String::as_str).unwrap_or_default();
            !valid.iter().any(|a| a.container_id == id && a.ifname == p.container_iface())
        })
        .collect();
    for p in &stale {
        ctx.step(format_args!("removing port {} of an attachment no longer valid", p.name));
    }
    remove_locked(ctx, &mut ovs, &host, &stale).await?;
    if let Some(kind) = &conf.ipam {
        // Older IPAM plugins (host-local before CNI 1.1) do not know GC.
        if let Err(e) = ipam::exec(kind, "GC", stdin) {
            log::warn!("{}", e.msg);
        }
    }
    Ok(())
}

/// STATUS: ready when OVSDB answers and the bridge exists (or would be made).
pub async fn status(ctx: &Ctx, conf: &NetConf) -> CniResult<()> {
    let unavailable = |m: String| CniError::new(code::NOT_AVAILABLE, m);
    let ovs = ctx.vswitch().await.map_err(|e| unavailable(e.to_string()))?;
    let datapath = ovs.bridge_datapath_type(&conf.bridge).await.map_err(|e| unavailable(e.to_string()))?;
    if datapath.is_none() && conf.datapath_type.is_none() {
        return Err(unavailable(format!("bridge {} does not exist", conf.bridge)));
    }
    Ok(())
}
