#!/usr/bin/env bash
# Build the network plugin as a Docker managed (v2) plugin and create it in
# the local dockerd (`docker plugin create`, no registry). Prints the
# plugin's name as the last line; enable it with `docker plugin enable NAME`,
# then `docker network create -d NAME ...`.
#
#   scripts/docker-plugin.sh [--binary PATH] [--datapath-type TYPE] [--replace] [NAME]
#
#   NAME                  the plugin's name (default ovs-docker/ovs:VERSION)
#   --binary PATH         put this already built binary in the plugin instead
#                         of running `cargo build --release --locked`
#   --datapath-type TYPE  default datapath type of the bridges it creates
#                         (netdev for userspace OVS); the plugin's `args`
#                         setting, changeable while it is disabled:
#                         docker plugin set NAME args=--datapath-type=netdev
#   --replace             remove (docker plugin rm -f) a plugin NAME first
#
# What the plugin's sandbox is given, and why: see the comments on
# config.json below and README ("Docker network plugin").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly SRC=$PWD

die() { printf 'docker-plugin.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'docker-plugin.sh: %s\n' "$*" >&2; }

binary= datapath= replace= name=
while (($#)); do
    case $1 in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --datapath-type) datapath=${2:?--datapath-type needs a type}; shift 2 ;;
        --datapath-type=*) datapath=${1#*=}; shift ;;
        --replace) replace=1; shift ;;
        -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [[ -z $name ]] || die "one NAME only"; name=$1; shift ;;
    esac
done

command -v docker >/dev/null || die "docker is missing"
command -v ldd >/dev/null || die "ldd is missing (package libc-bin)"
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || die "no version in Cargo.toml"
name=${name:-ovs-docker/ovs:$version}
# dockerd adds :latest to a name without a tag, and `docker network create
# -d` wants the name with its tag: print that.
[[ ${name##*/} == *:* ]] || name=$name:latest
[[ $datapath =~ ^[a-z0-9_-]*$ ]] || die "invalid datapath type '$datapath'"

if [[ -z $binary ]]; then
    if ! command -v cargo >/dev/null; then export PATH="$HOME/.cargo/bin:$PATH"; fi
    log "building the release binary (cargo build --release --locked)"
    cargo build --release --locked >&2
    binary=$SRC/target/release/ovs-docker
fi
[[ -x $binary ]] || die "$binary is not an executable"

mkdir -p "$SRC/target"
dir=$(mktemp -d "$SRC/target/docker-plugin.XXXXXX")
trap 'rm -rf "$dir"' EXIT
rootfs=$dir/rootfs

# The root file system: the binary, the libraries and loader ldd lists
# (libc and ld.so today), and the mount points.
install -D -m 0755 "$binary" "$rootfs/usr/bin/ovs-docker"
strip --strip-unneeded "$rootfs/usr/bin/ovs-docker" 2>/dev/null || true
while read -r lib; do
    cp -L --parents "$lib" "$rootfs/"
done < <(ldd "$binary" | grep -o '/[^ ]*' | sort -u)
mkdir -p "$rootfs"/{proc,sys,dev,etc,tmp,run/docker/plugins,var/run/openvswitch,host/proc/sys/net}
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"
chmod 1777 "$rootfs/tmp"

args=()
[[ -n $datapath ]] && args+=("--datapath-type=$datapath")
args_json=$(printf '%s\n' "${args[@]}" | sed '/^$/d; s/.*/"&"/' | paste -sd, -)

# config.json (https://docs.docker.com/engine/extend/config/):
# - interface: the libnetwork remote driver on ovs.sock, which Docker looks
#   for in the plugin's own /run/docker/plugins;
# - network host: the veths, the bridges' internal ports, the gateways and
#   the nf_tables rules are the host's; the endpoint locks are abstract unix
#   sockets of the host's namespace too, shared with the CLI;
# - CAP_NET_ADMIN only (links, addresses, sysctls, nf_tables, the ethtool
#   ioctl): the plugin enters no namespace (no CAP_SYS_ADMIN) and opens no
#   raw socket;
# - mounts: the OVSDB socket's folder, Docker's socket (the plugin asks
#   Docker which networks exist), and the host's /proc/sys/net at
#   /host/proc/sys/net: a plugin's /proc/sys is read-only, and the plugin
#   writes the forwarding and per-veth sysctls of the host there
#   (OVS_DOCKER_SYSCTL_NET). Not Docker's sandbox keys (/var/run/docker/netns):
#   the plugin makes both veth ends in the host namespace and Docker moves
#   the peer into the container; the key is only recorded in OVSDB;
# - args: appended to the entrypoint, settable (docker plugin set NAME args=...).
cat >"$dir/config.json" <<EOF
{
  "description": "ovs-docker $version: Docker network driver for Open vSwitch bridges",
  "documentation": "https://github.com/ovs-docker/ovs-docker",
  "entrypoint": ["/usr/bin/ovs-docker", "plugin", "--name", "ovs", "--socket", "/run/docker/plugins/ovs.sock"],
  "args": {
    "name": "args",
    "description": "options of ovs-docker plugin, such as --datapath-type=netdev or --log-level=debug",
    "settable": ["value"],
    "value": [${args_json}]
  },
  "env": [
    {"name": "OVS_DOCKER_SYSCTL_NET", "description": "the host's /proc/sys/net, writable", "value": "/host/proc/sys/net"},
    {"name": "OVS_RUNDIR", "description": "folder of the OVSDB socket db.sock", "settable": ["value"], "value": "/var/run/openvswitch"}
  ],
  "interface": {"socket": "ovs.sock", "types": ["docker.networkdriver/1.0"]},
  "network": {"type": "host"},
  "linux": {"capabilities": ["CAP_NET_ADMIN"]},
  "mounts": [
    {"name": "ovs-rundir", "source": "/var/run/openvswitch", "destination": "/var/run/openvswitch",
     "type": "bind", "options": ["rbind", "rw"]},
    {"name": "docker-socket", "source": "/var/run/docker.sock", "destination": "/var/run/docker.sock",
     "type": "bind", "options": ["bind", "rw"]},
    {"name": "sysctl-net", "source": "/proc/sys/net", "destination": "/host/proc/sys/net",
     "type": "bind", "options": ["rbind", "rw"]}
  ]
}
EOF

if [[ -n $replace ]] && docker plugin inspect "$name" >/dev/null 2>&1; then
    log "removing the existing plugin $name"
    docker plugin rm -f "$name" >&2
fi
log "creating plugin $name"
docker plugin create "$name" "$dir" >&2
printf '%s\n' "$name"
