#!/usr/bin/env bash
# Linux toolchain for TelephonyBridge (idempotent, quiet).
#
# Installs, when absent or another version:
#   - ziglang + cargo-zigbuild from PyPI into a venv ($TB_ZIG_VENV, default .tools/zig): Zig links
#     the Linux binaries against glibc 2.17's symbol set (targets x86_64-unknown-linux-gnu.2.17 and
#     i686-unknown-linux-gnu.2.17, see scripts/linux/build.sh);
#   - a private 32-bit glibc + libgcc_s from Debian's i386 packages into $TB_I386_DIR (runs the i686
#     test binaries; scripts/linux/install-i386.sh), without touching the system's dpkg
#     architectures.
#   - Debian's Rust 1.96 and its std source (rustc-web, cargo-web, rust-web-src; the same packages
#     scripts/setup/30-windows.sh installs): the i686 std is built from source, rustup cannot
#     download the target here; binutils (readelf, for scripts/linux/check-so.sh).
#
# Env: TB_TOOLS_DIR overrides .tools; TB_LINUX32=0 skips the private 32-bit glibc.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../linux/env.sh
source "$SCRIPT_DIR/../linux/env.sh"

fail() { echo "40-linux.sh: ERROR: $*" >&2; exit 1; }
note() { echo "40-linux.sh: $*" >&2; }

APT_PACKAGES=(rustc-web cargo-web rust-web-src binutils python3-venv)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ -r /etc/debian_version ] || fail "not Debian: install by hand Rust 1.96 with its std source (for i686), binutils, python3-venv"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: install ${missing[*]} (apt)"
        SUDO="sudo"
    fi
    note "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed"
    if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tb-40-linux-apt.log 2>&1; then
        tail -n 30 /tmp/tb-40-linux-apt.log >&2
        fail "apt-get install failed for: ${missing[*]} (full log: /tmp/tb-40-linux-apt.log)"
    fi
fi
[ -d "$TB_RUST_SRC/library/std" ] || fail "$TB_RUST_SRC/library/std missing (package rust-web-src)"

stamp="$TB_ZIG_VENV/.versions"
wanted="ziglang==$TB_ZIGLANG_VERSION cargo-zigbuild==$TB_CARGO_ZIGBUILD_VERSION"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -x "$TB_ZIG_VENV/bin/cargo-zigbuild" ]; then
    command -v python3 >/dev/null || fail "python3 missing (apt: python3 python3-venv)"
    note "installing $wanted into $TB_ZIG_VENV"
    rm -rf "$TB_ZIG_VENV"
    python3 -m venv "$TB_ZIG_VENV" || fail "python3 -m venv failed (apt: python3-venv)"
    log=$(mktemp)
    # shellcheck disable=SC2086
    if ! "$TB_ZIG_VENV/bin/pip" install -q --disable-pip-version-check $wanted >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        fail "pip install $wanted failed"
    fi
    rm -f "$log"
    echo "$wanted" >"$stamp"
fi
# cargo-zigbuild looks for `zig` on PATH or runs `python -m ziglang`; the venv has the latter.
"$TB_ZIG_VENV/bin/python" -m ziglang version >/dev/null 2>&1 || fail "zig from $TB_ZIG_VENV does not run"

if [ "${TB_LINUX32:-1}" != "0" ] && [ ! -f "$TB_I386_DIR/.complete" ]; then
    bash "$SCRIPT_DIR/../linux/install-i386.sh" \
        || fail "private 32-bit glibc could not be set up (TB_LINUX32=0 skips it; the i686 tests then cannot run)"
fi
exit 0
