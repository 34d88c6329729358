#!/usr/bin/env python3
"""What takes the space in a built add-in: bytes per crate and per section.

    scripts/linux/size-report.py <unstripped library> [--top N]
    scripts/linux/size-report.py <before> <after> [--top N]     (side by side, with the change)

Needs an unstripped build (CARGO_PROFILE_RELEASE_STRIP=none): the crate table comes from the symbol
table (`nm -S -C`), every function and static attributed to the crate that defines it, as
cargo-bloat does (a generic instantiated for another crate's type counts for the crate that
defines the generic, e.g. core::ptr::drop_in_place<rustls::...> for core). ring's C and assembly
functions count for ring: ring_core_* by name, and every other symbol without a Rust path (its
P-256/X25519 tables and field arithmetic) too, since ring is the only C/assembly in the library
besides Zig's libunwind (which has C++ names) and our five exported entry points. The section table (`readelf -S`) shows what is not code:
unwind tables, read-only data, relocations. Works for ELF (Linux) and, with the MinGW binutils on
PATH as nm/readelf, for PE files too, since the same symbol names are used.
"""
import re
import subprocess
import sys
from collections import Counter

STD = {"core", "alloc", "std", "std_detect", "panic_unwind", "unwind", "compiler_builtins",
       "rustc_demangle", "addr2line", "gimli", "object", "miniz_oxide", "memchr", "hashbrown",
       "adler2", "cfg_if"}


EXPORTS = {"GetClassNames", "GetClassObject", "DestroyObject", "SetPlatformCapabilities",
           "GetAttachType"}


def crate_of(name: str) -> str:
    if name in EXPORTS:
        return "telephony_bridge"
    if name.startswith("anon.") or name.startswith(".L"):
        return "[anonymous constants]"
    if "::" not in name and not name.startswith("<") and not name.startswith("rust_"):
        return "ring"
    n = name
    # <T as Trait>::f and <impl ...>: the type's crate.
    while True:
        m = re.match(r"^(<|&|\*const |\*mut |\[|dyn |impl |\(|mut )", n)
        if not m:
            break
        n = n[m.end():]
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)::", n)
    if m:
        return m.group(1)
    # <str>::f, <u128>::f, <T as core::fmt::Debug>::fmt: a primitive or a type parameter, so the
    # trait's crate, or std.
    m = re.match(r"^[A-Za-z_][A-Za-z0-9_]*(?:; \d+\])?(?:>|\s+as\s+(?:<|&|dyn )*([A-Za-z_][A-Za-z0-9_]*))", n)
    if m:
        return m.group(1) or "core"
    return "[C/unknown]"


def crates(path: str) -> Counter:
    out = subprocess.run(["nm", "-S", "-C", "--defined-only", path], capture_output=True,
                         text=True, check=True).stdout
    by_crate = Counter()
    seen = set()
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        addr, size, kind, name = parts
        if kind.lower() not in "tdrbv":
            continue
        if (addr, size) in seen:  # aliases of one body (ICF, symbol versions)
            continue
        seen.add((addr, size))
        crate = crate_of(name)
        by_crate["std (core, alloc, std, ...)" if crate in STD else crate] += int(size, 16)
    return by_crate


def sections(path: str) -> Counter:
    sec = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True,
                         check=True).stdout
    result = Counter()
    for line in sec.splitlines():
        m = re.match(r"^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and not m.group(1).startswith((".symtab", ".strtab", ".debug", ".comment")):
            result[m.group(1)] += int(m.group(2), 16)
    return result


def table(title: str, columns: list, top: int, min_bytes: int) -> None:
    keys = sorted(set().union(*columns), key=lambda k: -max(c[k] for c in columns))
    if len(columns) == 1:
        total = sum(columns[0].values())
        print(f"| {title} | bytes | share |\n|---|---:|---:|")
        for k in keys[:top]:
            if columns[0][k] >= min_bytes:
                print(f"| {k} | {columns[0][k]} | {100.0 * columns[0][k] / total:.1f}% |")
        print(f"| all | {total} | |")
    else:
        before, after = columns
        print(f"| {title} | before | after | change |\n|---|---:|---:|---:|")
        for k in keys[:top]:
            if max(before[k], after[k]) >= min_bytes:
                print(f"| {k} | {before[k]} | {after[k]} | {after[k] - before[k]:+d} |")
        b, a = sum(before.values()), sum(after.values())
        print(f"| all | {b} | {a} | {a - b:+d} |")


def main() -> int:
    args = sys.argv[1:]
    top = 30
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i:i + 2]
    if len(args) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    print("## crates (bytes of functions and statics)\n")
    table("crate", [crates(p) for p in args], top, 1)
    print("\n## sections (bytes; sections under 4 KiB left out)\n")
    table("section", [sections(p) for p in args], 100, 4096)
    return 0


if __name__ == "__main__":
    sys.exit(main())
