//! Validated values. Everything a command takes is checked here, before any
//! daemon is contacted, so bad input never changes anything.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;

/// Linux's IFNAMSIZ less the terminating NUL.
pub const IFNAME_MAX: usize = 15;

/// A kernel interface name: 1 to 15 bytes, no `/`, `:`, white space or
/// control characters, and not `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfName(String);

impl FromStr for IfName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("interface name is empty".into());
        }
        if s.len() > IFNAME_MAX {
            return Err(format!("interface name \"{}\" is longer than {IFNAME_MAX} bytes", s.escape_default()));
        }
        if s == "." || s == ".." {
            return Err(format!("interface name \"{s}\" is reserved"));
        }
        if let Some(c) = s.chars().find(|c| *c == '/' || *c == ':' || c.is_whitespace() || c.is_control()) {
            return Err(format!("interface name \"{}\" contains {:?}", s.escape_default(), c));
        }
        Ok(IfName(s.to_string()))
    }
}

impl IfName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bridge name: OVS also makes it a kernel interface (the internal port),
/// so the interface name rules apply.
pub fn parse_bridge(s: &str) -> Result<String, String> {
    IfName::from_str(s).map(|n| n.0).map_err(|e| e.replacen("interface name", "bridge name", 1))
}

/// A container reference: a name, a full ID or an ID prefix. Docker names
/// are `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, IDs are hex; anything else is refused
/// before Docker is asked.
pub fn parse_container(s: &str) -> Result<String, String> {
    let name = s.strip_prefix('/').unwrap_or(s);
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!("invalid container name or ID \"{}\"", s.escape_default()))
    }
}

/// A datapath type as OVS names them (system, netdev, ...): a short word.
pub fn parse_datapath_type(s: &str) -> Result<String, String> {
    let ok =
        !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("invalid datapath type \"{}\": expected a word such as netdev or system", s.escape_default()))
    }
}

/// A tunnel protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TunnelType {
    Vxlan,
    Gre,
    Geneve,
}

impl TunnelType {
    /// The Interface type as OVS names it.
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelType::Vxlan => "vxlan",
            TunnelType::Gre => "gre",
            TunnelType::Geneve => "geneve",
        }
    }
}

/// A port name: OVS makes tunnel ports kernel-like names, so the interface
/// name rules apply.
pub fn parse_port_name(s: &str) -> Result<String, String> {
    parse_bridge(s).map_err(|e| e.replacen("bridge name", "port name", 1))
}

/// A mirror name: printable, no white space, at most 64 bytes.
pub fn parse_mirror_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic() && c != '"');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("invalid mirror name \"{}\": 1 to 64 printable characters, no spaces", s.escape_default()))
    }
}

/// A container, or one of its interfaces: `CONTAINER[:IFACE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPort {
    pub container: String,
    pub interface: Option<IfName>,
}

impl fmt::Display for ContainerPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.interface {
            Some(i) => write!(f, "{}:{i}", self.container),
            None => f.write_str(&self.container),
        }
    }
}

pub fn parse_container_port(s: &str) -> Result<ContainerPort, String> {
    let (c, i) = match s.split_once(':') {
        Some((c, i)) => (c, Some(i.parse::<IfName>()?)),
        None => (s, None),
    };
    Ok(ContainerPort { container: parse_container(c)?, interface: i })
}

/// `CONTAINER:IFACE`, the interface required.
pub fn parse_container_iface(s: &str) -> Result<ContainerPort, String> {
    let p = parse_container_port(s)?;
    if p.interface.is_none() {
        return Err(format!("\"{}\" names no interface: expected CONTAINER:IFACE", s.escape_default()));
    }
    Ok(p)
}

/// A network driver name: it becomes a file name under /run/docker/plugins
/// and what users type after `-d`.
pub fn parse_driver_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("invalid driver name \"{}\": letters, digits, _ . - only", s.escape_default()))
    }
}

/// A unicast, non-zero Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("invalid MAC address \"{}\": expected six hex pairs like 02:42:ac:11:00:02", s.escape_default());
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut mac = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            mac[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if mac == [0; 6] {
            return Err(format!("invalid MAC address \"{s}\": all zeros"));
        }
        if mac[0] & 1 == 1 {
            return Err(format!("invalid MAC address \"{s}\": multicast (the first byte is odd)"));
        }
        Ok(Mac(mac))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

pub const MTU_MIN: u32 = 68;
pub const MTU_MAX: u32 = 65535;

/// Digits only: Rust's integer parsing would also take a leading `+`.
fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_mtu(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .ok()
        .filter(|_| digits(s))
        .ok_or_else(|| format!("invalid MTU \"{}\": not a number", s.escape_default()))?;
    if !(MTU_MIN..=MTU_MAX).contains(&v) {
        return Err(format!("invalid MTU {v}: must be {MTU_MIN} to {MTU_MAX}"));
    }
    Ok(v)
}

pub fn parse_vlan(s: &str) -> Result<u16, String> {
    let v: u16 = s
        .parse()
        .ok()
        .filter(|_| digits(s))
        .ok_or_else(|| format!("invalid VLAN \"{}\": not a number", s.escape_default()))?;
    if v > 4095 {
        return Err(format!("invalid VLAN {v}: must be 0 to 4095"));
    }
    Ok(v)
}

/// An interface address with its prefix length; without `/PLEN` it is a
/// host address (/32 or /128), as `ip addr add` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddr {
    pub ip: IpAddr,
    pub prefix: u8,
}

impl FromStr for IfAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        check_prefix_len(s)?;
        let net: IpNetwork = s.parse().map_err(|e| format!("invalid IP address \"{}\": {e}", s.escape_default()))?;
        let ip = net.ip();
        if ip.is_unspecified() || ip.is_multicast() || ip.is_loopback() {
            return Err(format!("invalid IP address \"{s}\": not a unicast host address"));
        }
        if let IpAddr::V4(v4) = ip {
            if v4.is_broadcast() {
                return Err(format!("invalid IP address \"{s}\": broadcast"));
            }
        }
        Ok(IfAddr { ip, prefix: net.prefix() })
    }
}

/// A /PLEN beyond the family's bits, named as such (the parser below would
/// only say "invalid address").
fn check_prefix_len(s: &str) -> Result<(), String> {
    let Some((ip, plen)) = s.split_once('/') else { return Ok(()) };
    let max = match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => 32,
        Ok(IpAddr::V6(_)) => 128,
        Err(_) => return Ok(()),
    };
    match plen.parse::<u32>() {
        Ok(n) if n <= max && digits(plen) => Ok(()),
        _ => Err(format!(
            "invalid prefix length /{} in \"{}\": expected 0 to {max} for an IPv{} address",
            plen.escape_default(),
            s.escape_default(),
            if max == 32 { 4 } else { 6 }
        )),
    }
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix)
    }
}

pub fn parse_gateway(s: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = s.parse().map_err(|_| format!("invalid gateway \"{}\": not an IP address", s.escape_default()))?;
    if ip.is_unspecified() || ip.is_multicast() || ip.is_loopback() {
        return Err(format!("invalid gateway \"{s}\": not a unicast address"));
    }
    Ok(ip)
}

/// A route inside the container: `DEST[,via=GW]`, DEST a network with its
/// prefix length (or `default`); without `via` the route is on-link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub dest: IpNetwork,
    pub via: Option<IpAddr>,
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid route \"{}\": {why}", s.escape_default());
        let (dest, rest) = match s.split_once(',') {
            Some((d, r)) => (d, Some(r)),
            None => (s, None),
        };
        let via = match rest {
            None => None,
            Some(r) => {
                let gw = r.strip_prefix("via=").ok_or_else(|| bad("expected DEST[,via=GW]"))?;
                Some(parse_gateway(gw).map_err(|e| bad(&e))?)
            }
        };
        let dest: IpNetwork = match dest {
            "default" => match via {
                Some(IpAddr::V6(_)) => "::/0".parse(),
                _ => "0.0.0.0/0".parse(),
            }
            .map_err(|e| bad(&format!("{e}")))?,
            d if d.contains('/') => d.parse().map_err(|_| bad("DEST is not a network such as 10.1.0.0/16"))?,
            _ => return Err(bad("DEST needs a /PLEN (or is `default`)")),
        };
        // The kernel refuses host bits in a route's destination.
        if IpNetwork::new(dest.network(), dest.prefix()).ok() != Some(dest) {
            return Err(bad(&format!("DEST has host bits set (did you mean {}/{}?)", dest.network(), dest.prefix())));
        }
        if let Some(gw) = via {
            if gw.is_ipv4() != dest.is_ipv4() {
                return Err(bad("DEST and via= are of different families"));
            }
        }
        Ok(Route { dest, via })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.dest.network(), self.dest.prefix())?;
        match self.via {
            Some(gw) => write!(f, ",via={gw}"),
            None => Ok(()),
        }
    }
}

/// VLAN trunks as `ovs-vsctl` shows them: `10,20-30` (each 0 to 4095).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunks(pub Vec<u16>);

impl FromStr for Trunks {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut v = Vec::new();
        for part in s.split(',') {
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (parse_vlan(lo)?, parse_vlan(hi)?),
                None => {
                    let one = parse_vlan(part)?;
                    (one, one)
                }
            };
            if lo > hi {
                return Err(format!("invalid VLAN range \"{part}\": {lo} > {hi}"));
            }
            v.extend(lo..=hi);
        }
        v.sort_unstable();
        v.dedup();
        Ok(Trunks(v))
    }
}

impl fmt::Display for Trunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            while i + 1 < self.0.len() && self.0[i + 1] == self.0[i] + 1 {
                i += 1;
            }
            let sep = if first { "" } else { "," };
            first = false;
            if self.0[i] == start {
                write!(f, "{sep}{start}")?;
            } else {
                write!(f, "{sep}{start}-{}", self.0[i])?;
            }
            i += 1;
        }
        Ok(())
    }
}

/// A rate in kbit/s or a burst in kbit, as OVS takes them (0 turns it off).
pub fn parse_kbits(s: &str) -> Result<u32, String> {
    if !digits(s) {
        return Err(format!("invalid rate \"{}\": expected a whole number of kbit(/s)", s.escape_default()));
    }
    s.parse().map_err(|_| format!("invalid rate \"{s}\": out of range, expected 0 to {} kbit(/s)", u32::MAX))
}

/// A network namespace file given with --netns: an absolute path of plain
/// characters (it is recorded in OVSDB and in the veth's alias, whose words
/// are separated by spaces).
pub fn parse_netns_path(s: &str) -> Result<String, String> {
    let ok = s.starts_with('/')
        && s.len() <= 200
        && !s.split('/').any(|c| c == "..")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-' | b'@' | b'+'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "invalid namespace path \"{}\": expected an absolute path such as /var/run/netns/NAME",
            s.escape_default()
        ))
    }
}

pub fn parse_pid(s: &str) -> Result<u32, String> {
    s.parse()
        .ok()
        .filter(|p| digits(s) && *p > 0)
        .ok_or_else(|| format!("invalid PID \"{}\": expected a process ID", s.escape_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names() {
        for ok in ["eth1", "a", "net-0_1.x", "123456789012345"] {
            assert!(ok.parse::<IfName>().is_ok(), "{ok}");
        }
        for bad in ["", "1234567890123456", "a/b", "a b", "a:1", "a\tb", "\n", ".", "..", "x\u{7f}"] {
            assert!(bad.parse::<IfName>().is_err(), "{bad:?}");
        }
        // Bytes, not characters: 8 two-byte characters are 16 bytes.
        assert!("éééééééé".parse::<IfName>().is_err());
        assert!(parse_bridge("a/b").unwrap_err().starts_with("bridge name"));
    }

    #[test]
    fn container_references() {
        for ok in ["web1", "/web1", "c474a0e2830e", "my_app.1-x"] {
            assert!(parse_container(ok).is_ok(), "{ok}");
        }
        assert_eq!(parse_container("/web1").unwrap(), "web1");
        for bad in ["", "/", "-x", "a b", "$(reboot)", "a;b", "x/y", "ü", &"a".repeat(256)] {
            assert!(parse_container(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn macs() {
        assert_eq!("a2:c3:0d:49:7f:f8".parse::<Mac>().unwrap().to_string(), "a2:c3:0d:49:7f:f8");
        assert_eq!("02:AB:cd:00:00:01".parse::<Mac>().unwrap().0, [2, 0xab, 0xcd, 0, 0, 1]);
        for bad in [
            "",
            "00:00:00:00:00:00",
            "01:00:5e:00:00:01",
            "ff:ff:ff:ff:ff:ff",
            "a2:c3:0d:49:7f",
            "a2:c3:0d:49:7f:f8:00",
            "a2-c3-0d-49-7f-f8",
            "a2:c3:0d:49:7f:g8",
            "a2:c3:0d:49:7f:f",
            "+2:c3:0d:49:7f:f8",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }

    #[test]
    fn mtus_and_vlans() {
        assert_eq!(parse_mtu("68"), Ok(68));
        assert_eq!(parse_mtu("65535"), Ok(65535));
        for bad in ["67", "65536", "-1", "", "1500x", "1e3", "+1500", " 1500"] {
            assert!(parse_mtu(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_vlan("0"), Ok(0));
        assert_eq!(parse_vlan("4095"), Ok(4095));
        for bad in ["4096", "-1", "", "ten", "65536", "+5"] {
            assert!(parse_vlan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!("10.0.0.2/24".parse::<IfAddr>().unwrap().to_string(), "10.0.0.2/24");
        assert_eq!("10.0.0.2".parse::<IfAddr>().unwrap().prefix, 32);
        assert_eq!("fd00::2/64".parse::<IfAddr>().unwrap().to_string(), "fd00::2/64");
        assert_eq!("fd00::2".parse::<IfAddr>().unwrap().prefix, 128);
        for bad in [
            "10.0.0.2/33",
            "fd00::2/129",
            "10.0.0",
            "0.0.0.0/8",
            "224.0.0.1/4",
            "127.0.0.1/8",
            "::1",
            "x",
            "10.0.0.2/",
            "255.255.255.255",
        ] {
            assert!(bad.parse::<IfAddr>().is_err(), "{bad}");
        }
        assert!(parse_gateway("10.0.0.1").is_ok());
        assert!(parse_gateway("fd00::1").is_ok());
        for bad in ["10.0.0.1/24", "0.0.0.0", "x", ""] {
            assert!(parse_gateway(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_parse_and_print_back() {
        for (input, shown) in [
            ("10.1.0.0/16", "10.1.0.0/16"),
            ("10.1.0.0/16,via=10.0.0.254", "10.1.0.0/16,via=10.0.0.254"),
            ("default,via=10.0.0.1", "0.0.0.0/0,via=10.0.0.1"),
            ("default,via=fd00::1", "::/0,via=fd00::1"),
            ("fd01::/64,via=fe80::1", "fd01::/64,via=fe80::1"),
        ] {
            assert_eq!(input.parse::<Route>().unwrap().to_string(), shown);
        }
        for bad in ["10.1.0.0", "10.1.0.1/16", "10.1.0.0/16,gw=1.2.3.4", "10.1.0.0/16,via=fd00::1", "x/8", ""] {
            assert!(bad.parse::<Route>().is_err(), "{bad}");
        }
    }

    #[test]
    fn trunks_parse_ranges_and_print_them_compressed() {
        assert_eq!("10,20-23,5,21".parse::<Trunks>().unwrap().0, vec![5, 10, 20, 21, 22, 23]);
        assert_eq!("10,20-23,5,21".parse::<Trunks>().unwrap().to_string(), "5,10,20-23");
        for bad in ["", "10,", "4096", "30-20", "a", "+5", "1-2-3"] {
            assert!(bad.parse::<Trunks>().is_err(), "{bad}");
        }
    }

    #[test]
    fn namespace_paths_and_pids() {
        assert!(parse_netns_path("/var/run/netns/blue").is_ok());
        for bad in ["blue", "/var/run/netns/a b", "/var/run/../x", "/x\n", "/a:b"] {
            assert!(parse_netns_path(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_pid("42"), Ok(42));
        for bad in ["0", "-1", "+3", "x", ""] {
            assert!(parse_pid(bad).is_err(), "{bad}");
        }
    }
}
