#!/usr/bin/env bash
# Mutation test of the rules of issue 18 — Binotel's webhook (crates/tb-calls/src/binotel_webhook.rs) and the routing
# decision (crates/tb-calls/src/routing.rs): each defect below is planted in a temporary copy of the tree and the
# crate's unit tests of the module are run there; every mutant must
# be killed (a test must fail). The script fails if one survives or if a defect could not be planted (the code it
# patches has moved). Builds in target/mutants-calls (only tb-calls and its dependencies).
# Usage: scripts/mutants-binotel-webhook.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib/mutants.sh
source "$repo/scripts/lib/mutants.sh"
mutants_start
target="$repo/target/mutants-calls"
file=crates/tb-calls/src/binotel_webhook.rs
filter=binotel_webhook

# plant NAME FROM TO: FROM (a literal text) becomes TO in the module, in a fresh copy.
plant() { mutants_tb_calls "$file" "$filter" "$target" "$@"; }

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

file=crates/tb-calls/src/routing.rs
filter=routing
plant "an unavailable manager rung" \
    'if manager.available == Some(false) {' 'if false && manager.available == Some(false) {'
plant "a busy manager rung" \
    'if manager.on_call || line_busy(&manager.calls, facts.history_now, stale_after) {' 'if false {'
plant "working hours ignored" \
    'if !inside {' 'if false && !inside {'
plant "a missing time taken as inside the hours" \
    '.is_some_and(|now| in_working_hours(hours, now));' '.is_none_or(|now| in_working_hours(hours, now));'
plant "the end of the working day included" \
    'works(now.weekday) && from <= at && at < to' 'works(now.weekday) && from <= at && at <= to'
plant "a night shift's morning credited to the wrong day" \
    '(works(now.weekday) && at >= from) || (works(yesterday) && at < to)' \
    '(works(now.weekday) && at >= from) || (works(now.weekday) && at < to)'
plant "an empty group rung" \
    'Some(group) if !group.is_empty() => Decision::Group {' 'Some(group) => Decision::Group {'

file=crates/tb-calls/src/pbx_lookup.rs
filter=pbx_lookup
plant "a routed extension passed to Dial() unfiltered" \
    '.filter(|c| c.is_ascii_digit() || matches!(c, '"'"'*'"'"' | '"'"'#'"'"' | '"'"'+'"'"'))' '.filter(|_| true)'
plant "quotes left in CALLERID(name)" \
    "if c.is_control() || matches!(c, '\"' | '<' | '>' | '\\\\') {" "if c.is_control() {"
plant "UIS's None taken as DTMF" \
    '.filter(|t| !t.eq_ignore_ascii_case("none"))' '.filter(|_| true)'
plant "a non-numeric group sent as a UIS return code" \
    'Err(_) => json!({}),' 'Err(_) => json!({ "returned_code": group }),'

exit $survived
