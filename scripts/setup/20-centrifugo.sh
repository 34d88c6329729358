#!/usr/bin/env bash
# Centrifugo v6.9.1 and Redis for the Centrifugo tests and benchmarks (idempotent, quiet).
#
# - Centrifugo: `go install github.com/centrifugal/centrifugo/v6@v6.9.1` into .tools/bin (gitignored) when
#   .tools/bin/centrifugo is absent or another version. Some Go proxies refuse the module's version list,
#   which `go install pkg@version` reads for its deprecation check; then the same tagged module is
#   downloaded with `go mod download` and built from the module cache.
# - Redis: Debian's redis-server (the two-node tests use the Redis engine). The system service is not needed:
#   the tests start their own redis-server on a random loopback port. openssl (the TLS test's certificates).
# - centrifuge-python (the official Python SDK) for the latency benchmark, into .tools/venv.
# - centrifuge-go (the official Go SDK) for the same benchmark: benches/centrifuge_go_subscriber (its go.mod and
#   go.sum pin the SDK, fetched from the Go module proxy) built into .tools/bin/centrifuge-go-subscriber; rebuilt
#   only when its sources change (their hash is kept beside the binary).
#
# Env: TB_TOOLS_DIR overrides .tools; TB_SKIP_PYTHON=1 skips the Python client, TB_SKIP_GO_CLIENT=1 the Go one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=${TB_TOOLS_DIR:-$ROOT/.tools}
BIN=$TOOLS/bin
VERSION=6.9.1
MODULE=github.com/centrifugal/centrifugo/v6

fail() { echo "20-centrifugo.sh: ERROR: $*" >&2; exit 1; }
note() { echo "20-centrifugo.sh: $*" >&2; }

mkdir -p "$BIN"

installed_version() {
    [ -x "$BIN/centrifugo" ] || return 0
    "$BIN/centrifugo" version 2>/dev/null | awk '{print $2}' | sed 's/^v//'
}

if [ "$(installed_version)" != "$VERSION" ]; then
    command -v go >/dev/null 2>&1 || fail "Go is not installed: install Go 1.24+ (https://go.dev/dl/) and run again"
    note "installing Centrifugo v$VERSION into $BIN"
    ldflags="-X $MODULE/internal/build.Version=$VERSION"
    log=$(mktemp)
    if ! GOBIN="$BIN" go install -ldflags "$ldflags" "$MODULE@v$VERSION" >"$log" 2>&1; then
        note "go install failed ($(tail -n 1 "$log")); building the downloaded module instead"
        dir=$(go mod download -json "$MODULE@v$VERSION" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
        [ -n "$dir" ] && [ -d "$dir" ] || { tail -n 20 "$log" >&2; fail "cannot download $MODULE@v$VERSION"; }
        (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$BIN/centrifugo" .) >>"$log" 2>&1 \
            || { tail -n 20 "$log" >&2; fail "go build of $MODULE@v$VERSION failed (log: $log)"; }
    fi
    rm -f "$log"
    [ "$(installed_version)" = "$VERSION" ] || fail "$BIN/centrifugo does not report v$VERSION"
fi

apt_install() {
    [ -r /etc/debian_version ] || fail "missing: $* — install them with your package manager and run again"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "missing: $* and there is no sudo: apt-get install $*"
        sudo="sudo"
    fi
    note "installing: $*"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq "$@" >/tmp/tb-20-centrifugo-apt.log 2>&1 || {
        $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$@" >/tmp/tb-20-centrifugo-apt.log 2>&1
    } || { tail -n 20 /tmp/tb-20-centrifugo-apt.log >&2; fail "apt-get install $* failed"; }
}

# Redis for the two-node tests; openssl makes the certificates of the TLS test.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
command -v redis-server >/dev/null 2>&1 || fail "redis-server still missing after install"

if [ "${TB_SKIP_PYTHON:-0}" != "1" ]; then
    VENV=$TOOLS/venv
    if ! "$VENV/bin/python" -c "import centrifuge" >/dev/null 2>&1; then
        command -v python3 >/dev/null 2>&1 || fail "python3 is missing (needed for the centrifuge-python benchmark; TB_SKIP_PYTHON=1 skips it)"
        note "installing centrifuge-python into $VENV"
        if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            apt_install python3-venv
            python3 -m venv "$VENV" >/dev/null 2>&1 || fail "python3 -m venv failed even with python3-venv installed"
        fi
        "$VENV/bin/pip" install -q centrifuge-python >/tmp/tb-20-centrifugo-pip.log 2>&1 \
            || { tail -n 20 /tmp/tb-20-centrifugo-pip.log >&2; fail "pip install centrifuge-python failed"; }
    fi
fi

if [ "${TB_SKIP_GO_CLIENT:-0}" != "1" ]; then
    src=$ROOT/benches/centrifuge_go_subscriber
    sum=$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -d' ' -f1)
    if [ ! -x "$BIN/centrifuge-go-subscriber" ] || [ "$(cat "$BIN/centrifuge-go-subscriber.sha256" 2>/dev/null)" != "$sum" ]; then
        command -v go >/dev/null 2>&1 || fail "Go is not installed (needed for the centrifuge-go benchmark; TB_SKIP_GO_CLIENT=1 skips it)"
        note "building the centrifuge-go subscriber into $BIN"
        log=$(mktemp)
        (cd "$src" && go build -mod=readonly -trimpath -o "$BIN/centrifuge-go-subscriber" .) >"$log" 2>&1 \
            || { tail -n 20 "$log" >&2; fail "go build of benches/centrifuge_go_subscriber failed (log: $log)"; }
        rm -f "$log"
        echo "$sum" >"$BIN/centrifuge-go-subscriber.sha256"
    fi
fi
