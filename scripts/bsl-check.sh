#!/usr/bin/env bash
# Runs BSL Language Server 0.28.5 (installed by scripts/setup/40-bsl-language-server.sh) over BSL
# sources and fails on any Error or Warning diagnostic.
#
# Usage: scripts/bsl-check.sh [options] <path>...
#   <path> a directory: analyzed in place as its own srcDir, so a configuration or extension dump
#          (Configuration.xml, ConfigDumpInfo.xml) is read with its metadata — give the dump's root;
#   <path> a .bsl file: copied into one temporary srcDir together with the other loose files;
#   <path> a .md file: every ```bsl block is written to that temporary srcDir as a module of its own
#          (a snippet must be valid as a whole module); diagnostics point at the Markdown lines.
# Options:
#   -c, --config FILE   analyzer configuration (default: .bsl-language-server.json at the project
#                       root; every diagnostic it disables must have a reason in its
#                       "disabledDiagnosticsReasons" object, checked here)
#   -o, --output DIR    keep the JSON reports (one bsl-json.json per srcDir, in DIR/1, DIR/2, …) and
#                       the extracted snippets (DIR/loose); default: a temporary directory, removed
#   -a, --all           also print Information and Hint diagnostics (they never fail the check)
#   -h, --help          this text
# Env: TB_TOOLS_DIR (default <root>/.tools) locates bsl-language-server/lib; BSL_LS_JAVA_OPTS adds
#      JVM options (e.g. -Xmx1g).
#
# Output: one line per diagnostic, `file:line: severity code message`, then a summary line
# `bsl-check: N error(s), M warning(s) in K file(s), T s`. Exit status: 0 when there is no Error and
# no Warning, 1 when there is any, 2 when the analyzer could not run.
# Also exit 1 when the analyzer reported fewer files than it was given (every *.bsl / *.os under a srcDir, any
# case of the extension, plus every loose file and Markdown snippet: a file it silently skipped is a file nobody
# checked), and on an inline `BSLLS:<Diagnostic>-off` switch without a written reason after it on the same line
# (e.g. `// BSLLS:LineLength-off - длинный литерал URL из документации`): a switch is a disabled check.
# tests/bsl_check_script.rs plants both defects and runs this script on them.
#
# The analyzer is started as `java -cp '<lib>/*' com.github._1c_syntax.bsl.languageserver.BSLLSPLauncher
# --analyze --srcDir <dir> --reporter json --outputDir <dir> --configuration <file> --silent`; each
# srcDir costs one JVM start (about 10 s on two cores), so loose files and snippets share one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${TB_TOOLS_DIR:-$ROOT/.tools}
LIB=$TOOLS/bsl-language-server/lib
CONFIG=$ROOT/.bsl-language-server.json
OUT=""
ALL=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "bsl-check: ERROR: $*" >&2; exit 2; }

paths=()
while [ $# -gt 0 ]; do
    case "$1" in
        -c|--config) [ $# -ge 2 ] || die "$1 needs a file"; CONFIG=$2; shift 2 ;;
        -o|--output) [ $# -ge 2 ] || die "$1 needs a directory"; OUT=$2; shift 2 ;;
        -a|--all) ALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; paths+=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) paths+=("$1"); shift ;;
    esac
done
[ ${#paths[@]} -gt 0 ] || { usage >&2; exit 2; }
[ -f "$TOOLS/bsl-language-server/READY" ] \
    || die "BSL Language Server is not installed in $TOOLS/bsl-language-server: run scripts/setup/40-bsl-language-server.sh"
[ -f "$CONFIG" ] || die "configuration $CONFIG not found"
command -v python3 >/dev/null 2>&1 || die "python3 is required (it reads the JSON reports)"
CONFIG=$(cd "$(dirname "$CONFIG")" && pwd)/$(basename "$CONFIG")

if [ -n "$OUT" ]; then
    mkdir -p "$OUT"
    WORK=$(cd "$OUT" && pwd)
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/bsl-check.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
rm -rf "$WORK/loose" "$WORK/map.tsv" "$WORK/runs.tsv"
mkdir -p "$WORK/loose"
: >"$WORK/map.tsv"
: >"$WORK/runs.tsv"

# Every disabled diagnostic carries a one-line reason.
python3 - "$CONFIG" <<'PY' || exit 2
import json, sys
cfg = json.load(open(sys.argv[1], encoding="utf-8"))
params = cfg.get("diagnostics", {}).get("parameters", {})
reasons = cfg.get("disabledDiagnosticsReasons", {})
bad = [k for k, v in params.items() if v is False and not str(reasons.get(k, "")).strip()]
stale = [k for k in reasons if params.get(k) is not False]
if bad or stale:
    for k in bad:
        print(f"bsl-check: ERROR: {sys.argv[1]}: diagnostic {k} is disabled without a reason", file=sys.stderr)
    for k in stale:
        print(f"bsl-check: ERROR: {sys.argv[1]}: reason given for {k}, which is not disabled", file=sys.stderr)
    sys.exit(1)
PY

# Loose files and Markdown snippets go to $WORK/loose; map.tsv says where each came from:
# <temporary file> TAB <original file> TAB <line offset>.
dirs=()
have_loose=0
n=0
for p in "${paths[@]}"; do
    n=$((n + 1))
    if [ -d "$p" ]; then
        dirs+=("$(cd "$p" && pwd)")
    elif [ -f "$p" ]; then
        abs=$(cd "$(dirname "$p")" && pwd)/$(basename "$p")
        case "$p" in
            *.md|*.markdown)
                python3 - "$abs" "$WORK/loose/$n" "$WORK/map.tsv" <<'PY' || exit 2
import os, re, sys
src, dest, mapfile = sys.argv[1:]
lines = open(src, encoding="utf-8").read().split("\n")
blocks, cur, start = [], None, 0
for i, line in enumerate(lines, 1):
    s = line.strip()
    if cur is None and re.fullmatch(r"```\s*bsl\s*", s, re.I):
        cur, start = [], i
    elif cur is not None and s.startswith("```"):
        blocks.append((start, cur)); cur = None
    elif cur is not None:
        cur.append(line)
if cur is not None:
    sys.exit(f"bsl-check: ERROR: {src}:{start}: ```bsl block is not closed")
os.makedirs(dest, exist_ok=True)
with open(mapfile, "a", encoding="utf-8") as m:
    for start, body in blocks:
        # One module per block, named after the line its code starts on.
        path = os.path.join(dest, f"snippet-L{start + 1}.bsl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
        m.write(f"{path}\t{src}\t{start}\n")
PY
                ;;
            *.bsl|*.os)
                mkdir -p "$WORK/loose/$n"
                cp "$abs" "$WORK/loose/$n/"
                printf '%s\t%s\t0\n' "$WORK/loose/$n/$(basename "$p")" "$abs" >>"$WORK/map.tsv"
                ;;
            *) die "$p: not a directory, .bsl or .md file" ;;
        esac
        have_loose=1
    else
        die "$p: no such file or directory"
    fi
done
[ "$have_loose" = 0 ] || dirs+=("$WORK/loose")

run=0
for d in "${dirs[@]}"; do
    run=$((run + 1))
    report="$WORK/$run"
    rm -rf "$report"
    mkdir -p "$report"
    started=$(date +%s%N)
    # shellcheck disable=SC2086
    if ! (cd "$report" && java ${BSL_LS_JAVA_OPTS:-} -cp "$LIB/*" \
            com.github._1c_syntax.bsl.languageserver.BSLLSPLauncher --analyze --silent \
            --configuration "$CONFIG" --srcDir "$d" --reporter json --outputDir "$report") \
            >"$report/analyzer.log" 2>&1 || [ ! -f "$report/bsl-json.json" ]; then
        grep -v '^[[:space:]]*at ' "$report/analyzer.log" | tail -n 20 >&2
        die "the analyzer failed on $d (log: $report/analyzer.log)"
    fi
    finished=$(date +%s%N)
    printf '%s\t%s\t%s\n' "$d" "$report/bsl-json.json" "$(( (finished - started) / 1000000 ))" >>"$WORK/runs.tsv"
done

python3 - "$WORK/runs.tsv" "$WORK/map.tsv" "$ALL" "$PWD" <<'PY'
import json, os, sys, urllib.parse
runs_file, map_file, show_all, cwd = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
origin = {}
for line in open(map_file, encoding="utf-8"):
    tmp, src, offset = line.rstrip("\n").split("\t")
    origin[os.path.normpath(tmp)] = (src, int(offset))

def shown(path):
    rel = os.path.relpath(path, cwd)
    return path if rel.startswith("..") else rel

counts = {"Error": 0, "Warning": 0, "Information": 0, "Hint": 0}
files, total_time = 0, 0.0
for line in open(runs_file, encoding="utf-8"):
    src_dir, report, seconds = line.rstrip("\n").split("\t")
    total_time += int(seconds) / 1000.0
    data = json.load(open(report, encoding="utf-8"))
    for info in data.get("fileinfos", []):
        files += 1
        uri = urllib.parse.urlparse(info["path"])
        path = os.path.normpath(urllib.parse.unquote(uri.path))
        src, offset = origin.get(path, (path, 0))
        diags = sorted(info.get("diagnostics", []), key=lambda d: (d["range"]["start"]["line"], d["code"]))
        for d in diags:
            sev = d.get("severity", "Error")
            counts[sev] = counts.get(sev, 0) + 1
            if sev in ("Error", "Warning") or show_all:
                line_no = d["range"]["start"]["line"] + 1 + offset
                message = " ".join(str(d.get("message", "")).split())
                print(f"{shown(src)}:{line_no}: {sev} {d['code']} {message}")
# Every file given was analysed: count the modules under each srcDir and compare with the report.
import re
failed = False
for line in open(runs_file, encoding="utf-8"):
    src_dir, report, _ = line.rstrip("\n").split("\t")
    given = []
    for dirpath, _, names in os.walk(src_dir):
        given += [os.path.join(dirpath, n) for n in names if n.lower().endswith((".bsl", ".os"))]
    analysed = {os.path.normpath(urllib.parse.unquote(urllib.parse.urlparse(i["path"]).path))
                for i in json.load(open(report, encoding="utf-8")).get("fileinfos", [])}
    missing = sorted(p for p in given if os.path.normpath(p) not in analysed)
    if len(analysed) < len(given):
        failed = True
        print(f"bsl-check: ERROR: the analyzer reported {len(analysed)} of {len(given)} file(s) given in "
              f"{shown(origin.get(os.path.normpath(src_dir), (src_dir, 0))[0])}; not analysed:", file=sys.stderr)
        for p in missing:
            print(f"  {shown(origin.get(os.path.normpath(p), (p, 0))[0])}", file=sys.stderr)
    # Inline switches need a reason on the same line.
    switch = re.compile(r"BSLLS:\s*([A-Za-z0-9_]+)-off\b(.*)$")
    for p in sorted(given):
        src, offset = origin.get(os.path.normpath(p), (p, 0))
        for no, text in enumerate(open(p, encoding="utf-8-sig", errors="replace"), 1):
            m = switch.search(text)
            if m and not re.search(r"\w{3,}", m.group(2)):
                failed = True
                print(f"{shown(src)}:{no + offset}: ERROR inline switch BSLLS:{m.group(1)}-off without a written "
                      f"reason on the same line", file=sys.stderr)
print(f"bsl-check: {counts['Error']} error(s), {counts['Warning']} warning(s), "
      f"{counts['Information']} information, {counts['Hint']} hint(s) in {files} file(s), "
      f"{total_time:.1f} s", file=sys.stderr)
sys.exit(1 if counts["Error"] or counts["Warning"] or failed else 0)
PY
