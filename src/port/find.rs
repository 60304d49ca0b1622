//! Finding the ports of a container: by any of its names (name, full ID,
//! ID prefix), for ports made by us or by the upstream script.

use super::PortAddress;
use crate::context::Ctx;
use crate::docker::{Container, DockerClient};
use crate::error::{Context, Error, Result};
use crate::ovsdb::keys;
use crate::ovsdb::vswitch::{AttachedPort, Vswitch};
use crate::ovsdb::{data, Cond};

/// Whether `port` belongs to the container the user named `reference`,
/// which Docker resolved to `container` (None when Docker does not know it:
/// the container is gone and only its ports remain).
pub fn port_matches(port: &AttachedPort, reference: &str, container: Option<&Container>) -> bool {
    let recorded = port.container_ref();
    if recorded == reference {
        return true;
    }
    match (container, port.full_id()) {
        // Ours: the full ID is authoritative.
        (Some(c), Some(full)) => full == c.id,
        // Upstream's: only the reference as it was typed is recorded.
        (Some(c), None) => c.is_named_by(recorded),
        (None, Some(full)) => {
            reference.len() >= 4 && full.starts_with(reference)
                || port.external_ids.get(keys::iface::NAME).is_some_and(|n| n == reference)
        }
        (None, None) => false,
    }
}

/// The container ports attached for `reference` (and `iface`, if given),
/// from every bridge, with the container as Docker sees it now.
pub async fn find_attached(
    ctx: &Ctx,
    ovs: &Vswitch,
    docker: &DockerClient,
    reference: &str,
    iface: Option<&str>,
) -> Result<(Option<Container>, Vec<AttachedPort>)> {
    let conds = match iface {
        Some(i) => vec![Cond::includes("external_ids", data::map([(keys::iface::CONTAINER_IFACE, i)]))],
        None => vec![],
    };
    let (container, ports) = tokio::join!(super::target::find(docker, reference), ovs.find_ports(conds));
    let container = container?;
    let ports = ports.step(|| "look up container ports in OVSDB".into())?;
    ctx.step(format_args!(
        "container \"{reference}\" is {}",
        container
            .as_ref()
            .map(|c| format!("{} ({})", c.name, c.short_id()))
            .unwrap_or_else(|| "unknown to Docker".into())
    ));
    let mine = ports.into_iter().filter(|p| port_matches(p, reference, container.as_ref())).collect();
    Ok((container, mine))
}

/// How a message names the container of port `p`: its name when known
/// (`owner` is the container now, else the name recorded at add time),
/// else the reference as recorded, a 64-digit ID cut to Docker's 12.
pub fn container_label(p: &AttachedPort, owner: Option<&Container>) -> String {
    if let Some(c) = owner {
        return c.name.clone();
    }
    if let Some(name) = p.external_ids.get(keys::iface::NAME) {
        return name.clone();
    }
    if let Some(ep) = p.external_ids.get(keys::iface::ENDPOINT_ID) {
        return format!("endpoint {}", short(ep));
    }
    short(p.container_ref()).to_string()
}

/// A full 64-hex-digit ID as Docker prints it (12 digits); anything else
/// as it is.
pub fn short(id: &str) -> &str {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        &id[..12]
    } else {
        id
    }
}

/// Refuse a BRIDGE that does not exist: a command about the ports of a
/// bridge (list, gc, del-port, del-ports) names the missing bridge rather
/// than finding nothing on it.
pub async fn require_bridge(ovs: &Vswitch, bridge: &str) -> Result<()> {
    match ovs.bridge_datapath_type(bridge).await.step(|| format!("look up bridge {bridge}"))? {
        Some(_) => Ok(()),
        None => Err(Error::refused(format!("bridge {bridge} does not exist"))),
    }
}

/// The port of `at.interface` of `at.reference` on `at.bridge`.
pub async fn find_one(ctx: &Ctx, ovs: &Vswitch, at: &PortAddress) -> Result<AttachedPort> {
    let (iface, reference) = (at.interface.as_str(), at.reference.as_str());
    let docker = ctx.docker()?;
    let (_, ports) = find_attached(ctx, ovs, &docker, reference, Some(iface)).await?;
    ports.into_iter().find(|x| x.bridge.as_deref() == Some(at.bridge.as_str())).ok_or_else(|| {
        Error::refused(format!(
            "no port attached for CONTAINER={reference} and INTERFACE={iface} on bridge {}",
            at.bridge
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn port(ids: &[(&str, &str)]) -> AttachedPort {
        AttachedPort {
            iface_uuid: "u".into(),
            name: "0123456789abc_l".into(),
            external_ids: ids.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            ..Default::default()
        }
    }

    fn web() -> Container {
        Container::running(&format!("c474a0e2830e{}", "0".repeat(52)), "web1")
    }

    #[test]
    fn upstream_ports_match_by_any_alias() {
        let c = web();
        let by_name = port(&[("container_id", "web1"), ("container_iface", "eth1")]);
        let by_id = port(&[("container_id", "c474a0e2830e"), ("container_iface", "eth1")]);
        for r in ["web1", "c474a0e2830e", c.id.as_str()] {
            assert!(port_matches(&by_name, r, Some(&c)), "{r}");
            assert!(port_matches(&by_id, r, Some(&c)), "{r}");
        }
        let other = port(&[("container_id", "db1"), ("container_iface", "eth1")]);
        assert!(!port_matches(&other, "web1", Some(&c)));
    }

    #[test]
    fn our_ports_match_by_full_id() {
        let c = web();
        let ours = port(&[
            ("container_id", "web1"),
            ("container_iface", "eth1"),
            ("container_full_id", &c.id),
            ("container_name", "web1"),
        ]);
        assert!(port_matches(&ours, "c474a0e2830e", Some(&c)));
        // A new container that took the old one's name is another container...
        let mut newer = web();
        newer.id = format!("d{}", "1".repeat(63));
        assert!(!port_matches(&ours, "d111", Some(&newer)));
        // ...but the reference as typed still finds the old port.
        assert!(port_matches(&ours, "web1", Some(&newer)));
        // Gone from Docker: found by ID prefix or by recorded name.
        assert!(port_matches(&ours, "c474a0e2", None));
        assert!(!port_matches(&ours, "c47", None));
    }
}
