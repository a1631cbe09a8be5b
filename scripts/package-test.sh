#!/usr/bin/env bash
# The Debian package end to end, as root on a machine without Barnstorm installed: builds
# the .deb with cargo-deb (installed with `cargo install cargo-deb --locked` when missing)
# from the release binary (the one the fault smoke builds, so CI builds it once), installs
# it with dpkg -i, checks the unit with systemd-analyze verify, the barnstorm user and the
# file modes, starts the service and asks /healthz, then purges the package.
#
# When systemd is not PID 1 (containers, most CI), the unit cannot be started: the script
# then runs the unit's own ExecStart as the unit's User, in its WorkingDirectory, with its
# EnvironmentFile, and says so; the unit's sandboxing is not applied on that route.
#
#   scripts/package-test.sh
#
# Variables: PACKAGE_PROFILE (release, the default, or dev for a quicker local check),
# PACKAGE_PORT (default 18480: the port the installed service listens on for the test).
# Prints one "ok:" or "FAIL:" line per check and a closing "package: N passed, N failed".

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO_ROOT=$(pwd)

PROFILE=${PACKAGE_PROFILE:-release}
PORT=${PACKAGE_PORT:-18480}
UNIT=/usr/lib/systemd/system/barnstorm.service
ENV_FILE=/etc/barnstorm/barnstorm.env
STATE=/var/lib/barnstorm
PASSED=0 FAILED=0 SERVER_PID="" INSTALLED=0
ok() { echo "[package] ok: $*"; PASSED=$((PASSED + 1)); }
bad() { echo "[package] FAIL: $*"; FAILED=$((FAILED + 1)); }
check() { # description, command...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
  echo "package: $PASSED passed, $FAILED failed"
  (( FAILED == 0 && PASSED > 0 ))
  exit $?
}
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  if (( INSTALLED )); then
    [[ -d /run/systemd/system ]] && systemctl stop barnstorm 2>/dev/null
    dpkg --purge barnstorm >/dev/null 2>&1
    # The package keeps data on purge; this test's own data goes with it.
    rm -rf "$STATE"
    userdel barnstorm 2>/dev/null
    getent group barnstorm >/dev/null && groupdel barnstorm 2>/dev/null
  fi
}
trap cleanup EXIT

if (( $(id -u) != 0 )) || ! command -v dpkg >/dev/null; then
  bad "needs root and dpkg (it installs the package)"
  finish
fi
if dpkg -s barnstorm >/dev/null 2>&1 || [[ -e "$STATE" ]] || getent passwd barnstorm >/dev/null; then
  bad "Barnstorm is already installed here (package, $STATE or user barnstorm): not touching it"
  finish
fi

TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
if ! command -v cargo-deb >/dev/null; then
  echo "[package] installing cargo-deb"
  cargo install cargo-deb --locked || { bad "cargo install cargo-deb --locked"; finish; }
fi
if [[ "$PROFILE" == release ]]; then
  cargo build --release -p barnstorm || { bad "cargo build --release -p barnstorm"; finish; }
  cargo deb -p barnstorm --no-build || { bad "cargo deb -p barnstorm"; finish; }
else
  cargo build -p barnstorm || { bad "cargo build -p barnstorm"; finish; }
  cargo deb -p barnstorm --no-build --profile "$PROFILE" 2>&1 | grep -v 'profile is not supported' ||
    { bad "cargo deb -p barnstorm --profile $PROFILE"; finish; }
fi
DEB=$(ls -t "$TARGET_DIR"/debian/barnstorm_*.deb 2>/dev/null | head -n 1)
[[ -n "$DEB" ]] || { bad "cargo deb wrote no .deb into $TARGET_DIR/debian"; finish; }
ok "built $(basename "$DEB") ($(du -h "$DEB" | cut -f1))"

INSTALLED=1
check "dpkg -i installs it" dpkg -i "$DEB"
check "/usr/bin/barnstorm runs" /usr/bin/barnstorm --version
check "the unit is installed at $UNIT" test -f "$UNIT"
if command -v systemd-analyze >/dev/null; then
  verify_log=$(mktemp)
  if systemd-analyze verify "$UNIT" >"$verify_log" 2>&1; then
    ok "systemd-analyze verify accepts the unit"
  else
    cat "$verify_log"
    bad "systemd-analyze verify rejects the unit"
  fi
  rm -f "$verify_log"
else
  echo "[package] systemd-analyze not installed: the unit is not verified"
fi
for directive in NoNewPrivileges=yes CapabilityBoundingSet= ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes MemoryDenyWriteExecute=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
  SystemCallFilter=@system-service StateDirectory=barnstorm User=barnstorm; do
  check "the unit says $directive" grep -qxF "$directive" "$UNIT"
done
check "user barnstorm exists and has no shell" bash -c '[[ $(getent passwd barnstorm | cut -d: -f7) == */nologin || $(getent passwd barnstorm | cut -d: -f7) == /bin/false ]]'
check "$STATE belongs to barnstorm, mode 750" bash -c "[[ \$(stat -c '%U %a' $STATE) == 'barnstorm 750' ]]"
check "$ENV_FILE is root:barnstorm, mode 640" bash -c "[[ \$(stat -c '%U:%G %a' $ENV_FILE) == 'root:barnstorm 640' ]]"
check "$ENV_FILE is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' barnstorm | grep -q $ENV_FILE"

sed -i "s/^BARNSTORM_LISTEN=.*/BARNSTORM_LISTEN=127.0.0.1:$PORT/" "$ENV_FILE"
if [[ -d /run/systemd/system ]]; then
  echo "[package] systemd is running: systemctl restart barnstorm"
  check "systemctl restart barnstorm" systemctl restart barnstorm
else
  exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
  workdir=$(sed -n 's/^WorkingDirectory=//p' "$UNIT")
  user=$(sed -n 's/^User=//p' "$UNIT")
  echo "[package] systemd is not PID 1 here: running the unit's ExecStart ($exec_start) as $user in $workdir with $ENV_FILE, without the unit's sandboxing"
  (
    cd "$workdir" || exit 1
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
    # shellcheck disable=SC2086
    exec setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs $exec_start
  ) >"$STATE.log" 2>&1 &
  SERVER_PID=$!
fi
health=""
for _ in $(seq 1 60); do
  health=$(curl -fsS "http://127.0.0.1:$PORT/healthz" 2>/dev/null) && break
  sleep 0.5
done
if [[ "$health" == *'"status":"ok"'* ]]; then
  ok "the service answers /healthz: $health"
else
  [[ -f "$STATE.log" ]] && cat "$STATE.log"
  bad "the service does not answer /healthz on 127.0.0.1:$PORT"
fi
check "the service made its database in $STATE, owned by barnstorm" \
  bash -c "[[ \$(stat -c %U $STATE/barnstorm.db 2>/dev/null) == barnstorm ]]"
if [[ -n "$SERVER_PID" ]]; then
  kill -TERM "$SERVER_PID"
  check "SIGTERM stops it with exit code 0" wait "$SERVER_PID"
  SERVER_PID=""
  rm -f "$STATE.log"
fi

check "dpkg --purge removes it" dpkg --purge barnstorm
check "the binary and the unit are gone" bash -c "[[ ! -e /usr/bin/barnstorm && ! -e $UNIT ]]"
check "the settings are gone, the data is kept" bash -c "[[ ! -e /etc/barnstorm && -e $STATE/barnstorm.db ]]"
finish
