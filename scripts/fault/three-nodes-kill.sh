#!/usr/bin/env bash
# Fault run: three nodes on one fresh PostgreSQL database, callers spread over them, node 2
# killed with SIGKILL mid-run. Passes when callers on nodes 1 and 3 carry on, every lease
# the dead node's callers held comes back to the queue within the lease length, nothing
# acknowledged is lost, and `barnstorm check` passes. Loopback only; bounded by a watchdog.
#
#   scripts/fault/three-nodes-kill.sh      CALLERS=200 DURATION=40 KILL_AT=15 LEASE=20 to tune
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CALLERS="${CALLERS:-200}" DURATION="${DURATION:-40}" KILL_AT="${KILL_AT:-15}" LEASE="${LEASE:-20}"
PORTS=(18081 18082 18083)
watchdog "${FAULT_TIMEOUT:-$((DURATION + LEASE + 150))}"

ensure_binary
postgres_up || { fail "PostgreSQL is not answering at 127.0.0.1:5432"; finish; }
fresh_postgres
log "demo data into $PG_DB"
timeout 120 "$BIN" demo --database-url "$DB_URL" >"$WORK/demo.log" 2>&1 || { fail "demo load"; tail "$WORK/demo.log"; finish; }
for i in 1 2 3; do start_node "node$i" "${PORTS[$((i - 1))]}" "$DB_URL" --db-connections 8; done
prepare_campaign "${PORTS[0]}" "$LEASE"

log "bench: $CALLERS callers over 3 nodes for ${DURATION}s; node2 dies at ~${KILL_AT}s"
bench "${PORTS[*]}" "$WORK/run.json" "$CALLERS" "$DURATION" &
BENCH_PID=$!
STARTED_PIDS+=("$BENCH_PID")
sleep $((KILL_AT + 2)) # + the 2 s ramp
kill -9 "${NODE_PID[node2]}"; wait "${NODE_PID[node2]}" 2>/dev/null
KILL_MS=$(now_ms)
ATTEMPTS_AT_KILL=$(psql_value "SELECT count(*) FROM call_attempts")
log "killed node2 (pid ${NODE_PID[node2]}) with SIGKILL; $ATTEMPTS_AT_KILL attempts stored so far"
sleep 3
expect "nodes 1 and 3 still healthy after the kill" \
  bash -c "[[ \$(curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:${PORTS[0]}/healthz) == 200 && \$(curl -s -o /dev/null -m 5 -w '%{http_code}' http://127.0.0.1:${PORTS[2]}/healthz) == 200 ]]"
wait "$BENCH_PID"; BENCH_RC=$?
END_MS=$(now_ms)
sed 's/^/    /' "$WORK/run.json.txt"
expect "load generator finished (exit $BENCH_RC)" test "$BENCH_RC" -eq 0

# Callers are pinned to targets by index (index % 3 == 1 went to node 2).
CALLER_INDEX="substring(u.email from '-([0-9]+)@example\\.org\$')::bigint % 3"
SURVIVORS_AFTER_KILL=$(psql_value "SELECT count(*) FROM call_attempts a JOIN leases l ON l.id = a.lease_id
  JOIN users u ON u.id = l.caller_id WHERE l.outcome_at > $KILL_MS AND $CALLER_INDEX <> 1")
DEAD_AFTER_KILL=$(psql_value "SELECT count(*) FROM call_attempts a JOIN leases l ON l.id = a.lease_id
  JOIN users u ON u.id = l.caller_id WHERE l.outcome_at > $KILL_MS AND $CALLER_INDEX = 1")
log "outcomes after the kill: $SURVIVORS_AFTER_KILL by callers on nodes 1 and 3, $DEAD_AFTER_KILL on node 2"
expect "callers on nodes 1 and 3 carried on after the kill" test "$SURVIVORS_AFTER_KILL" -gt 0
expect "nothing was recorded through the dead node" test "$DEAD_AFTER_KILL" -eq 0

log "waiting one lease length (${LEASE}s) for abandoned leases to lapse"
sleep $((LEASE + 1))
LEASE_MS=$((LEASE * 1000))
read -r HELD EXPIRED_IN_TIME BACK < <(psql_value "
  WITH dead AS (
    SELECT l.id, l.contact_id, l.expires_at FROM leases l JOIN users u ON u.id = l.caller_id
    WHERE l.campaign_id = $CAMPAIGN AND $CALLER_INDEX = 1 AND l.claimed_at <= $KILL_MS
      AND l.expires_at > $KILL_MS AND l.released_at IS NULL AND l.outcome_at IS NULL)
  SELECT count(*),
    count(*) FILTER (WHERE d.expires_at <= $KILL_MS + $LEASE_MS),
    count(*) FILTER (WHERE (c.state = 0 AND c.available_at <= $KILL_MS + $LEASE_MS)
      OR EXISTS (SELECT 1 FROM leases n WHERE n.contact_id = d.contact_id AND n.id > d.id))
  FROM dead d JOIN contacts c ON c.id = d.contact_id" | tr '|' ' ')
log "node 2's callers held $HELD live leases at the kill; $EXPIRED_IN_TIME lapsed within ${LEASE}s; $BACK are back in the queue or called again"
expect "the dead node's callers held leases at the kill" test "${HELD:-0}" -gt 0
expect "every one of them lapsed within one lease length" test "${EXPIRED_IN_TIME:-x}" = "${HELD:-y}"
expect "every one of them returned to the queue" test "${BACK:-x}" = "${HELD:-y}"
LIVE=$(psql_value "SELECT count(*) FROM leases WHERE expires_at > $(now_ms) AND released_at IS NULL AND outcome_at IS NULL")
expect "no lease is still live after the run ($LIVE)" test "$LIVE" -eq 0
CLAIM=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $ORGANISER_TOKEN" \
  "http://127.0.0.1:${PORTS[2]}/api/v1/campaigns/$CAMPAIGN/claims")
expect "a claim on node 3 after the run hands out a contact ($CLAIM)" test "$CLAIM" = 201

log "acknowledged outcomes: $(acks_in "$WORK/run.json"); errors by kind: $(errors_in "$WORK/run.json")"
log "checker (acknowledged ids from the run):"
expect "barnstorm check passes" checker "$DB_URL" "$WORK/run.json"
log "run took $(( (END_MS - KILL_MS) / 1000 ))s after the kill"
finish
