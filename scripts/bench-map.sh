#!/usr/bin/env bash
# The map benchmarks in BENCHMARKS.md, on SQLite, loopback only:
#  1. the viewport endpoint over HTTP with 100,000 events (`barnstorm bench map`), beside
#     /healthz on the same node;
#  2. the /events page in Chromium with 10,000 events, beside the same page with none.
#
#   cargo build --release -p barnstorm && scripts/bench-map.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BARNSTORM_BIN:-${CARGO_TARGET_DIR:-target}/release/barnstorm}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/barnstorm-bench-map.XXXXXX")
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

serve() { # db port
  BARNSTORM_TILE_URL=none "$BIN" serve --listen "127.0.0.1:$2" --database-url "sqlite:$1" >"$WORK/serve-$2.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "node on :$2 did not start" >&2; cat "$WORK/serve-$2.log" >&2; exit 1
}

for events in 100000 10000 0; do
  "$BIN" bench events --database-url "sqlite:$WORK/e$events.db" --events "$events" --supporters 0 --seed-only >/dev/null
done

echo "== viewport endpoint, 100,000 events"
serve "$WORK/e100000.db" 18090
"$BIN" bench map --target http://127.0.0.1:18090 --requests 2000 --concurrency 4

echo "== map page in Chromium"
serve "$WORK/e0.db" 18091
serve "$WORK/e10000.db" 18092
node scripts/bench-map-browser.mjs http://127.0.0.1:18091 "baseline: no events"
node scripts/bench-map-browser.mjs http://127.0.0.1:18092 "10,000 events"
