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
cargo test -p kinema-app -p kinema-server -p evolink-sim -p kinema-bench --features kinema-app/ssr --no-fail-fast 2>&1 | tee "$LOG_DIR/cargo-test.log"
[[ "${PIPESTATUS[0]}" == 0 ]] || FAILED_STEPS+=("cargo test")

step "release build" "$ROOT/scripts/build.sh"

# What a first page load (the studio) fetches: the main WASM, its JS and the split loader it
# imports; every other page's code is a lazily loaded chunk (cargo leptos build --split).
FIRST_LOAD_BUDGET=300000
first_load_within_budget() {
  local pkg="$SITE_ROOT/pkg" total_br=0 total_gz=0 total_raw=0 file
  for file in "$pkg/kinema.wasm" "$pkg/kinema.js" "$pkg"/__wasm_split.*.js; do
    [[ -f "$file" && -f "$file.br" && -f "$file.gz" ]] || { echo "missing $file or its .br/.gz"; return 1; }
    printf '%s: %s bytes raw, %s gzip, %s brotli\n' "$(basename "$file")" "$(stat -c %s "$file")" \
      "$(stat -c %s "$file.gz")" "$(stat -c %s "$file.br")"
    total_raw=$((total_raw + $(stat -c %s "$file")))
    total_gz=$((total_gz + $(stat -c %s "$file.gz")))
    total_br=$((total_br + $(stat -c %s "$file.br")))
  done
  local chunks chunks_br
  chunks=$(find "$pkg" -name '*.wasm' ! -name kinema.wasm | wc -l)
  chunks_br=$(find "$pkg" -name '*.wasm.br' ! -name kinema.wasm.br -printf '%s\n' | awk '{s+=$1} END {print s+0}')
  echo "first load: $total_raw bytes raw, $total_gz gzip, $total_br brotli (budget $FIRST_LOAD_BUDGET brotli)"
  echo "loaded when visited: $chunks lazy chunks, $chunks_br bytes brotli in all"
  ((total_br <= FIRST_LOAD_BUDGET)) || { echo "the first load is over its budget by $((total_br - FIRST_LOAD_BUDGET)) bytes"; return 1; }
}
if [[ -f "$SITE_ROOT/pkg/kinema.wasm" ]]; then
  step "first page load within $FIRST_LOAD_BUDGET bytes brotli" first_load_within_budget
fi

say "browser tests (Debian's Chromium, release build)"
export KINEMA_SERVER_BIN="$CARGO_TARGET_DIR/release/kinema-server"
(cd end2end && node --test --test-concurrency=1 --test-reporter=spec tests/) 2>&1 | tee "$LOG_DIR/e2e.log"
[[ "${PIPESTATUS[0]}" == 0 ]] || FAILED_STEPS+=("browser tests")

say "benchmarks (release build; figures only, no pass/fail thresholds)"
if [[ -x "$KINEMA_SERVER_BIN" ]]; then
  # kinema-bench is a dev-only crate; it measures the release kinema-server built above.
  # Same flags as the release server (cargo-leptos adds --cfg erase_components), so the shared
  # release dependencies are not rebuilt back and forth. The engine scenario's short version:
  # 2,000 running tasks at a ceiling of 100/s for 25 s (--engine-tasks 10000 --engine-rps 20 is
  # the full size).
  RUSTFLAGS="--cfg erase_components" cargo run --release -p kinema-bench -- --server "$KINEMA_SERVER_BIN" --size-mb 100 --tasks 5 \
    --engine-tasks 2000 --engine-rps 100 --engine-poll-max 10 --engine-seconds 25 \
    || FAILED_STEPS+=("bench")
  # First load to hydrated (cold and warm cache, bytes) and completion → visible, in Chromium.
  RUSTFLAGS="--cfg erase_components" cargo build --release -p evolink-sim \
    && (cd end2end && KINEMA_SIM_BIN="$CARGO_TARGET_DIR/release/evolink-sim" node bench/browser.mjs) \
    || FAILED_STEPS+=("browser bench")
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
