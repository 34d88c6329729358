#!/usr/bin/env bash
# Build (or test/run/check) a crate for one Windows target with Debian's Rust 1.96 and MinGW-w64.
#
#   scripts/windows/build.sh <target> [cargo-subcommand] [cargo args...]
#     target:      x86_64-win7-windows-gnu | i686-win7-windows-gnu (aliases: x64, x86)
#     subcommand:  build (default), test, run, check, clippy, rustc, doc
#   e.g. scripts/windows/build.sh x64 --release -p telephony-bridge
#        scripts/windows/build.sh x86 test --release -p addin-host
#
# What it sets, and why:
#   - /usr/bin/cargo + /usr/bin/rustc (1.96), RUSTC_BOOTSTRAP=1, -Zbuild-std=std,panic_abort: no
#     prebuilt std exists for the *-win7-windows-gnu targets; std is built from rust-web-src.
#     panic_abort is only built because std's build requires it; the add-in keeps panic=unwind.
#   - CARGO_TARGET_DIR=<workspace>/target/windows: separate from the host target dir, so the two
#     compilers (rustup 1.95 / Debian 1.96) never invalidate each other's artifacts.
#   - linker = <arch>-w64-mingw32-gcc; -C target-feature=+crt-static: links libgcc_eh and
#     libwinpthread statically, so the DLL imports only system DLLs (checked by check-dll.sh).
#   - i686: -L native=<dir with rsbegin.o/rsend.o> (built by scripts/setup/30-windows.sh).
#   - runner = scripts/windows/wine-run.sh (x64: wine64; i686: the private 32-bit Wine).
#   - release opt-level "s" (TB_WINDOWS_OPT_LEVEL overrides): the DLLs come out ~22% smaller
#     (x64 2.05 MB -> 1.59 MB with the ConnectAgent transport) and stay under the 2 MB aim; the
#     add-in waits on pipes and sockets, so speed is not what -O3 would buy. Since the workspace
#     release profile is opt-level "s" too, this only matters for TB_WINDOWS_OPT_LEVEL experiments.
#   - std without its backtrace symbolizer, as on Linux (-Zbuild-std-features=panic-unwind,
#     optimize_for_size; TB_WINDOWS_STD_FEATURES overrides; docs/windows.md «Размер»): std is then
#     compiled with the release profile inside the same fat LTO and drops the DWARF/gimli reader.
#     A panic is still caught at the FFI boundary with its message; only the RUST_BACKTRACE printout
#     on the 1C process's stderr loses its symbol names.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage

target=$1; shift
case "$target" in
    x64|x86_64|x86_64-win7-windows-gnu) target=x86_64-win7-windows-gnu; arch=x86_64 ;;
    x86|i686|i686-win7-windows-gnu)     target=i686-win7-windows-gnu;   arch=i686 ;;
    *) echo "build.sh: unknown target '$target' (x86_64-win7-windows-gnu or i686-win7-windows-gnu)" >&2; exit 2 ;;
esac

subcommand=build
if [ $# -ge 1 ]; then
    case "$1" in build|test|run|check|clippy|rustc|doc|bench) subcommand=$1; shift ;; esac
fi

missing=()
[ -x "$TB_CARGO" ] || missing+=("$TB_CARGO (apt: cargo-web)")
[ -x "$TB_RUSTC" ] || missing+=("$TB_RUSTC (apt: rustc-web)")
[ -d "$TB_RUST_SRC/library/std" ] || missing+=("$TB_RUST_SRC (apt: rust-web-src)")
command -v "$arch-w64-mingw32-gcc" >/dev/null || missing+=("$arch-w64-mingw32-gcc (apt: gcc-mingw-w64-${arch/_/-})")
if [ "$arch" = i686 ] && [ ! -f "$TB_RTSTARTUP_DIR/rsbegin.o" ]; then
    missing+=("$TB_RTSTARTUP_DIR/rsbegin.o")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: missing: ${missing[*]}" >&2
    echo "build.sh: run scripts/setup/30-windows.sh (as root) to install them" >&2
    exit 1
fi

workspace_manifest=$("$TB_CARGO" locate-project --workspace --message-format plain)
workspace_dir=$(dirname "$workspace_manifest")

upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
rustflags="-C target-feature=+crt-static"
[ "$arch" = i686 ] && rustflags="$rustflags -L native=$TB_RTSTARTUP_DIR"

export RUSTC="$TB_RUSTC"
export RUSTDOC="${TB_RUSTDOC:-/usr/bin/rustdoc}"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${TB_WINDOWS_TARGET_DIR:-$workspace_dir/target/windows}"
export "CARGO_TARGET_${upper}_LINKER=$arch-w64-mingw32-gcc"
export "CARGO_TARGET_${upper}_RUSTFLAGS=$rustflags ${TB_WINDOWS_RUSTFLAGS:-}"
export "CARGO_TARGET_${upper}_RUNNER=$SCRIPT_DIR/wine-run.sh"
export "CC_${target//-/_}=$arch-w64-mingw32-gcc"
export "AR_${target//-/_}=$arch-w64-mingw32-ar"
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${TB_WINDOWS_OPT_LEVEL:-s}"
# A RUSTFLAGS from the caller would override the per-target flags above for every target.
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

exec "$TB_CARGO" "$subcommand" --target "$target" -Zbuild-std=std,panic_abort \
    "-Zbuild-std-features=${TB_WINDOWS_STD_FEATURES-panic-unwind,optimize_for_size}" "$@"
