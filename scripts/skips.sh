#!/usr/bin/env bash
# The skip summary of test runs: counts the `TB-SKIP: <reason> | <test> | <message>` lines that
# tests/host/src/skip.rs writes (wherever in a line of the harness's output they landed) and prints
#
#   skips: <total> (<reason>: <count>, ...)
#
# followed by each skip line, so the skipped tests are listed by name.
#
#   scripts/skips.sh <log>...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/skips.sh <log>..." >&2; exit 2; }

lines=$(grep -aoh 'TB-SKIP: [a-z0-9-]* | .*' "$@" || true)
if [ -z "$lines" ]; then
    echo "skips: 0"
    exit 0
fi
total=$(printf '%s\n' "$lines" | wc -l)
per_reason=$(printf '%s\n' "$lines" | sed -n 's/^TB-SKIP: \([a-z0-9-]*\) .*/\1/p' | sort | uniq -c \
    | awk '{printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $1}')
echo "skips: $total ($per_reason)"
printf '%s\n' "$lines"
