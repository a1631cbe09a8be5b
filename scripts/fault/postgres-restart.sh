#!/usr/bin/env bash
# Fault run: PostgreSQL stopped and started again under two nodes mid-run (a 4 s outage, so
# /healthz can be seen reporting it). Passes when /healthz answers 503 during the outage and
# 200 after, the nodes carry on by themselves, callers saw only retryable errors (503,
# refused connections, time-outs; never 500), the event listener came back, and the checker
# passes. Restarts the local cluster: do not run it beside other users of that server.
#
#   scripts/fault/postgres-restart.sh      CALLERS=100 DURATION=30 OUTAGE_AT=10 OUTAGE=4
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CALLERS="${CALLERS:-100}" DURATION="${DURATION:-30}" OUTAGE_AT="${OUTAGE_AT:-10}" OUTAGE="${OUTAGE:-4}"
PORTS=(18091 18092)
CLUSTER="${PG_CLUSTER:-$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1) main}"
watchdog "${FAULT_TIMEOUT:-$((DURATION + 150))}"

ensure_binary
postgres_up || { fail "PostgreSQL is not answering at 127.0.0.1:5432"; finish; }
command -v pg_ctlcluster >/dev/null || { fail "pg_ctlcluster not found: cannot restart PostgreSQL"; finish; }
# Whatever happens, leave PostgreSQL running.
CLEANUP_HOOKS+=("postgres_up || pg_ctlcluster --skip-systemctl-redirect $CLUSTER start")
fresh_postgres
timeout 120 "$BIN" demo --database-url "$DB_URL" >"$WORK/demo.log" 2>&1 || { fail "demo load"; finish; }
for i in 1 2; do start_node "node$i" "${PORTS[$((i - 1))]}" "$DB_URL" --db-connections 8; done
prepare_campaign "${PORTS[0]}" 20

# /healthz of node 1, five times a second: "seconds code" lines.
( end=$((SECONDS + DURATION + 15)); while (( SECONDS < end )); do
    echo "$SECONDS $(health_code "${PORTS[0]}")"; sleep 0.2; done ) >"$WORK/health.txt" &
STARTED_PIDS+=("$!")
bench "${PORTS[*]}" "$WORK/run.json" "$CALLERS" "$DURATION" &
BENCH_PID=$!
STARTED_PIDS+=("$BENCH_PID")
sleep $((OUTAGE_AT + 2))
STOPPED_AT=$SECONDS
log "stopping PostgreSQL ($CLUSTER) for ${OUTAGE}s"
pg_ctlcluster --skip-systemctl-redirect $CLUSTER stop -m fast || fail "could not stop PostgreSQL"
sleep "$OUTAGE"
pg_ctlcluster --skip-systemctl-redirect $CLUSTER start || fail "could not start PostgreSQL"
STARTED_AT=$SECONDS
RESTARTED_MS=$(now_ms)
log "PostgreSQL is back"
wait "$BENCH_PID"
sed 's/^/    /' "$WORK/run.json.txt"
sleep 2

OUTAGE_503=$(awk -v a="$STOPPED_AT" -v b="$STARTED_AT" '$1 >= a && $1 <= b && $2 == 503' "$WORK/health.txt" | wc -l)
AFTER_200=$(awk -v b="$STARTED_AT" '$1 > b + 3 && $2 == 200' "$WORK/health.txt" | wc -l)
AFTER_OTHER=$(awk -v b="$STARTED_AT" '$1 > b + 3 && $2 != 200' "$WORK/health.txt" | wc -l)
log "/healthz: $OUTAGE_503 answers of 503 during the outage; after it $AFTER_200 of 200 and $AFTER_OTHER others"
expect "/healthz reported the outage (503)" test "$OUTAGE_503" -gt 0
expect "/healthz is 200 again after the restart" test "$AFTER_200" -gt 0 -a "$AFTER_OTHER" -eq 0
ERRORS=$(errors_in "$WORK/run.json")
log "errors by kind: $ERRORS"
expect "callers saw only retryable errors (503, connect, timeout; no 500)" \
  bash -c "jq -e '.errors | keys | all(test(\" 503 \") or test(\"connect|timeout|transport\"))' '$WORK/run.json' >/dev/null"
AFTER=$(psql_value "SELECT count(*) FROM leases WHERE outcome_at > $RESTARTED_MS")
log "$AFTER outcomes recorded after PostgreSQL came back"
expect "both nodes went on recording outcomes without a restart" test "$AFTER" -gt 0
for i in 1 2; do
  expect "node$i's event listener reconnected" grep -q "listening again" "$WORK/node$i.log"
done
log "checker:"
expect "barnstorm check passes" checker "$DB_URL" "$WORK/run.json"
finish
