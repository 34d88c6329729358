#!/usr/bin/env bash
# A private 32-bit glibc and libgcc_s for running the i686 Linux test binaries, without touching
# the system's dpkg setup (the same private apt state as scripts/windows/install-wine32.sh).
#
# The i386 .debs libc6 and libgcc-s1 are fetched with a private apt state (own lists, architecture
# i386, only the Debian sources of this machine) and unpacked into $TB_I386_DIR/root. Programs run
# through $TB_I386_DIR/root/lib/i386-linux-gnu/ld-linux.so.2 --library-path ... (see
# scripts/linux/run-i686.sh); nothing is installed system-wide.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

fail() { echo "install-i386.sh: ERROR: $*" >&2; exit 1; }

PACKAGES=(libc6 libgcc-s1)

work="$TB_I386_DIR.tmp"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sources.list.d" \
         "$work/debs" "$work/root"

# Only Debian's own repositories: third-party ones usually have no i386 index, and a failed index
# makes `apt-get update` fail.
: >"$work/apt/sources.list"
if [ -f /etc/apt/sources.list ] && grep -q '^deb .*debian' /etc/apt/sources.list; then
    grep '^deb .*debian' /etc/apt/sources.list >"$work/apt/sources.list"
fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if grep -Eq '(deb|security)\.debian\.org|/debian(-security)?/?( |$)' "$f"; then
        cp "$f" "$work/apt/sources.list.d/"
    fi
done
[ -s "$work/apt/sources.list" ] || ls "$work/apt/sources.list.d/"* >/dev/null 2>&1 \
    || fail "no Debian apt source found in /etc/apt/sources.list{,.d}"

apt_private=(-o APT::Architecture=i386 -o APT::Architectures::=i386
             -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache"
             -o Dir::State::status=/dev/null -o Dir::Etc::SourceList="$work/apt/sources.list"
             -o Dir::Etc::SourceParts="$work/apt/sources.list.d" -o Debug::NoLocking=1
             -o APT::Sandbox::User=root -q=2)
# A stale index on one mirror (seen on bookworm-security) fails `update` while the others hold all
# we need; a package that is really missing fails the download step below.
apt-get "${apt_private[@]}" update >"$work/apt.log" 2>&1 || true

(cd "$work/debs" && apt-get "${apt_private[@]}" download "${PACKAGES[@]}" >>"$work/apt.log" 2>&1) \
    || { tail -n 30 "$work/apt.log" >&2; fail "apt-get download ${PACKAGES[*]} (i386) failed"; }
for deb in "$work/debs"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
versions=$(for deb in "$work/debs"/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done | paste -sd',')
rm -rf "$work/apt" "$work/debs"

[ -f "$work/root/lib/i386-linux-gnu/ld-linux.so.2" ] || fail "unpacked libc6:i386 has no lib/i386-linux-gnu/ld-linux.so.2"
[ -f "$work/root/lib/i386-linux-gnu/libgcc_s.so.1" ] || fail "unpacked libgcc-s1:i386 has no lib/i386-linux-gnu/libgcc_s.so.1"

rm -rf "$TB_I386_DIR"
mv "$work" "$TB_I386_DIR"
# Smoke test: the private loader runs and reports its glibc.
"$TB_I386_DIR/root/lib/i386-linux-gnu/ld-linux.so.2" --version >/dev/null 2>&1 \
    || fail "the private 32-bit loader does not start"
echo "$versions" >"$TB_I386_DIR/.complete"
