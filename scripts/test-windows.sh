#!/usr/bin/env bash
# Windows tests under Wine: builds the add-in DLL for x64 and x86 (Windows 7+ targets), checks its
# imports/exports, cross-builds the test host with the root package's tests (tests/*.rs) and unit
# tests, and runs them under Wine against that DLL (x64: wine64; x86: the private 32-bit Wine
# from scripts/setup/30-windows.sh).
#
#   scripts/test-windows.sh [x64|x86]... [-- <test-binary args>]
#
# Env: TB_WINDOWS_TARGETS_TO_TEST="x64 x86" (default both). With CI set, a missing 32-bit Wine fails
# the run instead of skipping x86.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

arches=()
while [ $# -gt 0 ]; do
    case "$1" in
        x64|x86) arches+=("$1"); shift ;;
        --) shift; break ;;
        *) echo "usage: scripts/test-windows.sh [x64|x86]... [-- <test args>]" >&2; exit 2 ;;
    esac
done
[ ${#arches[@]} -gt 0 ] || read -r -a arches <<<"${TB_WINDOWS_TARGETS_TO_TEST:-x64 x86}"

# shellcheck source=windows/env.sh
source scripts/windows/env.sh
bash scripts/setup/30-windows.sh

target_dir="$root/target/windows"
status=0
for arch in "${arches[@]}"; do
    case "$arch" in
        x64) triple=x86_64-win7-windows-gnu ;;
        x86) triple=i686-win7-windows-gnu
             if [ ! -f "$TB_WINE32_DIR/.complete" ]; then
                 if [ -n "${CI:-}" ]; then
                     echo "test-windows.sh: the private 32-bit Wine is missing ($TB_WINE32_DIR): x86 cannot be tested" >&2
                     exit 1
                 fi
                 echo "test-windows.sh: SKIP x86: no private 32-bit Wine (TB_WINE32=0?)" >&2
                 continue
             fi ;;
    esac
    echo "== Windows $arch ($triple): build the add-in DLL"
    scripts/windows/build.sh "$triple" build --release -p telephony-bridge --lib
    dll="$target_dir/$triple/release/telephony_bridge.dll"
    echo "== Windows $arch: check imports and exports"
    scripts/windows/check-dll.sh "$dll"
    echo "== Windows $arch: tests under Wine"
    # The host loads the library through this path (a Wine path: drive Z: is the Unix root).
    # CI is unset for the Windows binaries: the tests that need an external Linux program
    # (Centrifugo, Redis, openssl) cannot drive it from inside Wine (Wine starts a Unix executable
    # without its arguments), so on Windows they skip (tests/support/centrifugo_server.rs) and
    # are exercised by the Linux run; under Wine the emulator-based tests run.
    env -u CI TB_ADDIN_PATH="Z:$(echo "$dll" | tr / '\\')" \
        scripts/windows/build.sh "$triple" test --release --no-fail-fast -p telephony-bridge --lib --tests -- "$@" \
        || status=1
done
exit $status
