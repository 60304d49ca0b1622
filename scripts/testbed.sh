#!/usr/bin/env bash
# Test bed for ovs-docker: a userspace Open vSwitch, a dockerd and a tiny local
# image, started from whatever state the machine is in (bare, warm, or left over
# from a killed run).
#
#   scripts/testbed.sh up      install what is missing, start what does not answer
#   scripts/testbed.sh status  say what answers; exit 0 only when all is ready
#   scripts/testbed.sh clean   remove the tests' leftovers (ovsdt* containers, networks, bridges, netns,
#                              managed plugins; the ovs-docker package the packaging test installed)
#   scripts/testbed.sh down    stop only the daemons this script started
#   scripts/testbed.sh restart-dockerd
#                              stop the dockerd this script started (by its
#                              PID) and start it again with the same flags
#                              (tests/managed_plugin.rs)
#   scripts/testbed.sh restart-stock-dockerd
#                              the same for the stock dockerd
#
# Beside the main dockerd (--iptables=false), `up` starts a "stock" dockerd
# with Docker's default firewall (iptables on: `filter FORWARD` policy DROP,
# DOCKER-USER...), on its own socket unix:///run/ovsdt-stock/docker.sock
# (tests/plugin_stock_firewall.rs). Both find plugins in /run/docker/plugins.
#
# See shared/TESTBED.md for why things are done the way they are here.
set -euo pipefail

readonly STATE_DIR=/run/ovs-docker-testbed
readonly OVS_RUNDIR=/var/run/openvswitch
readonly OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
readonly DOCKER_PIDFILE=/var/run/docker.pid
readonly CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
readonly IMAGE=busybox:local
# Bump when the image recipe changes, so `up` rebuilds an older image.
readonly IMAGE_REV=1
readonly PREFIX=ovsdt
# ovn-central and ovn-host: the multi-host tests run OVN (tests/multihost.rs);
# lintian and man-db: the packaging test checks the .deb (tests/packaging.rs).
readonly PACKAGES=(openvswitch-switch docker.io busybox-static iproute2 python3
                   iputils-ping iptables uuid-runtime ethtool nftables ovn-central ovn-host
                   lintian man-db)
# The stock dockerd: default flags but for its own socket, roots and
# pidfile (and vfs storage, as the main one).
readonly STOCK_DIR=/run/ovsdt-stock
readonly STOCK_SOCK=$STOCK_DIR/docker.sock
readonly STOCK_PIDFILE=$STOCK_DIR/dockerd.pid
readonly STOCK_DATA=/var/lib/ovsdt-stock-docker
# The multi-host tests' simulated hosts: one folder per test bed, holding
# the pidfiles of its daemons; its namespaces are named ovsdt-h<ID>-*.
readonly MULTIHOST_DIR=$STATE_DIR/multihost

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# True when PID is a live process named NAME. /proc/PID also exists for a
# zombie (PID 1 here reaps late), and a stale pidfile can name a reused PID,
# so check both the state and the name.
pid_is() {
    local pid=$1 name=$2 stat comm state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    comm=${stat#*\(}
    comm=${comm%\)*}
    state=${stat##*\) }
    state=${state%% *}
    [[ $comm == "$name" && $state != [ZX] ]]
}

read_pid() { local p=; [[ -r $1 ]] && read -r p <"$1" 2>/dev/null; printf '%s' "$p"; }

# Remove a pidfile whose process is gone: dockerd refuses to start over a live
# PID in its pidfile, and ovs-ctl would report "already running".
drop_stale_pidfile() {
    local file=$1 name=$2
    [[ -e $file ]] || return 0
    if ! pid_is "$(read_pid "$file")" "$name"; then
        rm -f "$file"
        log "removed stale $file"
    fi
}

ovsdb_ok()    { ovs-vsctl --timeout=2 show >/dev/null 2>&1; }
vswitchd_ok() { ovs-appctl -T 2 -t ovs-vswitchd version >/dev/null 2>&1; }
docker_ok()   { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
image_ok() {
    [[ $(docker image inspect --format '{{index .Config.Labels "ovs-docker-testbed"}}' \
        "$IMAGE" 2>/dev/null) == "$IMAGE_REV" ]]
}

wait_for() { # SECONDS CHECK...: poll CHECK every 0.1 s
    local tries=$(($1 * 10))
    shift
    while ! "$@"; do
        ((--tries > 0)) || return 1
        sleep 0.1
    done
}

# shellcheck source=scripts/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/packages.sh"

# Run a command with no file descriptor but 0, 1 and 2. Daemons keep every fd
# they inherit: ovs-vswitchd kept the caller's pipes open (so a reader of this
# script's output never saw EOF) and would keep our lock (fd 9) for ever.
close_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then exec {fd}>&-; fi
    done
}
run_closed() { (close_fds; exec "$@"); }

# ovs-ctl, quietly: its daemons' output goes to their own logs anyway.
ovs_ctl() {
    local out=$STATE_DIR/ovs-ctl.out
    if ! run_closed "$OVS_CTL" "$@" </dev/null >"$out" 2>&1; then
        cat "$out" >&2
        die "ovs-ctl $* failed"
    fi
}

start_ovsdb() {
    drop_stale_pidfile "$OVS_RUNDIR/ovsdb-server.pid" ovsdb-server
    log "starting ovsdb-server"
    ovs_ctl --no-ovs-vswitchd --system-id=random start
    wait_for 10 ovsdb_ok || die "ovsdb-server does not answer (see /var/log/openvswitch/ovsdb-server.log)"
    # With --monitor the pidfile names the worker and its parent is the monitor.
    local pid
    pid=$(read_pid "$OVS_RUNDIR/ovsdb-server.pid")
    printf '%s\n' "$pid" >"$STATE_DIR/ovsdb-server.pid"
    awk '{print $4}' "/proc/$pid/stat" >"$STATE_DIR/ovsdb-server-monitor.pid"
}

start_vswitchd() {
    drop_stale_pidfile "$OVS_RUNDIR/ovs-vswitchd.pid" ovs-vswitchd
    log "starting ovs-vswitchd"
    # It says "ulimit: error setting limit" here (hard limit 20000 < 65535)
    # and goes on: harmless.
    ovs_ctl --no-ovsdb-server --no-monitor start
    wait_for 10 vswitchd_ok || die "ovs-vswitchd does not answer (see /var/log/openvswitch/ovs-vswitchd.log)"
    printf '%s\n' "$(read_pid "$OVS_RUNDIR/ovs-vswitchd.pid")" >"$STATE_DIR/ovs-vswitchd.pid"
}

start_dockerd() {
    drop_stale_pidfile "$DOCKER_PIDFILE" dockerd
    # dockerd reuses a containerd named in this file if kill(pid, 0) succeeds,
    # which a zombie or a reused PID passes; then it waits for a socket in vain.
    drop_stale_pidfile "$CONTAINERD_PIDFILE" containerd
    log "starting dockerd (log: $STATE_DIR/dockerd.log)"
    if [[ -e $STATE_DIR/dockerd.log ]]; then
        mv -f "$STATE_DIR/dockerd.log" "$STATE_DIR/dockerd.log.1"
    fi
    # vfs: no overlayfs needed; no iptables or docker0: tests attach via OVS.
    # --shutdown-timeout=2: test containers run `sleep` as PID 1, which ignores
    # SIGTERM, so a default stop would take 10+ s per `down`.
    launch_dockerd dockerd docker_ok --storage-driver=vfs --iptables=false --ip6tables=false \
        --bridge=none --shutdown-timeout=2 --pidfile="$DOCKER_PIDFILE"
}

# Start `dockerd ARGS...` with no inherited descriptor, in a session of its
# own; record its PID in $STATE_DIR/NAME.pid, its output in NAME.log, and
# wait until CHECK answers (30 s at most, failing at once if it exits).
launch_dockerd() {
    local name=$1 check=$2
    shift 2
    (
        close_fds
        exec setsid dockerd "$@"
    ) </dev/null >"$STATE_DIR/$name.log" 2>&1 &
    # The subshell execs setsid, and a background job of a script leads no
    # process group, so setsid execs dockerd in place: $! is dockerd's PID.
    local pid=$! tries=300
    printf '%s\n' "$pid" >"$STATE_DIR/$name.pid"
    until "$check"; do
        if ! pid_is "$pid" dockerd; then
            tail -n 20 "$STATE_DIR/$name.log" >&2 || true
            rm -f "$STATE_DIR/$name.pid"
            die "$name exited"
        fi
        ((--tries > 0)) || die "$name does not answer after 30 s (see $STATE_DIR/$name.log)"
        sleep 0.1
    done
}

stock_ok() { docker -H "unix://$STOCK_SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
stock_image_ok() { docker -H "unix://$STOCK_SOCK" image inspect "$IMAGE" >/dev/null 2>&1; }

start_stock_dockerd() {
    mkdir -p "$STOCK_DIR" "$STOCK_DATA"
    drop_stale_pidfile "$STOCK_PIDFILE" dockerd
    drop_stale_pidfile "$STOCK_DIR/exec/containerd/containerd.pid" containerd
    log "starting the stock dockerd (log: $STATE_DIR/stock-dockerd.log)"
    launch_dockerd stock-dockerd stock_ok -H "unix://$STOCK_SOCK" --data-root "$STOCK_DATA" \
        --exec-root "$STOCK_DIR/exec" --pidfile "$STOCK_PIDFILE" --storage-driver=vfs --shutdown-timeout=2
}

up_stock_dockerd() {
    if ! stock_ok; then
        if pid_is "$(read_pid "$STATE_DIR/stock-dockerd.pid")" dockerd; then
            wait_for 30 stock_ok || die "the stock dockerd does not answer (see $STATE_DIR/stock-dockerd.log)"
        else
            start_stock_dockerd
        fi
    fi
    if ! stock_image_ok; then
        log "loading $IMAGE into the stock dockerd"
        docker save "$IMAGE" | docker -H "unix://$STOCK_SOCK" load >/dev/null
    fi
}

build_image() {
    log "building image $IMAGE"
    local dir a
    dir=$(mktemp -d "$STATE_DIR/image.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $dir is local
    trap "rm -rf '$dir'" EXIT
    mkdir -p "$dir"/{bin,etc,root,tmp,var/run,usr/share/udhcpc}
    chmod 1777 "$dir/tmp"
    cp /bin/busybox "$dir/bin/busybox"
    # Every applet busybox has (sh ip ping arping nc udhcpc ...); no ethtool.
    for a in $(busybox --list); do
        [[ $a == busybox ]] || ln -s busybox "$dir/bin/$a"
    done
    ln -s bin "$dir/sbin"
    ln -s ../bin "$dir/usr/bin"
    ln -s ../bin "$dir/usr/sbin"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
    printf 'root:x:0:\n' >"$dir/etc/group"
    : >"$dir/etc/hosts"
    : >"$dir/etc/resolv.conf"
    # udhcpc only prints the lease unless this script applies it.
    cat >"$dir/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
EOF
    chmod 755 "$dir/usr/share/udhcpc/default.script"
    tar -C "$dir" -c . | docker import \
        --change "LABEL ovs-docker-testbed=$IMAGE_REV" \
        --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
        - "$IMAGE" >/dev/null
    rm -rf "$dir"
    trap - EXIT
    docker run --rm --net=none "$IMAGE" true || die "image $IMAGE does not run"
}

# Earlier test runs blackholed all of 203.0.113.0/24, where these machines'
# package mirrors answer (203.0.113.80): apt and cargo then fail. The tests
# now keep to /28s of it that leave the mirrors out.
drop_stale_blackhole() {
    ip route del blackhole 203.0.113.0/24 metric 4000 2>/dev/null || true
}

cmd_up() {
    drop_stale_blackhole
    ensure_packages "$STATE_DIR/apt.log" -- "${PACKAGES[@]}"
    if ! ovsdb_ok; then start_ovsdb; fi
    if ! vswitchd_ok; then start_vswitchd; fi
    if ! docker_ok; then
        # Our own dockerd may still be starting (or saving state): give it time
        # rather than start a second one over its pidfile.
        if pid_is "$(read_pid "$STATE_DIR/dockerd.pid")" dockerd; then
            log "waiting for the dockerd this script started"
            wait_for 30 docker_ok || die "dockerd does not answer (see $STATE_DIR/dockerd.log)"
        else
            start_dockerd
        fi
    fi
    if ! image_ok; then build_image; fi
    up_stock_dockerd
    "$(dirname "${BASH_SOURCE[0]}")/podman-setup.sh" up
    # Sockets of dead OVS daemons pile up in the rundir; drop them.
    local ctl pid
    for ctl in "$OVS_RUNDIR"/*.ctl; do
        [[ -e $ctl ]] || continue
        pid=${ctl%.ctl}
        pid=${pid##*.}
        if [[ $pid =~ ^[0-9]+$ && ! -d /proc/$pid ]]; then rm -f "$ctl"; fi
    done
    log "ready"
}

cmd_status() {
    local rc=0
    if ovsdb_ok; then log "ovsdb-server: up"; else log "ovsdb-server: DOWN"; rc=1; fi
    if vswitchd_ok; then log "ovs-vswitchd: up"; else log "ovs-vswitchd: DOWN"; rc=1; fi
    if docker_ok; then
        log "dockerd: up"
        if image_ok; then log "image $IMAGE: present"; else log "image $IMAGE: MISSING"; rc=1; fi
    else
        log "dockerd: DOWN"
        log "image $IMAGE: unknown"
        rc=1
    fi
    local d
    if stock_ok; then log "stock dockerd: up"; else log "stock dockerd: DOWN"; rc=1; fi
    for d in ovsdb-server ovs-vswitchd dockerd; do
        if pid_is "$(read_pid "$STATE_DIR/$d.pid")" "$d"; then
            log "$d was started by this script (pid $(read_pid "$STATE_DIR/$d.pid"))"
        fi
    done
    return "$rc"
}

# Stop PID if it is still NAME (a recorded PID may have been reused since).
stop_pid() {
    local name=$1 pid=$2 tries=200
    pid_is "$pid" "$name" || return 0
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while pid_is "$pid" "$name" && ((--tries > 0)); do sleep 0.1; done
    if pid_is "$pid" "$name"; then
        log "$name did not stop in 20 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

# Stop a daemon this script started, by the PID it recorded, and forget it.
stop_recorded() { # NAME [RECORD]
    local file=$STATE_DIR/${2:-$1}.pid
    [[ -e $file ]] || return 0
    stop_pid "$1" "$(read_pid "$file")"
    rm -f "$file"
}

# What a dockerd restart does to a test's plugin and containers: only the
# dockerd this script started is stopped, and started again as `up` would.
cmd_restart_dockerd() {
    local pid
    pid=$(read_pid "$STATE_DIR/dockerd.pid")
    pid_is "$pid" dockerd || die "no dockerd started by this script is running (see \`$0 status\`)"
    stop_recorded dockerd
    start_dockerd
    log "dockerd restarted (pid $(read_pid "$STATE_DIR/dockerd.pid"))"
}

cmd_restart_stock_dockerd() {
    pid_is "$(read_pid "$STATE_DIR/stock-dockerd.pid")" dockerd || die "no stock dockerd started by this script is running"
    stop_recorded dockerd stock-dockerd
    start_stock_dockerd
    log "stock dockerd restarted (pid $(read_pid "$STATE_DIR/stock-dockerd.pid"))"
}

cmd_down() {
    # dockerd first: it stops its containers and its own containerd.
    stop_recorded dockerd
    stop_recorded dockerd stock-dockerd
    stop_recorded ovs-vswitchd
    # SIGTERM to the worker ends its monitor too (it restarts only on crashes);
    # the monitor is stopped by PID in case it did not.
    stop_recorded ovsdb-server
    stop_recorded ovsdb-server ovsdb-server-monitor
    log "down"
}

# Managed (v2) plugins of the tests (tests/managed_plugin.rs), by name.
test_managed_plugins() {
    local n
    while read -r n; do
        if [[ $n == "$PREFIX"* ]]; then printf '%s\n' "$n"; fi
    done < <(docker plugin ls --format '{{.Name}}' 2>/dev/null)
}

# dockerd cannot remove a container's endpoint nor a network without its
# driver: enable a leftover test plugin for the time of the cleanup.
enable_test_managed_plugins() {
    local n
    while read -r n; do
        log "enabling leftover test plugin $n for the cleanup"
        docker plugin enable "$n" >/dev/null 2>&1 || true
    done < <(test_managed_plugins)
}

remove_test_managed_plugins() {
    local n
    while read -r n; do
        log "removing managed plugin $n"
        docker plugin rm -f "$n" >/dev/null || log "plugin $n could not be removed"
    done < <(test_managed_plugins)
}

# The packaging test (tests/packaging.rs) installs the ovs-docker package
# and leaves this mark while it is installed; a killed run is undone here:
# purging it gives the upstream script its place back (packaging/deb/postrm).
readonly PACKAGE_MARK=$STATE_DIR/package-under-test
clean_package() {
    [[ -e $PACKAGE_MARK ]] || return 0
    if dpkg-query -W -f='${db:Status-Status}' ovs-docker 2>/dev/null | grep -qv '^not-installed$'; then
        log "purging the ovs-docker package a test installed"
        dpkg --purge ovs-docker >/dev/null || die "dpkg --purge ovs-docker failed"
    fi
    if dpkg-divert --listpackage /usr/bin/ovs-docker 2>/dev/null | grep -qx ovs-docker; then
        log "removing the diversion of /usr/bin/ovs-docker left by a killed dpkg"
        dpkg-divert --package ovs-docker --remove --rename \
            --divert /usr/bin/ovs-docker.upstream /usr/bin/ovs-docker >/dev/null
    fi
    rm -f "$PACKAGE_MARK"
}

# A test's plugin dies with its test, and dockerd cannot remove a network
# (nor disconnect a container from it) without its driver: serve each dead
# ovsdt* driver again for the time of the cleanup. Prints the PIDs started.
start_dead_plugins() {
    local bin d
    bin="$(dirname "${BASH_SOURCE[0]}")/../target/debug/ovs-docker"
    while read -r d; do
        # (Managed plugins, NAME:TAG, are dockerd's: see enable_test_managed_plugins.)
        [[ $d == "$PREFIX"* && $d != *:* && ! -S /run/docker/plugins/$d.sock ]] || continue
        if [[ ! -x $bin ]]; then
            log "no $bin to serve driver $d: its networks are left"
            continue
        fi
        "$bin" plugin --name "$d" --datapath-type=netdev --log-level error </dev/null >/dev/null 2>&1 &
        echo $!
        for _ in $(seq 50); do [[ -S /run/docker/plugins/$d.sock ]] && break; sleep 0.1; done
    done < <(docker network ls --format '{{.Driver}}' | sort -u)
}

# ovsdt* networks (after their containers), then NAT rules whose network
# Docker no longer knows.
clean_networks() {
    local nets=() n
    while read -r n; do
        if [[ $n == "$PREFIX"-* ]]; then nets+=("$n"); fi
    done < <(docker network ls --format '{{.Name}}')
    if ((${#nets[@]})); then
        log "removing networks: ${nets[*]}"
        for n in "${nets[@]}"; do
            timeout 60 docker network rm "$n" >/dev/null 2>&1 || log "network $n could not be removed"
        done
    fi
    command -v nft >/dev/null || return 0
    local line id chain="" handle
    while read -r line; do
        case $line in
            chain\ *) chain=${line#chain }; chain=${chain%% *} ;;
            *'comment "ovs-docker:'*'# handle '*)
                id=${line#*comment \"ovs-docker:}; id=${id%%\"*}
                handle=${line##*# handle }
                if ! docker network inspect "$id" >/dev/null 2>&1; then
                    log "removing nf_tables rule $chain/$handle of gone network ${id:0:12}"
                    nft delete rule ip ovs-docker "$chain" handle "$handle" || true
                fi ;;
        esac
    done < <(nft -a list table ip ovs-docker 2>/dev/null)
    # What the plugin added to iptables' FORWARD chain (see src/sys/nftables.rs).
    chain=""
    while read -r line; do
        case $line in
            chain\ *) chain=${line#chain }; chain=${chain%% *} ;;
            *'comment "ovs-docker:'*'# handle '*)
                id=${line#*comment \"ovs-docker:}; id=${id%%\"*}
                handle=${line##*# handle }
                if ! docker network inspect "$id" >/dev/null 2>&1 &&
                    ! { stock_ok && docker -H "unix://$STOCK_SOCK" network inspect "$id" >/dev/null 2>&1; }; then
                    log "removing iptables rule $chain/$handle of gone network ${id:0:12}"
                    nft delete rule ip filter "$chain" handle "$handle" || true
                fi ;;
        esac
    done < <(nft -a list table ip filter 2>/dev/null)
}

# What a killed multi-host test left: its daemons (by the PIDs in its
# pidfiles, if still those daemons), its namespaces, its folder.
clean_multihost() {
    local dir id pidfile name ns
    for dir in "$MULTIHOST_DIR"/*/; do
        [[ -d $dir ]] || continue
        dir=${dir%/}
        id=${dir##*/}
        log "removing simulated hosts $id"
        while IFS= read -r pidfile; do
            for name in ovn-controller ovs-vswitchd ovsdb-server ovn-northd; do
                if pid_is "$(read_pid "$pidfile")" "$name"; then
                    stop_pid "$name" "$(read_pid "$pidfile")"
                fi
            done
        done < <(find "$dir" -name '*.pid')
        while read -r ns _; do
            if [[ $ns == "$PREFIX-h$id-"* ]]; then ip netns del "$ns" || true; fi
        done < <(ip netns list)
        rm -rf "$dir"
    done
}

cmd_clean() {
    drop_stale_blackhole
    "$(dirname "${BASH_SOURCE[0]}")/podman-setup.sh" clean
    clean_multihost
    clean_package
    # The stock dockerd's test containers and networks (its plugins must
    # serve: start_dead_plugins looks at the main dockerd only).
    if stock_ok; then
        local stock=(docker -H "unix://$STOCK_SOCK") c
        while read -r c; do
            if [[ $c == "$PREFIX"-* ]]; then "${stock[@]}" rm -f "$c" >/dev/null 2>&1 || true; fi
        done < <("${stock[@]}" ps -a --format '{{.Names}}')
        while read -r c; do
            if [[ $c == "$PREFIX"-* ]]; then timeout 60 "${stock[@]}" network rm "$c" >/dev/null 2>&1 || true; fi
        done < <("${stock[@]}" network ls --format '{{.Name}}')
    fi
    # A killed stock-firewall test leaves the FORWARD policy at DROP.
    if [[ -e $STATE_DIR/forward-policy-dropped ]]; then
        log "giving the FORWARD policy back (ACCEPT)"
        iptables -P FORWARD ACCEPT || true
        rm -f "$STATE_DIR/forward-policy-dropped"
    fi
    local names=() bridges=() n plugins=()
    if docker_ok; then
        enable_test_managed_plugins
        mapfile -t plugins < <(start_dead_plugins)
        while read -r n; do
            if [[ $n == "$PREFIX"-* ]]; then names+=("$n"); fi
        done < <(docker ps -a --format '{{.Names}}')
        if ((${#names[@]})); then
            log "removing containers: ${names[*]}"
            # One may go away meanwhile (its test removed it): that is fine.
            docker rm -f "${names[@]}" >/dev/null 2>&1 || true
            for n in "${names[@]}"; do
                if docker container inspect "$n" >/dev/null 2>&1; then
                    die "container $n could not be removed"
                fi
            done
        fi
        clean_networks
        remove_test_managed_plugins
        for n in "${plugins[@]}"; do kill "$n" 2>/dev/null || true; wait "$n" 2>/dev/null || true; done
    else
        log "dockerd does not answer: containers and networks left alone"
    fi
    # Namespaces of the plugin tests ("outside" hosts, uplink routers); their
    # veths go with them.
    while read -r n _; do
        if [[ $n == "$PREFIX"* ]]; then
            log "removing network namespace $n"
            ip netns del "$n" || true
        fi
    done < <(ip netns list 2>/dev/null)
    if ovsdb_ok; then
        while read -r n; do
            if [[ $n == "$PREFIX"* ]]; then bridges+=("$n"); fi
        done < <(ovs-vsctl --timeout=5 list-br)
        if ((${#bridges[@]})); then
            log "removing bridges: ${bridges[*]}"
            local args=()
            for n in "${bridges[@]}"; do args+=(-- --if-exists del-br "$n"); done
            ovs-vsctl --timeout=10 "${args[@]}"
        fi
    else
        log "ovsdb-server does not answer: bridges left alone"
    fi
}

main() {
    local cmd=${1:-}
    [[ $EUID -eq 0 ]] || die "run as root"
    mkdir -p "$STATE_DIR"
    # One testbed.sh at a time: two `up`s would start two dockerds.
    exec 9>"$STATE_DIR/lock"
    flock -w 120 9 || die "another testbed.sh holds $STATE_DIR/lock"
    case $cmd in
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        clean) cmd_clean ;;
        restart-dockerd) cmd_restart_dockerd ;;
        restart-stock-dockerd) cmd_restart_stock_dockerd ;;
        *) die "usage: $0 up|down|status|clean|restart-dockerd|restart-stock-dockerd" ;;
    esac
}

main "$@"
