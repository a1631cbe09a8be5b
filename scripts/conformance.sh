#!/usr/bin/env bash
# API conformance: schemathesis against the OpenAPI document of a real demo node, first on
# SQLite and then on a fresh PostgreSQL database. Any server error (5xx) or any response
# whose status, content type, headers or body the document does not describe fails it.
#
#   scripts/conformance.sh                    both backends (PostgreSQL from the URL below)
#   CONFORMANCE_BACKENDS=sqlite scripts/conformance.sh
#
# Variables: BARNSTORM_BIN (the binary; default: cargo build -p barnstorm, then
# $CARGO_TARGET_DIR/debug/barnstorm), BARNSTORM_TEST_POSTGRES_URL (an admin URL of the
# server where a throw-away database is made with createdb and dropped afterwards;
# default postgres://postgres@127.0.0.1:5432/test), CONFORMANCE_EXAMPLES (examples per
# operation, default 25), CONFORMANCE_SEED (default 20261202), CONFORMANCE_KEEP=1 (keep
# the report folder). Prints one "conformance [backend]: PASS|FAIL" line per backend and a
# closing "N passed, N failed" line.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO_ROOT=$(pwd)

BACKENDS=${CONFORMANCE_BACKENDS:-sqlite postgres}
EXAMPLES=${CONFORMANCE_EXAMPLES:-25}
SEED=${CONFORMANCE_SEED:-20261202}
PG_URL=${BARNSTORM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance

WORK=$(mktemp -d "${TMPDIR:-/tmp}/barnstorm-conformance.XXXXXX")
SERVER_PID=""
PG_DB=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  if [[ -n "$PG_DB" ]]; then dropdb --if-exists --force "${PG_ADMIN[@]}" "$PG_DB" 2>/dev/null; fi
  if [[ "${CONFORMANCE_KEEP:-0}" == "1" ]]; then echo "conformance: reports kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

command -v schemathesis >/dev/null || { echo "conformance: schemathesis is not installed (pip install schemathesis)" >&2; exit 2; }
command -v curl >/dev/null || { echo "conformance: curl is not installed" >&2; exit 2; }

if [[ -z "${BARNSTORM_BIN:-}" ]]; then
  echo "==> cargo build -p barnstorm"
  cargo build -p barnstorm || exit 1
  BARNSTORM_BIN="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/barnstorm"
fi
BARNSTORM_BIN=$(realpath "$BARNSTORM_BIN" 2>/dev/null || echo "$BARNSTORM_BIN")
[[ -x "$BARNSTORM_BIN" ]] || { echo "conformance: no binary at $BARNSTORM_BIN" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# The admin connection of PG_URL, as createdb/dropdb flags.
pg_admin_flags() {
  python3 - "$PG_URL" <<'EOF'
import sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
print(f"-h {u.hostname or '127.0.0.1'} -p {u.port or 5432} -U {u.username or 'postgres'}")
EOF
}

start_node() { # database URL
  local port
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  (cd "$WORK" && exec "$BARNSTORM_BIN" serve --demo --listen "127.0.0.1:$port" --database-url "$1" \
    --base-url "$BASE" --mail-dir "$WORK/mail") >"$WORK/server-$BACKEND.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "conformance [$BACKEND]: the node did not start; its log:" >&2
  tail -n 30 "$WORK/server-$BACKEND.log" >&2
  return 1
}

stop_node() {
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

organiser_token() {
  curl -fsS -X POST "$BASE/api/v1/tokens" -H 'content-type: application/json' \
    -d '{"email":"organiser@example.org","password":"barnstorm-demo","label":"conformance"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

PASSED=0 FAILED=0
run_backend() { # backend name, database URL
  BACKEND=$1
  local started=$SECONDS token rc
  echo "==> conformance on $BACKEND"
  start_node "$2" || { FAILED=$((FAILED + 1)); echo "conformance [$BACKEND]: FAIL (node did not start)"; return; }
  if ! token=$(organiser_token) || [[ -z "$token" ]]; then
    echo "conformance [$BACKEND]: FAIL (could not get an organiser token)"
    FAILED=$((FAILED + 1)); stop_node; return
  fi
  (cd "$WORK" && exec schemathesis run "$BASE/api/v1/openapi.json" --url "$BASE" \
    --checks "$CHECKS" --seed "$SEED" --max-examples "$EXAMPLES" --workers 1 \
    --phases examples,coverage,fuzzing --no-shrink --request-timeout 30 \
    --suppress-health-check all --warnings off \
    -H "Authorization: Bearer $token" \
    --report junit --report-dir "$WORK/report-$BACKEND") 2>&1 | tee "$WORK/schemathesis-$BACKEND.log"
  rc=${PIPESTATUS[0]}
  if grep -qE '^(thread .* panicked|.*ERROR barnstorm)' "$WORK/server-$BACKEND.log"; then
    echo "conformance [$BACKEND]: the server logged errors:"
    grep -E 'panicked|ERROR' "$WORK/server-$BACKEND.log" | head -n 20
    rc=1
  fi
  stop_node
  if (( rc == 0 )); then
    PASSED=$((PASSED + 1)); echo "conformance [$BACKEND]: PASS ($((SECONDS - started))s)"
  else
    FAILED=$((FAILED + 1)); echo "conformance [$BACKEND]: FAIL, exit $rc ($((SECONDS - started))s)"
  fi
}

for backend in $BACKENDS; do
  case "$backend" in
    sqlite) run_backend sqlite "sqlite:$WORK/conformance.db" ;;
    postgres)
      read -r -a PG_ADMIN <<<"$(pg_admin_flags)"
      PG_DB="barnstorm_conformance_$$"
      if ! createdb "${PG_ADMIN[@]}" "$PG_DB"; then
        echo "conformance [postgres]: FAIL (createdb $PG_DB failed)"; FAILED=$((FAILED + 1)); PG_DB=""; continue
      fi
      run_backend postgres "$(python3 -c 'import sys; from urllib.parse import urlparse; u = urlparse(sys.argv[1]); print(u._replace(path="/" + sys.argv[2]).geturl())' "$PG_URL" "$PG_DB")"
      dropdb --if-exists --force "${PG_ADMIN[@]}" "$PG_DB"; PG_DB=""
      ;;
    *) echo "conformance: unknown backend '$backend' (sqlite or postgres)"; FAILED=$((FAILED + 1)) ;;
  esac
done

echo "conformance: $PASSED passed, $FAILED failed"
(( FAILED == 0 ))
