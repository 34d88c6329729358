#!/usr/bin/env bash
# The project's one test command (README: «Запуск всех тестов»). On a fresh Debian machine with
# Rust, Go and Python it first installs what the tests need (scripts/setup/*.sh, each
# idempotent), then runs formatting and lint checks and every test, Linux and Windows (Wine).
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
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test (Linux x64)"
cargo test --workspace
if [ -x scripts/test-windows.sh ]; then
    echo "== Windows tests under Wine"
    scripts/test-windows.sh
fi
