#!/usr/bin/env bash
# Object-store roots, side by side in one run (issue #14): the same objects in a real S3 server
# (s3s-fs, which verifies every signature), fetched through nginx
#
#   S3U  nginx proxy_pass straight to the store, one presigned URL per object made beforehand
#        (unguarded: the limit of this path)
#   S3W  nginx -> xsendfiled (Unix socket) -> X-Accel-Redirect + presigned URL -> the store,
#        HEAD cache warm (--s3-head-ttl 1h)
#   S3C  the same with the cache off (--s3-head-ttl 0s): a signed HEAD per request (a cache miss)
#
# For 1 KiB and 1 MiB objects: requests/s, p50/p99 (wrk, bench/rotate.lua over 16 objects), the
# median of RUNS runs, and the ratios guarded / unguarded (targets: >= 0.9 for 1 MiB, >= 0.6 for
# 1 KiB with the cache warm). xsendfiled's CPU per decision on a cache hit is bench/decide.rs
# (`cargo bench --bench decide -- object`). Everything listens on 127.0.0.1 or Unix sockets in a
# temp dir; every process started is stopped by its PID; every load run is bounded (wrk -d).
#
#   bench/s3.sh                          # RUNS=3 DURATION=5s CONNS=16
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-16}
tools="${XSENDFILED_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/xsendfiled/tools}"
s3s="$tools/bin/s3s-fs"
[ -x "$s3s" ] || { echo "missing $s3s: run scripts/install-deps.sh" >&2; exit 1; }
for p in nginx wrk curl; do command -v "$p" >/dev/null || { echo "missing $p" >&2; exit 1; }; done
cargo build --release --locked -q
bin=$(pwd)/target/release/xsendfiled
work=$(mktemp -d /tmp/xsfd-s3bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.1
  rm -rf "$work"
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { local name=$1; shift; setsid "$@" > "$work/$name.log" 2>&1 & pids+=($!); }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
wait_sock() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "$1 never appeared" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=XSFDBENCHACCESSKEY AWS_SECRET_ACCESS_KEY=xsfd-bench-secret-key-0123456789
bucket=bench
mkdir -p "$work/store/$bucket"
for i in $(seq 0 15); do
  head -c 1024 /dev/urandom > "$work/store/$bucket/1k-$i.bin"
  head -c 1048576 /dev/urandom > "$work/store/$bucket/1m-$i.bin"
done
s3port=$(free_port)
start s3s-fs "$s3s" --host 127.0.0.1 --port "$s3port" --access-key "$AWS_ACCESS_KEY_ID" \
  --secret-key "$AWS_SECRET_ACCESS_KEY" "$work/store"
wait_port "$s3port"

# One xsendfiled per setup, each behind nginx from conf-examples/nginx-s3.conf. Not called in
# $(...): a subshell's `pids` would not reach cleanup.
guarded() {  # name ttl -> starts xsendfiled + nginx, sets guarded_port
  local name=$1 ttl=$2 port sock run
  port=$(free_port); sock="$work/$name.sock"; run="$work/run-$name"; mkdir -p "$run"
  start "xsendfiled-$name" "$bin" --root "s3://$bucket" --s3-endpoint "http://127.0.0.1:$s3port" --s3-path-style \
    --s3-head-ttl "$ttl" --internal-prefix /_protected --strip-prefix /dl --listen "unix:$sock" --log-level warn
  wait_sock "$sock"
  sed -e "s#{{NGINX_USER}}#$(id -un)#; s#{{RUN_DIR}}#$run#g; s#{{PORT}}#$port#; s#{{UPSTREAM}}#unix:$sock#" \
      -e "s#{{S3_ENDPOINT}}#127.0.0.1:$s3port#; s#{{BUCKET}}#$bucket#; s#worker_processes auto#worker_processes 1#" \
      conf-examples/nginx-s3.conf > "$run/nginx.conf"
  start "nginx-$name" nginx -p "$run" -c "$run/nginx.conf" -g "daemon off;"
  wait_port "$port"
  guarded_port=$port
}
guarded S3W 1h; w_port=$guarded_port
guarded S3C 0s; c_port=$guarded_port

# Unguarded: nginx proxies /raw/<key>?<presigned query> to the store as it is; the presigned
# queries (1 h) come from xsendfiled's own HTTP listener.
hport=$(free_port)
start xsendfiled-presign "$bin" --root "s3://$bucket" --s3-endpoint "http://127.0.0.1:$s3port" --s3-path-style \
  --s3-presign-lifetime 1h --internal-prefix /_protected --strip-prefix /dl --listen "http://127.0.0.1:$hport" \
  --disposition none --log-level warn
wait_port "$hport"
u_port=$(free_port); run="$work/run-S3U"; mkdir -p "$run"
cat > "$run/nginx.conf" <<CONF
worker_processes 1;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    proxy_temp_path $run/proxy; client_body_temp_path $run/body;
    fastcgi_temp_path $run/fcgi; uwsgi_temp_path $run/uwsgi; scgi_temp_path $run/scgi;
    server {
        listen 127.0.0.1:$u_port;
        location /raw/ {
            # A connection per request, as the guarded path's variable proxy_pass makes (with
            # keepalive, s3s-fs answers small objects 40 ms late: delayed ACKs).
            proxy_pass http://127.0.0.1:$s3port/$bucket/;
            proxy_buffering off;
        }
    }
}
CONF
start nginx-S3U nginx -p "$run" -c "$run/nginx.conf" -g "daemon off;"
wait_port "$u_port"

for s in 1k 1m; do
  : > "$work/urls.S3U.$s"; : > "$work/urls.S3W.$s"
  for i in $(seq 0 15); do
    url=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$hport/dl/$s-$i.bin" | tr -d '\r' | sed -n 's/^X-Xsendfiled-Url: //Ip')
    echo "/raw/${url#*/$bucket/}" >> "$work/urls.S3U.$s"
    echo "/dl/$s-$i.bin" >> "$work/urls.S3W.$s"
  done
  cp "$work/urls.S3W.$s" "$work/urls.S3C.$s"
  # Every setup answers every object with its bytes before it gets a figure.
  for p in S3U S3W S3C; do
    port_var="$(echo "${p:2:1}" | tr 'UWC' 'uwc')_port"
    first=$(head -1 "$work/urls.$p.$s")
    got=$(curl -sS "http://127.0.0.1:${!port_var}$first" | sha256sum | cut -d' ' -f1)
    want=$(sha256sum < "$work/store/$bucket/$s-0.bin" | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "$p $s answers wrongly: $(curl -sS -i "http://127.0.0.1:${!port_var}$first" | head -5)" >&2; exit 1; }
  done
done

results="$work/results.tsv"
for run in $(seq "$RUNS"); do
  for s in 1k 1m; do
    for p in S3U S3W S3C; do
      port_var="$(echo "${p:2:1}" | tr 'UWC' 'uwc')_port"
      url="http://127.0.0.1:${!port_var}"
      wrk -t2 -c"$CONNS" -d1s -s bench/rotate.lua "$url" -- "$work/urls.$p.$s" > /dev/null 2>&1 || true
      line=$(wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s -s bench/rotate.lua "$url" -- "$work/urls.$p.$s" | grep '^RESULT')
      eval "$(echo "${line#RESULT }" | tr ' ' ';')"
      rps=$(awk -v n="$requests" -v d="$seconds" 'BEGIN{printf "%.0f", n/d}')
      echo -e "$p\t$s\t$run\t$rps\t$p50_us\t$p99_us\t$((errors + non2xx))" >> "$results"
      log "run $run $s $p: $rps req/s p50 ${p50_us}us p99 ${p99_us}us errors $((errors + non2xx))"
    done
  done
done

python3 - "$results" "$CONNS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
med = {}
for setup in ("S3U", "S3W", "S3C"):
    for size in ("1k", "1m"):
        sel = [r for r in rows if r[0] == setup and r[1] == size]
        med[setup, size] = tuple(statistics.median(int(r[i]) for r in sel) for i in (3, 4, 5, 6))
print(f"object-store rows, wrk -c{sys.argv[2]}, median of {len(rows) // 6} run(s)")
print("setup  size  req/s     p50_us  p99_us  errors  ratio_to_S3U")
for size in ("1k", "1m"):
    base = med["S3U", size][0]
    for setup in ("S3U", "S3W", "S3C"):
        rps, p50, p99, err = med[setup, size]
        print(f"{setup:<6} {size:<5} {rps:<9.0f} {p50:<7.0f} {p99:<7.0f} {err:<7.0f} {rps / base if base else 0:.2f}")
print("targets: S3W/S3U >= 0.9 (1m), >= 0.6 (1k); S3C shows the cost of a HEAD per request")
PY
