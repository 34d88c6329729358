#!/usr/bin/env bash
# Cargo runner for i686 Linux programs (tests): runs the program through the private 32-bit glibc
# from scripts/setup/40-linux.sh, whose loader is asked directly, so the system needs no i386
# packages. The library path is passed to the loader (--library-path), not through
# LD_LIBRARY_PATH, so the 64-bit programs the tests start (Centrifugo, Redis, openssl) keep the
# system's libraries.
#
#   scripts/linux/run-i686.sh <program> [args...]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

root="$TB_I386_DIR/root"
loader="$root/lib/i386-linux-gnu/ld-linux.so.2"
if [ ! -x "$loader" ]; then
    echo "run-i686.sh: no private 32-bit glibc in $TB_I386_DIR: run scripts/setup/40-linux.sh" >&2
    exit 1
fi
[ $# -ge 1 ] || { echo "usage: run-i686.sh <program> [args...]" >&2; exit 2; }
exec "$loader" --library-path "$root/lib/i386-linux-gnu:$root/usr/lib/i386-linux-gnu" "$@"
