#!/usr/bin/env bash
# Mutation test of tests/exit_safety.rs: each defect below is planted in a temporary copy of the working tree, the
# copy's library is built (debug, about 15 s each on two cores: dependencies are hard-linked from target/debug into
# target/mutants-exit), and the exit_safety test binary of this tree is run against it (TB_ADDIN_PATH). Every mutant must
# be killed (the child processes crash, or the library is unmapped); the script fails if one survives or if a
# defect could not be planted (the code it patches has moved). The real target/debug library is never touched.
#
# Usage: scripts/mutants-exit-safety.sh            Linux: the mutants below, on this machine's debug build.
#        scripts/mutants-exit-safety.sh windows    Windows x64 under Wine: the DLL not pinned; the test binary is
#                                                  the newest scripts/test-windows.sh built (target/windows),
#                                                  the mutant DLL a debug build in target/windows-mutants (~1.5 min).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib/mutants.sh
source "$repo/scripts/lib/mutants.sh"
mutants_start
platform=${1:-linux}

if [ "$platform" = windows ]; then
    binary=$(ls -t target/windows/x86_64-win7-windows-gnu/{release,debug}/deps/exit_safety-*.exe 2>/dev/null | head -1 || true)
    [ -n "$binary" ] || { echo "no Windows exit_safety test binary: run scripts/test-windows.sh x64 first" >&2; exit 1; }
else
    cargo test -q --no-run --test exit_safety 2>/dev/null
    binary=$(ls -t target/debug/deps/exit_safety-* | grep -v '\.d$' | head -1)
fi

# The copy builds in target/mutants-exit. Seeded from target/debug by hard links (no disk space: a full copy is
# gigabytes), without the add-in's own artifacts and fingerprints, which the copy rebuilds as new files — so no
# write of that build reaches a file of target/debug.
mutants_target="$repo/target/mutants-exit"
if [ "$platform" = linux ] && [ ! -d "$mutants_target/debug" ]; then
    mkdir -p "$mutants_target/debug"
    cp -al "$repo/target/debug/deps" "$repo/target/debug/build" "$mutants_target/debug/"
    cp -r "$repo/target/debug/.fingerprint" "$mutants_target/debug/"
    rm -rf "$mutants_target"/debug/deps/*telephony_bridge* "$mutants_target"/debug/build/telephony-bridge-* \
        "$mutants_target"/debug/.fingerprint/telephony-bridge-*
fi

# plant NAME FILE FROM TO TEST: FROM (a literal text) becomes TO in FILE of a fresh copy; TEST is the test run.
plant() {
    local name=$1 file=$2 from=$3 to=$4 test=$5
    mutants_fresh_copy '^target/'
    mutants_replace "$file" "$from" "$to"
    if mutants_not_planted "$name" "$file"; then
        return
    fi
    local killed
    if [ "$platform" = windows ]; then
        (cd "$copy" && TB_WINDOWS_TARGET_DIR="$repo/target/windows-mutants" CARGO_INCREMENTAL=0 \
            bash scripts/windows/build.sh x86_64-win7-windows-gnu build -q -p telephony-bridge --lib)
        local dll="$repo/target/windows-mutants/x86_64-win7-windows-gnu/debug/telephony_bridge.dll"
        TB_ADDIN_PATH="Z:$(echo "$dll" | tr / '\\')" TB_EXIT_SAFETY_RUNS=5 timeout 900 \
            bash scripts/windows/wine-run.sh "$binary" --exact "$test" >/dev/null 2>&1 && killed=no || killed=yes
    else
        (cd "$copy" && CARGO_TARGET_DIR="$mutants_target" CARGO_INCREMENTAL=0 cargo build -q --lib)
        TB_ADDIN_PATH="$mutants_target/debug/libtelephony_bridge.so" TB_EXIT_SAFETY_RUNS=5 timeout 900 \
            "$binary" --exact "$test" >/dev/null 2>&1 && killed=no || killed=yes
    fi
    if [ "$killed" = no ]; then
        echo "SURVIVED: $name"
        survived=1
    else
        echo "killed: $name"
    fi
}

if [ "$platform" = windows ]; then
    plant "the DLL not pinned (FreeLibrary unmaps running threads)" src/lib.rs \
        '        pin_library();
' '' a_process_leaving_without_done_does_not_crash
    exit $survived
fi

plant "no exit hook (threads call the platform while it exits)" src/native/platform.rs \
    'unsafe { atexit(close_gate) };' 'let _ = close_gate as extern "C" fn();' \
    a_process_leaving_without_done_does_not_crash
plant "the gate not checked by event delivery" src/native/platform.rs \
    'let Some(_inside) = Inside::enter() else {
            // The process is exiting: the interface may be gone. Refused, as a full buffer would be.
            return false;
        };' \
    'let _inside = Inside::enter();' \
    a_process_leaving_without_done_does_not_crash
plant "the library unloadable (no -z nodelete)" build.rs \
    'println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");' '' \
    the_library_stays_mapped_after_dlclose

exit $survived
