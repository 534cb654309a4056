#!/usr/bin/env bash
# Builds the browser bundle of the booth (crates/booth compiled to WebAssembly, and its
# JavaScript glue) into web/pkg, or into the folder given as the first argument.
#
#   scripts/build-booth.sh            # rebuild the committed bundle in web/pkg
#   scripts/build-booth.sh /tmp/pkg   # build elsewhere (CI compares it with web/pkg)
#
# The bundle is committed, so that `cargo run` serves the booth on a fresh machine without
# the WebAssembly toolchain; rebuild and commit it whenever crates/{booth,election,crypto}
# or Cargo.lock change (CI fails while it is stale). The build is reproducible: the same
# bytes on any machine, whatever the checkout folder, because
#   - the Rust toolchain is pinned here (TOOLCHAIN, installed with rustup if missing), not
#     taken from the machine's default;
#   - wasm-bindgen-cli is exactly the version of the wasm-bindgen crate in Cargo.lock
#     (installed with `cargo install` if missing; about 2.5 minutes);
#   - paths of the checkout and of the cargo registry are remapped (--remap-path-prefix),
#     and RUSTFLAGS set outside (e.g. -C target-cpu=native for the server) are ignored.
# wasm-opt is not used: Debian 12's binaryen (108) makes a module Chromium refuses to load,
# and another version would make the bytes depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
out=${1:-web/pkg}
TOOLCHAIN=1.95.0
target=wasm32-unknown-unknown

sysroot=$(rustc "+$TOOLCHAIN" --print sysroot 2>/dev/null || true)
if [ -z "$sysroot" ] || [ ! -d "$sysroot/lib/rustlib/$target" ]; then
    echo "== installing Rust $TOOLCHAIN with the $target target" >&2
    rustup toolchain install "$TOOLCHAIN" --profile minimal --target "$target"
fi

version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if [ -z "$version" ]; then
    echo "no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
    echo "== installing wasm-bindgen-cli $version (the version in Cargo.lock)" >&2
    cargo install wasm-bindgen-cli --version "$version"
fi

cargo_home=${CARGO_HOME:-$HOME/.cargo}
target_dir=${CARGO_TARGET_DIR:-$root/target}
unset CARGO_ENCODED_RUSTFLAGS
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$root=/scrutin --remap-path-prefix=$target_dir=/target"
cargo "+$TOOLCHAIN" build --locked --release -p scrutin-booth --target "$target"

mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" \
    "$target_dir/$target/release/scrutin_booth.wasm"
ls -l "$out"
