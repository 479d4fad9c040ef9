#!/usr/bin/env bash
# The side-by-side benchmark: one nginx on 127.0.0.1, every setup behind it, the same files.
#
#   A   nginx serving the file directly (the limit of this path)
#   B   nginx secure_link (MD5 + expiry), then the file
#   C   wsgi-xsendfile under flup (threaded FastCGI; ../shared/bench/conf/flup_app.py)
#   D   PHP-FPM running a 5-line is_file + X-Accel-Redirect script
#   F   the minimal C libfcgi responder of ../shared/bench/conf/fcgi_min.c (the FastCGI ceiling)
#   X   nginx -> xsendfiled on a Unix socket -> X-Accel-Redirect
#   XT  the same over TCP
#   XS  X with an SDL1 signed link required
#   XC  xsendfiled as a CGI program under fcgiwrap (a process per request; the static build of
#       scripts/build-static.sh), also at -c1: the wall time of one request, exec included
#   XH  nginx proxy_pass (upstream keepalive) -> xsendfiled's HTTP/1.1 listener
#   XLS   XS with limited-use links (uses=999999) counted in SQLite (--state FILE), every request
#         within the use its client already holds (the Range follow-up path)
#   XLSN  the same, but nginx passes a new REMOTE_ADDR per request ($request_id): a new grant each
#   XLR   XLS with Redis (--state redis://; a private redis-server, its CPU counted too)
#   XLRN  XLSN with Redis
#
# For each size (1 KiB, 1 MiB), concurrency (8, 64; 512 for X) and run: requests/s, p50/p99,
# backend CPU µs per request (utime+stime, children included, from /proc), backend peak RSS, and
# (once, 1 KiB, -c4) syscalls per request from strace -c. Every setup is checked with curl first
# (status and the file's sha256); a setup that answers wrongly gets no figure. Writes
# BENCHMARKS.md and bench/requests.svg. Everything listens on 127.0.0.1 or Unix sockets in a temp
# dir; every process started is stopped by its PID; every load run is bounded (wrk -d).
#
#   bench/suite.sh                       # RUNS=2 DURATION=8s SIZES="1k 1m" CONNS="8 64" C512=1 S3=1
#   SETUPS="X XS XLS XLSN XLR XLRN" SIZES=1k CONNS=64 C512=0 REPORT=0 bench/suite.sh
#                                        # only the use-limit rows beside X and XS, medians and
#                                        # ratios printed, BENCHMARKS.md left alone
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-2}
DURATION=${DURATION:-8s}
SIZES=${SIZES:-"1k 1m"}
CONNS=${CONNS:-"8 64"}
C512=${C512:-1}
PORT=${PORT:-18480}
SHARED=${SHARED:-../shared}
SETUPS=${SETUPS:-"A B C D F X XT XS XC XH XLS XLSN XLR XLRN"}
REPORT=${REPORT:-1}
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/xsendfiled-bench/venv}
export PATH="$PATH:/usr/sbin"

need=()
for p in nginx wrk strace gcc fcgiwrap php-fpm8.2 openssl; do command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || need+=("$p"); done
[ -f /usr/include/fcgiapp.h ] || need+=(libfcgi-dev)
if [ "${#need[@]}" -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need[@]}" | sed 's/^php-fpm8.2$/php-fpm/' | tr '\n' ' ')
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
fi
python3 -c 'import ensurepip' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
if [[ " $SETUPS " == *" C "* ]] && ! "$VENV/bin/python" -c 'import flup.server.fcgi, xsendfile' 2>/dev/null; then
  rm -rf "$VENV" && python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q flup==1.0.3 xsendfile==1.0rc2 Paste==3.10.1 six==1.17.0
fi
cargo build --release --locked -q
bin=$(pwd)/target/release/xsendfiled
# CGI starts a process per request: XC runs the static PIE build (no dynamic loading).
static_bin=$bin
[[ " $SETUPS " == *" XC "* ]] && static_bin=$(pwd)/$(scripts/build-static.sh)

work=$(mktemp -d /tmp/xsfd-suite.XXXXXX)
chmod 755 "$work"
pids=()
# Each started process runs in a process group of its own (setsid) and is stopped by its PID,
# then whatever is left of its group: fcgiwrap and php-fpm fork workers that would outlive it (and
# a parent stopped after its workers may respawn them first).
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Files: 100 distinct files per size, random bytes.
for s in 1k 1m; do
  mkdir -p "$work/files/$s"
  n=$([ "$s" = 1k ] && echo 1024 || echo 1048576)
  for i in $(seq -w 0 99); do head -c "$n" /dev/urandom > "$work/files/$s/f$i.bin"; done
done
chmod -R a+rX "$work/files"
printf 'k1 hex:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$work/keys"
chmod 600 "$work/keys"
secret=bench-secret

# D: the PHP script, F: the C responder.
cat > "$work/dl.php" <<EOF
<?php
\$root = '$work/files';
\$f = realpath(\$root . (\$_SERVER['PATH_INFO'] ?? ''));
if (\$f === false || strpos(\$f, \$root . '/') !== 0 || !is_file(\$f)) { http_response_code(404); exit; }
header('Content-Type: application/octet-stream');
header('X-Accel-Redirect: /protected/' . substr(\$f, strlen(\$root) + 1));
EOF
gcc -O2 -o "$work/fcgi_min" "$SHARED/bench/conf/fcgi_min.c" -lfcgi -lpthread
user=www-data; id -u "$user" >/dev/null 2>&1 || user=$(id -un)
cat > "$work/php-fpm.conf" <<EOF
[global]
pid = $work/php-fpm.pid
error_log = $work/php-fpm.log
daemonize = no
[d]
listen = $work/php.sock
listen.mode = 0666
user = $user
group = $user
pm = static
pm.max_children = 4
EOF

start() { local name=$1; shift; setsid "$@" > "$work/$name.log" 2>&1 & pids+=($!); eval "pid_$name=$!"; }
start php /usr/sbin/php-fpm8.2 --nodaemonize --fpm-config "$work/php-fpm.conf" --allow-to-run-as-root
start fcgimin "$work/fcgi_min" "$work/f.sock" "$work/files" 4
common=(--root "$work/files" --internal-prefix /protected --log-level warn)
start x "$bin" "${common[@]}" --strip-prefix /x --listen "unix:$work/x.sock" --socket-mode 0666
start xt "$bin" "${common[@]}" --strip-prefix /xt --listen "127.0.0.1:$((PORT + 1))"
start xs "$bin" "${common[@]}" --strip-prefix /xs --listen "unix:$work/xs.sock" --socket-mode 0666 \
  --keys "$work/keys" --require-signature
start xh "$bin" "${common[@]}" --strip-prefix /xh --listen "http://127.0.0.1:$((PORT + 2))"
# XL*: limited-use links; each location sets its own strip prefix.
start redis redis-server --port $((PORT + 3)) --bind 127.0.0.1 --save '' --appendonly no --dir "$work"
start xl "$bin" "${common[@]}" --listen "unix:$work/xl.sock" --socket-mode 0666 --keys "$work/keys" \
  --require-signature --state "$work/state.db"
start xr "$bin" "${common[@]}" --listen "unix:$work/xr.sock" --socket-mode 0666 --keys "$work/keys" \
  --require-signature --state "redis://127.0.0.1:$((PORT + 3))"
start fcgiwrap /usr/sbin/fcgiwrap -c 4 -s "unix:$work/cgi.sock"
# C: flup's socket is created under umask 0o111 by the app itself.
start flup "$VENV/bin/python" "$SHARED/bench/conf/flup_app.py" plain "$work/c.sock" "$work/files"

cat > "$work/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 65536;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 8192; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $work/cb; fastcgi_temp_path $work/ft; proxy_temp_path $work/pt;
  uwsgi_temp_path $work/ut; scgi_temp_path $work/st;
  # Idle connections kept per worker: 2 workers x 256 covers wrk -c512.
  upstream xh { server 127.0.0.1:$((PORT + 2)); keepalive 256; }
  server {
    listen 127.0.0.1:$PORT;
    location /a/ { alias $work/files/; }
    location /b/ {
      secure_link \$arg_md5,\$arg_expires;
      secure_link_md5 "\$secure_link_expires\$uri $secret";
      if (\$secure_link = "") { return 403; }
      if (\$secure_link = "0") { return 410; }
      alias $work/files/;
    }
    location /c/ {
      fastcgi_split_path_info ^(/c)(/.*)\$;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_NAME "";
      fastcgi_param PATH_INFO \$fastcgi_path_info;
      fastcgi_pass unix:$work/c.sock;
    }
    location /d/ {
      fastcgi_split_path_info ^(/d)(/.*)\$;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $work/dl.php;
      fastcgi_param PATH_INFO \$fastcgi_path_info;
      fastcgi_pass unix:$work/php.sock;
    }
    location /f/ {
      fastcgi_split_path_info ^(/f)(/.*)\$;
      include /etc/nginx/fastcgi_params;
      fastcgi_param PATH_INFO \$fastcgi_path_info;
      fastcgi_pass unix:$work/f.sock;
    }
    location /x/ { include /etc/nginx/fastcgi_params; fastcgi_pass unix:$work/x.sock; }
    location /xt/ { include /etc/nginx/fastcgi_params; fastcgi_pass 127.0.0.1:$((PORT + 1)); }
    location /xs/ { include /etc/nginx/fastcgi_params; fastcgi_pass unix:$work/xs.sock; }
    location /xls/ { include /etc/nginx/fastcgi_params; fastcgi_param XSENDFILED_STRIP_PREFIX /xls; fastcgi_pass unix:$work/xl.sock; }
    location /xlr/ { include /etc/nginx/fastcgi_params; fastcgi_param XSENDFILED_STRIP_PREFIX /xlr; fastcgi_pass unix:$work/xr.sock; }
    # A new client per request, so every request opens a use: the variables xsendfiled reads,
    # REMOTE_ADDR a request id (not an address: no ipm claim is signed).
    location /xlsn/ {
      fastcgi_param REQUEST_METHOD \$request_method; fastcgi_param REQUEST_URI \$request_uri;
      fastcgi_param DOCUMENT_URI \$document_uri; fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param REMOTE_ADDR \$request_id; fastcgi_param XSENDFILED_STRIP_PREFIX /xlsn;
      fastcgi_pass unix:$work/xl.sock;
    }
    location /xlrn/ {
      fastcgi_param REQUEST_METHOD \$request_method; fastcgi_param REQUEST_URI \$request_uri;
      fastcgi_param DOCUMENT_URI \$document_uri; fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param REMOTE_ADDR \$request_id; fastcgi_param XSENDFILED_STRIP_PREFIX /xlrn;
      fastcgi_pass unix:$work/xr.sock;
    }
    location /xh/ { proxy_pass http://xh; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /xc/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $static_bin;
      fastcgi_param XSENDFILED_ROOT $work/files;
      fastcgi_param XSENDFILED_INTERNAL_PREFIX /protected;
      fastcgi_param XSENDFILED_STRIP_PREFIX /xc;
      fastcgi_param XSENDFILED_LOG_LEVEL warn;
      fastcgi_pass unix:$work/cgi.sock;
    }
    location /protected/ { internal; alias $work/files/; }
  }
}
EOF
for s in x xs xl xr f php cgi c; do for _ in $(seq 100); do [ -S "$work/$s.sock" ] && break; sleep 0.1; done; chmod 666 "$work/$s.sock" 2>/dev/null || true; done
start nginx nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;'
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/a/1k/f00.bin" && break; sleep 0.1; done

# URL lists, one per setup and size.
exp=$(( $(date +%s) + 86400 ))
for s in 1k 1m; do
  for i in $(seq -w 0 99); do
    f="$s/f$i.bin"
    echo "/a/$f" >> "$work/urls.A.$s"
    md5=$(printf '%s/b/%s %s' "$exp" "$f" "$secret" | openssl md5 -binary | openssl base64 | tr '+/' '-_' | tr -d '=')
    echo "/b/$f?md5=$md5&expires=$exp" >> "$work/urls.B.$s"
    for p in C D F X XT XC XH; do echo "/$(echo "$p" | tr 'A-Z' 'a-z')/$f" >> "$work/urls.$p.$s"; done
    "$bin" sign --keys "$work/keys" --expires-in 1d "/xs/$f" >> "$work/urls.XS.$s"
    for p in xls xlsn xlr xlrn; do
      "$bin" sign --keys "$work/keys" --expires-in 1d --uses 999999 "/$p/$f" 2>/dev/null >> "$work/urls.${p^^}.$s"
    done
  done
done

# Correctness first.
ok_setups=""
for p in $SETUPS; do
  good=1
  for s in $SIZES; do
    for u in "$(head -1 "$work/urls.$p.$s")" "$(tail -1 "$work/urls.$p.$s")"; do
      f=$(echo "$u" | sed -E 's#^/[a-z]+/##; s#\?.*##')
      got=$(curl -s "http://127.0.0.1:$PORT$u" | sha256sum | cut -d' ' -f1)
      want=$(sha256sum < "$work/files/$f" | cut -d' ' -f1)
      [ "$got" = "$want" ] || { log "$p $u: wrong bytes, no figure for $p"; good=0; }
    done
  done
  [ "$good" = 1 ] && ok_setups="$ok_setups $p"
done
log "verified:$ok_setups"

backend_pids() {  # the processes whose CPU counts as the setup's backend
  case $1 in
    D) echo "$pid_php $(pgrep -P "$pid_php" | tr '\n' ' ')" ;;
    C) echo "$pid_flup" ;;
    F) echo "$pid_fcgimin" ;; X) echo "$pid_x" ;; XT) echo "$pid_xt" ;; XS) echo "$pid_xs" ;; XH) echo "$pid_xh" ;;
    XLS|XLSN) echo "$pid_xl" ;; XLR|XLRN) echo "$pid_xr $pid_redis" ;;
    XC) echo "$pid_fcgiwrap $(pgrep -P "$pid_fcgiwrap" | tr '\n' ' ')" ;;
    *) echo "" ;;
  esac
}
ticks() { local t=0; for p in $1; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat"))); done; echo $t; }
hwm() { local m=0 v; for p in $1; do v=$(awk '/VmHWM/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0); [ "${v:-0}" -gt "$m" ] && m=$v; done; echo $m; }
hz=$(getconf CLK_TCK)
results="$work/results.tsv"
echo -e "setup\tsize\tconns\trun\trps\tp50_us\tp99_us\tcpu_us\trss_kib\terrors" > "$results"
for run in $(seq "$RUNS"); do
  for s in $SIZES; do
    conns="$CONNS"; [ "$C512" = 1 ] && conns="$conns 512"
    [ "$s" = 1k ] && conns="1 $conns"
    for c in $conns; do
      for p in $ok_setups; do
        [ "$c" = 512 ] && [ "$p" != X ] && [ "$p" != A ] && [ "$p" != XH ] && continue
        [ "$c" = 1 ] && [ "$p" != XC ] && continue
        bp=$(backend_pids "$p")
        t=$([ "$c" -lt 2 ] && echo 1 || echo 2)  # wrk needs a connection per thread
        wrk -t"$t" -c"$c" -d2s -s bench/rotate.lua "http://127.0.0.1:$PORT" -- "$work/urls.$p.$s" > /dev/null 2>&1 || true
        t0=$(ticks "$bp")
        line=$(wrk -t"$t" -c"$c" -d"$DURATION" --timeout 5s -s bench/rotate.lua "http://127.0.0.1:$PORT" -- "$work/urls.$p.$s" | grep '^RESULT')
        bp2=$(backend_pids "$p")
        t1=$(ticks "$bp2")
        eval "$(echo "${line#RESULT }" | tr ' ' ';')"
        rps=$(awk -v n="$requests" -v d="$seconds" 'BEGIN{printf "%.0f", n/d}')
        cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$requests" 'BEGIN{ if (n>0 && t>=0) printf "%.1f", t/hz*1e6/n; else print "" }')
        [ -z "$bp" ] && cpu=""
        echo -e "$p\t$s\t$c\t$run\t$rps\t$p50_us\t$p99_us\t$cpu\t$(hwm "$bp2")\t$((errors + non2xx))" >> "$results"
        log "run $run $s c$c $p: $rps req/s p99 ${p99_us}us cpu ${cpu}us"
      done
    done
  done
done

# The use-limit rows against XS, measured in this same session: median req/s, the ratio, and the
# CPU each decision adds (backend CPU µs per request minus XS's; Redis's own CPU included).
python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(setup, size, conns, field):
    v = [float(r[field]) for r in rows if (r["setup"], r["size"], r["conns"]) == (setup, size, conns) and r[field]]
    return statistics.median(v) if v else None
for size, conns in sorted({(r["size"], r["conns"]) for r in rows}):
    xs, xs_cpu = med("XS", size, conns, "rps"), med("XS", size, conns, "cpu_us")
    for setup, target in (("XLS", 0.6), ("XLSN", 0.6), ("XLR", 0.5), ("XLRN", 0.5)):
        rps, cpu = med(setup, size, conns, "rps"), med(setup, size, conns, "cpu_us")
        if rps is None or not xs:
            continue
        added = f"{cpu - xs_cpu:+.1f}" if cpu is not None and xs_cpu is not None else "-"
        verdict = "met" if rps >= target * xs else "not met"
        print(f"{setup:5} {size} c{conns}: {rps:.0f} req/s = {rps / xs:.2f} x XS (target >= {target}: {verdict}); "
              f"CPU {cpu if cpu is not None else '-'} us/req, {added} us per decision vs XS", file=sys.stderr)
PY

# Syscalls per request, 1 KiB, wrk -c4 for 3 s under strace -c.
echo -e "setup\tsyscalls_per_req" > "$work/syscalls.tsv"
for p in $ok_setups; do
  bp=$(backend_pids "$p"); [ -z "$bp" ] && continue
  args=(); for q in $bp; do args+=(-p "$q"); done
  timeout 20 strace -c -f "${args[@]}" -o "$work/strace.$p" & sp=$!
  sleep 0.5
  line=$(wrk -t1 -c4 -d3s -s bench/rotate.lua "http://127.0.0.1:$PORT" -- "$work/urls.$p.1k" | grep '^RESULT')
  kill -INT "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
  eval "$(echo "${line#RESULT }" | tr ' ' ';')"
  calls=$(awk '/^100.00/{print $4}' "$work/strace.$p")
  echo -e "$p\t$(awk -v c="${calls:-0}" -v n="$requests" 'BEGIN{printf "%.1f", c/n}')" >> "$work/syscalls.tsv"
done

versions="nginx $(nginx -v 2>&1 | sed 's#.*/##'); $(php-fpm8.2 -v | head -1 | cut -d' ' -f1-2); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); xsendfiled $("$bin" --version | cut -d' ' -f2); $(uname -sr); $(nproc) cores"
# The raw rows stay in the repo next to the report, so it can be audited or re-rendered:
#   python3 bench/report.py bench/last-run/results.tsv bench/last-run/syscalls.tsv "$(cat bench/last-run/versions)" "$(cat bench/last-run/settings)" bench/last-run/growth.tsv bench/last-run/exec.tsv
if [ "$REPORT" != 1 ]; then
  log "REPORT=0: BENCHMARKS.md, bench/last-run and the criterion runs left alone"
  exit 0
fi
log "cost growth (criterion)"
bench/growth.sh
log "CGI start-up (direct exec)"
bench/cgi-exec.sh
mkdir -p bench/last-run
cp "$results" "$work/syscalls.tsv" bench/last-run/
echo "$versions" > bench/last-run/versions
echo "RUNS=$RUNS DURATION=$DURATION" > bench/last-run/settings
python3 bench/report.py "$results" "$work/syscalls.tsv" "$versions" "RUNS=$RUNS DURATION=$DURATION" bench/last-run/growth.tsv bench/last-run/exec.tsv > BENCHMARKS.md
log "wrote BENCHMARKS.md and bench/requests.svg"
# Object-store roots (issue #14): nginx straight to an S3 store vs through xsendfiled, cache warm
# and cold, in a run of their own (bench/s3.sh; its table is printed, medians and ratios).
if [ "${S3:-1}" = 1 ]; then
  log "object-store rows (bench/s3.sh)"
  bench/s3.sh | tee bench/last-run/s3.txt
fi
