#!/usr/bin/env bash
# Builds every Lambda function under functions/ for arm64 with cargo-lambda, as `sam build`
# does, then prints each stripped `bootstrap` and its size against the 8 MiB target.
#
#   tests/infra/lambda-build.sh            build, print the sizes, fail if one is too big
#
# Installs what it needs, idempotently: cargo-lambda and zig (PyPI, pinned) in a venv, and an
# aarch64 standard library: rustup's `aarch64-unknown-linux-gnu` target, or where rustup cannot
# download it, Debian's rustc-web with its arm64 standard library (apt, as root), which then
# builds into its own target dir so the two compilers never share artifacts.
#
# The size settings are the workspace's release profile (Cargo.toml), the one `sam build` uses.
#
# Env: LAMBDA_VENV (default target/lambda-venv), MAX_BYTES (default 8 MiB),
#      CARGO_TARGET_DIR (default target/, or target/lambda-arm64-debian with Debian's rustc).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"

CARGO_LAMBDA_VERSION=1.9.2
ZIG_VERSION=0.13.0
DEBIAN_RUST_VERSION=1.96.0+dfsg1-1~deb12u2
TARGET=aarch64-unknown-linux-gnu
MAX_BYTES="${MAX_BYTES:-$((8 * 1024 * 1024))}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'lambda-build: %s\n' "$*" >&2; exit 1; }

if ! command -v cargo >/dev/null && [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
command -v cargo >/dev/null || die "cargo not found (install Rust with rustup)"

# ---------------------------------------------------------------- cargo-lambda and zig
VENV="${LAMBDA_VENV:-$ROOT/target/lambda-venv}"
want="cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIG_VERSION"
if [[ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]]; then
    step "installing $want into ${VENV#"$ROOT"/}"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $want
    echo "$want" > "$VENV/.installed"
fi
# cargo-zigbuild finds zig as `python3 -m ziglang`: the venv's python3 comes first.
export PATH="$VENV/bin:$PATH"

# ---------------------------------------------------------------- an aarch64 standard library
has_target() { rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; }
if ! has_target && command -v rustup >/dev/null; then
    step "rustup target add $TARGET"
    timeout 600 rustup target add "$TARGET" || echo "rustup could not add $TARGET"
fi
if has_target; then
    step "rustup's $TARGET standard library"
else
    version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }
    if [[ "$(version rustc-web)" != "$DEBIAN_RUST_VERSION" \
            || "$(version libstd-rust-web-dev:arm64)" != "$DEBIAN_RUST_VERSION" ]]; then
        [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null \
            || die "no $TARGET standard library: run 'rustup target add $TARGET'"
        step "installing Debian's rustc-web and its arm64 standard library"
        export DEBIAN_FRONTEND=noninteractive
        dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
        apt-get update -qq
        apt-get install -y -qq "rustc-web=$DEBIAN_RUST_VERSION" \
            "libstd-rust-web-dev:arm64=$DEBIAN_RUST_VERSION" >/dev/null
    fi
    debian_rustc=/usr/bin/rustc
    step "Debian's $("$debian_rustc" --version) for $TARGET"
    export RUSTC="$debian_rustc"
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/lambda-arm64-debian}"
fi
# The workspace's target dir, where `sam build` builds too (in source).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$CARGO_TARGET_DIR/lambda"

# ---------------------------------------------------------------- build

packages=()
binaries=()
for manifest in functions/*/Cargo.toml; do
    crate="$(dirname "$manifest")"
    packages+=(-p "$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -1)")
    binaries+=("$(basename "$crate")")
done

step "cargo lambda build --release --arm64 (${#binaries[@]} functions)"
started=$SECONDS
cargo lambda build --release --arm64 "${packages[@]}"
elapsed=$((SECONDS - started))

# ---------------------------------------------------------------- sizes
step "bootstrap sizes (limit $MAX_BYTES bytes), built in ${elapsed}s"
too_big=0
for binary in "${binaries[@]}"; do
    bootstrap="$OUT/$binary/bootstrap"
    [[ -f "$bootstrap" ]] || die "no $bootstrap"
    size="$(stat -c %s "$bootstrap")"
    verdict=ok
    if (( size > MAX_BYTES )); then verdict="TOO BIG"; too_big=1; fi
    awk -v b="$binary" -v s="$size" -v v="$verdict" \
        'BEGIN { printf "%-20s %10d bytes  %6.2f MiB  %s\n", b, s, s / 1048576, v }'
done
exit "$too_big"
