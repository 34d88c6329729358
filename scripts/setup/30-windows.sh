#!/usr/bin/env bash
# Windows toolchain for TelephonyBridge on Debian bookworm (idempotent, quiet).
#
# Installs, when absent:
#   - Debian's Rust 1.96 (rustc-web, cargo-web, rust-web-src): rustup cannot download Windows
#     targets here, so std is built from this source with -Zbuild-std (see scripts/windows/build.sh);
#   - MinGW-w64 cross compilers for x86_64 and i686;
#   - wine + wine64 (runs the x64 test binaries);
#   - a private 32-bit Wine (runs the i686 test binaries) unpacked from i386 .deb files into
#     $TB_WINE32_DIR, because wine32:i386 cannot be installed through apt on our mirror; the system's
#     dpkg architecture list is left untouched (a private apt state fetches the i386 index).
# Builds rsbegin.o/rsend.o for i686 (the Debian std source has them only as source).
#
# Env: TB_WINE32=0 skips the private 32-bit Wine. TB_WINE32_DIR overrides where it lives.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../windows/env.sh
source "$SCRIPT_DIR/../windows/env.sh"

fail() { echo "30-windows.sh: ERROR: $*" >&2; exit 1; }
note() { echo "30-windows.sh: $*" >&2; }

[ -r /etc/debian_version ] || fail "this script supports Debian (bookworm) only; install by hand: rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 wine wine64 patchelf binutils-mingw-w64"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: run as root or install the packages listed in $0"
    SUDO="sudo"
fi

APT_PACKAGES=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 gcc-mingw-w64-i686
              binutils-mingw-w64-x86-64 binutils-mingw-w64-i686 wine wine64 patchelf zstd)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
    note "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed"
    if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tb-30-windows-apt.log 2>&1; then
        tail -n 30 /tmp/tb-30-windows-apt.log >&2
        fail "apt-get install failed for: ${missing[*]} (full log: /tmp/tb-30-windows-apt.log)"
    fi
fi

# Sanity checks on what the build needs: fail with the exact missing piece.
[ -x "$TB_RUSTC" ] || fail "$TB_RUSTC missing (package rustc-web)"
[ -x "$TB_CARGO" ] || fail "$TB_CARGO missing (package cargo-web)"
[ -d "$TB_RUST_SRC/library/std" ] || fail "$TB_RUST_SRC/library/std missing (package rust-web-src)"
for t in x86_64 i686; do
    command -v "$t-w64-mingw32-gcc" >/dev/null || fail "$t-w64-mingw32-gcc missing (package gcc-mingw-w64-${t/_/-})"
done
command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ] || fail "wine64 missing (package wine64)"

# rsbegin.o / rsend.o for i686: rustc links them into every i686-*-windows-gnu image (they register
# the DWARF unwind tables). rustup ships them prebuilt; Debian's source package does not.
rtstartup_stamp="$TB_RTSTARTUP_DIR/.rustc-version"
rustc_version=$("$TB_RUSTC" -V)
if [ ! -f "$TB_RTSTARTUP_DIR/rsbegin.o" ] || [ ! -f "$TB_RTSTARTUP_DIR/rsend.o" ] \
   || [ "$(cat "$rtstartup_stamp" 2>/dev/null)" != "$rustc_version" ]; then
    mkdir -p "$TB_RTSTARTUP_DIR"
    for obj in rsbegin rsend; do
        RUSTC_BOOTSTRAP=1 "$TB_RUSTC" --target i686-win7-windows-gnu --emit=obj -O \
            -C panic=abort --crate-type lib \
            -o "$TB_RTSTARTUP_DIR/$obj.o" "$TB_RUST_SRC/library/rtstartup/$obj.rs" \
            || fail "could not compile $TB_RUST_SRC/library/rtstartup/$obj.rs"
    done
    echo "$rustc_version" >"$rtstartup_stamp"
fi

# Private 32-bit Wine ----------------------------------------------------------------------------
if [ "${TB_WINE32:-1}" != "0" ] && [ ! -f "$TB_WINE32_DIR/.complete" ]; then
    "$SCRIPT_DIR/../windows/install-wine32.sh" || fail "private 32-bit Wine could not be set up (TB_WINE32=0 skips it; i686 tests then cannot run)"
fi
exit 0
