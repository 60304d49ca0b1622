# Sourced by scripts/testbed.sh and scripts/podman-setup.sh: the one way the
# test bed installs Debian packages. The caller defines log and die.

# ensure_packages LOG [APT-GET-INSTALL-OPTION...] -- PACKAGE...
# Install the packages that are not installed yet, output to LOG.
ensure_packages() {
    local out=$1 opts=() missing=() p status
    shift
    while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || status=
        [[ $status == installed ]] || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]} (log: $out)"
    # No prompts (CI has no stdin); needrestart would only chatter here.
    export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
    if ! { apt-get update -q && apt-get install -y -q "${opts[@]}" "$@"; } </dev/null >"$out" 2>&1; then
        tail -n 30 "$out" >&2
        die "package install failed"
    fi
}
