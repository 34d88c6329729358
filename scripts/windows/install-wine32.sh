#!/usr/bin/env bash
# A private 32-bit Wine for running i686 test binaries, without touching the system's dpkg setup.
#
# wine32:i386 cannot be installed through apt on our bookworm mirror (multiarch i386 is not
# enabled and its dependency chain conflicts), so the i386 .debs are fetched with a private apt
# state (own lists, architecture i386, only the Debian sources of this machine), unpacked into
# $TB_WINE32_DIR/root, and the 32-bit loader is patched (patchelf) to use the unpacked
# ld-linux.so.2 and libraries. The system wine64 supplies the wineserver (a 64-bit server serves
# 32-bit clients). Result: $TB_WINE32_DIR/bin/wine32, used by scripts/windows/wine-run.sh.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

fail() { echo "install-wine32.sh: ERROR: $*" >&2; exit 1; }

# Only what a console test program needs. Not FreeType: with libfreetype6:i386 present, wineboot
# loops forever respawning `explorer.exe /desktop` ("failed to create desktop window") on a
# machine without X; without it Wine only prints a FreeType warning (wine-run.sh filters it).
PACKAGES=(wine32 libwine libc6 libgcc-s1)

command -v patchelf >/dev/null || fail "patchelf missing (apt: patchelf)"
[ -x /usr/lib/wine/wineserver64 ] || fail "/usr/lib/wine/wineserver64 missing (apt: wine64)"
[ -f /usr/i686-w64-mingw32/lib/zlib1.dll ] || fail "/usr/i686-w64-mingw32/lib/zlib1.dll missing (apt: libz-mingw-w64)"

wine64_version=$(dpkg-query -W -f='${Version}' wine64 2>/dev/null) || fail "wine64 is not installed (apt: wine64)"

work="$TB_WINE32_DIR.tmp"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/sources.list.d" \
         "$work/debs" "$work/root" "$work/bin"

# Only Debian's own repositories: third-party ones usually have no i386 index, and a failed
# index makes `apt-get update` fail.
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
# Our mirror serves a stale bookworm-security i386 index ("File has unexpected size"); apt then
# keeps the other indexes, which hold everything needed, so a partial update is accepted here
# and a missing package is reported by the download step below.
apt-get "${apt_private[@]}" update >"$work/apt.log" 2>&1 || true

# The 32-bit Wine must be the same version as the system's wine64 (they share the wineserver
# protocol).
wine32_version=$(apt-cache "${apt_private[@]}" show wine32 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[ "$wine32_version" = "$wine64_version" ] \
    || fail "wine32:i386 version '$wine32_version' differs from installed wine64 '$wine64_version'"

(cd "$work/debs" && apt-get "${apt_private[@]}" download "${PACKAGES[@]}" >>"$work/apt.log" 2>&1) \
    || { tail -n 30 "$work/apt.log" >&2; fail "apt-get download ${PACKAGES[*]} (i386) failed"; }
for deb in "$work/debs"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done

root="$TB_WINE32_DIR/root"
loader="$work/root/usr/lib/wine/wine"
[ -f "$loader" ] || fail "unpacked wine32 has no usr/lib/wine/wine"
# Paths are patched for the final location ($TB_WINE32_DIR), the tree is moved there below.
patchelf --set-interpreter "$root/lib/i386-linux-gnu/ld-linux.so.2" \
         --set-rpath "$root/lib/i386-linux-gnu:$root/usr/lib/i386-linux-gnu" "$loader"

# What libwine's postinst does: zlib1.dll from libz-mingw-w64, marked as a Wine builtin DLL.
zlib_in=/usr/i686-w64-mingw32/lib/zlib1.dll
zlib_out="$work/root/usr/lib/i386-linux-gnu/wine/i386-windows/zlib1.dll"
{ head -c 64 "$zlib_in"; printf 'Wine builtin DLL'; head -c 16 /dev/zero; tail -c +97 "$zlib_in"; } >"$zlib_out"

cat >"$work/bin/wine32" <<WRAPPER
#!/bin/sh
# Private 32-bit Wine (made by scripts/windows/install-wine32.sh).
export LD_LIBRARY_PATH="$root/lib/i386-linux-gnu:$root/usr/lib/i386-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export WINELOADER="$root/usr/lib/wine/wine"
export WINESERVER="\${WINESERVER:-/usr/lib/wine/wineserver64}"
exec "$root/usr/lib/wine/wine" "\$@"
WRAPPER
chmod +x "$work/bin/wine32"
rm -rf "$work/apt" "$work/debs"

rm -rf "$TB_WINE32_DIR"
mv "$work" "$TB_WINE32_DIR"

version=$("$TB_WINE32_DIR/bin/wine32" --version 2>&1) || fail "the private 32-bit Wine does not start: $version"
echo "$version ($wine32_version)" >"$TB_WINE32_DIR/.complete"
