#!/usr/bin/env bash
# The one test command: bring the test bed up, clear what a killed run left,
# then run every cargo test against it. Extra arguments go to `cargo test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# rustup installs cargo here, and a non-login shell (CI) may not have it on PATH.
if ! command -v cargo >/dev/null; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

bash scripts/testbed.sh up
# The clean step below serves dead test plugins with this very binary (so
# that dockerd can remove their networks): build it first. cargo test
# reuses it.
cargo build --locked --features fault-injection --bin ovs-docker

# Held shared by every running test.sh: clean only when no other run is live,
# since its containers and bridges carry the same ovsdt prefix as leftovers.
# (A bare `cargo test` takes no part in this: do not clean beside one.)
lock=/run/ovs-docker-testbed/tests.lock
rc=0
flock -n -E 75 "$lock" bash scripts/testbed.sh clean || rc=$?
case $rc in
    0) ;;
    75) echo "test.sh: another test run is active: leftovers kept" >&2 ;;
    *) exit "$rc" ;;
esac

# Tells the integration tests that OVS and dockerd are supposed to answer, so a
# missing daemon is a failure rather than a skip.
export OVS_DOCKER_TESTBED=1
# --features fault-injection: the crash and pause points the reliability
# tests use (src/fault.rs), which a release build leaves out.
# -o: cargo and the daemons tests may start do not inherit the lock's fd;
# flock itself holds it and exits with cargo's status.
exec flock -s -o "$lock" cargo test --locked --features fault-injection "$@"
