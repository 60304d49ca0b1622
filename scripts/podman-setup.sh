#!/usr/bin/env bash
# Podman with the CNI network backend, for the CNI plugin's tests
# (tests/podman.rs): called by scripts/testbed.sh up and clean.
#
#   scripts/podman-setup.sh up      install podman and Debian's CNI plugins (host-local),
#                                   configure vfs storage, ulimits and the CNI backend,
#                                   load busybox:local into podman; idempotent
#   scripts/podman-setup.sh clean   remove the tests' leftovers: ovsdt* podman containers,
#                                   ovsdt* conflists and plugin links, host-local's ovsdt* data
#
# See shared/TESTBED.md, "Podman with the CNI network backend".
set -euo pipefail

readonly STATE_DIR=/run/ovs-docker-testbed
readonly PREFIX=ovsdt
readonly PACKAGES=(podman containernetworking-plugins)
readonly STORAGE_CONF=/etc/containers/storage.conf
readonly CONTAINERS_CONF=/etc/containers/containers.conf
readonly IMAGE=busybox:local

log() { printf 'podman-setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=scripts/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/packages.sh"

# vfs storage (overlay does not work here); without it from the first use,
# podman needs a `system reset`, which also deletes /etc/cni/net.d.
configure() {
    mkdir -p /etc/containers
    if ! grep -qs '^driver *= *"vfs"' "$STORAGE_CONF"; then
        log "configuring vfs storage in $STORAGE_CONF"
        printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' \
            >"$STORAGE_CONF"
    fi
    # The sandbox refuses the rlimits podman sets by default; and the CNI
    # backend, whatever else is installed.
    if ! grep -qs '^network_backend *= *"cni"' "$CONTAINERS_CONF" || ! grep -qs '^default_ulimits' "$CONTAINERS_CONF"; then
        log "configuring ulimits and the CNI backend in $CONTAINERS_CONF"
        printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n[network]\nnetwork_backend = "cni"\n' \
            >"$CONTAINERS_CONF"
    fi
    mkdir -p /etc/cni/net.d
}

load_image() {
    if podman image exists "localhost/$IMAGE" 2>/dev/null; then return 0; fi
    docker image inspect "$IMAGE" >/dev/null 2>&1 || die "$IMAGE is not in docker (run scripts/testbed.sh up)"
    log "loading $IMAGE into podman"
    local tar
    tar=$(mktemp "$STATE_DIR/podman-image.XXXXXX")
    docker save "$IMAGE" -o "$tar"
    podman load -q -i "$tar" >/dev/null || { rm -f "$tar"; die "podman load failed"; }
    rm -f "$tar"
}

cmd_up() {
    mkdir -p "$STATE_DIR"
    ensure_packages "$STATE_DIR/apt-podman.log" --no-install-recommends -- "${PACKAGES[@]}"
    configure
    load_image
    [[ $(podman info --format '{{.Host.NetworkBackend}}') == cni ]] || die "podman does not use the CNI backend"
}

cmd_clean() {
    command -v podman >/dev/null || return 0
    local names=() n
    while read -r n; do
        if [[ $n == "$PREFIX"* ]]; then names+=("$n"); fi
    done < <(podman ps -a --format '{{.Names}}' 2>/dev/null)
    if ((${#names[@]})); then
        log "removing podman containers: ${names[*]}"
        podman rm -f -t 0 "${names[@]}" >/dev/null 2>&1 || true
    fi
    for n in /etc/cni/net.d/"$PREFIX"* /usr/lib/cni/"$PREFIX"* /opt/cni/bin/"$PREFIX"* /var/lib/cni/networks/"$PREFIX"*; do
        [[ -e $n || -L $n ]] || continue
        log "removing $n"
        rm -rf "$n"
    done
}

case ${1:-} in
    up) cmd_up ;;
    clean) cmd_clean ;;
    *) die "usage: $0 up|clean" ;;
esac
