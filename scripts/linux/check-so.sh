#!/usr/bin/env bash
# Checks a built add-in .so: it loads on every Linux that meets the glibc floor, and it exports the
# Native API.
#
#   scripts/linux/check-so.sh <file.so> [more.so...]
#
# Fails when the library
#   - needs a glibc symbol version above GLIBC_2.17 (TB_GLIBC_FLOOR), or GLIBC_PRIVATE, or a
#     libgcc_s version above GCC_4.8.0 (CentOS 7's GCC), or any other versioned library (libstdc++,
#     OpenSSL, ...);
#   - links a library other than libc, libm, libdl, libpthread, librt, ld-linux and libgcc_s (no
#     libstdc++, no libssl: nothing the user would have to install);
#   - has text relocations (SELinux-enforcing systems such as RED OS refuse to load them) or asks
#     for an executable stack (newer glibc refuses dlopen of such a library);
#   - does not export, as defined global functions, every entry point the platform looks up:
#     GetClassNames, GetClassObject, DestroyObject, SetPlatformCapabilities, GetAttachType.
# No pipefail: `grep -q` ends a pipe early, and the writer's SIGPIPE would read as a failure.
set -u

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env.sh
source "$SCRIPT_DIR/env.sh"

REQUIRED_EXPORTS=(GetClassNames GetClassObject DestroyObject SetPlatformCapabilities GetAttachType)
ALLOWED_NEEDED='^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|ld-linux-x86-64\.so\.2|ld-linux\.so\.2|libgcc_s\.so\.1)$'
GCC_FLOOR=4.8.0

[ $# -ge 1 ] || { echo "usage: check-so.sh <file.so>..." >&2; exit 2; }
command -v readelf >/dev/null || { echo "check-so.sh: readelf missing (apt: binutils)" >&2; exit 1; }

# version_le A B: A <= B for dotted versions.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }

status=0
for so in "$@"; do
    if [ ! -f "$so" ]; then
        echo "FAIL $so: no such file" >&2; status=1; continue
    fi
    if ! header=$(readelf -h -W "$so" 2>&1) || ! grep -q 'Type:[[:space:]]*DYN' <<<"$header"; then
        echo "FAIL $so: not an ELF shared library" >&2; status=1; continue
    fi
    errors=()
    class=$(printf '%s\n' "$header" | sed -n 's/^[[:space:]]*Class:[[:space:]]*//p')
    machine=$(printf '%s\n' "$header" | sed -n 's/^[[:space:]]*Machine:[[:space:]]*//p')
    dynamic=$(readelf -d -W "$so")
    # Every version the library needs: the version-needs section (.gnu.version_r) lists them per
    # library; the undefined dynamic symbols name them again (sym@VERSION). Both are read.
    needs=$( { readelf -V -W "$so" | sed -n 's/.*Name: \([A-Za-z_][A-Za-z0-9_.]*\)[[:space:]]*Flags.*/\1/p'
               readelf --dyn-syms -W "$so" | awk '$7 == "UND"' | grep -o '@@\{0,1\}[A-Za-z_][A-Za-z0-9_.]*' | tr -d @; } | sort -u)
    highest_glibc=""
    while IFS= read -r v; do
        [ -n "$v" ] || continue
        case "$v" in
            GLIBC_PRIVATE) errors+=("needs GLIBC_PRIVATE (internal glibc symbols differ between builds)") ;;
            GLIBC_[0-9]*)
                n=${v#GLIBC_}
                if version_le "$n" "$TB_GLIBC_FLOOR"; then
                    { [ -z "$highest_glibc" ] || version_le "$highest_glibc" "$n"; } && highest_glibc=$n
                else
                    syms=$(readelf --dyn-syms -W "$so" | awk '$7 == "UND"' | grep -o "[A-Za-z_][A-Za-z0-9_]*@$v" | sed "s/@$v//" | sort -u | paste -sd, -)
                    errors+=("needs $v (above the GLIBC_$TB_GLIBC_FLOOR floor)${syms:+: $syms}")
                fi ;;
            GCC_[0-9]*)
                version_le "${v#GCC_}" "$GCC_FLOOR" || errors+=("needs libgcc_s $v (above GCC_$GCC_FLOOR)") ;;
            *) errors+=("needs symbol version $v of a library that is not glibc or libgcc_s") ;;
        esac
    done <<<"$needs"

    needed=$(printf '%s\n' "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    while IFS= read -r lib; do
        [ -n "$lib" ] || continue
        grep -Eq "$ALLOWED_NEEDED" <<<"$lib" || errors+=("links $lib (not part of every Linux: only libc, libm, libdl, libpthread, librt, ld-linux, libgcc_s are allowed)")
    done <<<"$needed"

    if grep -Eq '\(TEXTREL\)|\(FLAGS\).*TEXTREL' <<<"$dynamic"; then
        errors+=("has text relocations")
    fi
    if grep -E '^[[:space:]]*GNU_STACK' <<<"$(readelf -l -W "$so")" | grep -q 'RWE'; then
        errors+=("asks for an executable stack")
    fi

    exports=$(readelf --dyn-syms -W "$so" | awk '$4 == "FUNC" && $5 == "GLOBAL" && $7 != "UND" {sub(/@.*/, "", $8); print $8}')
    for name in "${REQUIRED_EXPORTS[@]}"; do
        grep -qx "$name" <<<"$exports" || errors+=("does not export $name")
    done

    if [ ${#errors[@]} -gt 0 ]; then
        for e in "${errors[@]}"; do echo "FAIL $so: $e" >&2; done
        status=1
    else
        echo "ok   $so ($class $machine, $(stat -c %s "$so") bytes; highest GLIBC_${highest_glibc:-none}; links: $(echo $needed | tr ' ' ','))"
    fi
done
exit $status
