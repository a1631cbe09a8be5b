# Shared by the fault scripts (sourced, not run): a temp folder and a process list that are
# cleaned up on exit, a watchdog that bounds the whole run, node start/stop, API calls and
# the final "fault NAME: PASS/FAIL" line. Loopback only: every node listens on 127.0.0.1.
# shellcheck shell=bash

set -uo pipefail
FAULT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN="${BARNSTORM_BIN:-${CARGO_TARGET_DIR:-$FAULT_ROOT/target}/release/barnstorm}"
PG_ADMIN_URL="${BARNSTORM_FAULT_PG:-postgres://postgres@127.0.0.1:5432}"
ORGANISER_EMAIL=northwest@example.org
ORGANISER_PASSWORD=barnstorm-demo
CAMPAIGN=1
# The demo survey requires an answer after "spoke" and the load generator sends none, so
# fault runs use the outcomes that need no survey answers.
OUTCOMES="${OUTCOMES:-no_answer=60,busy=25,wrong_number=15}"

declare -a STARTED_PIDS=() FAILURES=()
declare -A NODE_PID=()
PG_DB=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/barnstorm-fault.XXXXXX")
FAULT_NAME="${FAULT_NAME:-$(basename "$0" .sh)}"
WATCHDOG_PID=""
CLEANUP_HOOKS=()

log() { printf '[%s %5ss] %s\n' "$FAULT_NAME" "$SECONDS" "$*"; }
# Records a broken expectation; the run goes on so every verdict gets printed.
fail() { FAILURES+=("$*"); log "FAIL: $*"; }
expect() { # description, command...
  local what="$1"; shift
  if "$@"; then log "ok: $what"; else fail "$what"; fi
}

cleanup() {
  local pid hook
  trap - EXIT INT TERM
  for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook" || true; done
  for pid in "${STARTED_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$WATCHDOG_PID" ]] && kill "$WATCHDOG_PID" 2>/dev/null
  if [[ -n "$PG_DB" && -z "${KEEP_FAULT_DB:-}" ]]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$PG_DB" 2>/dev/null || true
  fi
  if [[ -n "${KEEP_FAULT_WORK:-}" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'fail "interrupted or timed out"; finish' INT TERM

# Kills this script (and so its cleanup) after SECONDS, whatever it is waiting on.
watchdog() {
  local seconds="$1" me=$$
  ( sleep "$seconds"; log "watchdog: over ${seconds}s"; kill -TERM "$me" ) &
  WATCHDOG_PID=$!
}

# Prints the verdict line and exits 0 on PASS, 1 on FAIL.
finish() {
  trap - INT TERM
  if (( ${#FAILURES[@]} == 0 )); then
    echo "fault $FAULT_NAME: PASS (${SECONDS}s)"
    exit 0
  fi
  local f
  for f in "${FAILURES[@]}"; do echo "  - $f"; done
  echo "fault $FAULT_NAME: FAIL (${SECONDS}s)"
  exit 1
}

ensure_binary() {
  if [[ ! -x "$BIN" ]]; then
    log "building $BIN"
    (cd "$FAULT_ROOT" && cargo build --release -p barnstorm) || { fail "build failed"; finish; }
  fi
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 3; }

# A fresh database named barnstorm_fault_<name>_<pid>; dropped on exit.
fresh_postgres() {
  PG_DB="barnstorm_fault_${FAULT_NAME//-/_}_$$"
  createdb -h 127.0.0.1 -U postgres "$PG_DB" || { fail "createdb $PG_DB"; finish; }
  DB_URL="$PG_ADMIN_URL/$PG_DB"
}

# start_node NAME PORT DATABASE_URL [more serve flags]: runs in the background, logs to
# $WORK/NAME.log and waits until /healthz answers 200 (at most 30 s).
start_node() {
  local name="$1" port="$2" url="$3"; shift 3
  "$BIN" serve --listen "127.0.0.1:$port" --database-url "$url" \
    --mail-dir "$WORK/mail-$name" --base-url "http://127.0.0.1:$port" "$@" \
    >>"$WORK/$name.log" 2>&1 &
  NODE_PID[$name]=$!
  STARTED_PIDS+=("$!")
  wait_health "$port" 200 30 || { fail "node $name did not become healthy"; tail -20 "$WORK/$name.log"; finish; }
  log "node $name up on :$port (pid ${NODE_PID[$name]})"
}

# Stops a node with SIGTERM (graceful) or with a given signal.
stop_node() { # name [signal]
  local pid="${NODE_PID[$1]}"
  kill "-${2:-TERM}" "$pid" 2>/dev/null
  timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

health_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$1/healthz"; }

# wait_health PORT CODE SECONDS: true once /healthz answers CODE.
wait_health() {
  local port="$1" want="$2" until=$((SECONDS + $3))
  while (( SECONDS < until )); do
    [[ "$(health_code "$port")" == "$want" ]] && return 0
    sleep 0.2
  done
  return 1
}

# An API token for the demo organiser, from the node on PORT.
organiser_token() {
  curl -sf -m 10 "http://127.0.0.1:$1/api/v1/tokens" -H 'content-type: application/json' \
    -d "{\"email\":\"$ORGANISER_EMAIL\",\"password\":\"$ORGANISER_PASSWORD\",\"label\":\"fault run\"}" |
    jq -r .token
}

# Opens calling hours all week round the clock and sets the lease length, so the run does
# not depend on the clock and lease expiry is observable. Simulated callers loop far faster
# than a person can call, so the pace and do-not-call limits are set to their highest (the
# pace check still runs on every claim).
prepare_campaign() { # port lease_seconds
  local token day days=""
  token=$(organiser_token "$1")
  [[ -n "$token" && "$token" != null ]] || { fail "no organiser token"; finish; }
  for day in monday tuesday wednesday thursday friday saturday sunday; do
    days+="${days:+,}\"$day\":{\"start\":\"00:00\",\"end\":\"24:00\"}"
  done
  curl -sf -m 10 -X PATCH "http://127.0.0.1:$1/api/v1/campaigns/$CAMPAIGN" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"status\":\"live\",\"lease_seconds\":$2,\"pace_per_minute\":600,\"pace_per_hour\":36000,\"do_not_call_per_hour\":1000,\"calling_hours\":{\"time_zone\":\"Europe/London\",\"days\":{$days}}}" \
    >/dev/null || { fail "could not prepare campaign $CAMPAIGN"; finish; }
  ORGANISER_TOKEN="$token"
}

# bench TARGET_PORTS JSON CALLERS DURATION [more flags]: the load generator, bounded by
# timeout; its text report goes to JSON.txt.
bench() {
  local ports="$1" json="$2" callers="$3" duration="$4"; shift 4
  local -a targets=()
  local p
  for p in $ports; do targets+=(--target "http://127.0.0.1:$p"); done
  timeout $((duration + 90)) "$BIN" bench callers "${targets[@]}" --campaign "$CAMPAIGN" \
    --organiser-email "$ORGANISER_EMAIL" --organiser-password "$ORGANISER_PASSWORD" \
    --callers "$callers" --ramp 2 --duration "$duration" --call-secs 1-3 --wrap-up-secs 0.5 \
    --outcomes "$OUTCOMES" \
    --json "$json" "$@" >"$json.txt" 2>&1
}

# The checker over DATABASE_URL with the acknowledged ids in JSON; prints its report.
checker() { # database_url json
  timeout 120 "$BIN" check --campaign "$CAMPAIGN" --acks "$2" --database-url "$1" 2>&1 |
    tee "$WORK/check-$(basename "$2").txt" | sed "s/^/    /"
  return "${PIPESTATUS[0]}"
}

acks_in() { jq '.acknowledged_attempts | length' "$1"; }
errors_in() { jq -c '.errors' "$1"; }

psql_value() { psql -h 127.0.0.1 -U postgres -d "$PG_DB" -Atc "$1"; }
now_ms() { date +%s%3N; }
