# Shared settings for the scripts; sourced, not run.
# The build directory lives outside the clone so that fresh clones on this machine reuse builds.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kinema/target}"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
# cargo-leptos writes the site next to the target directory it is given.
# The release binary embeds these files; the server reads a directory only when KINEMA_SITE_ROOT
# says so (development), so SITE_ROOT is not exported to it.
SITE_ROOT="$CARGO_TARGET_DIR/site"
export LEPTOS_SITE_ROOT="$SITE_ROOT"
say() { printf '\n==> %s\n' "$*"; }
