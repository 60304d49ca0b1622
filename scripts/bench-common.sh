# Sourced by scripts/bench-plugin.sh and scripts/bench-ovn.sh: what both time.

# Median wall time in ms of $runs `docker run --rm ARGS busybox:local true`.
median_ms() {
    local times=() i t0 t1
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        docker run --rm "$@" busybox:local true >/dev/null
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
