#!/usr/bin/env bash
# The quick-start demo: brings up the test bed if needed, builds ovs-docker,
# puts two containers on an Open vSwitch bridge, pings one from the other,
# lists the ports, and removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/testbed.sh up
cargo build --release --locked --quiet
bin=target/release/ovs-docker

bridge=demo-br$$
bridge=${bridge:0:15}
c1=ovsdt-demo1-$$
c2=ovsdt-demo2-$$

cleanup() {
    "$bin" del-ports "$bridge" "$c1" 2>/dev/null || true
    "$bin" del-ports "$bridge" "$c2" 2>/dev/null || true
    docker rm -f "$c1" "$c2" >/dev/null 2>&1 || true
    ovs-vsctl --if-exists del-br "$bridge"
}
trap cleanup EXIT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# The test bed runs Open vSwitch in userspace: bridges need the netdev datapath.
ovs-vsctl add-br "$bridge" -- set bridge "$bridge" datapath_type=netdev
docker run -d --name "$c1" --net=none busybox:local sleep 600 >/dev/null
docker run -d --name "$c2" --net=none busybox:local sleep 600 >/dev/null

say "$bin" add-port "$bridge" eth1 "$c1" --ipaddress=10.250.0.2/24 --macaddress=02:00:0a:fa:00:02 --mtu=1450
say "$bin" add-port "$bridge" eth1 "$c2" --ipaddress=10.250.0.3/24
say docker exec "$c1" ping -c 3 -W 2 10.250.0.3
say "$bin" list "$bridge"
say "$bin" del-port "$bridge" eth1 "$c1"
say "$bin" list "$bridge" --format json
