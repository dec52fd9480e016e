#!/usr/bin/env bash
# Release build of the server and the hydrated WASM front end (cargo-leptos).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
say "Building Kinema (release)"
# The server embeds the browser files it finds here (server/build.rs); with --precompress
# cargo-leptos builds and compresses them (brotli, gzip) before it builds the server.
KINEMA_EMBED_SITE="$SITE_ROOT" cargo leptos build --release --precompress --split
test -f "$SITE_ROOT/pkg/kinema.wasm" || { echo "build finished but $SITE_ROOT/pkg/kinema.wasm is missing" >&2; exit 1; }
