#!/usr/bin/env bash
# Claim + outcome cycles over HTTP with N simulated callers against one fresh node.
#
#   scripts/bench-callers.sh sqlite|postgres CALLERS [DURATION_S] [RAMP_S] [CALL_SECS] [extra bench flags…]
#
# Sets up a fresh database with the demo data and BENCH_CAMPAIGNS (default 24) campaigns of
# 16,000 contacts each (every valid Ofcom drama number), callable around the clock, with
# "no answer" (95% of simulated outcomes) retrying after one minute so the lists do not
# run dry; starts a release node, runs `barnstorm bench callers`, then `barnstorm check`.
# It also measures the baseline: one durable write transaction per operation on the same
# database. The node listens on BENCH_PORT (default 18390); with BENCH_NODES=N, N nodes
# share the database on consecutive ports and callers are spread over them. The set-up is
# scripts/bench-lib.sh.
# Loopback only; everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench-lib.sh "$@"
shift $(( $# < 5 ? $# : 5 ))
port=${BENCH_PORT:-18390}
bench_port_free $port
bench_database "$backend"

echo "== baseline: one durable write transaction per operation ($backend)"
$bin bench writes --database-url "$db" --ops 20000 --concurrency 64

bench_node $port
bench_campaigns $port

echo "== $callers callers on $backend: ramp ${ramp}s, ${duration}s, calls ${call_secs}s"
$bin bench callers "${node_flags[@]}" "${campaign_flags[@]}" "${bench_callers_flags[@]}" \
  --callers "$callers" --ramp "$ramp" --duration "$duration" --call-secs "$call_secs" \
  --source-addresses 8 --json "$work/report.json" "$@"
bench_check
