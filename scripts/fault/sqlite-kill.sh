#!/usr/bin/env bash
# Fault run: the single SQLite node killed with SIGKILL mid-run, restarted on the same file,
# and run again. Passes when the checker finds every outcome acknowledged in either run
# stored exactly once, and SQLite's integrity check says ok. Loopback only; bounded.
#
#   scripts/fault/sqlite-kill.sh           CALLERS=100 DURATION=20 KILL_AT=10 to tune
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CALLERS="${CALLERS:-100}" DURATION="${DURATION:-20}" KILL_AT="${KILL_AT:-10}" PORT=18095
watchdog "${FAULT_TIMEOUT:-$((2 * DURATION + 150))}"

ensure_binary
DB_FILE="$WORK/barnstorm.db" DB_URL="sqlite:$WORK/barnstorm.db"
timeout 120 "$BIN" demo --database-url "$DB_URL" >"$WORK/demo.log" 2>&1 || { fail "demo load"; finish; }
start_node node "$PORT" "$DB_URL"
prepare_campaign "$PORT" 20

log "run 1: $CALLERS callers for ${DURATION}s; the node dies at ~${KILL_AT}s"
bench "$PORT" "$WORK/run1.json" "$CALLERS" "$DURATION" &
BENCH_PID=$!
STARTED_PIDS+=("$BENCH_PID")
sleep $((KILL_AT + 2))
kill -9 "${NODE_PID[node]}"; wait "${NODE_PID[node]}" 2>/dev/null
log "killed the node with SIGKILL"
wait "$BENCH_PID"
sed 's/^/    /' "$WORK/run1.json.txt"
ACKS1=$(acks_in "$WORK/run1.json")
log "run 1 acknowledged $ACKS1 outcomes before the kill"
expect "run 1 acknowledged outcomes" test "${ACKS1:-0}" -gt 0

start_node node "$PORT" "$DB_URL"
log "run 2 on the same file, after the restart"
bench "$PORT" "$WORK/run2.json" "$CALLERS" 10
sed 's/^/    /' "$WORK/run2.json.txt"
ACKS2=$(acks_in "$WORK/run2.json")
expect "run 2 acknowledged outcomes after the restart" test "${ACKS2:-0}" -gt 0
expect "run 2 had no errors ($(errors_in "$WORK/run2.json"))" test "$(errors_in "$WORK/run2.json")" = "{}"
stop_node node

jq -s '{acknowledged_attempts: (.[0].acknowledged_attempts + .[1].acknowledged_attempts)}' \
  "$WORK/run1.json" "$WORK/run2.json" >"$WORK/both.json"
log "checker over both runs ($((ACKS1 + ACKS2)) acknowledged):"
expect "barnstorm check passes on the union of both runs' acknowledgements" checker "$DB_URL" "$WORK/both.json"
INTEGRITY=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$DB_FILE")
expect "PRAGMA integrity_check = $INTEGRITY" test "$INTEGRITY" = ok
finish
