#!/usr/bin/env bash
# Fault run: the SQLite database on a full disk, then on a read-only filesystem. A small
# tmpfs stands in for the disk (needs root and mount; as root, file permissions would not
# stop writes). Passes when writes fail with clear errors instead of corrupting anything,
# acknowledged outcomes from before the fault survive, the node recovers when space comes
# back, and SQLite's integrity check says ok. Loopback only; bounded.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PORT=18096 CALLERS="${CALLERS:-50}"
watchdog "${FAULT_TIMEOUT:-200}"

ensure_binary
DISK="$WORK/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=48m barnstorm-fault "$DISK" 2>"$WORK/mount.err"; then
  fail "cannot mount a tmpfs here ($(cat "$WORK/mount.err")); run as root on a machine that allows mount"
  finish
fi
CLEANUP_HOOKS+=("umount -l '$DISK'")
DB_FILE="$DISK/barnstorm.db" DB_URL="sqlite:$DISK/barnstorm.db"
timeout 120 "$BIN" demo --database-url "$DB_URL" >"$WORK/demo.log" 2>&1 || { fail "demo load"; finish; }
start_node node "$PORT" "$DB_URL"
prepare_campaign "$PORT" 20

log "run 1: healthy disk"
bench "$PORT" "$WORK/run1.json" "$CALLERS" 6
expect "run 1 acknowledged outcomes" test "$(acks_in "$WORK/run1.json")" -gt 0

log "filling the disk"
dd if=/dev/zero of="$DISK/filler" bs=64k status=none 2>/dev/null
df -h "$DISK" | sed 's/^/    /'
log "run 2: full disk"
bench "$PORT" "$WORK/run2.json" "$CALLERS" 6
log "run 2 errors: $(errors_in "$WORK/run2.json"), acknowledged $(acks_in "$WORK/run2.json")"
expect "writes on a full disk are refused as 503 unavailable, not 500" \
  bash -c "jq -e '.errors | (keys | length > 0) and all(.[]; true) and (keys | all(test(\" 503 \") or test(\"connect|timeout\")))' '$WORK/run2.json' >/dev/null"
expect "the log says the disk is full" grep -qi "disk is full" "$WORK/node.log"
grep -i "disk is full" "$WORK/node.log" | tail -n 1 | cut -c1-240 | sed 's/^/    log: /'
expect "/healthz still answers while the disk is full ($(health_code "$PORT"))" test "$(health_code "$PORT")" = 200

log "freeing the space; run 3 must work without a restart"
rm -f "$DISK/filler"
bench "$PORT" "$WORK/run3.json" "$CALLERS" 6
expect "run 3 recovered ($(errors_in "$WORK/run3.json"))" test "$(acks_in "$WORK/run3.json")" -gt 0

log "read-only filesystem: remount while the node runs"
if mount -o remount,ro "$DISK" 2>"$WORK/remount.err"; then
  bench "$PORT" "$WORK/run4.json" "$CALLERS" 6
  log "run 4 errors: $(errors_in "$WORK/run4.json")"
  expect "writes on a read-only filesystem are refused as 503" \
    bash -c "jq -e '.errors | keys | length > 0 and all(test(\" 503 \") or test(\"connect|timeout\"))' '$WORK/run4.json' >/dev/null"
else
  log "remount refused while the database is open for writing ($(tr -d '\n' <"$WORK/remount.err")); stopping the node first"
  stop_node node
  mount -o remount,ro "$DISK" || { fail "remount read-only"; finish; }
fi
stop_node node
log "starting a node on the read-only file"
timeout 30 "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "$DB_URL" --mail-dir "$WORK/mail" \
  >"$WORK/ro-start.log" 2>&1
RO_RC=$?
sed 's/^/    /' "$WORK/ro-start.log" | tail -n 3 | cut -c1-240
expect "a node on a read-only database refuses to start (exit $RO_RC)" test "$RO_RC" -ne 0 -a "$RO_RC" -ne 124
expect "and says why" grep -qiE "read-?only|readonly" "$WORK/ro-start.log"
mount -o remount,rw "$DISK"

jq -s '{acknowledged_attempts: (map(.acknowledged_attempts) | add)}' "$WORK"/run[1-9].json >"$WORK/all.json"
log "checker over every acknowledged outcome ($(acks_in "$WORK/all.json")):"
expect "barnstorm check passes" checker "$DB_URL" "$WORK/all.json"
INTEGRITY=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$DB_FILE")
expect "PRAGMA integrity_check = $INTEGRITY" test "$INTEGRITY" = ok
finish
