#!/usr/bin/env bash
# Installs everything Kinema needs to build, run and test on a fresh machine of this kind.
# Idempotent: each step is skipped when the right version is already there.
#   scripts/setup.sh          tools for building and running
#   scripts/setup.sh --test   also the browser and tools for the checks
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
WITH_TEST_TOOLS=0
[[ "${1:-}" == "--test" ]] && WITH_TEST_TOOLS=1

CARGO_LEPTOS_VERSION=0.3.10
LEPTOSFMT_VERSION=0.1.33
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 16 minutes on 2 cores)"
  env -u CARGO_TARGET_DIR cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != *"$WASM_BINDGEN_VERSION"* ]]; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock)"
  # Not --locked: its lockfile names a crate version the registry here lacks.
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wasm-opt comes from the npm package binaryen (Debian's is too old for today's Rust WASM);
# playwright-core drives Debian's Chromium in the browser tests.
if [[ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" || "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]]; then
  say "Installing npm packages (binaryen's wasm-opt, playwright-core)"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
fi

if [[ "$WITH_TEST_TOOLS" == 1 ]]; then
  if [[ "$(leptosfmt --version 2>/dev/null || true)" != *"$LEPTOSFMT_VERSION"* ]]; then
    say "Installing leptosfmt $LEPTOSFMT_VERSION"
    env -u CARGO_TARGET_DIR cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
  fi
  # Debian packages: Chromium for the browser tests, wrk as the benchmark's load tool, nginx and
  # openssl for the deployment test (deploy/nginx.conf in front of two instances, self-signed
  # certificate), the PostgreSQL client for the backup test (pg_dump/pg_restore).
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || missing+=(nginx)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v pg_dump >/dev/null || missing+=(postgresql-client)
  if ((${#missing[@]})); then
    say "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
    # Only nginx's binary is wanted; the test starts its own nginx with its own config.
    if command -v systemctl >/dev/null; then systemctl disable --now nginx 2>/dev/null || true; fi
  fi
  # A real OpenID Connect provider with a login form, for the single sign-on tests.
  if ! command -v oidc-provider-mock >/dev/null; then
    say "Installing oidc-provider-mock (PyPI)"
    python3 -m pip install --quiet 'oidc-provider-mock==0.3.4'
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi
