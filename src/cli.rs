//! The command line: clap definitions and value parsers only. The man page
//! and the shell completions are generated from these definitions.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, IfAddr, IfName, Mac, Route, Trunks, TunnelType};

use crate::context::DEFAULT_TIMEOUT_SECS;
use crate::ovsdb::TlsFiles;

#[derive(Debug, Parser)]
#[command(
    name = "ovs-docker",
    version,
    about = "Attach Docker containers to Open vSwitch bridges",
    long_about = "Attach Docker containers to Open vSwitch bridges.\n\n\
        A drop-in replacement for Open vSwitch's ovs-docker script: the same commands, \
        arguments and OVSDB records, but every change is one atomic OVSDB transaction, \
        a failure undoes what was done, and no ovs-vsctl, ip or docker process is forked.",
    after_help = "Exit status: 0 success, 1 refused (no such container, port, tunnel or bridge, already attached, \
        container not running), 2 invalid arguments or no command, 3 a daemon or the kernel failed. \
        See man ovs-docker.\n\
        Docker is reached through DOCKER_HOST (default unix:///var/run/docker.sock)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]
    #[arg(long, global = true, value_name = "SERVER")]
    pub db: Option<String>,

    /// For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it
    #[arg(long, global = true, value_name = "FILE", requires_all = ["certificate", "ca_cert"])]
    pub private_key: Option<PathBuf>,

    /// For ssl: remotes: our certificate (PEM), shown to the server
    #[arg(long, global = true, value_name = "FILE", requires_all = ["private_key", "ca_cert"])]
    pub certificate: Option<PathBuf>,

    /// For ssl: remotes: the CA certificate (PEM) a server's certificate must be signed by
    #[arg(long, global = true, value_name = "FILE", requires_all = ["private_key", "certificate"])]
    pub ca_cert: Option<PathBuf>,

    /// Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds
    #[arg(long, global = true, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS, value_parser = parse_timeout)]
    pub timeout: u64,

    /// Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)
    #[arg(long, global = true)]
    pub no_wait: bool,

    /// Print each step to standard error
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl GlobalArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// The TLS files, when given (clap checks that all three are).
    pub fn tls(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            private_key: self.private_key.clone()?,
            certificate: self.certificate.clone()?,
            ca_cert: self.ca_cert.clone()?,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add INTERFACE inside CONTAINER and connect it as a port of BRIDGE
    #[command(
        long_about = "Create a veth pair, put one end inside CONTAINER (or the namespace of --netns or \
            --pid) as INTERFACE and add the other end to the Open vSwitch BRIDGE (created if missing, as \
            upstream does). Optionally set the interface's addresses (IPv4 and IPv6), MAC and MTU, the \
            container's default gateways and further routes, the port's VLAN and an ingress rate limit. \
            Everything is recorded with the port, so that `watch` can re-create it after a restart, and \
            an address another port on BRIDGE holds is refused unless --force.",
        after_help = "Example:\n  ovs-docker add-port br-int eth1 c474a0e2830e --ipaddress=192.168.1.2/24 \
            --gateway=192.168.1.1 --macaddress=a2:c3:0d:49:7f:f8 --mtu=1450"
    )]
    AddPort(AddPortArgs),

    /// Delete INTERFACE inside CONTAINER and its port on BRIDGE
    DelPort(PortRef),

    /// Delete every port of CONTAINER on BRIDGE (none is success, as upstream; a missing BRIDGE is refused)
    DelPorts(DelPortsArgs),

    /// Set the VLAN of the port of INTERFACE in CONTAINER: access VLAN, trunk, or none
    #[command(
        after_help = "Examples:\n  ovs-docker set-vlan br0 eth1 web 10                 access port of VLAN 10 (as upstream)\n  \
        ovs-docker set-vlan br0 eth1 web --trunk=10,20-30    trunk of VLANs 10 and 20 to 30\n  \
        ovs-docker set-vlan br0 eth1 web 5 --trunk=10,20     trunk with native (untagged) VLAN 5\n  \
        ovs-docker set-vlan br0 eth1 web --clear             no VLAN settings"
    )]
    SetVlan(SetVlanArgs),

    /// Change the rate limit of the port of INTERFACE in CONTAINER
    SetQos(SetQosArgs),

    /// List the container ports attached to Open vSwitch bridges
    List(ListArgs),

    /// Remove stale ports (container gone or stopped, veth missing) and veths left by killed runs
    #[command(long_about = "Remove the ports whose container is gone or no longer running, or whose veth is \
        missing, and the veths that a killed run left without an OVSDB row. Only container ports (made by \
        ovs-docker or the upstream script) are considered: tunnels, physical, internal and other tools' ports \
        are never touched. Prints one line per object removed.")]
    Gc(GcArgs),

    /// Follow Docker's events and re-create the ports of restarted containers
    #[command(long_about = "Follow Docker's events: when a container whose ports are recorded in OVSDB starts \
        again (docker restart, docker start, a host reboot), re-create each of its ports with the same bridge, \
        interface name, addresses, MAC, MTU, gateways, routes, VLAN settings and rate limit; when a container is \
        removed, remove its ports. Everything needed is stored with each port at add time, so on start it first \
        reconciles every recorded port with what is running, then follows the events. Ports added with \
        --no-persist, by the upstream script, or for --netns/--pid targets are not re-created. Runs until \
        SIGINT or SIGTERM.")]
    Watch(WatchArgs),

    /// Run the commands in FILE (- for standard input), one per line
    #[command(
        long_about = "Run the commands in FILE (- for standard input), one per line, as `ip -batch` does: \
            the same commands and arguments as on the command line, without global options (give those to \
            batch itself). Blank lines and # comments are skipped; words split as in a shell, with quotes. \
            Every line is parsed first: one bad line and nothing runs. Lines then run in order, each \
            all-or-nothing like the command on its own; the batch waits once, at the end, for ovs-vswitchd to \
            apply all changes. A failing line is reported with its number and the others still run; the exit \
            status is that of the first failing line.",
        after_help = "Example:\n  printf 'add-port br0 eth1 web1 --ipaddress=10.0.0.2/24\\nadd-port br0 eth1 web2 --ipaddress=10.0.0.3/24\\n' | ovs-docker batch -"
    )]
    Batch(BatchArgs),

    /// Add, delete or list tunnel ports (VXLAN, GRE, Geneve) to other hosts
    #[command(subcommand)]
    Tunnel(TunnelCommand),

    /// Add, delete or list port mirrors (a copy of containers' traffic to another container)
    #[command(subcommand)]
    Mirror(MirrorCommand),

    /// Write the man page and shell completions into a directory
    #[command(hide = true)]
    Generate {
        /// Directory that receives man/ and completions/
        dir: std::path::PathBuf,
    },

    /// Serve the Docker network driver: `docker network create -d ovs` puts containers on OVS bridges
    #[command(
        long_about = "Serve a Docker (libnetwork remote) network driver on a unix socket, so that \
            `docker network create -d ovs` makes networks whose containers sit on Open vSwitch bridges. \
            Driver options (-o): bridge=NAME (default: ovs- and the start of the network ID), \
            mode=nat|routed|flat (default nat: the gateway lives on the bridge and traffic leaving the subnet is \
            masqueraded; routed: the gateway lives on the bridge and the host routes the subnet without NAT, so \
            other hosts reach containers by their own addresses (no -p); flat: pure layer 2), mtu=N, vlan=ID (access tag of every port), bind_interface=IFACE (flat mode: a host \
            uplink added to the bridge). Endpoint options (docker network connect --driver-opt): vlan=ID, \
            trunks=LIST (quoted, or with : for commas), ingress_rate=KBPS, ingress_burst=KB. All state lives in \
            OVSDB, so the plugin can be restarted at any time.",
        after_help = "Example:\n  ovs-docker plugin --datapath-type=netdev &\n  docker network create -d ovs --subnet 10.20.0.0/24 \
            -o bridge=br-app -o mode=nat app\n  docker run -d --network app busybox sleep 3600"
    )]
    Plugin(PluginArgs),
}

#[derive(Debug, Args)]
pub struct AddPortArgs {
    /// Open vSwitch bridge (created if missing)
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// Interface name inside the container (1 to 15 bytes)
    pub interface: IfName,
    #[command(flatten)]
    pub target: TargetArgs,

    /// Address for INTERFACE, with an optional /PLEN (IPv4 or IPv6); may be repeated
    #[arg(long, value_name = "ADDRESS")]
    pub ipaddress: Vec<IfAddr>,
    /// Default gateway inside the container; may be given once per family (IPv4, IPv6)
    #[arg(long, value_name = "GATEWAY", value_parser = config::parse_gateway)]
    pub gateway: Vec<IpAddr>,
    /// A further route inside the container, DEST/PLEN or default, on-link or via GW; may be repeated
    #[arg(long, value_name = "DEST[,via=GW]")]
    pub route: Vec<Route>,
    /// MAC address of INTERFACE (unicast)
    #[arg(long, value_name = "MACADDRESS")]
    pub macaddress: Option<Mac>,
    /// MTU of INTERFACE (68 to 65535)
    #[arg(long, value_name = "MTU", value_parser = config::parse_mtu)]
    pub mtu: Option<u32>,
    /// Datapath type of the bridge if add-port has to create it [default: system if the openvswitch kernel module is loaded, else netdev]
    #[arg(long, value_name = "TYPE", value_parser = config::parse_datapath_type)]
    pub datapath_type: Option<String>,
    /// Make the port an access port of VLAN (in the same transaction that adds it)
    #[arg(long, value_name = "VLAN", value_parser = config::parse_vlan)]
    pub vlan: Option<u16>,
    /// Limit what the container sends into the bridge to KBPS kbit/s (OVS ingress policing)
    #[arg(long, value_name = "KBPS", value_parser = config::parse_kbits)]
    pub ingress_rate: Option<u32>,
    /// Burst allowed above --ingress-rate, in kbit [default: 80% of the rate]
    #[arg(long, value_name = "KB", value_parser = config::parse_kbits, requires = "ingress_rate")]
    pub ingress_burst: Option<u32>,
    /// Do not re-create this port when the container restarts (see `watch`)
    #[arg(long)]
    pub no_persist: bool,
    /// Add the port even if another port on BRIDGE already uses one of its addresses
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub ovn: OvnArgs,
}

impl AddPortArgs {
    /// The container (or namespace) reference recorded in `container_id`.
    pub fn reference(&self) -> String {
        self.target.reference()
    }
}

/// CONTAINER, or the namespace that stands in for one.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Container name, ID or unique ID prefix
    #[arg(value_parser = config::parse_container, required_unless_present_any = ["netns", "pid"])]
    pub container: Option<String>,
    /// Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)
    #[arg(long, value_name = "PATH", value_parser = config::parse_netns_path, conflicts_with = "pid")]
    pub netns: Option<String>,
    /// Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)
    #[arg(long, value_name = "PID", value_parser = config::parse_pid)]
    pub pid: Option<u32>,
}

impl TargetArgs {
    fn given_twice(&self) -> bool {
        self.container.is_some() && (self.netns.is_some() || self.pid.is_some())
    }

    pub fn reference(&self) -> String {
        crate::port::target::reference(self.container.as_deref(), self.netns.as_deref(), self.pid)
    }
}

#[derive(Debug, Args)]
pub struct PortRef {
    /// Open vSwitch bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// Interface name inside the container
    pub interface: IfName,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct DelPortsArgs {
    /// Open vSwitch bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct SetVlanArgs {
    #[command(flatten)]
    pub port: PortRef,
    /// VLAN ID, 0 to 4095: the access VLAN, or with --trunk the native VLAN
    #[arg(value_parser = config::parse_vlan)]
    pub vlan: Option<u16>,
    /// Make the port a trunk of these VLANs, e.g. 10,20-30 (VLAN then is the native, untagged VLAN)
    #[arg(long, value_name = "VLANS", conflicts_with = "clear")]
    pub trunk: Option<Trunks>,
    /// Remove all VLAN settings (tag, trunks, mode) from the port
    #[arg(long, conflicts_with = "vlan")]
    pub clear: bool,
}

#[derive(Debug, Args)]
pub struct SetQosArgs {
    #[command(flatten)]
    pub port: PortRef,
    /// Limit what the container sends into the bridge to KBPS kbit/s; 0 removes the limit
    #[arg(long, value_name = "KBPS", value_parser = config::parse_kbits)]
    pub ingress_rate: u32,
    /// Burst allowed above the rate, in kbit [default: 80% of the rate]
    #[arg(long, value_name = "KB", value_parser = config::parse_kbits)]
    pub ingress_burst: Option<u32>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Reconcile once (re-create the ports of running containers, remove those of removed ones) and exit
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only ports on this bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: Option<String>,
    /// Only ports of this container (name, ID or ID prefix; or netns:PATH, pid:PID as the table shows them)
    #[arg(long, value_name = "CONTAINER", value_parser = parse_list_target, conflicts_with_all = ["netns", "pid"])]
    pub container: Option<String>,
    /// Only ports in this network namespace (the same namespace under any path, or --pid, matches)
    #[arg(long, value_name = "PATH", value_parser = config::parse_netns_path, conflicts_with = "pid")]
    pub netns: Option<String>,
    /// Only ports in the network namespace of process PID
    #[arg(long, value_name = "PID", value_parser = config::parse_pid)]
    pub pid: Option<u32>,
    /// Output format: a table for people, or JSON for scripts
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl ListArgs {
    /// The target whose ports are asked for, as a recorded reference.
    pub fn target(&self) -> Option<String> {
        if self.container.is_none() && self.netns.is_none() && self.pid.is_none() {
            return None;
        }
        Some(crate::port::target::reference(self.container.as_deref(), self.netns.as_deref(), self.pid))
    }
}

/// `list --container`: what CONTAINER takes, or a namespace reference as
/// `list` prints it (`netns:PATH`, `pid:PID`).
fn parse_list_target(s: &str) -> Result<String, String> {
    if let Some(path) = s.strip_prefix("netns:") {
        return config::parse_netns_path(path).map(|p| format!("netns:{p}"));
    }
    if let Some(pid) = s.strip_prefix("pid:") {
        return config::parse_pid(pid).map(|p| format!("pid:{p}"));
    }
    config::parse_container(s)
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only ports on this bridge (orphan veths, being on no bridge, are then left alone)
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: Option<String>,
    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// File of commands, one per line; - reads standard input
    pub file: std::path::PathBuf,
}

/// Checks clap cannot express. With --netns or --pid there is no
/// CONTAINER, so clap hands set-vlan's VLAN to the CONTAINER slot: move it
/// back. CONTAINER together with --netns or --pid is refused.
pub fn normalize(command: &mut Command) -> Result<(), String> {
    const BOTH: &str = "give CONTAINER or --netns or --pid, not two of them";
    if let Command::SetVlan(s) = command {
        if s.port.target.given_twice() && s.vlan.is_none() && !s.clear {
            let word = s.port.target.container.take().unwrap_or_default();
            s.vlan = Some(config::parse_vlan(&word)?);
        }
        if s.vlan.is_none() && s.trunk.is_none() && !s.clear {
            return Err("a VLAN, --trunk or --clear is required".into());
        }
    }
    let target = match command {
        Command::AddPort(a) => &a.target,
        Command::DelPort(p) => &p.target,
        Command::DelPorts(p) => &p.target,
        Command::SetVlan(s) => &s.port.target,
        Command::SetQos(s) => &s.port.target,
        _ => return Ok(()),
    };
    if target.given_twice() {
        return Err(BOTH.into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-host: tunnels between hosts, and OVN bindings of container ports.
// ---------------------------------------------------------------------------

/// add-port options that bind the port to OVN.
#[derive(Debug, Clone, Default, Args)]
pub struct OvnArgs {
    /// Bind the port to this OVN logical switch port (external_ids:iface-id, and attached-mac)
    #[arg(long = "iface-id", value_name = "LSP", value_parser = parse_ovn_name)]
    pub iface_id: Option<String>,
    /// Wait until ovn-controller reports the port installed (ovn-installed), within --timeout
    #[arg(long, requires = "iface_id")]
    pub wait_ovn: bool,
    /// Also create the logical switch port in this OVN northbound database (unix:PATH, tcp:IP:PORT or ssl:IP:PORT; several, comma-separated, for a cluster) with the interface's MAC and address; del-port deletes it
    #[arg(long, value_name = "DB", requires_all = ["iface_id", "ovn_switch"], value_parser = parse_db)]
    pub ovn_nb: Option<String>,
    /// The logical switch on which --ovn-nb creates the port
    #[arg(long, value_name = "SWITCH", requires = "ovn_nb", value_parser = parse_ovn_name)]
    pub ovn_switch: Option<String>,
}

// ---------------------------------------------------------------------------
// Port mirroring.

#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// Mirror traffic of containers' ports on BRIDGE to the port of a container (an IDS, a capture)
    #[command(
        long_about = "Add the mirror NAME to BRIDGE (OVS Mirror table): a copy of the traffic of the ports \
            of --from (every port of the bridge if none is given) goes out of the port of --to, which then \
            carries no other traffic. Containers are named as everywhere (name, ID or ID prefix; ports of \
            the network plugin too); without :IFACE, --from takes every port of that container on BRIDGE. \
            --direction is seen from the mirrored containers: out is what they send, in what they receive. \
            A mirror follows its ports when `watch` re-creates them after a restart; removing its output \
            port removes it.",
        after_help = "Example:\n  ovs-docker mirror add br0 ids --to sniffer:eth1 --from web1 --from db1:eth1 --direction both"
    )]
    Add(MirrorAddArgs),
    /// Delete the mirror NAME from BRIDGE
    Del(MirrorDelArgs),
    /// List the mirrors (on BRIDGE, or on every bridge)
    List(MirrorListArgs),
}

/// Which traffic of a mirrored port is copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// What the container receives.
    In,
    /// What the container sends.
    Out,
    Both,
}

#[derive(Debug, Args)]
pub struct MirrorAddArgs {
    /// Open vSwitch bridge (must exist)
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// Mirror name (unique on the bridge)
    #[arg(value_parser = config::parse_mirror_name)]
    pub name: String,
    /// The container interface whose port receives the copies, CONTAINER:IFACE (for a network plugin container, IFACE as named inside it: eth0...)
    #[arg(long, value_name = "CONTAINER:IFACE", value_parser = config::parse_container_iface)]
    pub to: config::ContainerPort,
    /// A container (all its ports on BRIDGE) or CONTAINER:IFACE to mirror; may be repeated [default: every port]
    #[arg(long, value_name = "CONTAINER[:IFACE]", value_parser = config::parse_container_port)]
    pub from: Vec<config::ContainerPort>,
    /// Which traffic to copy, seen from the mirrored containers
    #[arg(long, value_enum, default_value_t = Direction::Both)]
    pub direction: Direction,
    /// Copy only the traffic of this VLAN
    #[arg(long, value_name = "VLAN", value_parser = config::parse_vlan)]
    pub vlan: Option<u16>,
}

#[derive(Debug, Args)]
pub struct MirrorDelArgs {
    /// Open vSwitch bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// Mirror name
    #[arg(value_parser = config::parse_mirror_name)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct MirrorListArgs {
    /// Only mirrors on this bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: Option<String>,
    /// Output format: a table for people, or JSON for scripts
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum TunnelCommand {
    /// Add a tunnel port to REMOTE_IP on BRIDGE (a no-op if the same tunnel exists)
    #[command(
        long_about = "Add a tunnel port on BRIDGE to the host at REMOTE_IP: an Interface of type vxlan, gre or \
            geneve with options:remote_ip (and options:key). Adding the same tunnel again succeeds and changes \
            nothing; a port of that name with other settings is refused (the default name holds no key: a \
            second tunnel to the same remote with another --key needs --name). The port is marked as made by \
            ovs-docker and shown by `list`. Choose the container MTU so that the tunnel headers fit in the \
            underlay's: for an IPv4 underlay of MTU 1500, at most 1450 for vxlan, 1442 for geneve (OVN), \
            1462 for gre (1458 with a key).",
        after_help = "Example:\n  ovs-docker tunnel add br0 192.168.1.12 --type=vxlan --key=42"
    )]
    Add(TunnelAddArgs),
    /// Delete the tunnel port NAME, or the tunnels to REMOTE_IP, from BRIDGE
    Del(TunnelDelArgs),
    /// List the tunnel ports (on BRIDGE, or on every bridge)
    List(TunnelListArgs),
}

#[derive(Debug, Args)]
pub struct TunnelAddArgs {
    /// Open vSwitch bridge (must exist)
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// Underlay address of the other host (IPv4 or IPv6)
    pub remote_ip: IpAddr,
    /// Tunnel protocol
    #[arg(long = "type", value_name = "TYPE", value_enum, default_value_t = TunnelType::Vxlan)]
    pub kind: TunnelType,
    /// Tunnel key: the VNI for vxlan and geneve (0 to 16777215), the GRE key (0 to 4294967295)
    #[arg(long, value_name = "VNI", value_parser = parse_key)]
    pub key: Option<u32>,
    /// Port name [default: TYPE-HEX, e.g. vxlan-c0a80102 for 192.168.1.2]
    #[arg(long, value_name = "PORT", value_parser = config::parse_port_name)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct TunnelDelArgs {
    /// Open vSwitch bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: String,
    /// A tunnel port name, or a remote IP (then every tunnel to it, of --type if given)
    pub target: String,
    /// Only tunnels of this type (with a remote IP); with a port name, refused unless it is the port's type
    #[arg(long = "type", value_name = "TYPE", value_enum)]
    pub kind: Option<TunnelType>,
    /// Succeed if there is no such tunnel
    #[arg(long)]
    pub if_exists: bool,
}

#[derive(Debug, Args)]
pub struct TunnelListArgs {
    /// Only tunnels on this bridge
    #[arg(value_parser = config::parse_bridge)]
    pub bridge: Option<String>,
    /// Output format: a table for people, or JSON for scripts
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// An OVN logical switch or port name: printable, no white space (ovn-nbctl
/// would need quoting), at most 255 bytes.
pub fn parse_ovn_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 255 || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"') {
        return Err(format!("invalid OVN name \"{}\": 1 to 255 printable characters, no spaces", s.escape_default()));
    }
    Ok(s.to_string())
}

/// A tunnel key: digits only (its range depends on --type, checked later).
pub fn parse_key(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(v) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(v),
        _ => Err(format!("invalid key \"{}\": expected 0 to 4294967295", s.escape_default())),
    }
}

/// An OVN database: one remote, or a cluster's, comma-separated (the
/// TLS files of ssl: ones are checked with the other global options).
pub fn parse_db(s: &str) -> Result<String, String> {
    s.split(',')
        .try_for_each(|r| crate::ovsdb::Endpoint::parse(r.trim()).map(drop))
        .map(|_| s.to_string())
        .map_err(|e| e.replacen("--db", "--ovn-nb", 1))
}

/// A clap error as one line: its first paragraph (clap lists missing
/// arguments on the lines below the first; usage and tips follow a blank
/// line), without the `error: ` prefix.
pub fn usage_message(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let paragraph: Vec<&str> = rendered.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
    let joined = paragraph.join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_string()
}

fn parse_timeout(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(v) if (1..=3600).contains(&v) => Ok(v),
        _ => Err(format!("invalid timeout \"{}\": expected 1 to 3600 seconds", s.escape_default())),
    }
}

/// The plugin's log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Debug, Args)]
pub struct PluginArgs {
    /// Driver name, as given to `docker network create -d NAME`
    #[arg(long, default_value = "ovs", value_parser = config::parse_driver_name)]
    pub name: String,
    /// Unix socket to serve on [default: /run/docker/plugins/NAME.sock, where dockerd looks]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<std::path::PathBuf>,
    /// Datapath type of the bridges the plugin creates [default: system if the openvswitch kernel module is loaded, else netdev]
    #[arg(long, value_name = "TYPE", value_parser = config::parse_datapath_type)]
    pub datapath_type: Option<String>,
    /// Log level on standard error (debug: one line per request)
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// OVN northbound database of mode=ovn networks and of the IPAM driver (--ipam-driver NAME): unix:PATH, tcp:IP:PORT, ssl:IP:PORT, or a cluster's members comma-separated (TLS files: --private-key, --certificate, --ca-cert)
    #[arg(long, value_name = "DB")]
    pub ovn_nb: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ovs-docker").chain(args.iter().copied()))
    }

    #[test]
    fn upstream_add_port_line_parses() {
        let cli = parse(&[
            "add-port",
            "br-int",
            "eth1",
            "c474a0e2830e",
            "--ipaddress=192.168.1.2/24",
            "--gateway=192.168.1.1",
            "--macaddress=a2:c3:0d:49:7f:f8",
            "--mtu=1450",
        ])
        .unwrap();
        let Command::AddPort(a) = cli.command else { panic!() };
        assert_eq!(a.bridge, "br-int");
        assert_eq!(a.interface.as_str(), "eth1");
        assert_eq!(a.reference(), "c474a0e2830e");
        assert_eq!(a.ipaddress[0].to_string(), "192.168.1.2/24");
        assert_eq!(a.gateway[0].to_string(), "192.168.1.1");
        assert_eq!(a.macaddress.unwrap().to_string(), "a2:c3:0d:49:7f:f8");
        assert_eq!(a.mtu, Some(1450));
    }

    #[test]
    fn options_take_a_separate_value_and_may_come_first() {
        let cli =
            parse(&["--timeout", "3", "add-port", "--mtu", "1400", "br0", "eth1", "web", "--db=unix:/x.sock"]).unwrap();
        assert_eq!(cli.global.timeout, 3);
        assert_eq!(cli.global.db.as_deref(), Some("unix:/x.sock"));
        let Command::AddPort(a) = cli.command else { panic!() };
        assert_eq!(a.mtu, Some(1400));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["add-port", "br0", "eth1"][..],
            &["add-port", "br0", "this-name-is-too-long", "web"],
            &["add-port", "br0", "eth1", "web", "--mtu=10"],
            &["add-port", "br0", "eth1", "web", "--macaddress=01:00:00:00:00:01"],
            &["add-port", "br0", "eth1", "web", "--ipaddress=10.0.0.300/24"],
            &["add-port", "br0", "eth1", "web", "--gateway=nope"],
            &["add-port", "br0", "eth1", "web", "--bogus=1"],
            &["add-port", "br/0", "eth1", "web"],
            &["add-port", "br0", "eth1", "we b"],
            &["set-vlan", "br0", "eth1", "web", "4096"],
            &["set-vlan", "br0", "eth1", "web"],
            &["del-port", "br0", "eth1"],
            &["del-ports", "br0"],
            &["list", "--format=xml"],
            &["add-port", "br0", "eth1", "web", "--netns=/var/run/netns/x"],
            &["del-port", "br0", "eth1", "web", "--pid=3"],
            &["set-vlan", "br0", "eth1", "--pid=3", "4096"],
            &["add-port", "br0", "eth1", "--netns=/x", "--pid=3"],
            &["add-port", "br0", "eth1", "--netns=relative"],
            &["add-port", "br0", "eth1", "web", "--route=10.0.0.0"],
            &["add-port", "br0", "eth1", "web", "--ingress-burst=10"],
            &["add-port", "br0", "eth1", "web", "--vlan=5000"],
            &["set-vlan", "br0", "eth1", "web", "--trunk=10", "--clear"],
            &["set-vlan", "br0", "eth1", "web", "3", "--clear"],
            &["set-vlan", "br0", "eth1", "web", "--trunk=1-99999"],
            &["set-qos", "br0", "eth1", "web"],
            &["--timeout=0", "list"],
            &["frobnicate"],
        ] {
            match parse(args) {
                Err(e) => assert_eq!(e.exit_code(), 2, "{args:?}"),
                Ok(mut cli) => assert!(normalize(&mut cli.command).is_err(), "{args:?}"),
            }
        }
    }

    #[test]
    fn the_other_commands_parse() {
        assert!(matches!(parse(&["del-port", "br0", "eth1", "web"]).unwrap().command, Command::DelPort(_)));
        assert!(matches!(parse(&["del-ports", "br0", "web"]).unwrap().command, Command::DelPorts(_)));
        let Command::SetVlan(s) = parse(&["set-vlan", "br0", "eth1", "web", "5"]).unwrap().command else { panic!() };
        assert_eq!(s.vlan, Some(5));
        let Command::List(l) = parse(&["list", "br0", "--container", "web", "--format", "json"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((l.bridge.as_deref(), l.container.as_deref(), l.format), (Some("br0"), Some("web"), Format::Json));
        assert!(parse(&["list"]).is_ok());
    }

    #[test]
    fn beyond_upstream_options_parse() {
        let cli = parse(&[
            "add-port",
            "br0",
            "eth1",
            "--netns=/var/run/netns/blue",
            "--ipaddress=10.0.0.2/24",
            "--ipaddress",
            "fd00::2/64",
            "--gateway=10.0.0.1",
            "--gateway=fd00::1",
            "--route=10.9.0.0/16,via=10.0.0.254",
            "--vlan=7",
            "--ingress-rate=1000",
            "--no-persist",
            "--force",
        ])
        .unwrap();
        let Command::AddPort(a) = cli.command else { panic!() };
        assert_eq!(a.reference(), "netns:/var/run/netns/blue");
        assert_eq!((a.ipaddress.len(), a.gateway.len(), a.route.len()), (2, 2, 1));
        assert_eq!((a.vlan, a.ingress_rate, a.no_persist, a.force), (Some(7), Some(1000), true, true));
        let Command::DelPort(d) = parse(&["del-port", "br0", "eth1", "--pid=42"]).unwrap().command else { panic!() };
        assert_eq!(d.target.reference(), "pid:42");
        let Command::SetVlan(v) = parse(&["set-vlan", "br0", "eth1", "web", "--trunk=10,20-22"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((v.vlan, v.trunk.unwrap().0), (None, vec![10, 20, 21, 22]));
        assert!(parse(&["set-vlan", "br0", "eth1", "web", "--clear"]).is_ok());
        let mut cli = parse(&["set-vlan", "br0", "eth1", "--netns=/run/netns/x", "30", "--trunk=10"]).unwrap();
        normalize(&mut cli.command).unwrap();
        let Command::SetVlan(v) = cli.command else { panic!() };
        assert_eq!((v.vlan, v.port.target.reference()), (Some(30), "netns:/run/netns/x".to_string()));
        assert!(parse(&["set-qos", "br0", "eth1", "web", "--ingress-rate=0"]).is_ok());
        assert!(parse(&["watch", "--once"]).is_ok());
    }

    #[test]
    fn ovn_options_parse_and_depend_on_each_other() {
        let cli = parse(&[
            "add-port",
            "br-int",
            "eth1",
            "web",
            "--iface-id=web-lsp",
            "--wait-ovn",
            "--ovn-nb=unix:/run/ovn/ovnnb_db.sock",
            "--ovn-switch",
            "ls1",
        ])
        .unwrap();
        let Command::AddPort(a) = cli.command else { panic!() };
        assert_eq!(a.ovn.iface_id.as_deref(), Some("web-lsp"));
        assert!(a.ovn.wait_ovn);
        assert_eq!(a.ovn.ovn_nb.as_deref(), Some("unix:/run/ovn/ovnnb_db.sock"));
        assert_eq!(a.ovn.ovn_switch.as_deref(), Some("ls1"));
        let Command::AddPort(a) = parse(&["add-port", "br0", "eth1", "web"]).unwrap().command else { panic!() };
        assert!(a.ovn.iface_id.is_none() && !a.ovn.wait_ovn && a.ovn.ovn_nb.is_none());
        for args in [
            &["add-port", "br0", "eth1", "web", "--wait-ovn"][..],
            &["add-port", "br0", "eth1", "web", "--ovn-nb=unix:/x", "--ovn-switch=ls"],
            &["add-port", "br0", "eth1", "web", "--iface-id=p", "--ovn-nb=unix:/x"],
            &["add-port", "br0", "eth1", "web", "--iface-id=p", "--ovn-switch=ls"],
            &["add-port", "br0", "eth1", "web", "--iface-id=p", "--ovn-nb=nope", "--ovn-switch=ls"],
            &["add-port", "br0", "eth1", "web", "--iface-id=a b"],
            &["add-port", "br0", "eth1", "web", "--iface-id="],
        ] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn tunnel_commands_parse() {
        let Command::Tunnel(TunnelCommand::Add(a)) =
            parse(&["tunnel", "add", "br0", "192.168.1.2", "--type=gre", "--key", "7", "--name=gre-b"])
                .unwrap()
                .command
        else {
            panic!()
        };
        assert_eq!(
            (a.bridge.as_str(), a.remote_ip.to_string(), a.kind, a.key),
            ("br0", "192.168.1.2".into(), TunnelType::Gre, Some(7))
        );
        assert_eq!(a.name.as_deref(), Some("gre-b"));
        let Command::Tunnel(TunnelCommand::Add(a)) = parse(&["tunnel", "add", "br0", "fd00::2"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((a.kind, a.key, a.name), (TunnelType::Vxlan, None, None));
        let Command::Tunnel(TunnelCommand::Del(d)) =
            parse(&["tunnel", "del", "br0", "192.168.1.2", "--type", "vxlan", "--if-exists"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((d.target.as_str(), d.kind, d.if_exists), ("192.168.1.2", Some(TunnelType::Vxlan), true));
        let Command::Tunnel(TunnelCommand::List(l)) = parse(&["tunnel", "list", "--format=json"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((l.bridge, l.format), (None, Format::Json));
        for args in [
            &["tunnel", "add", "br0", "192.168.1"][..],
            &["tunnel", "add", "br0", "192.168.1.2", "--type=ipsec"],
            &["tunnel", "add", "br0", "192.168.1.2", "--key=+5"],
            &["tunnel", "add", "br0", "192.168.1.2", "--key=4294967296"],
            &["tunnel", "add", "br0", "192.168.1.2", "--name=a-name-of-16-byte"],
            &["tunnel", "add", "br0"],
            &["tunnel", "del", "br0"],
            &["tunnel"],
        ] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
