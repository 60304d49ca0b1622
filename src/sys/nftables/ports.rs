//! Published ports (`docker run -p`) of a nat network's endpoint, in our
//! table `ip ovs-docker`. Per binding, commented
//! `ovs-docker:NETWORK/ENDPOINT/PROTO/HOSTIP/HOSTPORT`:
//! - chains `prerouting` and `output` (type nat; so that other machines and
//!   the host itself reach it): `fib daddr type local [ip daddr HOSTIP]
//!   meta l4proto PROTO th dport HOSTPORT dnat to CONTAINER:PORT`;
//! - chain `postrouting`: `ip saddr SUBNET ip daddr CONTAINER ct status dnat
//!   masquerade`, so that a container of the same network reaching the host's
//!   address (hairpin) gets the answer back through the host;
//! - chain `forward`, first: `oifname BRIDGE ip daddr CONTAINER ct status dnat
//!   accept` (before the rule that keeps new connections out).

use std::io;
use std::net::Ipv4Addr;

use super::*;

const PREROUTING_CHAIN: &str = "prerouting";
const OUTPUT_CHAIN: &str = "output";
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_IP_PRI_NAT_DST: i32 = -100;
const NFT_META_L4PROTO: u32 = 16;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFTA_FIB_DREG: u16 = 1;
const NFTA_FIB_RESULT: u16 = 2;
const NFTA_FIB_FLAGS: u16 = 3;
const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
const NFTA_FIB_F_DADDR: u32 = 1 << 1;
const RTN_LOCAL: u32 = 2;
const NFT_CT_STATUS: u32 = 2;
const IPS_DST_NAT: u32 = 0x20;
const NFTA_NAT_TYPE: u16 = 1;
const NFTA_NAT_FAMILY: u16 = 2;
const NFTA_NAT_REG_ADDR_MIN: u16 = 3;
const NFTA_NAT_REG_PROTO_MIN: u16 = 5;
const NFT_NAT_DNAT: u32 = 1;
const NFT_REG_2: u32 = 2;

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// 6 (tcp) or 17 (udp).
    pub proto: u8,
    /// The host address it is published on; None: every local address.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
}

impl Binding {
    fn proto_name(&self) -> &'static str {
        if self.proto == 17 {
            "udp"
        } else {
            "tcp"
        }
    }

    fn comment(&self, network_id: &str, endpoint_id: &str) -> String {
        let ip = self.host_ip.map(|i| i.to_string()).unwrap_or_default();
        format!("{}/{endpoint_id}/{}/{ip}/{}", comment(network_id), self.proto_name(), self.host_port)
    }

    /// Whether `other` (a comment's tail PROTO/HOSTIP/HOSTPORT) takes the
    /// same host port.
    fn clashes_with(&self, proto: &str, ip: &str, port: &str) -> bool {
        let ips_overlap = ip.is_empty() || self.host_ip.is_none_or(|mine| mine.to_string() == ip);
        proto == self.proto_name() && port == self.host_port.to_string() && ips_overlap
    }
}

/// The endpoint (not `endpoint_id`) whose published port clashes with
/// `b`, if any.
pub fn port_holder(b: &Binding, endpoint_id: &str) -> io::Result<Option<String>> {
    for r in Socket::open()?.list_rules(NFPROTO_IPV4, TABLE)? {
        let Some(c) = r.comment.as_deref().and_then(|c| c.strip_prefix("ovs-docker:")) else { continue };
        let parts: Vec<&str> = c.split('/').collect();
        if let [_, ep, proto, ip, port] = parts[..] {
            if ep != endpoint_id && b.clashes_with(proto, ip, port) {
                return Ok(Some(ep.to_string()));
            }
        }
    }
    Ok(None)
}

/// Publish `b` of endpoint `endpoint_id` (address `container`) on network
/// `network_id` (subnet, bridge), all its rules in one batch; a binding
/// already there is left as it is.
pub fn add_binding(
    network_id: &str,
    endpoint_id: &str,
    subnet: Subnet,
    bridge: &str,
    container: Ipv4Addr,
    b: &Binding,
) -> io::Result<()> {
    let sock = Socket::open()?;
    let text = b.comment(network_id, endpoint_id);
    if sock.list_rules(NFPROTO_IPV4, TABLE)?.iter().any(|r| r.comment.as_deref() == Some(text.as_str())) {
        return Ok(());
    }
    let note = userdata_comment(&text);
    let mut batch = Batch::new();
    for (name, hook) in [(PREROUTING_CHAIN, NF_INET_PRE_ROUTING), (OUTPUT_CHAIN, NF_INET_LOCAL_OUT)] {
        batch.push(base_chain(NFPROTO_IPV4, name, "nat", hook, NF_IP_PRI_NAT_DST));
        batch.push(appended_rule(NFPROTO_IPV4, name, &note, |e| dnat_exprs(e, b, container)));
    }
    let one = Subnet { addr: container.into(), prefix: 32 };
    batch.push(appended_rule(NFPROTO_IPV4, NAT_CHAIN, &note, |e| {
        subnet.matches(e, true, NFT_CMP_EQ);
        one.matches(e, false, NFT_CMP_EQ);
        ct_dnat(e);
        e.nest(NFTA_LIST_ELEM, |x| x.str(NFTA_EXPR_NAME, "masq"));
    }));
    // No NLM_F_APPEND: first in the chain, before the drop of new
    // connections into the bridge.
    let mut rule = Msg::new_v4(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_ACK);
    rule.str(NFTA_RULE_TABLE, TABLE);
    rule.str(NFTA_RULE_CHAIN, FILTER_CHAIN);
    let name = ifname_bytes(bridge);
    rule.nest(NFTA_RULE_EXPRESSIONS, |e| {
        meta(e, NFT_META_OIFNAME);
        cmp(e, NFT_CMP_EQ, &name);
        one.matches(e, false, NFT_CMP_EQ);
        ct_dnat(e);
        verdict(e, NF_ACCEPT);
    });
    rule.bytes(NFTA_RULE_USERDATA, &note);
    batch.push(rule);
    sock.transact(batch)
}

/// Remove the published ports of `endpoint_id` (every network); returns
/// how many rules went.
pub fn remove_endpoint_bindings(endpoint_id: &str) -> io::Result<usize> {
    let sock = Socket::open()?;
    remove_rules(&sock, NFPROTO_IPV4, TABLE, |r| {
        r.comment.as_deref().and_then(|c| c.strip_prefix("ovs-docker:")).is_some_and(|c| {
            let mut parts = c.split('/');
            parts.next();
            parts.next() == Some(endpoint_id)
        })
    })
}

/// The endpoints that have published ports.
pub fn endpoints_with_bindings() -> io::Result<std::collections::BTreeSet<String>> {
    let rules = Socket::open()?.list_rules(NFPROTO_IPV4, TABLE)?;
    Ok(rules
        .iter()
        .filter_map(|r| r.comment.as_deref()?.strip_prefix("ovs-docker:")?.split('/').nth(1).map(str::to_string))
        .collect())
}

/// `ct status dnat`: a connection whose destination was translated.
fn ct_dnat(e: &mut Msg) {
    ct_bits(e, NFT_CT_STATUS, IPS_DST_NAT, NFT_CMP_NEQ);
}

fn dnat_exprs(e: &mut Msg, b: &Binding, container: Ipv4Addr) {
    // fib daddr type local: only what is addressed to this host.
    e.nest(NFTA_LIST_ELEM, |x| {
        x.str(NFTA_EXPR_NAME, "fib");
        x.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_FIB_DREG, NFT_REG_1);
            d.u32(NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
            d.u32(NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
        });
    });
    cmp(e, NFT_CMP_EQ, &RTN_LOCAL.to_ne_bytes());
    if let Some(ip) = b.host_ip {
        Subnet { addr: ip.into(), prefix: 32 }.matches(e, false, NFT_CMP_EQ);
    }
    meta(e, NFT_META_L4PROTO);
    cmp(e, NFT_CMP_EQ, &[b.proto]);
    e.nest(NFTA_LIST_ELEM, |x| {
        x.str(NFTA_EXPR_NAME, "payload");
        x.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_PAYLOAD_DREG, NFT_REG_1);
            d.u32(NFTA_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
            d.u32(NFTA_PAYLOAD_OFFSET, 2);
            d.u32(NFTA_PAYLOAD_LEN, 2);
        });
    });
    cmp(e, NFT_CMP_EQ, &b.host_port.to_be_bytes());
    for (reg, value) in [(NFT_REG_1, container.octets().to_vec()), (NFT_REG_2, b.container_port.to_be_bytes().to_vec())]
    {
        e.nest(NFTA_LIST_ELEM, |x| {
            x.str(NFTA_EXPR_NAME, "immediate");
            x.nest(NFTA_EXPR_DATA, |d| {
                d.u32(NFTA_IMMEDIATE_DREG, reg);
                d.nest(NFTA_IMMEDIATE_DATA, |v| v.bytes(NFTA_DATA_VALUE, &value));
            });
        });
    }
    e.nest(NFTA_LIST_ELEM, |x| {
        x.str(NFTA_EXPR_NAME, "nat");
        x.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_NAT_TYPE, NFT_NAT_DNAT);
            d.u32(NFTA_NAT_FAMILY, u32::from(NFPROTO_IPV4));
            d.u32(NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
            d.u32(NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
        });
    });
}
