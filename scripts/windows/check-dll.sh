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
# Fails when it imports a function or API-set DLL that Windows 7 does not have.
set -uo pipefail

REQUIRED_EXPORTS=(GetClassNames GetClassObject DestroyObject SetPlatformCapabilities GetAttachType)
# Imports that do not exist on Windows 7 (Windows 8 and later); a dependency calling one directly
# would make the DLL fail to load there. (Found through GetProcAddress at run time is fine.)
NOT_ON_WINDOWS_7='^(GetSystemTimePreciseAsFileTime|WaitOnAddress|WakeByAddressSingle|WakeByAddressAll|GetOverlappedResultEx|CreateFile2|SetThreadDescription|GetThreadDescription|ProcessPrng|GetCurrentThreadStackLimits|PrefetchVirtualMemory|SetDefaultDllDirectories|AddDllDirectory|GetSystemFirmwareTable|CreateFileMapping2|MapViewOfFile3|VirtualAlloc2)$'
NOT_ON_WINDOWS_7_DLLS='^(bcryptprimitives|api-ms-win-core-synch-l1-2-0|api-ms-win-core-.*-l1-2-[1-9]|vcruntime.*)\.dll$'

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

    while IFS= read -r imp; do
        [ -n "$imp" ] || continue
        if printf '%s\n' "$imp" | grep -Eiq "$NOT_ON_WINDOWS_7_DLLS"; then
            errors+=("imports $imp, which Windows 7 does not have")
        fi
    done <<<"$imports"
    # Imported function names: the rows under each "DLL Name:" in objdump -p.
    imported_functions=$(printf '%s\n' "$dump" \
        | sed -n '/^[[:space:]]*DLL Name:/,/^$/p' \
        | sed -n 's/^[[:space:]]*[0-9a-f]\{1,\}[[:space:]]\{1,\}[0-9]\{1,\}[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_@]*\)$/\1/p' | sort -u)
    while IFS= read -r fn; do
        [ -n "$fn" ] || continue
        errors+=("imports $fn, which Windows 7 does not have")
    done < <(printf '%s\n' "$imported_functions" | grep -E "$NOT_ON_WINDOWS_7" || true)

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
        echo "ok   $dll ($format, $(stat -c %s "$dll") bytes; $(printf '%s\n' "$imported_functions" | grep -c .) functions from: $(echo $imports | tr ' ' ','))"
    fi
done
exit $status
