//! The libnetwork remote network driver protocol: JSON bodies of the POSTs
//! dockerd sends to the plugin, and of our answers. Field names are
//! Docker's (see libnetwork/drivers/remote/api/api.go).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Docker's content type for plugin answers.
pub const CONTENT_TYPE: &str = "application/vnd.docker.plugins.v1.2+json";

/// Where `docker network create -o KEY=VALUE` options arrive.
pub const GENERIC_OPTIONS: &str = "com.docker.network.generic";
pub const ENABLE_IPV6: &str = "com.docker.network.enable_ipv6";

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActivateResponse {
    pub implements: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CapabilitiesResponse {
    pub scope: &'static str,
    pub connectivity_scope: &'static str,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamData {
    #[serde(default)]
    pub address_space: String,
    /// The subnet, e.g. 10.20.0.0/24.
    #[serde(default)]
    pub pool: String,
    /// The gateway with the pool's prefix length, e.g. 10.20.0.1/24.
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub aux_addresses: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateNetworkRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, Value>>,
    #[serde(default, rename = "IPv4Data")]
    pub ipv4_data: Option<Vec<IpamData>>,
    #[serde(default, rename = "IPv6Data")]
    pub ipv6_data: Option<Vec<IpamData>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointInterface {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default, rename = "AddressIPv6", skip_serializing_if = "String::is_empty")]
    pub address_ipv6: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEndpointRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(default)]
    pub interface: Option<EndpointInterface>,
    #[serde(default)]
    pub options: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEndpointResponse {
    /// Only what the driver assigns itself (Docker refuses an answer that
    /// repeats a value it gave).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<EndpointInterface>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JoinRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(default)]
    pub sandbox_key: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceName {
    pub src_name: String,
    pub dst_prefix: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JoinResponse {
    pub interface_name: InterfaceName,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(rename = "GatewayIPv6", skip_serializing_if = "String::is_empty")]
    pub gateway_ipv6: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperInfoResponse {
    pub value: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorResponse {
    pub err: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_network_request_as_docker_sends_it() {
        let body = json!({
            "NetworkID": "n1",
            "Options": {"com.docker.network.enable_ipv6": false, "com.docker.network.generic": {"mode": "nat"}},
            "IPv4Data": [{"AddressSpace": "LocalDefault", "Pool": "10.20.0.0/24", "Gateway": "10.20.0.1/24", "AuxAddresses": null}],
            "IPv6Data": []
        });
        let r: CreateNetworkRequest = serde_json::from_value(body).unwrap();
        assert_eq!(r.network_id, "n1");
        let v4 = r.ipv4_data.unwrap();
        assert_eq!((v4[0].pool.as_str(), v4[0].gateway.as_str()), ("10.20.0.0/24", "10.20.0.1/24"));
        assert_eq!(r.options.unwrap()[GENERIC_OPTIONS]["mode"], "nat");
    }

    #[test]
    fn answers_use_docker_field_names() {
        let j = JoinResponse {
            interface_name: InterfaceName { src_name: "p".into(), dst_prefix: "eth".into() },
            gateway: "10.0.0.1".into(),
            gateway_ipv6: String::new(),
        };
        assert_eq!(
            serde_json::to_value(j).unwrap(),
            json!({"InterfaceName": {"SrcName": "p", "DstPrefix": "eth"}, "Gateway": "10.0.0.1"})
        );
        assert_eq!(serde_json::to_value(ErrorResponse { err: "x".into() }).unwrap(), json!({"Err": "x"}));
        let c = CapabilitiesResponse { scope: "local", connectivity_scope: "local" };
        assert_eq!(serde_json::to_value(c).unwrap(), json!({"Scope": "local", "ConnectivityScope": "local"}));
    }
}
