#!/bin/sh
# Memory of a big campaign export: loads the demo into a fresh SQLite database, adds
# ATTEMPTS call attempts by SQL, serves it with BINARY, downloads attempts.csv and
# results.csv as the demo organiser and prints the server's RSS before and its peak after.
# Usage: scripts/bench-export-rss.sh BINARY [ATTEMPTS] [PORT]
set -eu
BIN=$1; ATTEMPTS=${2:-400000}; PORT=${3:-18431}
DIR=$(mktemp -d); DB=$DIR/export.db
"$BIN" demo --database-url "sqlite:$DB" >/dev/null
sqlite3 "$DB" "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $ATTEMPTS)
INSERT INTO leases (id, contact_id, campaign_id, caller_id, claimed_at, expires_at, outcome_at)
SELECT i, 1 + (i % 10000), 1, 6, 1764650000000 + i*1000, 1764650600000 + i*1000, 1764650060000 + i*1000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $ATTEMPTS)
INSERT INTO call_attempts (campaign_id, contact_id, lease_id, caller_id, outcome, conversation, answers, notes, idempotency_key, created_at)
SELECT 1, 1 + (i % 10000), i, 6, 'spoke', 1, '{\"q1\":\"yes\"}', 'Said they would vote; asked for a lift to the polling station on the day, call back after six', 'bench-' || i, 1764650060000 + i*1000 FROM n;"
"$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite:$DB" --base-url "http://127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.3; done
TOKEN=$(curl -s -H 'content-type: application/json' -d '{"email":"organiser@example.org","password":"barnstorm-demo"}' "http://127.0.0.1:$PORT/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
before=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
start=$(date +%s)
curl -s -H "authorization: Bearer $TOKEN" -o "$DIR/attempts.csv" "http://127.0.0.1:$PORT/api/v1/campaigns/1/attempts.csv"
took=$(( $(date +%s) - start ))
peak=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
curl -s -H "authorization: Bearer $TOKEN" -o "$DIR/results.csv" "http://127.0.0.1:$PORT/api/v1/campaigns/1/results.csv"
peak2=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
echo "attempts.csv: $(stat -c %s "$DIR/attempts.csv") bytes in ${took} s; RSS before ${before} KiB, peak ${peak} KiB after attempts.csv, ${peak2} KiB after results.csv"
