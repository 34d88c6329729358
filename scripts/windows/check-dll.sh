#!/usr/bin/env bash
# Checks a built add-in DLL: nothing to install on the user's machine, and the Native API exports.
#
#   scripts/windows/check-dll.sh <file.dll> [more.dll...]
#
# Fails when the DLL imports a DLL that is not part of Windows: libgcc*, libwinpthread*,
# libstdc++*, the MSVC runtimes (msvcr<NNN>, msvcp*, vcruntime*), the UCRT (ucrtbase, api-ms-win-crt-*).
# msvcrt.dll is allowed: it is the system C library shipped with every Windows since 2000 and
# the one MinGW-w64 links against.
# Fails unless the export table names, undecorated (no leading '_', no '@N'), every entry point
# the platform looks up: GetClassNames, GetClassObject, DestroyObject, SetPlatformCapabilities,
# GetAttachType.
set -uo pipefail

REQUIRED_EXPORTS=(GetClassNames GetClassObject DestroyObject SetPlatformCapabilities GetAttachType)
FORBIDDEN_IMPORTS='^(libgcc.*|libwinpthread.*|libstdc\+\+.*|msvcr[0-9].*|msvcp.*|vcruntime.*|ucrtbase.*|api-ms-win-crt-.*)\.dll$'

[ $# -ge 1 ] || { echo "usage: check-dll.sh <file.dll>..." >&2; exit 2; }

objdump_for() {
    local tool
    for tool in x86_64-w64-mingw32-objdump i686-w64-mingw32-objdump objdump; do
        command -v "$tool" >/dev/null && { echo "$tool"; return; }
    done
    echo "check-dll.sh: no objdump found (apt: binutils-mingw-w64-x86-64)" >&2
    exit 1
}
OBJDUMP=$(objdump_for)

status=0
for dll in "$@"; do
    if [ ! -f "$dll" ]; then
        echo "FAIL $dll: no such file" >&2; status=1; continue
    fi
    if ! dump=$("$OBJDUMP" -p "$dll" 2>&1); then
        echo "FAIL $dll: objdump cannot read it: $dump" >&2; status=1; continue
    fi
    errors=()
    format=$(printf '%s\n' "$dump" | sed -n 's/.*file format \(.*\)$/\1/p' | head -n1)

    imports=$(printf '%s\n' "$dump" | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -fu)
    while IFS= read -r imp; do
        [ -n "$imp" ] || continue
        if printf '%s\n' "$imp" | grep -Eiq "$FORBIDDEN_IMPORTS"; then
            errors+=("imports $imp (a runtime DLL the user would have to install)")
        fi
    done <<<"$imports"

    # Names in the "[Ordinal/Name Pointer] Table" section of objdump -p.
    exports=$(printf '%s\n' "$dump" \
        | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' \
        | sed -n 's/^[[:space:]]*\[[[:space:]]*[0-9]*\][[:space:]]*//p')
    for name in "${REQUIRED_EXPORTS[@]}"; do
        if ! printf '%s\n' "$exports" | grep -qx "$name"; then
            decorated=$(printf '%s\n' "$exports" | grep -E "^_?${name}(@[0-9]+)?$" | head -n1)
            if [ -n "$decorated" ]; then
                errors+=("exports $name only decorated, as '$decorated'")
            else
                errors+=("does not export $name")
            fi
        fi
    done

    if [ ${#errors[@]} -gt 0 ]; then
        for e in "${errors[@]}"; do echo "FAIL $dll: $e" >&2; done
        status=1
    else
        echo "ok   $dll ($format, $(stat -c %s "$dll") bytes; imports: $(echo $imports | tr ' ' ','))"
    fi
done
exit $status
