#!/usr/bin/env bash
# The root package's unit tests and host tests (tests/*.rs) for i686 Linux: built by
# scripts/linux/build.sh (std from source, Zig linking against glibc 2.17) and run through the
# private 32-bit glibc (scripts/linux/run-i686.sh).
#
#   TB_ADDIN_PATH=<Lin32 .so> scripts/linux/test-i686.sh [-- <test-binary args>]
#
# The host tests load TB_ADDIN_PATH (scripts/test.sh passes the packaged Lin32 library); without it
# they load the i686 library this build leaves next to the test binaries. The test binaries are
# built in the dev profile: they only drive the library, and the release profile's fat LTO would
# cost a minute per test binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash scripts/setup/40-linux.sh
[ "${1:-}" = "--" ] && shift
bash scripts/linux/build.sh x86 test --no-fail-fast -p telephony-bridge --lib --tests -- "$@"
