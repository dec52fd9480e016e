#!/usr/bin/env bash
# Command two: set up this machine and run every check and test:
# formatting, lints (server and browser feature sets), unit and integration tests on SQLite and
# PostgreSQL, the release build, and the browser tests in Debian's Chromium against that build.
# Ends with one line: "tests: N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test || { echo "setup failed"; exit 1; }

LOG_DIR="$(mktemp -d)"
FAILED_STEPS=()
step() {
  local name="$1"; shift
  say "$name"
  if ! "$@"; then FAILED_STEPS+=("$name"); fi
}

step "cargo fmt --check" cargo fmt --all --check
if command -v leptosfmt >/dev/null; then
  step "leptosfmt --check" leptosfmt --check app/src
fi
step "clippy (server: ssr)" cargo clippy --all-targets -p kinema-app -p kinema-server -p evolink-sim -p kinema-bench --features kinema-app/ssr -- -D warnings
step "clippy (browser: hydrate)" cargo clippy --all-targets -p kinema-app -p kinema-frontend --features kinema-app/hydrate --target wasm32-unknown-unknown -- -D warnings

# The simulator is the stand-in upstream: it must not share code with Kinema (see README).
simulator_is_independent() {
  local tree
  tree=$(cargo tree -p evolink-sim -e normal,build,dev --prefix none) || return 1
  ! grep -i kinema <<<"$tree" || { echo "evolink-sim must not depend on Kinema crates"; return 1; }
}
step "evolink-sim depends on no Kinema crate" simulator_is_independent

say "cargo test (unit and integration; SQLite and PostgreSQL)"
cargo test -p kinema-app -p kinema-server -p evolink-sim --features kinema-app/ssr --no-fail-fast 2>&1 | tee "$LOG_DIR/cargo-test.log"
[[ "${PIPESTATUS[0]}" == 0 ]] || FAILED_STEPS+=("cargo test")

step "release build" "$ROOT/scripts/build.sh"

WASM="$SITE_ROOT/pkg/kinema.wasm"
if [[ -f "$WASM" ]]; then
  say "what a first page load fetches (WASM + JS), as served (brotli, precompressed at build time)"
  for file in "$WASM" "$SITE_ROOT/pkg/kinema.js"; do
    printf '%s: %s bytes raw, %s gzip, %s brotli\n' "$(basename "$file")" "$(stat -c %s "$file")" \
      "$(stat -c %s "$file.gz" 2>/dev/null || echo '?')" "$(stat -c %s "$file.br" 2>/dev/null || echo '?')"
  done
fi

say "browser tests (Debian's Chromium, release build)"
export KINEMA_SERVER_BIN="$CARGO_TARGET_DIR/release/kinema-server"
(cd end2end && node --test --test-concurrency=1 --test-reporter=spec tests/) 2>&1 | tee "$LOG_DIR/e2e.log"
[[ "${PIPESTATUS[0]}" == 0 ]] || FAILED_STEPS+=("browser tests")

say "benchmarks (release build; figures only, no pass/fail thresholds)"
if [[ -x "$KINEMA_SERVER_BIN" ]]; then
  # kinema-bench is a dev-only crate; it measures the release kinema-server built above.
  # The engine scenario's short version: 2,000 running tasks at a ceiling of 100/s for 25 s
  # (--engine-tasks 10000 --engine-rps 20 is the full size).
  cargo run --release -p kinema-bench -- --server "$KINEMA_SERVER_BIN" --size-mb 100 --tasks 5 \
    --engine-tasks 2000 --engine-rps 100 --engine-poll-max 10 --engine-seconds 25 \
    || FAILED_STEPS+=("bench")
fi

cargo_passed=$(grep -Eo 'test result: [A-Za-z]+\. [0-9]+ passed' "$LOG_DIR/cargo-test.log" | awk '{s+=$4} END {print s+0}')
cargo_failed=$(grep -Eo '[0-9]+ failed;' "$LOG_DIR/cargo-test.log" | awk '{s+=$1} END {print s+0}')
e2e_passed=$(grep -Eo '^(ℹ|#) pass [0-9]+' "$LOG_DIR/e2e.log" | awk '{s+=$3} END {print s+0}')
e2e_failed=$(grep -Eo '^(ℹ|#) fail [0-9]+' "$LOG_DIR/e2e.log" | awk '{s+=$3} END {print s+0}')
passed=$((cargo_passed + e2e_passed))
failed=$((cargo_failed + e2e_failed))
rm -rf "$LOG_DIR"

echo
if ((${#FAILED_STEPS[@]})); then
  echo "failed steps: ${FAILED_STEPS[*]}"
  [[ "$failed" == 0 ]] && failed=${#FAILED_STEPS[@]}
fi
echo "tests: $passed passed, $failed failed"
((${#FAILED_STEPS[@]} == 0))
