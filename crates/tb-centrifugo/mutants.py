#!/usr/bin/env python3
"""Mutation tests of the Centrifugo client's lifecycle checks (issue 16): each entry plants one defect in a temporary
copy of the workspace and runs the test that must catch it; the run fails if any planted defect passes, if a
planted text is not found exactly once, or if the unmutated copy fails a test it uses.

    PATH=/work/main/.tools/bin:$PATH python3 crates/tb-centrifugo/mutants.py [name-substring]

Most entries test the core against its scripted server (tests/conformance.rs); the last ones build the add-in and
run host tests (tests/centrifugo.rs), one of them against a real Centrifugo, which must be on PATH.

The copy builds into target/mutants (its own target directory, so it never waits for or disturbs a build of the
real tree). Each planted text must occur exactly once, so a refactoring that moves the code fails here loudly
instead of testing nothing.
"""

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIENT = "crates/tb-centrifugo/src/client.rs"
DRIVER = "src/driver/centrifugo.rs"
CORE = "tb-centrifugo"
# The add-in through the test host: builds the library in the copy; the real-server test needs Centrifugo on PATH
# (scripts/setup/20-centrifugo.sh), and CI=1 makes its absence a failure of the unmutated run, not a skip.
ADDIN = "telephony-bridge"

# (name, file, original text, planted text, package, test binary, test name); original and planted may be tuples
# of texts planted together (one defect that needs two edits).
MUTANTS = [
    ("non-protocol data while connecting is tolerated", CLIENT,
     "if self.phase == Phase::Handshake {", "if false {",
     CORE, "conformance", "non_protocol_data_while_connecting_reconnects_after_the_backoff_not_the_timeout"),
    ("an oversized recovery blames nobody", CLIENT,
     "stream.step_over_oversized();", "let _ = stream;",
     CORE, "conformance", "an_oversized_publication_met_by_recovery_is_stepped_over_and_the_loss_reported_once"),
    ("the step is not asked for", CLIENT,
     "json!(self.offset.saturating_add(self.skip))", "json!(self.offset)",
     CORE, "conformance", "an_oversized_publication_met_by_recovery_is_stepped_over_and_the_loss_reported_once"),
    ("a stepped-over recovery reports no loss", CLIENT,
     "&& !new_epoch && !skipped;", "&& !new_epoch;",
     CORE, "conformance", "an_oversized_publication_met_by_recovery_is_stepped_over_and_the_loss_reported_once"),
    ("the step never gives up", CLIENT,
     "if self.skip > MAX_RECOVERY_SKIP {", "if false {",
     CORE, "conformance", "a_recovery_that_stays_too_large_ends_in_a_fresh_subscription"),
    ("the last unanswered recovery is blamed", CLIENT,
     "let blamed = self.pending.values().find_map(",
     "let blamed = self.pending.values().rev().find_map(",
     CORE, "conformance", "only_the_first_unanswered_recovery_is_blamed"),
    ("command ids start again on each link", CLIENT,
     "    fn reset_connection_state(&mut self) {\n",
     "    fn reset_connection_state(&mut self) {\n        self.next_id = 1;\n",
     CORE, "conformance", "a_stale_reply_of_an_old_transport_is_ignored"),
    # Both phase checks of handle_frame: either alone is enough (the second one guards each line).
    ("frames are read outside a handshake", CLIENT,
     ("        if !matches!(self.phase, Phase::Handshake | Phase::Connected) {\n            return;\n        }\n"
      "        self.arm_ping_deadline(now);",
      "            if !matches!(self.phase, Phase::Handshake | Phase::Connected) {\n"
      "                // An earlier reply in this frame ended the connection.\n                return;\n            }\n"),
     ("        self.arm_ping_deadline(now);", ""),
     CORE, "conformance", "a_stale_reply_of_an_old_transport_is_ignored"),
    ("a failed connect does not back off", CLIENT,
     "self.timers.set(Timer::Reconnect, now + delay);", "self.timers.set(Timer::Reconnect, now);",
     CORE, "conformance", "a_connect_answered_by_a_disconnect_or_an_error_backs_off"),
    ("the backoff does not grow", CLIENT,
     "self.reconnect_step = self.reconnect_step.saturating_add(1);", "",
     CORE, "conformance", "every_failed_attempt_waits_its_backoff_whatever_phase_it_failed_in"),
    ("a second open sends a second connect", CLIENT,
     "        if self.phase != Phase::Opening {\n            return;\n        }\n        self.phase = Phase::Handshake;",
     "        self.phase = Phase::Handshake;",
     CORE, "conformance", "one_socket_carries_one_connect_command"),
    ("a close while waiting arms another timer", CLIENT,
     "            Phase::Idle | Phase::WaitingReconnect | Phase::WaitingToken\n        ) {\n            return;",
     "            Phase::Idle | Phase::WaitingToken\n        ) {\n            return;",
     CORE, "conformance", "one_reconnect_timer_whatever_happens_while_waiting"),
    ("105 is an error", CLIENT,
     "if error.code == codes::ALREADY_SUBSCRIBED {", "if false {",
     CORE, "conformance", "already_subscribed_races_end_in_one_subscription"),
    ("subscribe before connect is sent at once", CLIENT,
     "            .insert(channel.to_string(), Subscription::new(token.to_string()));\n        if connected {",
     "            .insert(channel.to_string(), Subscription::new(token.to_string()));\n        if true {",
     CORE, "conformance", "subscriptions_made_before_the_connection_are_sent_once_after_it"),
    ("a server unsubscribe during the resubscribe resubscribes", CLIENT,
     "if unsubscribe.code < codes::RESUBSCRIBE_FROM {", "if unsubscribe.code < 1000 {",
     CORE, "conformance", "a_server_unsubscribe_during_the_resubscribe_is_reported_and_sticks"),
    ("unsubscribe while connecting keeps the subscription", CLIENT,
     "let Some(sub) = self.forget_subscription(channel) else {",
     "let Some(sub) = self.subs.get(channel).cloned() else {",
     CORE, "conformance", "unsubscribe_while_connecting_sends_nothing_and_reports_once"),
    ("2502 keeps the position", CLIENT,
     "if unsubscribe.code == codes::UNSUBSCRIBE_STATE_INVALIDATED {", "if false {",
     CORE, "conformance", "state_invalidation_forgets_positions_and_reports_the_loss_once"),
    # The same two fixes through the built library: a real Centrifugo, and a WebSocket server answering HTML.
    ("the driver does not tell the core about an oversized message", DRIVER,
     "        self.core.handle_oversized();\n", "",
     ADDIN, "centrifugo", "an_oversized_publication_in_a_recoverable_channel_is_skipped_and_delivery_goes_on"),
    ("the add-in waits for the timeout after non-protocol data", CLIENT,
     "if self.phase == Phase::Handshake {", "if false {",
     ADDIN, "centrifugo", "non_protocol_data_while_connecting_reconnects_without_waiting_for_the_timeout"),
]


def copy_tree(destination):
    # Plain copies, stamped now: the copies share target/mutants, where cargo keeps the artifacts of earlier copies
    # (mutated ones included) under the same package paths; a preserved, older mtime would make those look fresh.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if not os.path.isfile(source):
            continue  # deleted in the work tree
        target = os.path.join(destination, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(source, target)
    # Files not yet committed but part of the tree under test.
    for name in subprocess.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=ROOT,
                               check=True, capture_output=True).stdout.decode().split("\0"):
        if name:
            target = os.path.join(destination, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy(os.path.join(ROOT, name), target)


def run_test(tree, package, binary, test):
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target", "mutants"), CI="1")
    # The host loads the newest library next to its test binary: the one built from the mutated copy.
    env.pop("TB_ADDIN_PATH", None)
    command = ["cargo", "test", "-q", "-p", package, "--test", binary, "--", "--exact", test]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
    output = result.stdout + result.stderr
    ran = "1 passed" in output or "1 failed" in output
    return result.returncode, ran, output


def main():
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    survivors = []
    with tempfile.TemporaryDirectory(prefix="tb-mutants-") as tree:
        copy_tree(tree)
        # The unmutated copy must pass every test used below, or a "caught" mutant proves nothing.
        for package, binary, test in sorted({m[4:] for m in MUTANTS if wanted in m[0]}):
            code, ran, output = run_test(tree, package, binary, test)
            if code != 0 or not ran:
                print(output)
                sys.exit(f"the unmutated tree fails (or does not run) {binary}::{test}")
        for name, path, original, planted, package, binary, test in MUTANTS:
            if wanted not in name:
                continue
            file = os.path.join(tree, path)
            with open(file, encoding="utf-8") as f:
                text = f.read()
            originals = original if isinstance(original, tuple) else (original,)
            planteds = planted if isinstance(planted, tuple) else (planted,)
            mutated = text
            for old, new in zip(originals, planteds):
                if mutated.count(old) != 1:
                    sys.exit(f"mutant '{name}': the original text occurs {mutated.count(old)} times in {path}")
                mutated = mutated.replace(old, new)
            with open(file, "w", encoding="utf-8") as f:
                f.write(mutated)
            try:
                code, ran, output = run_test(tree, package, binary, test)
            finally:
                with open(file, "w", encoding="utf-8") as f:
                    f.write(text)
            if code == 0:
                survivors.append(name)
                print(f"SURVIVED  {name}  ({test})")
            elif not ran:
                print(output[-3000:])
                sys.exit(f"mutant '{name}': the copy did not build or the test did not run")
            else:
                print(f"caught    {name}  ({test})")
    if survivors:
        sys.exit(f"{len(survivors)} planted defect(s) passed the tests: {survivors}")
    print("every planted defect was caught")


if __name__ == "__main__":
    main()
