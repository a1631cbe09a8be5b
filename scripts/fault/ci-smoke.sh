#!/usr/bin/env bash
# CI smoke fault run (under 3 minutes): three nodes on PostgreSQL, 200 callers for ~60 s,
# one node killed with SIGKILL mid-run, the checker passes. The scenario is
# three-nodes-kill.sh's; only its size and timings are fixed here.
FAULT_NAME=ci-smoke CALLERS=200 DURATION=60 KILL_AT=25 LEASE=15 FAULT_TIMEOUT=175 \
  exec "$(dirname "${BASH_SOURCE[0]}")/three-nodes-kill.sh"
