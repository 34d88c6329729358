#!/usr/bin/env bash
# BSL Language Server 0.28.5 (io.github.1c-syntax:bsl-language-server on Maven Central) for
# scripts/bsl-check.sh (idempotent, quiet).
#
# Resolves the server and its runtime classpath with Maven from the committed scripts/bsl-ls/pom.xml
# (`mvn dependency:copy-dependencies`; the POM explains its version pins) into
# $TB_TOOLS_DIR/bsl-language-server/lib/*.jar, then touches .../bsl-language-server/READY. The
# server is started as `java -cp 'lib/*' com.github._1c_syntax.bsl.languageserver.BSLLSPLauncher`
# (Java 17+). Nothing is done when READY exists and VERSION says 0.28.5.
#
# Installs Java 17 and Maven with apt-get on Debian when they are missing.
#
# Env: TB_TOOLS_DIR overrides .tools; TB_SKIP_BSL_LS=1 skips this script (scripts/bsl-check.sh then
# fails with a clear message).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${TB_TOOLS_DIR:-$ROOT/.tools}
DEST=$TOOLS/bsl-language-server
VERSION=0.28.5
POM=$ROOT/scripts/bsl-ls/pom.xml

fail() { echo "40-bsl-language-server.sh: ERROR: $*" >&2; exit 1; }
note() { echo "40-bsl-language-server.sh: $*" >&2; }

[ "${TB_SKIP_BSL_LS:-0}" != "1" ] || exit 0

if [ -f "$DEST/READY" ] && [ "$(cat "$DEST/VERSION" 2>/dev/null)" = "$VERSION" ] \
   && [ -f "$DEST/lib/bsl-language-server-$VERSION.jar" ]; then
    exit 0
fi

java_major() {
    command -v java >/dev/null 2>&1 || { echo 0; return; }
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

missing=()
[ "$(java_major)" -ge 17 ] 2>/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
    [ -r /etc/debian_version ] || fail "missing: Java 17+ and/or Maven — install them and run again"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "missing: ${missing[*]} and there is no sudo"
        sudo="sudo"
    fi
    note "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tb-40-bsl-ls-apt.log 2>&1 || {
        $sudo apt-get update -qq >/dev/null \
            && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tb-40-bsl-ls-apt.log 2>&1
    } || { tail -n 20 /tmp/tb-40-bsl-ls-apt.log >&2; fail "apt-get install ${missing[*]} failed"; }
fi
[ "$(java_major)" -ge 17 ] 2>/dev/null || fail "Java 17 or newer is required (java -version: $(java -version 2>&1 | head -n 1))"

note "resolving BSL Language Server $VERSION into $DEST/lib"
mkdir -p "$DEST"
rm -f "$DEST/READY"
tmp="$DEST/lib.partial"
rm -rf "$tmp"
log=$(mktemp)
if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    fail "mvn dependency:copy-dependencies failed (full log: $log)"
fi
rm -f "$log"
[ -f "$tmp/bsl-language-server-$VERSION.jar" ] || fail "bsl-language-server-$VERSION.jar was not resolved"
# Spring Boot refuses to start with slf4j-api 1.x; the POM pins 2.x, this guards the pin.
ls "$tmp"/slf4j-api-2.*.jar >/dev/null 2>&1 || fail "slf4j-api 2.x did not win the resolution (see $POM)"
rm -rf "$DEST/lib"
mv "$tmp" "$DEST/lib"
echo "$VERSION" >"$DEST/VERSION"
touch "$DEST/READY"
