#!/usr/bin/env bash
# The project's one test command (docs/development.md: «Две команды»). On a fresh Debian machine with
# Rust, Go and Python it first installs what the tests need (scripts/setup/*.sh, each
# idempotent), then runs formatting and lint checks (Rust, and BSL Language Server on the 1C code),
# builds the package (all four binaries), checks the packaged Linux libraries, and runs every test:
# Linux x64 and x86 on the packaged libraries, Windows under Wine.
#
# Nothing passes by skipping: CI is set here, so a test that would skip (a tool missing, not root)
# fails instead (tests/host/src/skip.rs); only the Wine pass may skip, for the one reason it cannot
# avoid, and lists those tests by name. The run ends with the skips per reason (scripts/skips.sh);
# on Linux they must be zero. Every script runs through `bash`: a lost exec bit cannot skip a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true

logs=target/test-logs
rm -rf "$logs"
mkdir -p "$logs"
# Runs a test command, keeping its output (both streams) for the skip summary.
logged() {
    local log=$logs/$1.log
    shift
    "$@" 2>&1 | tee "$log"
}
skip_summary() {
    local status=$?
    local linux=("$logs"/linux-*.log) windows=("$logs"/windows.log)
    echo "== skips"
    if [ -e "${linux[0]}" ]; then
        echo "Linux: $(bash scripts/skips.sh "${linux[@]}" | head -n 1) (expected 0)"
        if grep -aq 'TB-SKIP: ' "${linux[@]}"; then
            bash scripts/skips.sh "${linux[@]}" | tail -n +2
            echo "test.sh: tests were skipped on Linux, where CI expects none" >&2
            status=1
        fi
    fi
    if [ -e "${windows[0]}" ]; then
        echo "Windows (Wine): $(bash scripts/skips.sh "${windows[@]}" | head -n 1)"
    fi
    exit $status
}
trap skip_summary EXIT

for setup in scripts/setup/*.sh; do
    [ -e "$setup" ] || continue
    echo "== setup: $setup"
    bash "$setup"
done
export PATH="${TB_TOOLS_DIR:-$PWD/.tools}/bin:$PWD/.tools/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== release kit: bash -n and ShellCheck (scripts/1c), actionlint (.github/workflows)"
# The same checks, with their mutation tests and the kit's run against a fake 1cv8, are in
# tests/release_kit.rs (cargo test below); here they fail first and name the file.
bash -n scripts/1c/tb-1c-kit.sh
shellcheck scripts/1c/tb-1c-kit.sh scripts/setup/50-release-tools.sh
actionlint .github/workflows/*.yml
echo "== BSL Language Server: bsl-examples, README.md, docs/*.md"
# The extension dump is its own srcDir so the analyzer reads its metadata; loose examples and the
# Markdown snippets share one run (see scripts/bsl-check.sh).
bsl_paths=(bsl-examples/*.bsl README.md docs/*.md)
[ ! -d bsl-examples/extension ] || bsl_paths=(bsl-examples/extension "${bsl_paths[@]}")
bash scripts/bsl-check.sh "${bsl_paths[@]}"
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== package: Win32, Win64, Lin32, Lin64 (each binary checked as it is built)"
cargo run --release -p package
# The Linux tests below run on the files taken out of the package itself, not on a cargo build
# next to it: what a 1C client unpacks is what is tested.
unpacked=target/dist/unpacked
rm -rf "$unpacked"
python3 -m zipfile -e target/dist/TelephonyBridge.zip "$unpacked"
lin64=$(ls "$PWD/$unpacked"/TelephonyBridge_Lin64_*.so)
lin32=$(ls "$PWD/$unpacked"/TelephonyBridge_Lin32_*.so)
echo "== packaged Linux libraries: glibc <= 2.17, linked libraries, exports"
bash scripts/linux/check-so.sh "$lin64" "$lin32"
echo "== cargo test (Linux x64; the host tests load the packaged Lin64 library)"
TB_ADDIN_PATH="$lin64" logged linux-x64 cargo test --workspace
echo "== mutation tests: the Centrifugo lifecycle checks and the address/scrubber host tests"
# Each plants one defect in a temporary copy of the tree (built in target/mutants) and requires a test to fail;
# a planted text that is not found, or a mutant that survives, fails the run (issue 16).
logged linux-x64-mutants-centrifugo python3 crates/tb-centrifugo/mutants.py
logged linux-x64-mutants-addresses bash scripts/mutants-addresses.sh
logged linux-x64-mutants-binotel-webhook bash scripts/mutants-binotel-webhook.sh
logged linux-x64-mutants-uis-control bash scripts/mutants-uis-control.sh
logged linux-x64-mutants-events bash scripts/mutants-events.sh
logged linux-x64-mutants-exit-safety bash scripts/mutants-exit-safety.sh
echo "== Linux x86 tests (unit tests and host tests on the packaged Lin32 library)"
TB_ADDIN_PATH="$lin32" logged linux-x86 bash scripts/linux/test-i686.sh
echo "== Windows tests under Wine"
logged windows bash scripts/test-windows.sh
