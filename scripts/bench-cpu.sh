#!/usr/bin/env bash
# CPU seconds per claim + outcome cycle: runs scripts/bench-callers.sh with the same
# arguments and, while `barnstorm bench callers` runs, samples the node's CPU time and that
# of the PostgreSQL backends serving the benchmark's database from /proc; their growth
# after the ramp (once every caller has joined) is divided by the cycles the load
# generator counted after the ramp. Steadier than cycles per second on a shared machine.
#
#   scripts/bench-cpu.sh sqlite|postgres CALLERS [DURATION_S] [RAMP_S] [CALL_SECS] [extra bench flags…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
port=${BENCH_PORT:-18390}
duration=${3:-60}
ramp=${4:-10}
out=$(mktemp /tmp/barnstorm-cpu.XXXXXX)
trap 'rm -f "$out" "$out.samples"' EXIT
ticks=$(getconf CLK_TCK)

# cpu_of PID…: utime + stime of the processes, in clock ticks.
cpu_of() {
  local pid total=0
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# sample: every half second while the load generator runs, the time and the CPU ticks of
# this run's node and of the PostgreSQL backends of its database (named in its URL).
sample() {
  local node pg db
  while sleep 0.5; do
    pgrep -f "barnstorm bench callers .*127.0.0.1:$port" >/dev/null || continue
    node=$(pgrep -f "barnstorm serve --listen 127.0.0.1:$port" | tr '\n' ' ' || true)
    db=$(tr '\0' '\n' <"/proc/${node%% *}/cmdline" 2>/dev/null | grep -oE 'bench_callers_[0-9]+' | head -1 || true)
    pg=${db:+$(pgrep -f "postgres: .* $db " | tr '\n' ' ' || true)}
    # shellcheck disable=SC2086
    echo "$(date +%s.%N) $(cpu_of $node) $(cpu_of $pg)" >>"$out.samples"
  done
}
sample &
sampler=$!
scripts/bench-callers.sh "$@" | tee "$out"
kill "$sampler" 2>/dev/null || true
cycles=$(awk '/^after the ramp/ {print $4}' "$out" | tail -1)
python3 - "$out.samples" "$ramp" "$duration" "$cycles" "$ticks" <<'PY'
import sys
samples = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if len(line.split()) == 3]
ramp, duration = float(sys.argv[2]), float(sys.argv[3])
cycles, ticks = int(sys.argv[4]), int(sys.argv[5])
start = next(s for s in samples if s[0] >= samples[0][0] + ramp)
end = [s for s in samples if s[0] <= start[0] + duration][-1]
node, pg = (end[1] - start[1]) / ticks, (end[2] - start[2]) / ticks
print(f"== CPU after the ramp ({end[0] - start[0]:.0f} s): node {node:.1f} s, PostgreSQL backends "
      f"{pg:.1f} s, {cycles} cycles: {(node + pg) / cycles * 1e6:.0f} µs per cycle "
      f"(node {node / cycles * 1e6:.0f}, PostgreSQL {pg / cycles * 1e6:.0f})")
PY
