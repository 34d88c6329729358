#!/usr/bin/env bash
# Mutation test of Binotel's webhook rules (crates/tb-calls/src/binotel_webhook.rs, issue 18): each defect below is
# planted in a temporary copy of the tree and the crate's unit tests of the module are run there; every mutant must
# be killed (a test must fail). The script fails if one survives or if a defect could not be planted (the code it
# patches has moved). Builds in target/mutants-calls (only tb-calls and its dependencies).
# Usage: scripts/mutants-binotel-webhook.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
target="$repo/target/mutants-calls"
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
file=crates/tb-calls/src/binotel_webhook.rs

survived=0
# plant NAME FROM TO: FROM (a literal text) becomes TO in the module, in a fresh copy.
plant() {
    local name=$1 from=$2 to=$3
    rm -rf "${copy:?}"/*
    git ls-files -z -co --exclude-standard | grep -zv '^target/' | tar --null -T - -cf - | tar -xf - -C "$copy"
    FROM="$from" TO="$to" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$copy/$file"
    if cmp -s "$repo/$file" "$copy/$file"; then
        echo "NOT PLANTED: $name ($file no longer holds the code it patches)"
        survived=1
        return
    fi
    if (cd "$copy" && CARGO_TARGET_DIR="$target" timeout 900 cargo test -q -p tb-calls --lib binotel_webhook) >/dev/null 2>&1; then
        echo "SURVIVED: $name"
        survived=1
    else
        echo "killed: $name"
    fi
}

plant "a CIDR prefix ignored (any address of the family admitted)" \
    'if prefix == 0 {' 'if prefix < 255 {'
plant "the first X-Forwarded-For entry trusted (the client's own)" \
    "let last = header.rsplit(',').next()?.trim();" "let last = header.split(',').next()?.trim();"
plant "the allowlist not consulted" \
    'if !facts.allowlist.admits(ip) {' 'if false && !facts.allowlist.admits(ip) {'
plant "the size checked before the address (an outsider learns the cap)" \
    '    let ip = client_address(facts.source_header).ok_or(Refusal::AddressUnknown)?;' \
    '    crate::webhook::check_length(facts.content_length, facts.cap)?;
    let ip = client_address(facts.source_header).ok_or(Refusal::AddressUnknown)?;'
plant "an invalid entry dropped silently" \
    '.collect::<Result<Vec<_>, _>>()?;' '.filter_map(Result::ok).collect::<Vec<_>>();'
plant "a repeated completion not recognised" \
    'accepted.iter().any(|k| k.trim() == key)' 'accepted.iter().any(|k| k == "")'
plant "the caller name not cut for phone screens" \
    'put("name", &answer.name, NAME_MAX_CHARS);' 'put("name", &answer.name, usize::MAX);'
plant "an unknown caller answered with an empty customerData" \
    'if data.is_empty() {' 'if false {'

exit $survived
