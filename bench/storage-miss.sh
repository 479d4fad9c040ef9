#!/usr/bin/env bash
# The cost of a lookup the dentry cache cannot answer: it leaves the inline path for the storage
# pool (a thread hop there and back) instead of being answered by openat2(RESOLVE_CACHED) at once.
# Sequential FastCGI requests, one connection each, over a Unix socket to a release build:
#   hit       the same existing file again and again (inline, cached)
#   neg       the same missing name again and again (inline: the negative dentry is cached)
#   miss      a new missing name each time (not in the dentry cache: the pool, then 404)
#   cold      (DROP_CACHES=1 only) existing files after `echo 2 > /proc/sys/vm/drop_caches`, each
#             asked once: the pool and a real directory lookup on disk. It drops the caches of the
#             whole machine, so it is off by default.
# Prints, per case, the client's median and p99 latency and xsendfiled's CPU per request
# (utime+stime from /proc), then miss/neg: what the pool hop adds.
#
#   bench/storage-miss.sh                 # N=5000 requests per case, RUNS=3 (medians of runs)
#   N=20000 RUNS=5 bench/storage-miss.sh
#   DROP_CACHES=1 bench/storage-miss.sh   # adds the cold row (root needed)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
RUNS=${RUNS:-3}
cargo build --release --locked -q
work=$(mktemp -d /tmp/xsfd-miss.XXXXXX)
root="$work/root"
mkdir -p "$root/cold"
echo hello > "$root/f.txt"
"${XSENDFILED_BIN:-./target/release/xsendfiled}" --root "$root" --internal-prefix /_protected \
    --listen "unix:$work/x.sock" --log-level warn 2>"$work/x.log" &
xpid=$!
cleanup() { kill "$xpid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
for _ in $(seq 50); do [ -S "$work/x.sock" ] && break; sleep 0.1; done

cases="hit neg miss"
if [ "${DROP_CACHES:-0}" = 1 ]; then
  cases="$cases cold"
fi
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$xpid/stat"; }
printf "%-5s %-3s %8s %10s %10s %12s\n" case run n "p50 us" "p99 us" "cpu us/req"
declare -A p50s cpus
for run in $(seq "$RUNS"); do
  for c in $cases; do
    if [ "$c" = cold ]; then
      for i in $(seq "$N"); do : > "$root/cold/c$run-$i.txt"; done
      sync
      echo 2 > /proc/sys/vm/drop_caches
    fi
    before=$(cpu_ticks)
    line=$(/usr/bin/python3 - "$work/x.sock" "$c" "$N" "$run" <<'EOF'
import socket, sys, time
sock, case, n, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rec(t, body):
    return bytes([1, t, 0, 1, len(body) >> 8, len(body) & 255, 0, 0]) + body
def nv(k, v):
    return bytes([len(k), len(v)]) + k + v
def path(i):
    return {"hit": "/f.txt", "neg": "/none.txt", "miss": f"/miss-{run}-{i}.txt",
            "cold": f"/cold/c{run}-{i + 1}.txt"}[case].encode()
want = b"X-Accel-Redirect" if case in ("hit", "cold") else b"Status: 404"
times = []
for i in range(n):
    p = path(i)
    params = nv(b"REQUEST_METHOD", b"GET") + nv(b"DOCUMENT_URI", p)
    msg = rec(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) + rec(4, params) + rec(4, b"") + rec(5, b"")
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(msg)
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    times.append(time.perf_counter() - t)
    s.close()
    if want not in got:
        sys.exit(f"{case}: unexpected reply for {p!r}: {got[:200]!r}")
times.sort()
print(n, round(times[n // 2] * 1e6, 1), round(times[n * 99 // 100] * 1e6, 1))
EOF
)
    after=$(cpu_ticks)
    read -r n p50 p99 <<<"$line"
    cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
    p50s[$c]="${p50s[$c]:-} $p50"
    cpus[$c]="${cpus[$c]:-} $cpu"
    printf "%-5s %-3s %8s %10s %10s %12s\n" "$c" "$run" "$n" "$p50" "$p99" "$cpu"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
for c in $cases; do
  echo "median $c: p50 $(echo "${p50s[$c]}" | median) us, cpu $(echo "${cpus[$c]}" | median) us/req"
done
pn=$(echo "${p50s[neg]}" | median); pm=$(echo "${p50s[miss]}" | median)
cn=$(echo "${cpus[neg]}" | median); cm=$(echo "${cpus[miss]}" | median)
echo "the pool hop (miss - neg): p50 +$(awk -v a="$pm" -v b="$pn" 'BEGIN{printf "%.1f", a-b}') us," \
     "cpu +$(awk -v a="$cm" -v b="$cn" 'BEGIN{printf "%.2f", a-b}') us/req; miss/neg p50 $(awk -v a="$pm" -v b="$pn" 'BEGIN{printf "%.2f", a/b}')"
echo "machine: $(nproc) cores, $(uname -r); client: one Python connection per request (its own cost is in the latency)"
