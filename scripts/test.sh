#!/usr/bin/env bash
# The project's one test command (docs/development.md: «Две команды»). On a fresh Debian machine with
# Rust, Go and Python it first installs what the tests need (scripts/setup/*.sh, each
# idempotent), then runs formatting and lint checks (Rust, and BSL Language Server on the 1C code) and
# every test, Linux and Windows (Wine).
set -euo pipefail
cd "$(dirname "$0")/.."

for setup in scripts/setup/*.sh; do
    [ -e "$setup" ] || continue
    echo "== setup: $setup"
    bash "$setup"
done
export PATH="$PWD/.tools/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== BSL Language Server: bsl-examples, README.md, docs/*.md"
# The extension dump is its own srcDir so the analyzer reads its metadata; loose examples and the
# Markdown snippets share one run (see scripts/bsl-check.sh).
bsl_paths=(bsl-examples/*.bsl README.md docs/*.md)
[ ! -d bsl-examples/extension ] || bsl_paths=(bsl-examples/extension "${bsl_paths[@]}")
scripts/bsl-check.sh "${bsl_paths[@]}"
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test (Linux x64)"
cargo test --workspace
if [ -x scripts/test-windows.sh ]; then
    echo "== Windows tests under Wine"
    scripts/test-windows.sh
fi
