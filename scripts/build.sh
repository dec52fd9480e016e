#!/usr/bin/env bash
# Release build of the server and the hydrated WASM front end (cargo-leptos).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
say "Building Kinema (release)"
# The server embeds the browser files it finds here (server/build.rs); cargo-leptos builds and
# precompresses them first because `precompress` is on.
KINEMA_EMBED_SITE="$SITE_ROOT" cargo leptos build --release
test -f "$SITE_ROOT/pkg/kinema.wasm" || { echo "build finished but $SITE_ROOT/pkg/kinema.wasm is missing" >&2; exit 1; }
