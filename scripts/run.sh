#!/usr/bin/env bash
# Command one: set up this machine, build Kinema and run it on SQLite + local storage at
# http://127.0.0.1:3000 (sandbox mode unless EVOLINK_API_KEY is set). Extra arguments go to the server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
cd "$ROOT"
exec "$CARGO_TARGET_DIR/release/kinema-server" "$@"
