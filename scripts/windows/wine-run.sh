#!/usr/bin/env bash
# Cargo runner for Windows test binaries: picks wine64 or the private 32-bit Wine by the PE machine
# type and runs the program in a dedicated prefix.
#   WINEDLLOVERRIDES=winedbg.exe=d: without it a crash in a thread starts winedbg, and the process
#   exits 0 — a crashed test would look like a pass.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

[ $# -ge 1 ] || { echo "usage: wine-run.sh <program.exe> [args...]" >&2; exit 2; }
exe=$1

export WINEDLLOVERRIDES="winedbg.exe=d${WINEDLLOVERRIDES:+;$WINEDLLOVERRIDES}"
export WINEDEBUG="${WINEDEBUG:--all}"

machine=$(od -An -t x2 -j "$(( $(od -An -t u4 -j 60 -N 4 "$exe") + 4 ))" -N 2 "$exe" | tr -d ' ')
case "$machine" in
    8664)
        export WINEPREFIX="${TB_WINEPREFIX64:-$TB_WINDOWS_CACHE/prefix64}"
        export WINEARCH=win64
        loader=$(command -v wine64 || echo /usr/lib/wine/wine64)
        ;;
    014c)
        [ -f "$TB_WINE32_DIR/.complete" ] || {
            echo "wine-run.sh: private 32-bit Wine missing at $TB_WINE32_DIR: run scripts/setup/30-windows.sh" >&2
            exit 1
        }
        export WINEPREFIX="${TB_WINEPREFIX32:-$TB_WINDOWS_CACHE/prefix32}"
        export WINEARCH=win32
        loader="$TB_WINE32_DIR/bin/wine32"
        ;;
    *) echo "wine-run.sh: $exe: not an x86/x64 PE image (machine $machine)" >&2; exit 2 ;;
esac

mkdir -p "$(dirname "$WINEPREFIX")"
if [ ! -f "$WINEPREFIX/.tb-ready" ]; then
    # First use: create the prefix once, quietly (wineboot prints a lot and takes ~10 s).
    (
        flock 9
        if [ ! -f "$WINEPREFIX/.tb-ready" ]; then
            # timeout: a broken Wine can respawn explorer.exe forever instead of failing.
            timeout 120 "$loader" wineboot -i >/dev/null 2>&1 || true
            WINEPREFIX="$WINEPREFIX" /usr/lib/wine/wineserver64 -w 2>/dev/null || true
            [ -f "$WINEPREFIX/system.reg" ] || { echo "wine-run.sh: could not create the Wine prefix $WINEPREFIX" >&2; exit 1; }
            touch "$WINEPREFIX/.tb-ready"
        fi
    ) 9>"$WINEPREFIX.lock"
fi
if [ "$machine" = 014c ]; then
    # The private 32-bit Wine has no FreeType (see install-wine32.sh); drop its 4-line warning.
    exec 2> >(grep -v -e 'Wine cannot find the FreeType font library' -e 'use TrueType fonts please install' \
                      -e 'or equal to 2.0.5' -e 'http://www.freetype.org' >&2)
fi
exec "$loader" "$@"
