#!/usr/bin/env bash
# Release build of the server and the hydrated WASM front end (cargo-leptos).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
say "Building Kinema (release)"
cargo leptos build --release
test -f "$KINEMA_SITE_ROOT/pkg/kinema.wasm" || { echo "build finished but $KINEMA_SITE_ROOT/pkg/kinema.wasm is missing" >&2; exit 1; }
