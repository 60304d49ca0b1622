#!/usr/bin/env bash
# Benchmark ovs-docker (target/release/ovs-docker) against the upstream script
# (/usr/bin/ovs-docker) on the same machine, in one run.
#
#   bash scripts/bench.sh           full run: 20 runs per figure, 3 batch rounds (~3-10 min)
#   bash scripts/bench.sh --quick   5 runs per figure, 1 batch round (~1-2 min)
#
# Writes benches/RESULTS.md and benches/chart.svg and prints the table. Everything it
# creates is named ovsdt-bench-* (containers) or ovsdtbench* (bridges) and removed at
# the end, also on Ctrl-C; `scripts/testbed.sh clean` removes what a SIGKILL left.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

case ${1:-} in
    -h | --help)
        sed -n '2,10s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    "" | --quick) ;;
    *)
        echo "usage: $0 [--quick]" >&2
        exit 2
        ;;
esac

if [[ $EUID -ne 0 ]]; then
    echo "bench.sh: run as root (it drives OVS, Docker and network namespaces)" >&2
    exit 1
fi

echo "bench: cargo build --release --locked" >&2
cargo build --release --locked
echo "bench: bash scripts/testbed.sh up" >&2
bash scripts/testbed.sh up

# exec: Ctrl-C and SIGTERM reach the driver directly, whose finally block cleans up.
exec python3 benches/bench.py "$@"
