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
# Containers and bridges named ovsdt* belong to the tests: a killed run leaves
# them behind (bridges persist in conf.db across OVS restarts).
bash scripts/testbed.sh clean
# Tells the integration tests that OVS and dockerd are supposed to answer, so a
# missing daemon is a failure rather than a skip.
export OVS_DOCKER_TESTBED=1
exec cargo test --locked "$@"
