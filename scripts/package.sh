#!/usr/bin/env bash
# Build the Debian package ovs-docker_VERSION_ARCH.deb from this source tree
# with dpkg-deb from a staged tree (no tool beyond dpkg and cargo), and print
# its path as the last line.
#
#   scripts/package.sh [--binary PATH] [--out DIR] [--compression TYPE]
#
#   --binary PATH       package this already built binary instead of running
#                       `cargo build --release --locked` (the tests pass their
#                       debug build; it is stripped like the release one)
#   --out DIR           where the .deb goes (default target/debian)
#   --compression TYPE  dpkg-deb -Z: xz (default), gzip, zstd or none (the
#                       tests use gzip: xz takes 13 s on a debug build)
#
# What goes where, and the diversion of the upstream script to
# /usr/bin/ovs-docker.upstream: see packaging/deb/ and README ("Install").
# Maintainer: $DEBFULLNAME <$DEBEMAIL> if both are set (Debian's usual
# variables), else the one in packaging/deb/changelog.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly SRC=$PWD
readonly PKG=ovs-docker

die() { printf 'package.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'package.sh: %s\n' "$*" >&2; }

binary= out=$SRC/target/debian compression=xz
while (($#)); do
    case $1 in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --out) out=${2:?--out needs a folder}; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        --compression) compression=${2:?--compression needs a type}; shift 2 ;;
        --compression=*) compression=${1#*=}; shift ;;
        -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

for tool in dpkg-deb dpkg strip gzip md5sum; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg binutils gzip coreutils)"
done

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
[[ -n $version ]] || die "no version in Cargo.toml"
# The changelog's latest entry must be this version: the package's history
# is what `apt changelog` and lintian read.
changelog_version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' packaging/deb/changelog)
[[ $changelog_version == "$version" ]] ||
    die "packaging/deb/changelog starts with version '$changelog_version', Cargo.toml says '$version': add an entry"
arch=$(dpkg --print-architecture)

if [[ -z $binary ]]; then
    if ! command -v cargo >/dev/null; then export PATH="$HOME/.cargo/bin:$PATH"; fi
    log "building the release binary (cargo build --release --locked)"
    cargo build --release --locked >&2
    binary=$SRC/target/release/ovs-docker
fi
[[ -x $binary ]] || die "$binary is not an executable"
# The package's version must be what the binary says it is.
got=$("$binary" --version) || die "$binary --version failed"
[[ $got == "ovs-docker $version" ]] || die "$binary says '$got', expected 'ovs-docker $version'"

mkdir -p "$out"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

# Files: install -D makes the folders; modes are set here, owners by
# dpkg-deb --root-owner-group.
install -D -m 0755 "$binary" "$stage/usr/bin/ovs-docker"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/ovs-docker"
install -d -m 0755 "$stage/usr/share/man/man1" "$stage/usr/share/doc/$PKG"
gzip -9n <man/ovs-docker.1 >"$stage/usr/share/man/man1/ovs-docker.1.gz"
gzip -9n <packaging/deb/changelog >"$stage/usr/share/doc/$PKG/changelog.gz"
install -m 0644 packaging/deb/copyright "$stage/usr/share/doc/$PKG/copyright"
install -D -m 0644 completions/ovs-docker.bash "$stage/usr/share/bash-completion/completions/ovs-docker"
install -D -m 0644 completions/_ovs-docker "$stage/usr/share/zsh/vendor-completions/_ovs-docker"
install -D -m 0644 completions/ovs-docker.fish "$stage/usr/share/fish/vendor_completions.d/ovs-docker.fish"
# The units name /usr/local/bin (a `cargo build` installed by hand); the
# package's binary is in /usr/bin. Installed, not enabled. Enabled, they are
# wanted by multi-user.target only (lintian finds WantedBy=docker.service
# unusual); Before=docker.service still starts the plugin first at boot.
for unit in scripts/systemd/*.service; do
    install -d -m 0755 "$stage/lib/systemd/system"
    sed -e 's#/usr/local/bin/ovs-docker#/usr/bin/ovs-docker#g' \
        -e 's#^WantedBy=multi-user.target docker.service$#WantedBy=multi-user.target#' \
        -e 's#^\(\# Install: \).*#\1installed by the ovs-docker package, not enabled: systemctl enable --now '"${unit##*/}"'#' \
        -e '/^\#          systemctl daemon-reload/d' \
        "$unit" >"$stage/lib/systemd/system/${unit##*/}"
    chmod 0644 "$stage/lib/systemd/system/${unit##*/}"
done

# Library dependencies as dpkg-gencontrol would compute them.
shlibs=
if command -v dpkg-shlibdeps >/dev/null; then
    tmp=$(mktemp -d)
    mkdir "$tmp/debian"
    printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" >"$tmp/debian/control"
    shlibs=$(cd "$tmp" && dpkg-shlibdeps -O "$stage/usr/bin/ovs-docker" 2>/dev/null |
        sed -n 's/^shlibs:Depends=//p') || shlibs=
    rm -rf "$tmp"
fi
if [[ -z $shlibs ]]; then
    # Without dpkg-dev: the C library this machine has, at least.
    libc=$(dpkg-query -W -f='${Version}' libc6 2>/dev/null | sed 's/-.*//')
    shlibs="libc6${libc:+ (>= $libc)}"
fi

maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' packaging/deb/changelog | head -n 1)
if [[ -n ${DEBFULLNAME:-} && -n ${DEBEMAIL:-} ]]; then maintainer="$DEBFULLNAME <$DEBEMAIL>"; fi
size=$(du -sk --apparent-size "$stage" | cut -f1)

install -d -m 0755 "$stage/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$size|" -e "s|@SHLIBS@|$shlibs|" \
    packaging/deb/control.in >"$stage/DEBIAN/control"
install -m 0755 packaging/deb/preinst packaging/deb/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +

deb=$out/${PKG}_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z$compression" --build "$stage" "$deb" >&2
printf '%s\n' "$deb"
