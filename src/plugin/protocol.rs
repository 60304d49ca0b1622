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

/// The longest network or endpoint ID taken (Docker's are 64 hex digits).
pub const MAX_ID_LEN: usize = 64;

/// One call of the driver protocol, decoded and checked: every ID in it is
/// non-empty ASCII letters and digits, so nothing later (names, locks,
/// comments, log lines) meets an ID it cannot slice or print.
#[derive(Debug)]
pub enum Call {
    Activate,
    Capabilities,
    CreateNetwork(CreateNetworkRequest),
    DeleteNetwork(NetworkRequest),
    CreateEndpoint(CreateEndpointRequest),
    DeleteEndpoint(EndpointRequest),
    OperInfo(EndpointRequest),
    Join(JoinRequest),
    ProgramExternalConnectivity(ConnectivityRequest),
    RevokeExternalConnectivity(EndpointRequest),
    Leave(EndpointRequest),
    /// The IPAM driver's calls (`--ipam-driver NAME`, see [`crate::plugin::ipam`]).
    IpamCapabilities,
    AddressSpaces,
    RequestPool(RequestPoolRequest),
    ReleasePool,
    RequestAddress(AddressRequest),
    ReleaseAddress(AddressRequest),
    /// A call that needs no work from this driver.
    Nothing,
}

/// Decode the body of `method`; None if the method is not one we know.
/// Never panics, whatever the bytes (see the property test below).
pub fn decode(method: &str, body: &[u8]) -> Option<Result<Call, String>> {
    let r = match method {
        "Plugin.Activate" => Ok(Call::Activate),
        "NetworkDriver.GetCapabilities" => Ok(Call::Capabilities),
        "NetworkDriver.CreateNetwork" => parse(body).map(Call::CreateNetwork),
        "NetworkDriver.DeleteNetwork" => parse(body).map(Call::DeleteNetwork),
        "NetworkDriver.CreateEndpoint" => parse(body).map(Call::CreateEndpoint),
        "NetworkDriver.DeleteEndpoint" => parse(body).map(Call::DeleteEndpoint),
        "NetworkDriver.EndpointOperInfo" => parse(body).map(Call::OperInfo),
        "NetworkDriver.Join" => parse(body).map(Call::Join),
        "NetworkDriver.ProgramExternalConnectivity" => parse(body).map(Call::ProgramExternalConnectivity),
        "NetworkDriver.RevokeExternalConnectivity" => parse(body).map(Call::RevokeExternalConnectivity),
        "NetworkDriver.Leave" => parse(body).map(Call::Leave),
        "IpamDriver.GetCapabilities" => Ok(Call::IpamCapabilities),
        "IpamDriver.GetDefaultAddressSpaces" => Ok(Call::AddressSpaces),
        "IpamDriver.RequestPool" => parse(body).map(Call::RequestPool),
        "IpamDriver.ReleasePool" => Ok(Call::ReleasePool),
        "IpamDriver.RequestAddress" => parse(body).map(Call::RequestAddress),
        "IpamDriver.ReleaseAddress" => parse(body).map(Call::ReleaseAddress),
        "NetworkDriver.DiscoverNew"
        | "NetworkDriver.DiscoverDelete"
        | "NetworkDriver.AllocateNetwork"
        | "NetworkDriver.FreeNetwork" => Ok(Call::Nothing),
        _ => return None,
    };
    Some(r)
}

/// Parse a request body: a JSON object whose IDs, where present, are
/// valid (see [`check_id`]).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("malformed request body: {e}"))?;
    let Value::Object(fields) = &v else { return Err("malformed request body: not a JSON object".into()) };
    for key in ["NetworkID", "EndpointID"] {
        match fields.get(key) {
            None => {}
            Some(Value::String(id)) => check_id(key, id)?,
            Some(other) => return Err(format!("malformed request body: {key} is not a string: {other}")),
        }
    }
    serde_json::from_value(v).map_err(|e| format!("malformed request body: {e}"))
}

/// An ID as Docker makes them: 1 to [`MAX_ID_LEN`] ASCII letters and digits.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let shown: String = id.chars().take(MAX_ID_LEN).collect();
        return Err(format!(
            "invalid {what} \"{}\" (expected 1 to {MAX_ID_LEN} ASCII letters and digits)",
            shown.escape_default()
        ));
    }
    Ok(())
}

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

/// IpamDriver.RequestPool (libnetwork docs/ipam.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestPoolRequest {
    #[serde(default)]
    pub pool: String,
    #[serde(default)]
    pub sub_pool: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, Value>>,
    #[serde(default, rename = "V6")]
    pub v6: bool,
}

/// IpamDriver.RequestAddress and ReleaseAddress.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddressRequest {
    #[serde(default, rename = "PoolID")]
    pub pool_id: String,
    /// The address asked for (`--ip`), or empty for any.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, Value>>,
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

/// ProgramExternalConnectivity: the endpoint's published ports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectivityRequest {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, Value>>,
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

/// Property test of the decoding of every call: random bytes, valid bodies
/// mutated, and fields of every JSON type, ASCII or not, never panic, and a
/// body Docker could send decodes.
#[cfg(test)]
mod decode_properties {
    use super::*;
    use serde_json::json;

    pub const METHODS: [&str; 22] = [
        "Plugin.Activate",
        "IpamDriver.GetCapabilities",
        "IpamDriver.GetDefaultAddressSpaces",
        "IpamDriver.RequestPool",
        "IpamDriver.ReleasePool",
        "IpamDriver.RequestAddress",
        "IpamDriver.ReleaseAddress",
        "NetworkDriver.GetCapabilities",
        "NetworkDriver.CreateNetwork",
        "NetworkDriver.DeleteNetwork",
        "NetworkDriver.CreateEndpoint",
        "NetworkDriver.DeleteEndpoint",
        "NetworkDriver.EndpointOperInfo",
        "NetworkDriver.Join",
        "NetworkDriver.Leave",
        "NetworkDriver.ProgramExternalConnectivity",
        "NetworkDriver.RevokeExternalConnectivity",
        "NetworkDriver.DiscoverNew",
        "NetworkDriver.DiscoverDelete",
        "NetworkDriver.AllocateNetwork",
        "NetworkDriver.FreeNetwork",
        "NetworkDriver.Nonsense\u{e9}",
    ];

    /// xorshift64*: deterministic, so a failure can be replayed.
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn valid_body() -> Value {
        json!({
            "NetworkID": "0123456789abcdef", "EndpointID": "fedcba9876543210", "SandboxKey": "/var/run/docker/netns/x",
            "Options": {"com.docker.network.generic": {"mode": "nat", "mtu": "1400"},
                        "com.docker.network.portmap": [{"Proto": 6, "IP": "", "Port": 80, "HostIP": "10.0.0.1",
                                                        "HostPort": 8080, "HostPortEnd": 8080}]},
            "Interface": {"Address": "10.20.0.2/24", "AddressIPv6": "fd00::2/64", "MacAddress": "02:42:0a:14:00:02"},
            "IPv4Data": [{"AddressSpace": "LocalDefault", "Pool": "10.20.0.0/24", "Gateway": "10.20.0.1/24"}],
            "IPv6Data": []
        })
    }

    /// A JSON value of a random type, with strings that are not ASCII.
    pub fn any_value(rng: &mut Rng, depth: usize) -> Value {
        match rng.below(if depth > 2 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(rng.below(2) == 0),
            2 => json!(rng.next() as i64),
            3 => json!(-1.5e300),
            4 => json!(["é", "\u{0}", "日本", "a\u{301}", "🦀", "../../x", "%s%n", &"x".repeat(300)][rng.below(8)]),
            5 => json!("0123456789ab"),
            6 => Value::Array((0..rng.below(4)).map(|_| any_value(rng, depth + 1)).collect()),
            _ => {
                let keys = ["NetworkID", "EndpointID", "Options", "Interface", "Pool", "Gateway", "Address", "é"];
                let m = (0..rng.below(4)).map(|_| (keys[rng.below(keys.len())].to_string(), any_value(rng, depth + 1)));
                Value::Object(m.collect())
            }
        }
    }

    /// A valid body with one field (at any depth) replaced by any value.
    pub fn mutated(rng: &mut Rng) -> Value {
        let mut v = valid_body();
        replace_somewhere(rng, &mut v, 0);
        v
    }

    fn replace_somewhere(rng: &mut Rng, v: &mut Value, depth: usize) {
        if depth > 0 && rng.below(3) == 0 {
            *v = any_value(rng, 0);
            return;
        }
        match v {
            Value::Object(m) if !m.is_empty() => {
                let i = rng.below(m.len());
                if let Some((_, child)) = m.iter_mut().nth(i) {
                    replace_somewhere(rng, child, depth + 1);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                replace_somewhere(rng, &mut a[i], depth + 1);
            }
            _ => *v = any_value(rng, 0),
        }
    }

    pub fn any_body(rng: &mut Rng) -> Vec<u8> {
        match rng.below(4) {
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            1 => {
                let mut b = serde_json::to_vec(&valid_body()).unwrap();
                let cut = rng.below(b.len());
                b.truncate(cut);
                b
            }
            2 => serde_json::to_vec(&any_value(rng, 0)).unwrap(),
            _ => serde_json::to_vec(&mutated(rng)).unwrap(),
        }
    }

    #[test]
    fn no_body_panics_the_decoding_of_any_call() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let body = any_body(&mut rng);
            for m in METHODS {
                match decode(m, &body) {
                    Some(Ok(Call::CreateNetwork(r))) => {
                        let _ = super::super::network::NetworkConfig::from_request(&r);
                    }
                    Some(Ok(Call::ProgramExternalConnectivity(r))) => {
                        let _ = super::super::driver::bindings(&r.options);
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn what_docker_sends_decodes_and_bad_ids_do_not() {
        let body = serde_json::to_vec(&valid_body()).unwrap();
        for m in &METHODS[..21] {
            assert!(matches!(decode(m, &body), Some(Ok(_))), "{m}");
        }
        assert!(decode(METHODS[21], &body).is_none());
        for bad in ["é", "", "a/b", "ab\u{0}", &"a".repeat(MAX_ID_LEN + 1), "日本語"] {
            let body = serde_json::to_vec(&json!({"NetworkID": bad, "EndpointID": "e1"})).unwrap();
            let e = decode("NetworkDriver.Join", &body).unwrap().unwrap_err();
            assert!(e.contains("invalid NetworkID"), "{e}");
        }
        let e = decode("NetworkDriver.Join", br#"{"NetworkID": 7}"#).unwrap().unwrap_err();
        assert!(e.contains("NetworkID is not a string"), "{e}");
        let e = decode("NetworkDriver.Join", b"[]").unwrap().unwrap_err();
        assert!(e.contains("not a JSON object"), "{e}");
    }
}
