#!/usr/bin/env bash
# Bridged calls under load with SIPp as the trunk, on loopback: CALLS callers rung through
# SIPp ("call me") and a contact bridged into each, every leg a G.711 A-law stream from
# SIPp at 50 packets a second, so the node relays 2 x CALLS streams each way. Prints the
# relay's counters (lost, reordered, delayed more than 20 ms behind the stream's schedule),
# the node's CPU and RSS per call and SIPp's own CPU as the baseline, over one window.
# The node side is the SIP adapter and relay (crates/telephony/examples/bridged_bench.rs,
# release build), the code `barnstorm serve --sip-trunk` runs for every call.
#
#   scripts/bench-bridged.sh [CALLS=1000] [SECONDS=20]
#   BENCH_FIFO=1 scripts/bench-bridged.sh    node and SIPp under SCHED_FIFO (root), ahead of
#                                            whatever else the machine is running
#
# Uses SIP port 5090 and RTP ports 30000-38100 (node) and 40000 up (SIPp) on 127.0.0.1.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CALLS=${1:-1000}
SECONDS_MEASURED=${2:-20}
SIP_PORT=5090

command -v sipp >/dev/null || { echo "bench-bridged: SIPp is needed (apt-get install sip-tester)" >&2; exit 1; }
command -v sox >/dev/null || { echo "bench-bridged: sox is needed for the audio (apt-get install sox)" >&2; exit 1; }
cargo build --release -p barnstorm-telephony --example bridged_bench
bench="${CARGO_TARGET_DIR:-target}/release/examples/bridged_bench"
run=()
[[ ${BENCH_FIFO:-0} == 1 ]] && run=(chrt -f 1)
# Two legs a call, each a socket in the node and one in SIPp.
ulimit -n "$(( 4 * CALLS + 1024 ))"

dir=$(mktemp -d)
trap 'kill "$sipp" 2>/dev/null || true; rm -rf "$dir"' EXIT
cp tests/sipp/bench-trunk.xml "$dir/"
sox -n -r 8000 -c 1 -t al "$dir/bench-audio.al" synth 4 sine 300-900
(
  cd "$dir"
  exec "${run[@]}" sipp -sf bench-trunk.xml -i 127.0.0.1 -p "$SIP_PORT" -mi 127.0.0.1 -mp 40000 \
    -m "$(( 2 * CALLS ))" -timeout "$(( SECONDS_MEASURED + 240 ))s" -nostdin -trace_err \
    >/dev/null 2>&1
) &
sipp=$!
sleep 0.5
"${run[@]}" "$bench" "$SIP_PORT" "$sipp" "$CALLS" "$SECONDS_MEASURED"
wait "$sipp" && sipp_ok=yes || sipp_ok="no (see SIPp's errors)"
echo "SIPp finished every call as its scenario says: $sipp_ok"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), scheduling ${run[*]:-normal}"
