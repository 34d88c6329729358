#!/usr/bin/env bash
# Build (or test/run/check) a crate for one Linux target, linked by Zig against glibc 2.17.
#
#   scripts/linux/build.sh <target> [cargo-subcommand] [cargo args...]
#     target:      x86_64-unknown-linux-gnu | i686-unknown-linux-gnu (aliases: x64, x86)
#     subcommand:  build (default), test, run, check, clippy, rustc
#   e.g. scripts/linux/build.sh x64 --release -p telephony-bridge --lib
#        scripts/linux/build.sh x86 test --release -p telephony-bridge --lib --tests
#
# What it sets, and why:
#   - cargo-zigbuild with the target `<triple>.2.17`: Zig links against the glibc 2.17 symbol set,
#     so the library loads on CentOS 7 and every later distribution (a plain cargo build on this
#     Debian 12 imports GLIBC_2.34 symbols). Zig also links its own unwinder (libunwind) into the
#     library, so it needs no libgcc_s. scripts/linux/check-so.sh verifies the result.
#   - both targets the same way as scripts/windows/build.sh: Debian's /usr/bin/cargo + rustc 1.96,
#     RUSTC_BOOTSTRAP=1, -Zbuild-std=std,panic_abort with Debian's rust-web-src. i686 has to (no
#     prebuilt std can be downloaded here); x86_64 does it for size: std is then compiled with the
#     release profile (opt-level "s", fat LTO together with our code) and without its backtrace
#     symbolizer (-Zbuild-std-features=panic-unwind,optimize_for_size; TB_LINUX_STD_FEATURES
#     overrides): -0.27 MB. A panic is still caught at the FFI boundary and its message kept; only
#     the RUST_BACKTRACE printout on the 1C process's stderr loses its symbol names.
#     panic_abort is only built because std's build requires it; the add-in keeps panic=unwind.
#   - CARGO_TARGET_DIR=target/linux (x86_64) and target/linux32 (i686), separate from the host
#     target dir, so the two compilers (rustup / Debian) never invalidate each other's artifacts.
#   - i686: test binaries run through scripts/linux/run-i686.sh (the private 32-bit glibc from
#     scripts/setup/40-linux.sh).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage

target=$1; shift
case "$target" in
    x64|x86_64|x86_64-unknown-linux-gnu) target=x86_64-unknown-linux-gnu; arch=x86_64 ;;
    x86|i686|i686-unknown-linux-gnu)     target=i686-unknown-linux-gnu;   arch=i686 ;;
    *) echo "build.sh: unknown target '$target' (x86_64-unknown-linux-gnu or i686-unknown-linux-gnu)" >&2; exit 2 ;;
esac

subcommand=build
if [ $# -ge 1 ]; then
    case "$1" in build|test|run|check|clippy|rustc) subcommand=$1; shift ;; esac
fi
# cargo-zigbuild names its build command `zigbuild`; the others keep cargo's names.
[ "$subcommand" = build ] && subcommand=zigbuild

zigbuild="$TB_ZIG_VENV/bin/cargo-zigbuild"
missing=()
[ -x "$zigbuild" ] || missing+=("$zigbuild (pip: cargo-zigbuild, ziglang)")
[ -x "$TB_CARGO" ] || missing+=("$TB_CARGO (apt: cargo-web)")
[ -x "$TB_RUSTC" ] || missing+=("$TB_RUSTC (apt: rustc-web)")
[ -d "$TB_RUST_SRC/library/std" ] || missing+=("$TB_RUST_SRC (apt: rust-web-src)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: missing: ${missing[*]}" >&2
    echo "build.sh: run scripts/setup/40-linux.sh (as root) to install them" >&2
    exit 1
fi

upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
# A RUSTFLAGS from the caller would override the per-target flags for every target.
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
# cargo-zigbuild runs `python -m ziglang` from its own venv when no `zig` is on PATH.
export PATH="$TB_ZIG_VENV/bin:$PATH"
export CARGO="$TB_CARGO"
export RUSTC="$TB_RUSTC"
export RUSTDOC="${TB_RUSTDOC:-/usr/bin/rustdoc}"
export RUSTC_BOOTSTRAP=1
if [ "$arch" = x86_64 ]; then
    export CARGO_TARGET_DIR="${TB_LINUX_TARGET_DIR:-$TB_LINUX_ROOT/target/linux}"
else
    export CARGO_TARGET_DIR="${TB_LINUX32_TARGET_DIR:-$TB_LINUX_ROOT/target/linux32}"
    export "CARGO_TARGET_${upper}_RUNNER=$SCRIPT_DIR/run-i686.sh"
fi
# Debian's cargo must be the one cargo-zigbuild drives (it runs the first `cargo` on PATH).
shim="$TB_LINUX_CACHE/cargo-shim"
mkdir -p "$shim"
ln -sf "$TB_CARGO" "$shim/cargo"
export PATH="$shim:$PATH"
extra=(-Zbuild-std=std,panic_abort "-Zbuild-std-features=${TB_LINUX_STD_FEATURES-panic-unwind,optimize_for_size}")

exec "$zigbuild" "$subcommand" --target "$target.$TB_GLIBC_FLOOR" "${extra[@]}" "$@"
