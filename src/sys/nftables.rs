//! The firewall rules of a nat-mode network, spoken to the kernel as
//! nf_tables netlink messages (no `iptables` or `nft` process is forked).
//!
//! Every rule lives in a table of our own, `ip ovs-docker` (and
//! `ip6 ovs-docker` for a network's IPv6 subnet), but for the two accept
//! rules put in iptables' `filter FORWARD` (see [`ensure_forward_accepts`]):
//! - chain `postrouting` (type nat, hook postrouting, priority srcnat):
//!   `ip saddr SUBNET ip daddr != SUBNET masquerade`, so containers reach
//!   hosts beyond this one;
//! - chain `forward` (type filter, hook forward, priority filter):
//!   `oifname BRIDGE iifname != BRIDGE ct state != established,related drop`,
//!   so that the host, which routes for every nat network, does not open a
//!   path into a network from another one (or from outside).
//!
//! - for an IPv4 nat network, so that the host's loopback reaches its
//!   published ports as Docker's bridge does (see [`ensure_localnet`]):
//!   `oifname BRIDGE ip saddr 127.0.0.0/8 masquerade` in `postrouting`, and
//!   in chain `localnet` (type filter, hook prerouting, priority raw)
//!   `iifname BRIDGE ip daddr 127.0.0.0/8 drop`.
//!
//! Each rule carries the comment `ovs-docker:NETWORK_ID` (the rule's
//! userdata, as `nft` writes it): that is how the rules of a network are
//! found again after a restart; nothing is kept in memory.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub mod ports;

pub const TABLE: &str = "ovs-docker";
pub const NAT_CHAIN: &str = "postrouting";
pub const FILTER_CHAIN: &str = "forward";
pub const LOCALNET_CHAIN: &str = "localnet";
/// The table and chain of iptables' (nf_tables backend) `filter FORWARD`,
/// where Docker's firewall lives.
pub const DOCKER_TABLE: &str = "filter";
pub const DOCKER_FORWARD: &str = "FORWARD";

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_GETRULE: u16 = 7;
const NFT_MSG_DELRULE: u16 = 8;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLA_F_NESTED: u16 = 0x8000;

const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
const FAMILIES: [u8; 2] = [NFPROTO_IPV4, NFPROTO_IPV6];
const NF_INET_POST_ROUTING: u32 = 4;
const NF_INET_FORWARD: u32 = 2;
const NF_IP_PRI_NAT_SRC: i32 = 100;
const NF_IP_PRI_FILTER: i32 = 0;
const NF_INET_PRE_ROUTING: u32 = 0;
const NF_IP_PRI_RAW: i32 = -300;

// Attribute numbers from linux/netfilter/nf_tables.h.
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_RULE_USERDATA: u16 = 7;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_PAYLOAD_DREG: u16 = 1;
const NFTA_PAYLOAD_BASE: u16 = 2;
const NFTA_PAYLOAD_OFFSET: u16 = 3;
const NFTA_PAYLOAD_LEN: u16 = 4;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFTA_BITWISE_SREG: u16 = 1;
const NFTA_BITWISE_DREG: u16 = 2;
const NFTA_BITWISE_LEN: u16 = 3;
const NFTA_BITWISE_MASK: u16 = 4;
const NFTA_BITWISE_XOR: u16 = 5;
const NFTA_CMP_SREG: u16 = 1;
const NFTA_CMP_OP: u16 = 2;
const NFTA_CMP_DATA: u16 = 3;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;
const NFTA_META_DREG: u16 = 1;
const NFTA_META_KEY: u16 = 2;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFTA_CT_DREG: u16 = 1;
const NFTA_CT_KEY: u16 = 2;
const NFT_CT_STATE: u32 = 0;
/// ct state bits (host byte order): established 2, related 4.
const CT_ESTABLISHED_RELATED: u32 = 0x2 | 0x4;
const NFT_REG_VERDICT: u32 = 0;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NFT_CMP_EQ: u32 = 0;
const NFT_CMP_NEQ: u32 = 1;
const NFT_REG_1: u32 = 1;
/// libnftnl's userdata type for a rule comment (what `nft` shows).
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;

/// The comment that marks the rule of `network_id`.
pub fn comment(network_id: &str) -> String {
    format!("ovs-docker:{network_id}")
}

/// A network's subnet as its rules match it: in table `ip` or `ip6`.
#[derive(Debug, Clone, Copy)]
pub struct Subnet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Subnet {
    fn family(&self) -> u8 {
        if self.addr.is_ipv4() {
            NFPROTO_IPV4
        } else {
            NFPROTO_IPV6
        }
    }

    /// Offsets of the source and destination addresses in the header.
    fn offsets(&self) -> (u32, u32) {
        if self.addr.is_ipv4() {
            (12, 16)
        } else {
            (8, 24)
        }
    }

    fn mask(&self) -> Vec<u8> {
        let bits = if self.addr.is_ipv4() { 32 } else { 128 };
        let p = u32::from(self.prefix).min(bits);
        (0..bits / 8).map(|i| (0xffu16 << 8u32.saturating_sub(p.saturating_sub(i * 8)).min(8)) as u8).collect()
    }

    fn net(&self) -> Vec<u8> {
        let bytes = match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        bytes.iter().zip(self.mask()).map(|(b, m)| b & m).collect()
    }

    /// `ADDR & mask == net` (or `!=`), ADDR the source or destination.
    fn matches(&self, exprs: &mut Msg, source: bool, op: u32) {
        let (src, dst) = self.offsets();
        let mask = self.mask();
        payload(exprs, if source { src } else { dst }, mask.len() as u32);
        bitwise(exprs, &mask);
        cmp(exprs, op, &self.net());
    }
}

/// Add the rules of `network_id` (subnet `subnet/prefix`, bridge
/// `bridge`), creating our table and chains if missing, all in one atomic
/// batch. An `internal` network gets, instead of its masquerade rule,
/// `iifname BRIDGE oifname != BRIDGE drop`: nothing leaves it.
pub fn add_network_rules(network_id: &str, subnet: Subnet, bridge: &str, internal: bool) -> io::Result<()> {
    let fam = subnet.family();
    let sock = Socket::open()?;
    let mut batch = Batch::new();
    let mut table = Msg::in_family(fam, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
    table.str(NFTA_TABLE_NAME, TABLE);
    batch.push(table);
    batch.push(base_chain(fam, NAT_CHAIN, "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC));
    batch.push(base_chain(fam, FILTER_CHAIN, "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER));
    let note = userdata_comment(&comment(network_id));

    let name = ifname_bytes(bridge);
    if internal {
        batch.push(appended_rule(fam, FILTER_CHAIN, &note, |exprs| {
            meta(exprs, NFT_META_IIFNAME);
            cmp(exprs, NFT_CMP_EQ, &name);
            meta(exprs, NFT_META_OIFNAME);
            cmp(exprs, NFT_CMP_NEQ, &name);
            drop_verdict(exprs);
        }));
        batch.push(inbound_rule(fam, &name, &note));
        return sock.transact(batch);
    }
    batch.push(appended_rule(fam, NAT_CHAIN, &note, |exprs| {
        // saddr in the subnet, daddr not
        subnet.matches(exprs, true, NFT_CMP_EQ);
        subnet.matches(exprs, false, NFT_CMP_NEQ);
        exprs.nest(NFTA_LIST_ELEM, |e| e.str(NFTA_EXPR_NAME, "masq"));
    }));
    batch.push(inbound_rule(fam, &name, &note));
    sock.transact(batch)
}

/// Create (if missing) the base chain `name` of our table, of type `kind`
/// (nat, filter) on netfilter hook `hook` at `priority`.
fn base_chain(fam: u8, name: &str, kind: &str, hook: u32, priority: i32) -> Msg {
    let mut chain = Msg::in_family(fam, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK);
    chain.str(NFTA_CHAIN_TABLE, TABLE);
    chain.str(NFTA_CHAIN_NAME, name);
    chain.nest(NFTA_CHAIN_HOOK, |h| {
        h.u32(NFTA_HOOK_HOOKNUM, hook);
        h.u32(NFTA_HOOK_PRIORITY, priority as u32);
    });
    chain.str(NFTA_CHAIN_TYPE, kind);
    chain
}

/// A rule appended to chain `chain` of our table, commented `note`, with
/// the expressions `exprs` writes.
fn appended_rule(fam: u8, chain: &str, note: &[u8], exprs: impl FnOnce(&mut Msg)) -> Msg {
    let mut rule = Msg::in_family(fam, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
    rule.str(NFTA_RULE_TABLE, TABLE);
    rule.str(NFTA_RULE_CHAIN, chain);
    rule.nest(NFTA_RULE_EXPRESSIONS, exprs);
    rule.bytes(NFTA_RULE_USERDATA, note);
    rule
}

/// The host's loopback (127.0.0.0/8).
const LOOPBACK: Subnet = Subnet { addr: IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 0)), prefix: 8 };

/// The two rules that let the host reach an IPv4 nat network's published
/// ports through 127.0.0.1 (`curl localhost:8080`, as with Docker's bridge),
/// added if missing: a masquerade of loopback sources leaving through
/// BRIDGE (the container cannot answer 127.0.0.1), and, before connection
/// tracking, a drop of anything arriving from BRIDGE for 127.0.0.0/8. The
/// kernel routes loopback addresses over BRIDGE only with its
/// `route_localnet` on, which without that drop would let the network's
/// containers reach the host's loopback-only services (CVE-2020-8558):
/// the caller turns it on only once this has succeeded. Returns whether
/// the rules were added.
pub fn ensure_localnet(network_id: &str, bridge: &str) -> io::Result<bool> {
    let sock = Socket::open()?;
    let wanted = comment(network_id);
    let rules = sock.list_rules(NFPROTO_IPV4, TABLE)?;
    if rules.iter().any(|r| r.chain == LOCALNET_CHAIN && r.comment.as_deref() == Some(wanted.as_str())) {
        return Ok(false);
    }
    let note = userdata_comment(&wanted);
    let name = ifname_bytes(bridge);
    let mut batch = Batch::new();
    let mut table = Msg::in_family(NFPROTO_IPV4, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
    table.str(NFTA_TABLE_NAME, TABLE);
    batch.push(table);
    batch.push(base_chain(NFPROTO_IPV4, NAT_CHAIN, "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC));
    batch.push(base_chain(NFPROTO_IPV4, LOCALNET_CHAIN, "filter", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW));
    batch.push(appended_rule(NFPROTO_IPV4, NAT_CHAIN, &note, |exprs| {
        meta(exprs, NFT_META_OIFNAME);
        cmp(exprs, NFT_CMP_EQ, &name);
        LOOPBACK.matches(exprs, true, NFT_CMP_EQ);
        exprs.nest(NFTA_LIST_ELEM, |e| e.str(NFTA_EXPR_NAME, "masq"));
    }));
    batch.push(appended_rule(NFPROTO_IPV4, LOCALNET_CHAIN, &note, |exprs| {
        meta(exprs, NFT_META_IIFNAME);
        cmp(exprs, NFT_CMP_EQ, &name);
        LOOPBACK.matches(exprs, false, NFT_CMP_EQ);
        drop_verdict(exprs);
    }));
    sock.transact(batch).map(|()| true)
}

/// `oifname BRIDGE iifname != BRIDGE ct state != established,related drop`
fn inbound_rule(fam: u8, name: &[u8; 16], note: &[u8]) -> Msg {
    appended_rule(fam, FILTER_CHAIN, note, |exprs| {
        meta(exprs, NFT_META_OIFNAME);
        cmp(exprs, NFT_CMP_EQ, name);
        meta(exprs, NFT_META_IIFNAME);
        cmp(exprs, NFT_CMP_NEQ, name);
        ct_bits(exprs, NFT_CT_STATE, CT_ESTABLISHED_RELATED, NFT_CMP_EQ);
        drop_verdict(exprs);
    })
}

fn drop_verdict(exprs: &mut Msg) {
    verdict(exprs, NF_DROP);
}

fn verdict(exprs: &mut Msg, code: u32) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "immediate");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
            d.nest(NFTA_IMMEDIATE_DATA, |v| v.nest(NFTA_DATA_VERDICT, |c| c.u32(NFTA_VERDICT_CODE, code)));
        });
    });
}

/// Delete every rule of `network_id` (our table's, and those it added to
/// Docker's `filter FORWARD`). Returns how many were deleted; none (and no
/// table at all) is success.
pub fn remove_network_rules(network_id: &str) -> io::Result<usize> {
    let sock = Socket::open()?;
    let wanted = comment(network_id);
    let mut deleted = 0;
    for fam in FAMILIES {
        for table in [TABLE, DOCKER_TABLE] {
            deleted += remove_rules(&sock, fam, table, |r| {
                r.comment
                    .as_deref()
                    .is_some_and(|c| c == wanted || c.strip_prefix(&wanted).is_some_and(|t| t.starts_with('/')))
            })?;
        }
    }
    Ok(deleted)
}

fn remove_rules(sock: &Socket, fam: u8, table: &str, which: impl Fn(&RuleInfo) -> bool) -> io::Result<usize> {
    let rules: Vec<RuleInfo> = sock.list_rules(fam, table)?.into_iter().filter(which).collect();
    if rules.is_empty() {
        return Ok(0);
    }
    let mut batch = Batch::new();
    for r in &rules {
        let mut m = Msg::in_family(fam, NFT_MSG_DELRULE, NLM_F_ACK);
        m.str(NFTA_RULE_TABLE, table);
        m.str(NFTA_RULE_CHAIN, &r.chain);
        m.u64(NFTA_RULE_HANDLE, r.handle);
        batch.push(m);
    }
    match sock.transact(batch) {
        // Deleted meanwhile by another run for the same network: fine.
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(0),
        other => other.map(|()| rules.len()),
    }
}

/// How many rules of `network_id` exist in our table of `subnet`'s family.
pub fn count_network_rules(network_id: &str, subnet: Subnet) -> io::Result<usize> {
    let wanted = comment(network_id);
    let rules = Socket::open()?.list_rules(subnet.family(), TABLE)?;
    Ok(rules.iter().filter(|r| r.comment.as_deref() == Some(&wanted)).count())
}

/// The network IDs that rules (ours, or ours in Docker's chain) name.
pub fn networks_with_rules() -> io::Result<std::collections::BTreeSet<String>> {
    let sock = Socket::open()?;
    let mut ids = std::collections::BTreeSet::new();
    for fam in FAMILIES {
        for table in [TABLE, DOCKER_TABLE] {
            for r in sock.list_rules(fam, table)? {
                if let Some(c) = r.comment.as_deref().and_then(|c| c.strip_prefix("ovs-docker:")) {
                    ids.insert(c.split('/').next().unwrap_or(c).to_string());
                }
            }
        }
    }
    Ok(ids)
}

/// Let a nat network's traffic through the `filter FORWARD` chain of
/// iptables (nf_tables backend), whose policy a stock dockerd sets to DROP:
/// a packet dropped by any base chain is dropped, whatever our own table
/// accepts. Two rules, limited to the network's bridge and subnet, at the
/// head of the chain (before Docker's jumps):
/// `iifname BRIDGE ip saddr SUBNET accept` and
/// `oifname BRIDGE ip daddr SUBNET accept` (what may enter the bridge is
/// still decided by our own `forward` chain). Missing ones are added again,
/// so a dockerd restart or an `nft flush ruleset` heals on the next check.
/// Returns false when there is no such chain (then nothing drops there).
pub fn ensure_forward_accepts(network_id: &str, subnet: Subnet, bridge: &str) -> io::Result<bool> {
    let fam = subnet.family();
    let sock = Socket::open()?;
    let wanted = comment(network_id);
    let rules = sock.list_rules(fam, DOCKER_TABLE)?;
    let forward: Vec<&RuleInfo> = rules.iter().filter(|r| r.chain == DOCKER_FORWARD).collect();
    let ours = forward.iter().filter(|r| r.comment.as_deref() == Some(&wanted)).count();
    if ours == 2 {
        return Ok(true);
    }
    remove_rules(&sock, fam, DOCKER_TABLE, |r| r.comment.as_deref() == Some(&wanted))?;
    let note = userdata_comment(&wanted);
    let name = ifname_bytes(bridge);
    let mut batch = Batch::new();
    for (iface, source) in [(NFT_META_IIFNAME, true), (NFT_META_OIFNAME, false)] {
        // No NLM_F_APPEND: the kernel puts the rule first in the chain.
        let mut rule = Msg::in_family(fam, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_ACK);
        rule.str(NFTA_RULE_TABLE, DOCKER_TABLE);
        rule.str(NFTA_RULE_CHAIN, DOCKER_FORWARD);
        rule.nest(NFTA_RULE_EXPRESSIONS, |exprs| {
            meta(exprs, iface);
            cmp(exprs, NFT_CMP_EQ, &name);
            subnet.matches(exprs, source, NFT_CMP_EQ);
            verdict(exprs, NF_ACCEPT);
        });
        rule.bytes(NFTA_RULE_USERDATA, &note);
        batch.push(rule);
    }
    match sock.transact(batch) {
        // No `ip filter` table or no FORWARD chain: no iptables firewall.
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        other => other.map(|()| true),
    }
}

/// Whether the legacy iptables backend (x_tables, which nf_tables cannot
/// see or change) holds a `filter` table: Docker's DROP policy would then
/// be out of our reach.
pub fn legacy_filter_table_in_use() -> bool {
    std::fs::read_to_string("/proc/net/ip_tables_names").is_ok_and(|t| t.lines().any(|l| l.trim() == "filter"))
}

/// An interface name as the kernel compares it: NUL-padded to IFNAMSIZ.
fn ifname_bytes(name: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    b
}

fn meta(exprs: &mut Msg, key: u32) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "meta");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_META_DREG, NFT_REG_1);
            d.u32(NFTA_META_KEY, key);
        });
    });
}

fn payload(exprs: &mut Msg, offset: u32, len: u32) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "payload");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_PAYLOAD_DREG, NFT_REG_1);
            d.u32(NFTA_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
            d.u32(NFTA_PAYLOAD_OFFSET, offset);
            d.u32(NFTA_PAYLOAD_LEN, len);
        });
    });
}

/// `ct KEY & MASK OP 0`, for the conntrack bitmasks (state, status), which
/// the kernel keeps in host order.
fn ct_bits(exprs: &mut Msg, key: u32, mask: u32, op: u32) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "ct");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_CT_DREG, NFT_REG_1);
            d.u32(NFTA_CT_KEY, key);
        });
    });
    bitwise(exprs, &mask.to_ne_bytes());
    cmp(exprs, op, &[0; 4]);
}

fn bitwise(exprs: &mut Msg, mask: &[u8]) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "bitwise");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_BITWISE_SREG, NFT_REG_1);
            d.u32(NFTA_BITWISE_DREG, NFT_REG_1);
            d.u32(NFTA_BITWISE_LEN, mask.len() as u32);
            d.nest(NFTA_BITWISE_MASK, |v| v.bytes(NFTA_DATA_VALUE, mask));
            d.nest(NFTA_BITWISE_XOR, |v| v.bytes(NFTA_DATA_VALUE, &vec![0; mask.len()]));
        });
    });
}

fn cmp(exprs: &mut Msg, op: u32, value: &[u8]) {
    exprs.nest(NFTA_LIST_ELEM, |e| {
        e.str(NFTA_EXPR_NAME, "cmp");
        e.nest(NFTA_EXPR_DATA, |d| {
            d.u32(NFTA_CMP_SREG, NFT_REG_1);
            d.u32(NFTA_CMP_OP, op);
            d.nest(NFTA_CMP_DATA, |v| v.bytes(NFTA_DATA_VALUE, value));
        });
    });
}

/// A comment in libnftnl's userdata TLV format (type, length, text + NUL).
fn userdata_comment(text: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 3);
    let len = (text.len() + 1).min(255);
    v.push(NFTNL_UDATA_RULE_COMMENT);
    v.push(len as u8);
    v.extend_from_slice(&text.as_bytes()[..len - 1]);
    v.push(0);
    v
}

fn parse_userdata_comment(mut data: &[u8]) -> Option<String> {
    while data.len() >= 2 {
        let (t, l) = (data[0], data[1] as usize);
        let value = data.get(2..2 + l)?;
        if t == NFTNL_UDATA_RULE_COMMENT {
            let text = value.strip_suffix(&[0]).unwrap_or(value);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        data = &data[2 + l..];
    }
    None
}

/// One netlink message under construction: header, nfgenmsg, attributes.
struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    #[cfg(test)]
    fn new(kind: u16, flags: u16) -> Self {
        Self::in_family(NFPROTO_IPV4, kind, flags)
    }

    fn new_v4(kind: u16, flags: u16) -> Self {
        Self::in_family(NFPROTO_IPV4, kind, flags)
    }

    /// A message on a table of family `fam` (`ip` or `ip6`).
    fn in_family(fam: u8, kind: u16, flags: u16) -> Self {
        Self::raw((NFNL_SUBSYS_NFTABLES << 8) | kind, NLM_F_REQUEST | flags, fam, 0)
    }

    fn raw(kind: u16, flags: u16, family: u8, res_id: u16) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set when sent
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // sequence, set when sent
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        buf.push(family);
        buf.push(0); // NFNETLINK_V0
        buf.extend_from_slice(&res_id.to_be_bytes());
        Msg { buf }
    }

    fn attr(&mut self, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn str(&mut self, kind: u16, s: &str) {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(kind, &v);
    }

    fn bytes(&mut self, kind: u16, b: &[u8]) {
        self.attr(kind, b);
    }

    /// nf_tables integers are big-endian.
    fn u32(&mut self, kind: u16, v: u32) {
        self.attr(kind, &v.to_be_bytes());
    }

    fn u64(&mut self, kind: u16, v: u64) {
        self.attr(kind, &v.to_be_bytes());
    }

    fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Msg)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        fill(self);
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.buf[start + 2..start + 4].copy_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// Messages that the kernel applies all or nothing.
struct Batch {
    msgs: Vec<Msg>,
}

impl Batch {
    fn new() -> Self {
        Batch { msgs: Vec::new() }
    }
    fn push(&mut self, m: Msg) {
        self.msgs.push(m);
    }
}

struct RuleInfo {
    chain: String,
    handle: u64,
    comment: Option<String>,
}

struct Socket {
    fd: OwnedFd,
}

impl Socket {
    fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, NETLINK_NETFILTER) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // A kernel that never answers must not hang a request forever.
        let tv = libc::timeval { tv_sec: 5, tv_usec: 0 };
        // SAFETY: tv is a valid timeval for the duration of the call.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Socket { fd })
    }

    fn send(&self, buf: &[u8]) -> io::Result<()> {
        // SAFETY: an all-zero sockaddr_nl addresses the kernel.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: buf and addr are valid for the call.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for writes of its length.
        let rc = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc as usize)
    }

    /// Send a batch and wait for the kernel's answer to each message.
    fn transact(&self, batch: Batch) -> io::Result<()> {
        let base = seq_base();
        let mut out = Vec::new();
        let begin = Msg::raw(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES);
        out.extend(begin.finish(base));
        let n = batch.msgs.len() as u32;
        for (i, m) in batch.msgs.into_iter().enumerate() {
            out.extend(m.finish(base + 1 + i as u32));
        }
        let end = Msg::raw(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, NFNL_SUBSYS_NFTABLES);
        out.extend(end.finish(base + 1 + n));
        self.send(&out)?;
        let mut acked = 0;
        let mut buf = vec![0u8; 65536];
        while acked < n {
            let len = self.recv(&mut buf)?;
            for (kind, _, seq, payload) in messages(&buf[..len]) {
                if kind != NLMSG_ERROR || seq <= base || seq > base + n {
                    continue;
                }
                let errno = payload.get(0..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(-errno));
                }
                acked += 1;
            }
        }
        Ok(())
    }

    /// The rules of our chain, with their handles and comments. No table
    /// yet means no rules.
    fn list_rules(&self, fam: u8, table: &str) -> io::Result<Vec<RuleInfo>> {
        let seq = seq_base();
        let mut m = Msg::in_family(fam, NFT_MSG_GETRULE, NLM_F_DUMP);
        m.str(NFTA_RULE_TABLE, table);
        self.send(&m.finish(seq))?;
        let mut rules = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let len = self.recv(&mut buf)?;
            for (kind, flags, s, payload) in messages(&buf[..len]) {
                if s != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(rules),
                    NLMSG_ERROR => {
                        let errno =
                            payload.get(0..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
                        return match -errno {
                            0 => Ok(rules),
                            libc::ENOENT => Ok(Vec::new()),
                            e => Err(io::Error::from_raw_os_error(e)),
                        };
                    }
                    _ => {
                        // Skip the nfgenmsg header (4 bytes) before the attributes.
                        if let Some(attrs) = payload.get(4..) {
                            if let Some(r) = rule_info(attrs) {
                                rules.push(r);
                            }
                        }
                        if flags & NLM_F_MULTI == 0 {
                            return Ok(rules);
                        }
                    }
                }
            }
        }
    }
}

/// Sequence numbers unique enough between concurrent requests of one
/// process and between processes: only our own answers are counted.
fn seq_base() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = NEXT.fetch_add(1024, Ordering::Relaxed);
    (std::process::id() << 16).wrapping_add(start) | 1
}

/// Split a buffer into (type, flags, seq, payload) netlink messages.
fn messages(mut buf: &[u8]) -> Vec<(u16, u16, u32, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            break;
        }
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        let flags = u16::from_ne_bytes([buf[6], buf[7]]);
        let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
        out.push((kind, flags, seq, &buf[16..len]));
        let aligned = (len + 3) & !3;
        buf = &buf[aligned.min(buf.len())..];
    }
    out
}

fn rule_info(mut attrs: &[u8]) -> Option<RuleInfo> {
    let mut handle = None;
    let mut comment = None;
    let mut chain = String::new();
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let kind = u16::from_ne_bytes([attrs[2], attrs[3]]) & !NLA_F_NESTED;
        if len < 4 || len > attrs.len() {
            break;
        }
        let value = &attrs[4..len];
        match kind {
            NFTA_RULE_HANDLE if value.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(value);
                handle = Some(u64::from_be_bytes(b));
            }
            NFTA_RULE_USERDATA => comment = parse_userdata_comment(value),
            NFTA_RULE_CHAIN => chain = String::from_utf8_lossy(value.strip_suffix(&[0]).unwrap_or(value)).into_owned(),
            _ => {}
        }
        let aligned = (len + 3) & !3;
        attrs = &attrs[aligned.min(attrs.len())..];
    }
    Some(RuleInfo { chain, handle: handle?, comment })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_round_trip_in_nft_userdata_format() {
        let c = comment("abc123");
        let ud = userdata_comment(&c);
        assert_eq!(ud[0], 0);
        assert_eq!(ud[1] as usize, c.len() + 1);
        assert_eq!(parse_userdata_comment(&ud).as_deref(), Some(c.as_str()));
    }

    #[test]
    fn masks() {
        let s = |a: &str, prefix| Subnet { addr: a.parse().unwrap(), prefix };
        assert_eq!(s("10.1.2.3", 24).mask(), [255, 255, 255, 0]);
        assert_eq!(s("10.1.2.3", 24).net(), [10, 1, 2, 0]);
        assert_eq!(s("10.1.2.3", 0).mask(), [0, 0, 0, 0]);
        assert_eq!(s("10.1.2.3", 32).mask(), [255; 4]);
        assert_eq!(s("10.1.2.3", 20).mask(), [255, 255, 240, 0]);
        let v6 = s("fd00:1:2:3::9", 60);
        assert_eq!(v6.mask()[..9], [255, 255, 255, 255, 255, 255, 255, 240, 0]);
        assert_eq!(v6.net()[..8], [0xfd, 0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(s("::", 128).mask(), [255; 16]);
    }

    #[test]
    fn nested_attributes_carry_their_length() {
        let mut m = Msg::new(NFT_MSG_NEWCHAIN, 0);
        m.nest(NFTA_CHAIN_HOOK, |h| h.u32(NFTA_HOOK_HOOKNUM, 4));
        let b = m.finish(7);
        assert_eq!(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize, b.len());
        // header 16 + nfgenmsg 4, then the nest: 4 + (4 + 4).
        assert_eq!(u16::from_ne_bytes([b[20], b[21]]), 12);
        assert_eq!(u16::from_ne_bytes([b[22], b[23]]), NFTA_CHAIN_HOOK | NLA_F_NESTED);
    }
}
