//! How the veths we make are named and marked: the naming policy shared by
//! add-port, watch and the network plugin.

/// The host end of the veth, named as upstream does: the first 13 hex
/// digits of a random UUID and `_l` (15 bytes, the kernel's limit).
pub fn host_port_name(id: &uuid::Uuid) -> String {
    let hex = id.simple().to_string();
    format!("{}_l", &hex[..13])
}

/// The IFLA_IFALIAS we put on the host end of every veth we create: it
/// names the container and interface the veth was made for, so a veth left
/// without its OVSDB row by a crash can be found and removed, and a veth we
/// did not make is never touched.
pub fn host_port_alias(container_full_id: &str, iface: &str) -> String {
    format!("ovs-docker {container_full_id} {iface}")
}

/// The (container full ID, interface) a host end was made for, if we made it.
pub fn parse_host_port_alias(alias: &str) -> Option<(&str, &str)> {
    let mut it = alias.strip_prefix("ovs-docker ")?.split(' ');
    match (it.next(), it.next(), it.next()) {
        (Some(id), Some(iface), None) if !id.is_empty() && !iface.is_empty() => Some((id, iface)),
        _ => None,
    }
}

/// Whether `name` looks like a host end made by upstream or by us.
pub fn is_host_port_name(name: &str) -> bool {
    name.len() == 15 && name.ends_with("_l") && name[..13].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The name Docker first sees for the container end of an endpoint's veth
/// (Docker renames it as it moves it into the container).
pub fn endpoint_peer_name(host_end: &str) -> String {
    format!("{}_c", &host_end[..host_end.len() - 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IFNAME_MAX;

    #[test]
    fn host_port_names_follow_upstream() {
        let id = uuid::Uuid::parse_str("c474a0e2-830e-4b1d-9f00-000000000000").unwrap();
        assert_eq!(host_port_name(&id), "c474a0e2830e4_l");
        for _ in 0..100 {
            let n = host_port_name(&uuid::Uuid::new_v4());
            assert!(n.len() <= IFNAME_MAX && is_host_port_name(&n), "{n}");
        }
        assert!(!is_host_port_name("br0"));
        let alias = host_port_alias("c474a0e2830e", "eth1");
        assert_eq!(parse_host_port_alias(&alias), Some(("c474a0e2830e", "eth1")));
        for bad in ["", "ovs-docker", "ovs-docker x", "ovs-docker x y z", "other c474 eth1"] {
            assert_eq!(parse_host_port_alias(bad), None, "{bad}");
        }
        assert!(!is_host_port_name("c474a0e2830e4_c"));
    }
}
