#!/usr/bin/env bash
# Mutation test of the event queue's direct path (src/events/mod.rs): each defect below is planted in a temporary
# copy of the tree and the test meant to catch it is run there — a unit test of the queue, or a host test against a
# real Centrifugo (on PATH: scripts/setup/20-centrifugo.sh) that loads the copy's library; every mutant must be
# killed (the test must fail). The script fails if one survives, does not build, or could not be planted (the code
# it patches has moved).
#
# Builds in target/mutants-events, seeded once from target/debug with hard links (cargo itself uplifts by hard
# link; rustc and the linker replace the files they write), so only the workspace's own crates are rebuilt and
# the real target/debug is never written. Usage: scripts/mutants-events.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/lib/mutants.sh
source "$repo/scripts/lib/mutants.sh"
mutants_start
target="$repo/target/mutants-events"
if [ ! -d "$target/debug" ] && [ -d "$repo/target/debug" ]; then
    mkdir -p "$target"
    cp -al "$repo/target/debug" "$target/" 2>/dev/null || cp -r "$repo/target/debug" "$target/"
fi
file=src/events/mod.rs

# plant NAME TEST FROM TO: FROM (a literal text, found exactly once) becomes TO in the module, in a fresh copy, and
# TEST (cargo test's target and name filter, e.g. `--lib events::tests::x`), the one meant to catch the defect,
# must fail. A test that hangs fails too: the run is cut after two minutes.
plant() {
    local name=$1 from=$3 to=$4 test
    read -ra test <<<"$2"
    mutants_fresh_copy '^target'
    local found
    found=$(FROM="$from" perl -0ne '$n = () = /\Q$ENV{FROM}\E/g; print $n' "$copy/$file")
    if [ "$found" != 1 ]; then
        echo "NOT PLANTED: $name ($file holds the code it patches $found times, not once)"
        survived=1
        return
    fi
    mutants_replace "$file" "$from" "$to"
    # tar keeps the files' times: without this a copy older than the last build would reuse that build.
    touch "$copy/$file"
    # A mutant that does not compile proves nothing about the tests: it counts as a failure of this script.
    if ! (cd "$copy" && CARGO_TARGET_DIR="$target" timeout 1800 cargo test -q -p telephony-bridge "${test[@]}" --no-run) >/dev/null 2>&1; then
        echo "DOES NOT BUILD: $name"
        survived=1
        return
    fi
    mutants_verdict "$name" mutants_in_copy env CARGO_TARGET_DIR="$target" timeout 120 env -u TB_ADDIN_PATH \
        cargo test -q -p telephony-bridge "${test[@]}"
}

# The unmutated copy must pass every test the mutants use, or a "killed" below would prove nothing.
mutants_fresh_copy '^target'
# tar keeps the files' times: without this the copy would reuse the build of the last mutant of a previous run.
touch "$copy/$file"
if ! (cd "$copy" && CARGO_TARGET_DIR="$target" timeout 1800 cargo test -q -p telephony-bridge --lib events::tests::) >/dev/null 2>&1 ||
    ! (cd "$copy" && CARGO_TARGET_DIR="$target" timeout 600 env -u TB_ADDIN_PATH cargo test -q -p telephony-bridge --test centrifugo publications_refused) >/dev/null 2>&1; then
    echo "mutants-events: FAILED: the unmutated copy fails events::tests or the host test"
    exit 1
fi

plant "a direct offer overtakes the queued events (the queue is not asked whether it is empty)" \
    "--lib events::tests::direct_and_queued_offers_arrive_once_each_in_order" \
    'if self.closed || self.offering || !self.items.is_empty() || self.dropped_unreported > 0 {' \
    'if self.closed || self.offering || self.dropped_unreported > 0 {'
plant "close does not wait for a direct offer in flight (the platform is called after Done)" \
    "--lib events::tests::close_waits_for_a_direct_offer_in_flight" \
    'while state.offering && !turn_free.wait_until(&mut state, until).timed_out() {}' \
    ''
plant "close waits for an offer in flight without a bound (Done hangs with a hanging ExternalEvent)" \
    "--lib events::tests::close_waits_for_a_direct_offer_in_flight" \
    'while state.offering && !turn_free.wait_until(&mut state, until).timed_out() {}' \
    'while state.offering { turn_free.wait(&mut state); }'
plant "a panic inside a direct offer keeps the turn (delivery stops for good)" \
    "--lib events::tests::a_panic_inside_a_direct_offer_gives_the_turn_back" \
    '            self.inner.state.lock().offering = false;' \
    '            let _ = self.inner.state.lock();'
plant "a refused direct offer is dropped instead of queued first" \
    "--lib events::tests::direct_and_queued_offers_arrive_once_each_in_order" \
    '                if !state.closed {
                    state.requeue_refused(event);
                }' \
    '                drop(event);'
plant "through the built library: a publication overtakes the ones the full buffer refused" \
    "--test centrifugo publications_refused_by_a_full_buffer_and_then_accepted_arrive_once_each_in_order" \
    'if self.closed || self.offering || !self.items.is_empty() || self.dropped_unreported > 0 {' \
    'if self.closed || self.offering || self.dropped_unreported > 0 {'

if [ "$survived" != 0 ]; then
    echo "mutants-events: FAILED (a planted defect survived, did not build or could not be planted)"
    exit 1
fi
echo "mutants-events: every mutant killed"
