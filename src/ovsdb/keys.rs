//! Every `external_ids` key that ovs-docker reads or writes, in one place.
//! The Interface keys `container_id` and `container_iface` are upstream
//! ovs-docker's (both tools find ports by them); `iface-id`, `attached-mac`
//! and `ovn-installed` are OVN's; the rest are ours.

/// Keys of an Interface row that is a container port.
pub mod iface {
    /// The container as the user named it (name, ID or ID prefix). Upstream's.
    pub const CONTAINER_ID: &str = "container_id";
    /// The interface name inside the container. Upstream's.
    pub const CONTAINER_IFACE: &str = "container_iface";
    /// The container's full 64-hex-digit ID, so any alias finds the port.
    pub const FULL_ID: &str = "container_full_id";
    /// The container's name when the port was made.
    pub const NAME: &str = "container_name";
    /// Ownership marker: which tool made the port (or the bridge, or the
    /// logical switch port): [`super::CREATED_BY_US`] or [`super::CREATED_BY_PLUGIN`].
    pub const CREATED_BY: &str = "created_by";

    // What add-port records so that `watch` can rebuild the port (see
    // `port::record`).
    pub const ADDRESSES: &str = "ovs_docker_addresses";
    pub const GATEWAYS: &str = "ovs_docker_gateways";
    pub const ROUTES: &str = "ovs_docker_routes";
    pub const MAC: &str = "ovs_docker_mac";
    pub const MTU: &str = "ovs_docker_mtu";
    /// "false" when the port was added with --no-persist.
    pub const PERSIST: &str = "ovs_docker_persist";
    /// One key per address (this prefix and the address), whose value is
    /// the bridge: the add-port transaction requires that no other
    /// Interface has the same key and value, which makes the
    /// address-conflict check race-free.
    pub const ADDRESS_ON_PREFIX: &str = "ovs_docker_ip:";

    /// The key that claims `ip` on a bridge (see [`ADDRESS_ON_PREFIX`]).
    pub fn address_key(ip: std::net::IpAddr) -> String {
        format!("{ADDRESS_ON_PREFIX}{ip}")
    }

    /// OVN's: the logical switch port the interface is bound to.
    pub const IFACE_ID: &str = "iface-id";
    /// OVN's: the MAC of the interface behind the port (the container's side).
    pub const ATTACHED_MAC: &str = "attached-mac";
    /// OVN's: set to "true" by ovn-controller once the port's flows are installed.
    pub const OVN_INSTALLED: &str = "ovn-installed";
    /// The northbound database in which add-port created the logical switch
    /// port, so that del-port deletes it there.
    pub const LSP_CREATED_IN: &str = "ovs_docker_ovn_nb";

    /// The network plugin's: Docker's endpoint ID (the container is found
    /// through it).
    pub const ENDPOINT_ID: &str = "docker_endpoint_id";
    /// The network plugin's: Docker's network ID (also on the Bridge row).
    pub const NETWORK_ID: &str = "docker_network_id";
    /// The network plugin's: the veth end that Docker moves into the container.
    pub const PEER: &str = "ovs_docker_peer";
    pub const ENDPOINT_ADDRESSES: &str = "docker_addresses";
    pub const ENDPOINT_MAC: &str = "docker_mac";
    /// The network plugin's: the container's namespace file, once joined.
    pub const SANDBOX: &str = "docker_sandbox";

    /// The CNI plugin's: the runtime's container ID (CNI_CONTAINERID).
    pub const CNI_CONTAINER_ID: &str = "cni_container_id";
    /// The CNI plugin's: the network's name (from its config).
    pub const CNI_NETWORK: &str = "cni_network";
}

/// Keys of a Bridge row.
pub mod bridge {
    pub use super::iface::{CREATED_BY, NETWORK_ID};
    /// On a bridge that add-port created: the port it was created for, so
    /// that undoing that add-port removes exactly this bridge.
    pub const CREATED_FOR: &str = "ovs_docker_created_for";
    // A network plugin network's settings.
    pub const MODE: &str = "ovs_docker_mode";
    pub const MTU: &str = "ovs_docker_mtu";
    pub const VLAN: &str = "ovs_docker_vlan";
    pub const BIND_INTERFACE: &str = "ovs_docker_bind_interface";
    /// Gateways with their prefix length, comma separated (IPv4 first).
    pub const GATEWAYS: &str = "ovs_docker_gateways";
    pub const SUBNETS: &str = "ovs_docker_subnets";
    /// The driver name that serves the network (for people reading OVSDB).
    pub const DRIVER: &str = "ovs_docker_driver";
    /// "false" when containers of the network may not reach each other
    /// (`-o icc=false`): its endpoints' ports are protected.
    pub const ICC: &str = "ovs_docker_icc";
    /// "true" for a `docker network create --internal` network.
    pub const INTERNAL: &str = "ovs_docker_internal";
    /// A mode=ovn network on a bridge that ovn-controller manages (br-int),
    /// which carries many networks: one key per network (this prefix and
    /// the network ID), whose value is the network's settings (JSON of the
    /// other keys of this module).
    pub const OVN_NETWORK_PREFIX: &str = "ovs_docker_ovn_network:";
    /// A mode=ovn network's logical switch and router (`-o ovn_switch`, `-o ovn_router`).
    pub const OVN_SWITCH: &str = "ovs_docker_ovn_switch";
    pub const OVN_ROUTER: &str = "ovs_docker_ovn_router";
    /// Every network setting, for removing them all.
    pub const NETWORK_SETTINGS: [&str; 9] = [MODE, MTU, VLAN, BIND_INTERFACE, GATEWAYS, SUBNETS, DRIVER, ICC, INTERNAL];
}

/// Keys of a logical switch port in the OVN northbound database.
pub mod lsp {
    /// Ownership marker (`ovs-docker`), as on our Interface rows.
    pub use super::iface::CREATED_BY;
    /// The container interface (`FULL_ID/IFACE`) the logical port was made
    /// for, so that only its own del-port (or undo) deletes it, also after
    /// `watch` re-created the OVS port under a new name.
    pub const FOR_PORT: &str = "ovs_docker_port";
}

/// Keys of the network plugin's rows in the OVN northbound database
/// (mode=ovn, see `ovsdb::ovn_networks`).
pub mod ovn {
    /// On a logical switch: its subnet and gateway (with the prefix length),
    /// as the first host made it; the others must ask for the same.
    pub const SUBNET: &str = "ovs_docker_subnet";
    pub const GATEWAY: &str = "ovs_docker_gateway";
    /// On a logical switch: the logical router its gateway is a port of.
    pub const ROUTER: &str = "ovs_docker_router";
    /// On a logical switch: one key per host that uses it (this prefix and
    /// the host's OVS system-id), whose value is the host's Docker network
    /// ID. The switch goes with the last one.
    pub const HOST_PREFIX: &str = "ovs_docker_host:";
    /// On a logical switch port (an address of the switch, named
    /// `SWITCH:IP`): the switch it belongs to and the host (system-id)
    /// that reserved it. Its `ovs_docker_port` ([`super::lsp::FOR_PORT`])
    /// is the Docker endpoint once claimed, `reserved/TOKEN` before.
    pub const SWITCH: &str = "ovs_docker_switch";
    pub const HOST: &str = "ovs_docker_reserved_by";
    /// On a claimed address port: its MAC, which the claiming transaction
    /// requires no other port of the switch to have.
    pub const MAC: &str = "ovs_docker_mac";
}

/// `created_by` of what the CLI made.
pub const CREATED_BY_US: &str = "ovs-docker";
/// `created_by` of what the network plugin made (bridges are deleted with their network).
pub const CREATED_BY_PLUGIN: &str = "ovs-docker-plugin";
