#!/usr/bin/env bash
# Claim + outcome cycles with N simulated callers through nginx in front of one fresh node:
# the way to hold more connections than one process may open, since every nginx worker
# and every load generator process has its own open-files limit.
#
#   scripts/bench-callers-nginx.sh sqlite|postgres CALLERS [DURATION_S] [RAMP_S] [CALL_SECS] [IDLE_HOLD_S] [extra bench flags…]
#
# The same database, campaigns and callers as bench-callers.sh (scripts/bench-lib.sh, but
# no write baseline). The node listens on BENCH_PORT (default 18390; BENCH_NODES nodes on
# the ports from there) and nginx on the port after them, with NGINX_WORKERS (default 4) workers of at most 19,000 connections each and
# a keep-alive pool to the node as large as the 4,000 connections each worker may open,
# so none is closed after use. `bench callers` spreads the callers over BENCH_PROCESSES (default 3) processes
# and 16 source addresses, keeps them connected and idle for IDLE_HOLD_S (default 60)
# seconds at the end, and reports the node's memory and nginx's apart. Then `barnstorm
# check`. nginx's config, logs and temp files live in the work folder. Loopback only;
# bounded in time; everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx ]] || { echo "needs nginx (apt-get install nginx)" >&2; exit 2; }
source scripts/bench-lib.sh "$@"
idle_hold=${6:-60}
shift $(( $# < 6 ? $# : 6 ))
port=${BENCH_PORT:-18390}
proxy_port=$((port + ${BENCH_NODES:-1}))
bench_database "$backend"
bench_node $port --trust-proxy

bench_port_free $proxy_port
mkdir -p "$work/nginx"
# The user line matters only when nginx starts as root: its workers must reach the work
# folder. Keep-alive and read timeouts outlast the whole run, so idle callers stay on.
cat >"$work/nginx/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes ${NGINX_WORKERS:-4};
worker_rlimit_nofile 19500;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events {
    worker_connections 19000;
}
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_timeout 1h;
    keepalive_requests 1000000;
    upstream barnstorm {
        # At most 4,000 connections to the node per worker (beyond, nginx answers 502 at
        # once): keeps the node under its own open-files limit when requests queue up.
$(for ((i = 0; i < ${#server_pids[@]}; i++)); do echo "        server 127.0.0.1:$((port + i)) max_conns=4000;"; done)
        keepalive 4000;
        keepalive_requests 1000000;
        keepalive_timeout 1h;
    }
    server {
        # reuseport: one listening socket per worker, so the kernel spreads connections
        # evenly and no worker reaches its limit first.
        listen 127.0.0.1:$proxy_port reuseport backlog=4096;
        location / {
            proxy_pass http://barnstorm;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
CONF
"$nginx" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
bench_pids+=("$nginx_pid")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.1; done
proxy_flags=()
for pid in "${server_pids[@]}"; do proxy_flags+=(--server-pid "$pid"); done
for pid in "$nginx_pid" $(pgrep -P "$nginx_pid"); do proxy_flags+=(--proxy-pid "$pid"); done
bench_campaigns $proxy_port

echo "== $callers callers on $backend through nginx: ramp ${ramp}s, ${duration}s, calls ${call_secs}s, idle ${idle_hold}s"
timeout $(( ${ramp%.*} + ${duration%.*} + ${idle_hold%.*} + 300 )) \
  $bin bench callers --target http://127.0.0.1:$proxy_port "${campaign_flags[@]}" "${bench_callers_flags[@]}" \
  --callers "$callers" --ramp "$ramp" --duration "$duration" --call-secs "$call_secs" \
  --processes "${BENCH_PROCESSES:-3}" --source-addresses 16 --idle-hold "$idle_hold" \
  "${proxy_flags[@]}" --json "$work/report.json" "$@"
grep -h -v '^\s*$' "$work/nginx/error.log" | tail -5 || true
bench_check
