# Shared settings for the Windows scripts (sourced, not run).
# Debian's Rust 1.96 is used explicitly: rustup's ~/.cargo/bin comes first on PATH and its 1.95
# cannot compile the 1.96 std source that -Zbuild-std needs.
TB_RUSTC=${TB_RUSTC:-/usr/bin/rustc}
TB_CARGO=${TB_CARGO:-/usr/bin/cargo}
TB_RUST_SRC=${TB_RUST_SRC:-/usr/lib/rustlib/src/rust}
# Outside the repository, so every worktree shares one copy.
TB_WINDOWS_CACHE=${TB_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/telephony-bridge/windows}
TB_RTSTARTUP_DIR=${TB_RTSTARTUP_DIR:-$TB_WINDOWS_CACHE/rtstartup-i686}
TB_WINE32_DIR=${TB_WINE32_DIR:-$TB_WINDOWS_CACHE/wine32}
TB_WINDOWS_TARGETS=(x86_64-win7-windows-gnu i686-win7-windows-gnu)
