#!/usr/bin/env bash
# Mutation test of UIS call control (crates/tb-calls/src/uis_control.rs) and of the reading of UIS answers
# (crates/tb-calls/src/uis_call_api.rs): each defect below is planted in a temporary copy of the tree and the crate's
# unit tests of both modules are run there; every mutant must be killed (a test must fail). The script fails if one
# survives or if a defect could not be planted (the code it patches has moved). Builds in target/mutants-calls (only
# tb-calls and its dependencies).
# Usage: scripts/mutants-uis-control.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib/mutants.sh
source "$repo/scripts/lib/mutants.sh"
mutants_start
target="$repo/target/mutants-calls"
file=crates/tb-calls/src/uis_control.rs
filter=uis_

# plant NAME FROM TO: FROM (a literal text) becomes TO in the module, in a fresh copy.
plant() { mutants_tb_calls "$file" "$filter" "$target" "$@"; }

plant "a blind transfer that stops after make.call (the client left on hold with a ringing leg)" \
    '(Stage::Make, Ok(())) if !self.transfer =>' '(Stage::Make, Ok(())) if true =>'
plant "a failed make.call cleaned up with restore.talk instead of unhold.call" \
    'session_request(id, access_token, SessionMethod::UnholdCall, &self.session)' \
    'session_request(id, access_token, SessionMethod::RestoreTalk, &self.session)'
plant "the clean-up's success reported instead of the first error" \
    '                    Some(e) => Step::Done(Err(e)),' '                    Some(_) => Step::Done(Ok(())),'
plant "an answer with success false taken as success" \
    'Some(true) => Ok(()),' 'Some(_) => Ok(()),'
plant "the call session id sent as a string" \
    '.map(Value::from)' '.map(|n| Value::String(n.to_string()))'
plant "another employee's calls_available reported" \
    '.as_deref() == Some(wanted))' '.as_deref().is_some())'
plant "hold.call without the contact_message the documentation requires" \
    'params.insert("contact_message".into(), message.to_json());' ''
plant "an update.employees answer without result taken as success" \
    'if result.is_null() {' 'if false {'

file=crates/tb-calls/src/uis_call_api.rs
plant "a limit refusal told as a token problem" \
    '"limit_exceeded" => Some(UisFault::Limit),' '"limit_exceeded" => Some(UisFault::Token),'
plant "the token echoed by UIS left in the error" \
    'text.replace(access_token.trim(), "***")' 'text'
plant "an answer for another request accepted" \
    '        if id != expected_id {' '        if false {'

exit $survived
