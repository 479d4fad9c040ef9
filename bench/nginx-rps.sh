#!/usr/bin/env bash
# Requests/s through nginx: A = nginx serving 1 KiB files directly (the limit of this path),
# X = nginx -> xsendfiled (Unix socket) -> X-Accel-Redirect -> the same files. Runs alternate
# A and X so drift hits both alike. Also reports xsendfiled's CPU time per request (utime+stime
# from /proc over the run, divided by requests) and its peak RSS (VmHWM). Row M is row X with
# metrics on (a second xsendfiled with --metrics-listen, scraped every second during its runs):
# the median CPU per request of M over X is the cost of counting (the target is at most 1.03).
#
#   bench/nginx-rps.sh            # RUNS=3 DURATION=10s CONNS=64 THREADS=1 (xsendfiled --threads)
#   PERF=/tmp/x.perf bench/nginx-rps.sh   # also `perf record -g` xsendfiled during the X runs
#   XSENDFILED_BIN=/other/xsendfiled bench/nginx-rps.sh   # another build (A/B of a change)
# Everything listens on 127.0.0.1 or a Unix socket in a temp dir; every process started is
# stopped by its PID. Correctness is checked with curl before any figure is taken.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
XTHREADS=${THREADS:-1}
PORT=${PORT:-18181}
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
scripts/install-deps.sh
export PATH="$PATH:/usr/sbin"
cargo build --release --locked -q
work=$(mktemp -d /tmp/xsfd-bench.XXXXXX)
chmod 755 "$work"
root="$work/root"
mkdir -p "$root/small"
for i in $(seq -w 0 99); do head -c 1024 /dev/urandom > "$root/small/f$i.bin"; done
sed -e "s#{{NGINX_USER}}#$(id -un)#" -e "s#{{RUN_DIR}}#$work#g" -e "s#{{PORT}}#$PORT#" \
    -e "s#{{UPSTREAM}}#unix:$work/x.sock#" -e "s#{{ROOT}}#$root#g" conf-examples/nginx.conf > "$work/nginx.conf"
# Row A: a plain static location next to the example's ones.
sed -i "s#        location /_protected/ {#        location /a/ { alias $root/; }\n\n        location /_protected/ {#" "$work/nginx.conf"
sed -i "s#worker_processes auto;#worker_processes auto;\nworker_rlimit_nofile 65536;#" "$work/nginx.conf"
# Row M: the same download location on a second xsendfiled that counts.
sed -i "s#    upstream xsendfiled {#    upstream xm { server unix:$work/m.sock; keepalive 16; }\n\n    upstream xsendfiled {#" "$work/nginx.conf"
sed -i "s#        location /a/ {#        location /dm/ { include /etc/nginx/fastcgi_params; fastcgi_pass xm; fastcgi_keep_conn on; }\n\n        location /a/ {#" "$work/nginx.conf"
"${XSENDFILED_BIN:-./target/release/xsendfiled}" --root "$root" --internal-prefix /_protected --strip-prefix /dl \
    --listen "unix:$work/x.sock" --threads "$XTHREADS" --log-level warn 2>"$work/x.log" &
xpid=$!
"${XSENDFILED_BIN:-./target/release/xsendfiled}" --root "$root" --internal-prefix /_protected --strip-prefix /dm \
    --listen "unix:$work/m.sock" --metrics-listen "unix:$work/metrics.sock" --threads "$XTHREADS" \
    --log-level warn 2>"$work/m.log" &
mpid=$!
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
npid=$!
cleanup() { kill "$npid" "$xpid" "$mpid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/a/small/f00.bin" && break; sleep 0.1; done

# Correctness first: both rows return the file's exact bytes.
for p in a dl dm; do
  curl -sf "http://127.0.0.1:$PORT/$p/small/f42.bin" -o "$work/got.$p"
  cmp -s "$work/got.$p" "$root/small/f42.bin" || { echo "row $p returns wrong bytes" >&2; exit 1; }
done
curl -sf --unix-socket "$work/metrics.sock" http://m/metrics | grep -q 'xsendfiled_decisions_total{outcome="send"' \
  || { echo "row M counts nothing" >&2; exit 1; }
for p in a dl dm; do
  for i in $(seq -w 0 99); do echo "/$p/small/f$i.bin"; done > "$work/urls.$p"
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
printf "%-4s %-3s %10s %9s %9s %12s %7s\n" row run "req/s" "p50 ms" "p99 ms" "cpu us/req" errors
declare -A rps cpus
for run in $(seq "$RUNS"); do
  for p in a dl dm; do
    pid=$([ "$p" = dm ] && echo "$mpid" || echo "$xpid")
    wrk -t2 -c"$CONNS" -d2s -s bench/rotate.lua "http://127.0.0.1:$PORT" -- "$work/urls.$p" >/dev/null
    before=$(cpu_ticks "$pid")
    scraper=
    if [ "$p" = dm ]; then
      (while :; do curl -s -o /dev/null --unix-socket "$work/metrics.sock" http://m/metrics; sleep 1; done) & scraper=$!
    fi
    perf_pid=
    if [ -n "${PERF:-}" ] && [ "$p" = dl ]; then
      perf record -q -F 1999 -g -p "$xpid" -o "$PERF.$run" 2>/dev/null & perf_pid=$!
    fi
    line=$(wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s -s bench/rotate.lua "http://127.0.0.1:$PORT" -- "$work/urls.$p" | grep '^RESULT')
    after=$(cpu_ticks "$pid")
    if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; fi
    if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
    eval "$(echo "$line" | sed 's/^RESULT //; s/ /;/g')"
    r=$(awk -v n="$requests" -v s="$seconds" 'BEGIN{printf "%.0f", n/s}')
    cpu="-"
    if [ "$p" != a ]; then
      cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
    fi
    row=$(case $p in a) echo A ;; dl) echo X ;; *) echo M ;; esac)
    rps[$row]="${rps[$row]:-} $r"
    cpus[$row]="${cpus[$row]:-} $cpu"
    printf "%-4s %-3s %10s %9.2f %9.2f %12s %7s\n" "$row" "$run" "$r" \
      "$(awk -v v="$p50_us" 'BEGIN{print v/1000}')" "$(awk -v v="$p99_us" 'BEGIN{print v/1000}')" "$cpu" "$((errors + non2xx))"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ma=$(echo "${rps[A]}" | median); mx=$(echo "${rps[X]}" | median)
echo
echo "median req/s: A (nginx direct) $ma, X (nginx -> xsendfiled) $mx, X/A = $(awk -v x="$mx" -v a="$ma" 'BEGIN{printf "%.3f", x/a}')"
cx=$(echo "${cpus[X]}" | median); cm=$(echo "${cpus[M]}" | median)
echo "median cpu us/req: X (metrics off) $cx, M (metrics on) $cm, M/X = $(awk -v m="$cm" -v x="$cx" 'BEGIN{printf "%.3f", m/x}') (target <= 1.03)"
echo "xsendfiled peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$xpid/status)"
echo "machine: $(nproc) cores, $(uname -r), nginx $(nginx -v 2>&1 | sed 's#.*/##'), c=$CONNS, xsendfiled --threads $XTHREADS"
