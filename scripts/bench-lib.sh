# Shared by the phonebank benchmarks (sourced, not run): a fresh database with the demo
# data and BENCH_CAMPAIGNS (default 24) campaigns of 16,000 contacts each (every valid
# Ofcom drama number), callable around the clock, with "no answer" retrying after one
# minute so the lists do not run dry; a release node; the load generator's usual caller
# behaviour; and the checker. BENCH_NODES (default 1) nodes share the database, on
# consecutive ports. Loopback only; whatever it starts is stopped on exit.
# shellcheck shell=bash
#
#   source scripts/bench-lib.sh "$@"   # reads BACKEND CALLERS [DURATION_S] [RAMP_S] [CALL_SECS]

backend=${1:?sqlite or postgres}
callers=${2:?number of callers}
duration=${3:-60}
ramp=${4:-10}
call_secs=${5:-1-3}
bin=${CARGO_TARGET_DIR:-target}/release/barnstorm
[[ -x $bin ]] || cargo build --release -p barnstorm
work=$(mktemp -d /tmp/barnstorm-bench.XXXXXX)
# The nodes' process ids and base URLs, and the --target/--server-pid flags that name them.
declare -a server_pids=() node_urls=() node_flags=()
# Other processes to stop on exit (a proxy in front of the node).
declare -a bench_pids=()
db_name=""
cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [[ -n $db_name ]] && dropdb -h 127.0.0.1 -U postgres --if-exists "$db_name"
  rm -rf "$work"
}
trap cleanup EXIT

# How simulated callers behave in every phonebank benchmark.
bench_callers_flags=(--organiser-email northwest@example.org --organiser-password barnstorm-demo
  --wrap-up-secs 0.5 --outcomes spoke=5,no_answer=95 --break-chance 0.02 --abandon-chance 0.005)

# bench_database sqlite|postgres: a fresh database with the demo data; sets db.
bench_database() {
  case $1 in
    sqlite) db="sqlite:$work/bench.db" ;;
    postgres)
      db_name="bench_callers_$$"
      dropdb -h 127.0.0.1 -U postgres --if-exists "$db_name"
      createdb -h 127.0.0.1 -U postgres "$db_name"
      db="postgres://postgres@127.0.0.1:5432/$db_name" ;;
    *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
  esac
  $bin demo --database-url "$db" >/dev/null
}

# bench_port_free PORT: stops the run when something already answers there (another
# benchmark), rather than measuring someone else's node.
bench_port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "127.0.0.1:$1 is in use (another benchmark?); choose another with BENCH_PORT" >&2
    exit 1
  fi
}

# bench_node PORT [more serve flags]: starts BENCH_NODES nodes from PORT up and waits for
# them; sets server_pids and node_flags.
bench_node() {
  local port=$1 i node_port; shift
  for ((i = 0; i < ${BENCH_NODES:-1}; i++)); do
    node_port=$((port + i))
    bench_port_free "$node_port"
    BARNSTORM_LOG=warn $bin serve --listen 127.0.0.1:"$node_port" --database-url "$db" \
      --db-connections "${BENCH_DB_CONNECTIONS:-32}" --mail-dir "$work/mail" "$@" >"$work/server$i.log" 2>&1 &
    server_pids+=($!)
    node_urls+=("http://127.0.0.1:$node_port")
    node_flags+=(--target "${node_urls[-1]}" --server-pid $!)
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$node_port/healthz" >/dev/null && break; sleep 0.1; done
  done
}

# bench_campaigns PORT: the benchmark campaigns on the node at PORT; sets campaign_flags
# (--campaign ID …) and campaigns.
bench_campaigns() {
  local port=$1 token group id i all_day settings
  python3 scripts/gen-contacts.py 16000 "$work/contacts.csv" >/dev/null
  token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/tokens" -H 'content-type: application/json' \
    -d '{"email":"northwest@example.org","password":"barnstorm-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  api() { # METHOD PATH [JSON]
    curl -sS --fail-with-body -X "$1" "http://127.0.0.1:$port$2" -H "authorization: Bearer $token" \
      -H 'content-type: application/json' ${3:+-d "$3"}
  }
  group=$(api GET /api/v1/groups | python3 -c 'import json,sys; print([g["id"] for g in json.load(sys.stdin) if g["slug"]=="north-west"][0])')
  all_day='{"start":"00:00","end":"24:00"}'
  # Around the clock; "no answer" retries after a minute (the shortest the product allows),
  # so a list of N contacts sustains at most N/60 cycles a second: 24 campaigns of 16,000
  # keep 6,400 a second supplied. Simulated callers loop far faster than a person can
  # call, so the pace and do-not-call limits are set to their highest: the benchmark
  # measures throughput, and the pace check still runs on every claim.
  settings="\"calling_hours\": {\"time_zone\": \"Europe/London\", \"days\": {\"monday\": $all_day, \"tuesday\": $all_day,
      \"wednesday\": $all_day, \"thursday\": $all_day, \"friday\": $all_day, \"saturday\": $all_day, \"sunday\": $all_day}},
    \"max_attempts\": 20, \"min_minutes_between_attempts\": 0, \"lease_seconds\": 120, \"skip_limit\": 1000,
    \"pace_per_minute\": 600, \"pace_per_hour\": 36000, \"do_not_call_per_hour\": 1000,
    \"outcomes\": [
      {\"key\": \"spoke\", \"label\": \"Spoke\", \"effect\": {\"type\": \"completed\"}, \"counts_as_conversation\": true},
      {\"key\": \"no_answer\", \"label\": \"No answer\", \"effect\": {\"type\": \"retry_after\", \"cooldown_minutes\": 1}},
      {\"key\": \"do_not_call\", \"label\": \"Do not call\", \"effect\": {\"type\": \"do_not_call\"}, \"counts_as_conversation\": true}
    ]"
  campaigns=${BENCH_CAMPAIGNS:-24}
  campaign_flags=()
  for i in $(seq 1 "$campaigns"); do
    id=$(api POST /api/v1/campaigns "{\"group_id\": $group, \"name\": \"Benchmark $i\", $settings}" \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or d, file=sys.stdout if "id" in d else sys.stderr)')
    $bin import contacts --campaign "$id" "$work/contacts.csv" --database-url "$db" >/dev/null
    campaign_flags+=(--campaign "$id")
  done
  echo "== $campaigns campaigns of 16,000 contacts each"
}

# bench_check: stops the node, then checks every acknowledged outcome in report.json.
# With BENCH_KEEP=DIR, first copies the report, each node's log and its /metrics there.
bench_check() {
  local pid i
  if [[ -n ${BENCH_KEEP:-} ]]; then
    mkdir -p "$BENCH_KEEP"
    cp "$work/report.json" "$work"/server*.log "$BENCH_KEEP/"
    for i in "${!node_urls[@]}"; do
      curl -sf "${node_urls[$i]}/metrics" >"$BENCH_KEEP/metrics$i.txt" || true
    done
    echo "== kept the report, node logs and metrics in $BENCH_KEEP"
  fi
  echo "== checker"
  for pid in "${server_pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
  server_pids=()
  $bin check "${campaign_flags[@]}" --acks "$work/report.json" --database-url "$db" | tail -4
}
