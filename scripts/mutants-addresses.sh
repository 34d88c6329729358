#!/usr/bin/env bash
# Mutation test of the host tests of issue 16 (tests/addresses.rs, tests/panic_guard.rs): each defect below is
# planted in a temporary copy of the working tree, the copy's library is built, and the test binaries built from
# this tree are run against it (TB_ADDIN_PATH). Every mutant must be killed (a test must fail); the script
# fails if one survives, or if a defect could not be planted (the code it patches has moved).
#
# The copy builds in target/mutants (seeded once from target/debug, so dependencies are not rebuilt); the real
# target/debug library is never touched. Usage: scripts/mutants-addresses.sh
set -euo pipefail
# The test binaries are this tree's: a killed mutant must not leave proptest's regression file in the source tree.
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib/mutants.sh
source "$repo/scripts/lib/mutants.sh"
mutants_start

cargo test -q --no-run --test addresses --test panic_guard 2>/dev/null
newest() { ls -t target/debug/deps/"$1"-* | grep -v '\.d$' | head -1; }
addresses=$(newest addresses)
panic_guard=$(newest panic_guard)

mutants_target="$repo/target/mutants"
if [ ! -d "$mutants_target/debug" ]; then
    mkdir -p "$mutants_target"
    cp -r "$repo/target/debug" "$mutants_target/"
fi

# plant NAME FILE FROM TO TEST_BINARY: FROM (a literal text) becomes TO in FILE of a fresh copy.
plant() {
    local name=$1 file=$2 from=$3 to=$4 binary=$5
    mutants_fresh_copy '^target/'
    mutants_replace "$file" "$from" "$to"
    if mutants_not_planted "$name" "$file"; then
        return
    fi
    (cd "$copy" && CARGO_TARGET_DIR="$mutants_target" cargo build -q --lib)
    mutants_verdict "$name" env TB_ADDIN_PATH="$mutants_target/debug/libtelephony_bridge.so" timeout 900 "$binary"
}

plant "AddError/LastError not scrubbed" src/native/component.rs \
    'let text = crate::secrets::scrub(&format!(' 'let text = String::from(&format!(' "$addresses"
plant "log lines not scrubbed" src/log/mod.rs \
    'crate::secrets::scrub_json(&mut fields);' '' "$addresses"
plant "credentials of an API address not sent" src/transport/http.rs \
    'request = request.header("Authorization", proxy::basic(&user, &password));' 'let _ = (user, password);' "$addresses"
plant "an @ after /?# taken (the host found after a password's ?)" crates/tb-prims/src/address.rs \
    "if tail.contains('@') {" "if false && tail.contains('@') {" "$addresses"
plant "the panic payload shown to the user" src/native/component.rs \
    'panic_text(&report.code)' 'panic_text(&report.detail)' "$panic_guard"

exit $survived
