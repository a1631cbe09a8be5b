#!/usr/bin/env bash
# Claim + outcome cycles over HTTP with N simulated callers against one fresh node.
#
#   scripts/bench-callers.sh sqlite|postgres CALLERS [DURATION_S] [RAMP_S] [CALL_SECS] [extra bench flags…]
#
# Sets up a fresh database with the demo data and BENCH_CAMPAIGNS (default 6) campaigns of
# 16,000 contacts each (every valid Ofcom drama number), callable around the clock, with
# "no answer" (95% of simulated outcomes) retrying after one minute so the lists do not
# run dry; starts a release node, runs `barnstorm bench callers`, then `barnstorm check`.
# It also measures the baseline: one durable write transaction per operation on the same
# database.
# Loopback only; everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backend=${1:?sqlite or postgres}
callers=${2:?number of callers}
duration=${3:-60}
ramp=${4:-10}
call_secs=${5:-1-3}
shift $(( $# < 5 ? $# : 5 ))
bin=target/release/barnstorm
[[ -x $bin ]] || cargo build --release -p barnstorm
port=18390
work=$(mktemp -d /tmp/barnstorm-bench.XXXXXX)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

case $backend in
  sqlite) db="sqlite:$work/bench.db" ;;
  postgres)
    name="bench_callers_$$"
    dropdb -h 127.0.0.1 -U postgres --if-exists "$name"
    createdb -h 127.0.0.1 -U postgres "$name"
    db="postgres://postgres@127.0.0.1:5432/$name"
    trap 'cleanup; dropdb -h 127.0.0.1 -U postgres --if-exists "$name"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

campaigns=${BENCH_CAMPAIGNS:-6}
$bin demo --database-url "$db" >/dev/null
python3 scripts/gen-contacts.py 16000 "$work/contacts.csv" >/dev/null

echo "== baseline: one durable write transaction per operation ($backend)"
$bin bench writes --database-url "$db" --ops 20000 --concurrency 64

BARNSTORM_LOG=warn $bin serve --listen 127.0.0.1:$port --database-url "$db" --db-connections ${BENCH_DB_CONNECTIONS:-32} \
  --mail-dir "$work/mail" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
api() { # METHOD PATH [JSON]
  curl -sS --fail-with-body -X "$1" "http://127.0.0.1:$port$2" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' ${3:+-d "$3"}
}
token=$(curl -sf -X POST http://127.0.0.1:$port/api/v1/tokens -H 'content-type: application/json' \
  -d '{"email":"northwest@example.org","password":"barnstorm-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
group=$(api GET /api/v1/groups | python3 -c 'import json,sys; print([g["id"] for g in json.load(sys.stdin) if g["slug"]=="north-west"][0])')
all_day='{"start":"00:00","end":"24:00"}'
# Around the clock; "no answer" retries after a minute (the shortest the product allows).
settings="\"calling_hours\": {\"time_zone\": \"Europe/London\", \"days\": {\"monday\": $all_day, \"tuesday\": $all_day,
      \"wednesday\": $all_day, \"thursday\": $all_day, \"friday\": $all_day, \"saturday\": $all_day, \"sunday\": $all_day}},
    \"max_attempts\": 20, \"min_minutes_between_attempts\": 0, \"lease_seconds\": 120, \"skip_limit\": 1000,
    \"outcomes\": [
      {\"key\": \"spoke\", \"label\": \"Spoke\", \"effect\": {\"type\": \"completed\"}, \"counts_as_conversation\": true},
      {\"key\": \"no_answer\", \"label\": \"No answer\", \"effect\": {\"type\": \"retry_after\", \"cooldown_minutes\": 1}},
      {\"key\": \"do_not_call\", \"label\": \"Do not call\", \"effect\": {\"type\": \"do_not_call\"}, \"counts_as_conversation\": true}
    ]"
ids=()
for i in $(seq 1 "$campaigns"); do
  id=$(api POST /api/v1/campaigns "{\"group_id\": $group, \"name\": \"Benchmark $i\", $settings}" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or d, file=sys.stdout if "id" in d else sys.stderr)')
  $bin import contacts --campaign "$id" "$work/contacts.csv" --database-url "$db" >/dev/null
  ids+=(--campaign "$id")
done
echo "== $campaigns campaigns of 16,000 contacts each"

echo "== $callers callers on $backend: ramp ${ramp}s, ${duration}s, calls ${call_secs}s"
$bin bench callers --target http://127.0.0.1:$port "${ids[@]}" \
  --organiser-email northwest@example.org --organiser-password barnstorm-demo \
  --callers "$callers" --ramp "$ramp" --duration "$duration" --call-secs "$call_secs" --wrap-up-secs 0.5 \
  --outcomes spoke=5,no_answer=95 --break-chance 0.02 --abandon-chance 0.005 \
  --source-addresses 8 --server-pid "$server_pid" --json "$work/report.json" "$@"
[[ -n ${BENCH_KEEP_REPORT:-} ]] && cp "$work/report.json" "$BENCH_KEEP_REPORT"

echo "== checker"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
$bin check "${ids[@]}" --acks "$work/report.json" --database-url "$db" | tail -4
