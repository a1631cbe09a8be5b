#!/usr/bin/env bash
# Benchmarks `barnstorm import contacts` on 1,000,000 rows: the parse-and-normalise floor
# (--dry-run), then a real import into a fresh SQLite file and a fresh PostgreSQL
# database, each under /usr/bin/time -v. Results go in BENCHMARKS.md by hand.
#
# Usage: scripts/bench-import.sh [ROWS] [POSTGRES_ADMIN_URL]
# Needs: python3, sqlite3, psql, createdb/dropdb; a release build (cargo build --release -p barnstorm).
set -euo pipefail
ROWS=${1:-1000000}
PG=${2:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/barnstorm}
WORK=$(mktemp -d /tmp/bench-import.XXXXXX)
CSV=$WORK/contacts.csv
python3 scripts/gen-contacts.py "$ROWS" "$CSV"

# One branch and one draft campaign with the default settings, as the app creates them.
SEED=$(cat <<'SQL'
INSERT INTO groups (id, parent_id, slug, name, kind, description, created_at) VALUES (1,NULL,'leeds','Leeds','branch','',1795635676187);
INSERT INTO call_campaigns (id, group_id, name, briefing, script, survey, outcomes, calling_hours, max_attempts,
    min_minutes_between_attempts, lease_seconds, skip_limit, leaderboard, status, created_by, created_at, updated_at)
VALUES (1,1,'Leeds phonebank','','Hello {first_name|there}, my name is … and I''m a volunteer.','{"questions":[]}','[{"key":"spoke","label":"Spoke to them","effect":{"type":"completed"},"counts_as_conversation":true},{"key":"no_answer","label":"No answer","effect":{"type":"retry_after","cooldown_minutes":240},"counts_as_conversation":false},{"key":"busy","label":"Busy / engaged","effect":{"type":"retry_after","cooldown_minutes":60},"counts_as_conversation":false},{"key":"voicemail","label":"Voicemail","effect":{"type":"retry_after","cooldown_minutes":1440},"counts_as_conversation":false},{"key":"callback","label":"Call back later","effect":{"type":"callback"},"counts_as_conversation":true},{"key":"wrong_number","label":"Wrong number","effect":{"type":"wrong_number"},"counts_as_conversation":false},{"key":"refused","label":"Refused to talk","effect":{"type":"refused"},"counts_as_conversation":true},{"key":"do_not_call","label":"Do not call again","effect":{"type":"do_not_call"},"counts_as_conversation":true}]','{"time_zone":"Europe/London","days":{"monday":{"start":"10:00","end":"20:00"},"tuesday":{"start":"10:00","end":"20:00"},"wednesday":{"start":"10:00","end":"20:00"},"thursday":{"start":"10:00","end":"20:00"},"friday":{"start":"10:00","end":"20:00"},"saturday":{"start":"10:00","end":"18:00"},"sunday":null}}',3,30,600,20,0,'draft',NULL,1795635676188,1795635676188);
SQL
)

measure() { # label, command…
  local label=$1; shift
  /usr/bin/time -v "$@" > "$WORK/out" 2> "$WORK/time" || { cat "$WORK/out" "$WORK/time"; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time" | awk '{print $NF}')
  printf '%-28s wall %-9s peak RSS %6d MB   %s\n' "$label" "$wall" $((rss / 1024)) "$(tail -1 "$WORK/out")"
}

measure "floor (--dry-run)" "$BIN" import contacts --campaign 1 --dry-run "$CSV" --rejections "$WORK/dry.rejected.csv"

"$BIN" migrate --database-url "sqlite:$WORK/bench.db" > /dev/null
sqlite3 "$WORK/bench.db" "$SEED"
measure "SQLite, fresh file" "$BIN" import contacts --campaign 1 "$CSV" --database-url "sqlite:$WORK/bench.db"

DB=bench_import_$$
createdb -h 127.0.0.1 -U postgres "$DB"
trap 'dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"' EXIT
"$BIN" migrate --database-url "$PG/$DB" > /dev/null
psql -q "$PG/$DB" -c "$SEED"
measure "PostgreSQL, fresh database" "$BIN" import contacts --campaign 1 "$CSV" --database-url "$PG/$DB"
rm -rf "$WORK"
