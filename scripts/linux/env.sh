# Shared settings for the Linux scripts (sourced, not run).
#
# Linux binaries are linked by Zig (through cargo-zigbuild) against the glibc 2.17 symbol set, so
# they load on every distribution from CentOS 7 on. The tools live in a venv under .tools (PyPI:
# ziglang, cargo-zigbuild); the private 32-bit glibc that runs the i686 tests lives outside the
# repository, so every worktree shares one copy.
TB_LINUX_ROOT=${TB_LINUX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TB_ZIG_VENV=${TB_ZIG_VENV:-${TB_TOOLS_DIR:-$TB_LINUX_ROOT/.tools}/zig}
TB_ZIGLANG_VERSION=0.15.2
TB_CARGO_ZIGBUILD_VERSION=0.24.1
# The oldest glibc the binaries may need (CentOS 7); scripts/linux/check-so.sh enforces it.
TB_GLIBC_FLOOR=2.17
TB_LINUX_CACHE=${TB_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/telephony-bridge/linux}
TB_I386_DIR=${TB_I386_DIR:-$TB_LINUX_CACHE/i386}
# Debian's Rust 1.96 and its std source: std is built from source for both Linux targets (rustup
# cannot download the i686 one here); the same as scripts/windows/env.sh.
TB_RUSTC=${TB_RUSTC:-/usr/bin/rustc}
TB_CARGO=${TB_CARGO:-/usr/bin/cargo}
TB_RUST_SRC=${TB_RUST_SRC:-/usr/lib/rustlib/src/rust}
