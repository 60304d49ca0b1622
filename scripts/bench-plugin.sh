#!/usr/bin/env bash
# Benchmark the network plugin against Docker's own bridge driver, side by
# side in one run, on the test bed's stock dockerd (Docker's default
# firewall): `docker run --rm` with and without `-p HOST:80`, on an ovs nat
# network and on a Docker bridge network.
#
#   bash scripts/bench-plugin.sh [RUNS]     RUNS per figure (default 10)
#
# Uses target/debug/ovs-docker unless OVS_DOCKER_BIN names another binary.
# Everything it creates is named ovsdt-bench-*; `scripts/testbed.sh clean`
# removes what a SIGKILL left.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-10}
[[ $runs =~ ^[0-9]+$ && $runs -gt 0 ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "bench-plugin.sh: run as root" >&2; exit 1; }
bin=${OVS_DOCKER_BIN:-target/debug/ovs-docker}
export DOCKER_HOST=unix:///run/ovsdt-stock/docker.sock
docker version >/dev/null 2>&1 || { echo "no stock dockerd: run scripts/testbed.sh up" >&2; exit 1; }

driver=ovsdt-bench-$$
"$bin" plugin --name "$driver" --datapath-type=netdev --log-level warn 2>/dev/null &
plugin=$!
cleanup() {
    docker network rm ovsdt-bench-ovs ovsdt-bench-br >/dev/null 2>&1 || true
    kill "$plugin" 2>/dev/null || true
    wait "$plugin" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [[ -S /run/docker/plugins/$driver.sock ]] && break; sleep 0.1; done
docker network create -d "$driver" --subnet 10.254.1.0/24 -o bridge=ovsdtbenchp ovsdt-bench-ovs >/dev/null
docker network create -d bridge --subnet 10.254.2.0/24 ovsdt-bench-br >/dev/null

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# Interleaved so that machine load hits both drivers alike.
ovs_p=$(median_ms --network ovsdt-bench-ovs -p 18080:80)
br_p=$(median_ms --network ovsdt-bench-br -p 18081:80)
ovs=$(median_ms --network ovsdt-bench-ovs)
br=$(median_ms --network ovsdt-bench-br)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '%-28s %10s %10s %8s\n' "docker run --rm ($runs runs)" "ovs (ms)" "bridge" "ratio"
printf '%-28s %10s %10s %8s\n' "-p HOST:80" "$ovs_p" "$br_p" "$(ratio "$ovs_p" "$br_p")"
printf '%-28s %10s %10s %8s\n' "no -p" "$ovs" "$br" "$(ratio "$ovs" "$br")"
