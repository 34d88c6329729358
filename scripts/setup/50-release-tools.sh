#!/usr/bin/env bash
# Checkers of the release kit (idempotent, quiet):
#   - ShellCheck from Debian (package shellcheck) for scripts/1c/tb-1c-kit.sh (tests/release_kit.rs);
#   - actionlint v1.7.12 for .github/workflows/*.yml, built from the Go module proxy with
#     `go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12` into $TB_TOOLS_DIR/bin (default .tools/bin).
#     Some Go proxies refuse the module's version list, which `go install pkg@version` reads; then the same
#     tagged module is downloaded with `go mod download` and built from the module cache (as 20-centrifugo.sh).
#
# Env: TB_TOOLS_DIR overrides .tools.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${TB_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS/bin
ACTIONLINT_VERSION=1.7.12
MODULE=github.com/rhysd/actionlint

fail() { echo "50-release-tools.sh: ERROR: $*" >&2; exit 1; }
note() { echo "50-release-tools.sh: $*" >&2; }

if ! command -v shellcheck >/dev/null 2>&1; then
    [ -r /etc/debian_version ] || fail "shellcheck is missing: install it with your package manager and run again"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "shellcheck is missing and there is no sudo: apt-get install shellcheck"
        sudo="sudo"
    fi
    note "installing: shellcheck"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends shellcheck >/tmp/tb-50-release-tools-apt.log 2>&1 || {
        $sudo apt-get update -qq >/dev/null \
            && $sudo apt-get install -y -qq --no-install-recommends shellcheck >/tmp/tb-50-release-tools-apt.log 2>&1
    } || { tail -n 20 /tmp/tb-50-release-tools-apt.log >&2; fail "apt-get install shellcheck failed"; }
fi
command -v shellcheck >/dev/null 2>&1 || fail "shellcheck still missing after install"

installed_version() {
    [ -x "$BIN/actionlint" ] || return 0
    # `actionlint -version` prints the version on its first line (e.g. "1.7.12" or "v1.7.12").
    "$BIN/actionlint" -version 2>/dev/null | head -n 1 | sed 's/^v//'
}

if [ "$(installed_version)" != "$ACTIONLINT_VERSION" ]; then
    command -v go >/dev/null 2>&1 || fail "Go is not installed: install Go 1.22+ (https://go.dev/dl/) and run again"
    mkdir -p "$BIN"
    note "installing actionlint v$ACTIONLINT_VERSION into $BIN"
    # The version string actionlint prints comes from the module's build info, which `go install pkg@v`
    # records; the fallback below sets it explicitly.
    ldflags="-X $MODULE.version=v$ACTIONLINT_VERSION"
    log=$(mktemp)
    if ! GOBIN="$BIN" go install "$MODULE/cmd/actionlint@v$ACTIONLINT_VERSION" >"$log" 2>&1; then
        note "go install failed ($(tail -n 1 "$log")); building the downloaded module instead"
        dir=$(go mod download -json "$MODULE@v$ACTIONLINT_VERSION" 2>>"$log" \
            | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
        if [ -z "$dir" ] || [ ! -d "$dir" ]; then
            tail -n 20 "$log" >&2
            fail "cannot download $MODULE@v$ACTIONLINT_VERSION"
        fi
        (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$BIN/actionlint" ./cmd/actionlint) >>"$log" 2>&1 \
            || { tail -n 20 "$log" >&2; fail "go build of $MODULE@v$ACTIONLINT_VERSION failed (log: $log)"; }
    fi
    rm -f "$log"
    [ "$(installed_version)" = "$ACTIONLINT_VERSION" ] \
        || fail "$BIN/actionlint reports '$(installed_version)', not $ACTIONLINT_VERSION"
fi
