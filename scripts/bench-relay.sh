#!/usr/bin/env bash
# The bridged-call relay under load on loopback: CALLS bridged pairs of RTP legs in one
# process (crates/telephony/examples/relay_bench.rs, release build) and the phones in
# another, G.711 at 50 packets a second each way. Prints loss, late packets and latency
# measured by the phones, the relay's CPU and RSS per call and the generator's own CPU as
# the baseline, over the same window; then the phones alone sending to each other, which is
# what the machine adds without a relay.
#
#   scripts/bench-relay.sh [CALLS=1000] [SECONDS=20]
#   BENCH_RELAY_FIFO=1 scripts/bench-relay.sh    both processes under SCHED_FIFO (root), ahead
#                                                of whatever else the machine is running
#
# Uses ports 20000-25600 (relay) and 26000-28800 (phones) on 127.0.0.1.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CALLS=${1:-1000}
SECONDS_MEASURED=${2:-20}

cargo build --release -p barnstorm-telephony --example relay_bench
bench="${CARGO_TARGET_DIR:-target}/release/examples/relay_bench"
run=()
[[ ${BENCH_RELAY_FIFO:-0} == 1 ]] && run=(chrt -f 1)
# Each call holds two sockets in each process.
ulimit -n "$(( 4 * CALLS + 256 ))"

log=$(mktemp)
trap 'kill "$relay" 2>/dev/null || true; rm -f "$log"' EXIT
"${run[@]}" "$bench" relay "$CALLS" "$(( SECONDS_MEASURED + 6 ))" >"$log" &
relay=$!
for _ in $(seq 100); do grep -q '^ready' "$log" && break; sleep 0.1; done
grep -q '^ready' "$log" || { cat "$log"; echo "bench-relay: the relay did not start" >&2; exit 1; }
idle_rss=$(sed -n 's/^ready idle_rss_kib=//p' "$log")

echo "== through the relay"
report=$("${run[@]}" "$bench" generate "$CALLS" "$SECONDS_MEASURED" "$relay")
echo "$report"
rss=$(sed -n 's/^relay RSS \([0-9]*\) KiB/\1/p' <<<"$report")
echo "relay RSS per call $(( (rss - idle_rss) / CALLS )) KiB (idle relay ${idle_rss} KiB)"
wait "$relay"
tail -n 1 "$log"
echo "== baseline: the same phones sending to each other, no relay"
"${run[@]}" "$bench" direct "$CALLS" "$SECONDS_MEASURED"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), scheduling ${run[*]:-normal}"
