#!/usr/bin/env bash
# Benchmark the network plugin's mode=ovn against its mode=nat on the same
# host, side by side in one run: median wall time of `docker run --rm` on
# each network, and their ratio (goal: ovn within 1.5x of nat).
#
#   bash scripts/bench-ovn.sh [--nb-cluster] [RUNS]     RUNS per figure (default 10)
#
# With --nb-cluster, the northbound database is what a production cluster
# runs: three raft members, reached by the plugin over ssl: with
# certificates made here by ovs-pki (leader lookup and TLS included).
#
# The host is simulated as the multi-host tests do it (tests/common/
# multihost.rs): a network namespace with its own ovsdb-server and
# ovs-vswitchd (userspace datapath), ovn-controller, dockerd and plugin, and
# OVN's NB and SB databases and ovn-northd on unix sockets, all in a folder
# of its own; nothing of the test bed's OVS or dockerd is touched. A mode=ovn
# run includes what a host of a real cluster does: the address reserved in
# NB through the IPAM driver, the logical port claimed, and Join waiting for
# ovn-controller to install the port.
#
# Uses target/debug/ovs-docker unless OVS_DOCKER_BIN names another binary.
# Everything is named ovsdt-bench-*; the daemons are stopped by PID on exit,
# and `scripts/testbed.sh clean` removes what a SIGKILL left.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cluster=
if [[ ${1:-} == --nb-cluster ]]; then
    cluster=1
    shift
fi
runs=${1:-10}
[[ $runs =~ ^[0-9]+$ && $runs -gt 0 && $# -le 1 ]] || { echo "usage: $0 [--nb-cluster] [RUNS]" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "bench-ovn.sh: run as root" >&2; exit 1; }
for tool in ovsdb-server ovs-vswitchd ovn-northd ovn-controller dockerd nsenter; do
    command -v "$tool" >/dev/null || { echo "bench-ovn.sh: $tool is missing: run scripts/testbed.sh up" >&2; exit 1; }
done
bin=$(realpath "${OVS_DOCKER_BIN:-target/debug/ovs-docker}")
[[ -x $bin ]] || { echo "bench-ovn.sh: no binary $bin (cargo build)" >&2; exit 1; }

ns=ovsdt-bench-ovn-$$
dir=/run/ovs-docker-testbed/bench-ovn-$$
driver=ovsdt-bench-ovn-$$
mkdir -p "$dir"
pids=()
cleanup() {
    docker -H "unix://$dir/docker.sock" network rm ovsdt-bench-ovn ovsdt-bench-nat >/dev/null 2>&1 || true
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVN_RUNDIR=$dir

# `ip netns exec` gives a copy of every mount, container namespaces
# included: detach those in the daemon's own mount namespace (see
# tests/common/multihost.rs, FORGET_NSFS).
forget='awk '\''{for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "nsfs") print $5; break }}'\'' /proc/self/mountinfo |
while read -r m; do umount -l "$m" 2>/dev/null; done; exec "$@"'
# Start `ARGS...` in the background (in the namespace if the first is "in"),
# output to $dir/NAME.out, and remember its PID.
daemon() {
    local name=$1
    shift
    if [[ $1 == in ]]; then
        shift
        set -- ip netns exec "$ns" sh -c "$forget" sh "$@"
    fi
    "$@" </dev/null >"$dir/$name.out" 2>&1 &
    pids+=($!)
}
wait_for() { # SECONDS what command...
    local n=$(($1 * 10)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((--n > 0)) || { echo "bench-ovn.sh: $what did not come up (see $dir)" >&2; exit 1; }
        sleep 0.1
    done
}

ip netns add "$ns"
ip -n "$ns" link set lo up
# OVN central: SB, and NB on a unix socket or as a TLS cluster.
for db in nb sb; do
    [[ $db == nb && -n $cluster ]] && continue
    ovsdb-tool create "$dir/$db.db" "/usr/share/ovn/ovn-$db.ovsschema"
    daemon "ovsdb-$db" ovsdb-server "$dir/$db.db" "--remote=punix:$dir/$db.sock" "--unixctl=$dir/$db.ctl" \
        "--pidfile=$dir/$db.pid" -vconsole:off "--log-file=$dir/$db.log"
    wait_for 10 "the $db ovsdb-server" test -S "$dir/$db.sock"
done
nb_local=unix:$dir/nb.sock plugin_nb=(--ovn-nb="unix:$dir/nb.sock")
if [[ -n $cluster ]]; then
    (cd "$dir" && ovs-pki --dir="$dir/pki" --log="$dir/pki.log" init --force >/dev/null 2>&1 &&
        ovs-pki --dir="$dir/pki" --log="$dir/pki.log" req+sign server switch >/dev/null 2>&1 &&
        ovs-pki --dir="$dir/pki" --log="$dir/pki.log" req+sign client switch >/dev/null 2>&1)
    tls() { echo "--private-key=$dir/$1-privkey.pem" "--certificate=$dir/$1-cert.pem" \
        "--ca-cert=$dir/pki/switchca/cacert.pem"; }
    # Three members on the namespace's loopback, each with a unix socket
    # for ovn-northd and ovn-nbctl outside it.
    ovsdb-tool create-cluster "$dir/nb0.db" /usr/share/ovn/ovn-nb.ovsschema tcp:127.0.0.1:6643 2>/dev/null
    for m in 1 2; do
        ovsdb-tool join-cluster "$dir/nb$m.db" OVN_Northbound "tcp:127.0.0.1:$((6643 + 10 * m))" tcp:127.0.0.1:6643
    done
    nb_local= remotes=
    for m in 0 1 2; do
        # shellcheck disable=SC2046 # tls prints separate words
        daemon "ovsdb-nb$m" in ovsdb-server "$dir/nb$m.db" "--remote=punix:$dir/nb$m.sock" \
            "--remote=pssl:$((6641 + 10 * m)):127.0.0.1" $(tls server) "--unixctl=$dir/nb$m.ctl" \
            "--pidfile=$dir/nb$m.pid" -vconsole:off "--log-file=$dir/nb$m.log"
        nb_local+=${nb_local:+,}unix:$dir/nb$m.sock
        remotes+=${remotes:+,}ssl:127.0.0.1:$((6641 + 10 * m))
    done
    wait_for 60 "the NB cluster" sh -c "ovs-appctl -t '$dir/nb0.ctl' cluster/status OVN_Northbound | grep -q 'Leader: [^u]'"
    # shellcheck disable=SC2046
    plugin_nb=(--ovn-nb="$remotes" $(tls client))
fi
daemon northd ovn-northd "--ovnnb-db=$nb_local" "--ovnsb-db=unix:$dir/sb.sock" \
    "--unixctl=$dir/northd.ctl" "--pidfile=$dir/northd.pid" -vconsole:off "--log-file=$dir/northd.log"
ovn-nbctl --db="$nb_local" --timeout=30 init
# The host's OVS and ovn-controller.
ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
daemon ovsdb in ovsdb-server "$dir/conf.db" "--remote=punix:$dir/db.sock" "--unixctl=$dir/ovsdb-server.ctl" \
    "--pidfile=$dir/ovsdb-server.pid" -vconsole:off "--log-file=$dir/ovsdb-server.log"
wait_for 10 "the host's ovsdb-server" test -S "$dir/db.sock"
vsctl() { ovs-vsctl --db="unix:$dir/db.sock" --timeout=20 "$@"; }
vsctl --no-wait init
daemon vswitchd in ovs-vswitchd "unix:$dir/db.sock" "--unixctl=$dir/ovs-vswitchd.ctl" \
    "--pidfile=$dir/ovs-vswitchd.pid" -vconsole:off "--log-file=$dir/ovs-vswitchd.log"
vsctl set Open_vSwitch . external_ids:system-id="$ns" external_ids:ovn-remote="unix:$dir/sb.sock" \
    external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=127.0.0.1 external_ids:ovn-bridge=br-int \
    external_ids:ovn-bridge-datapath-type=netdev
daemon controller in ovn-controller "unix:$dir/db.sock" "--pidfile=$dir/ovn-controller.pid" -vconsole:off \
    "--log-file=$dir/ovn-controller.log"
wait_for 30 "br-int (ovn-controller)" vsctl br-exists br-int
# The host's dockerd (nsenter, not ip netns exec: it needs the cgroup mounts).
export DOCKER_HOST=unix://$dir/docker.sock
daemon dockerd nsenter "--net=/var/run/netns/$ns" dockerd -H "$DOCKER_HOST" --data-root "$dir/docker-data" \
    --exec-root "$dir/docker-exec" --pidfile "$dir/docker.pid" --storage-driver=vfs --iptables=false \
    --ip6tables=false --bridge=none --shutdown-timeout=2
wait_for 60 dockerd docker version
docker -H unix:///var/run/docker.sock save busybox:local | docker load >/dev/null
# The plugin, as on every host of a cluster.
daemon plugin in env "OVS_RUNDIR=$dir" "DOCKER_HOST=$DOCKER_HOST" "$bin" plugin --name "$driver" \
    --datapath-type=netdev --log-level=warn "${plugin_nb[@]}"
wait_for 20 "the plugin" test -S "/run/docker/plugins/$driver.sock"
docker network create -d "$driver" --ipam-driver "$driver" --ipam-opt ovn_switch=ovsdt-bench -o mode=ovn \
    -o ovn_switch=ovsdt-bench --subnet 10.254.3.0/24 --gateway 10.254.3.1 ovsdt-bench-ovn >/dev/null
docker network create -d "$driver" --subnet 10.254.4.0/24 -o bridge=ovsdtbenchn ovsdt-bench-nat >/dev/null

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# One warm-up each, then interleaved rounds so that machine load hits both
# modes alike.
docker run --rm --network ovsdt-bench-ovn busybox:local true >/dev/null
docker run --rm --network ovsdt-bench-nat busybox:local true >/dev/null
ovn=$(median_ms --network ovsdt-bench-ovn)
nat=$(median_ms --network ovsdt-bench-nat)
ovn2=$(median_ms --network ovsdt-bench-ovn)
nat2=$(median_ms --network ovsdt-bench-nat)
ovn=$(((ovn + ovn2) / 2))
nat=$(((nat + nat2) / 2))
printf '%-40s %10s %10s %8s\n' "docker run --rm ($((2 * runs)) runs)" "ovn (ms)" "nat (ms)" "ratio"
printf '%-40s %10s %10s %8s\n' "one host${cluster:+, NB TLS cluster}, busybox true" "$ovn" "$nat" "$(awk -v a="$ovn" -v b="$nat" 'BEGIN {printf "%.2f", a / b}')"
