#!/usr/bin/env bash
# What a CGI request costs xsendfiled before any web server is involved: the wall time of one
# exec, answering one request from the environment, for the default (dynamically linked) build and
# the static PIE of scripts/build-static.sh, next to /bin/true (this machine's floor for starting
# a process). Batches of N sequential execs, the three interleaved; prints the median of the
# batch means and writes bench/last-run/exec.tsv.
#
#   bench/cgi-exec.sh              # N=200 BATCHES=5
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}
BATCHES=${BATCHES:-5}
cargo build --release --locked -q
dynamic=target/release/xsendfiled
static=$(scripts/build-static.sh)
root=$(mktemp -d /tmp/xsfd-exec.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo hello > "$root/a.txt"
export GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME=/dl PATH_INFO=/a.txt REQUEST_URI=/dl/a.txt \
  XSENDFILED_ROOT="$root" XSENDFILED_INTERNAL_PREFIX=/_p
for b in "$dynamic" "$static"; do
  out=$("$b" </dev/null)
  [[ "$out" == *"X-Accel-Redirect: /_p/a.txt"* ]] || { echo "cgi-exec: $b answered: $out" >&2; exit 1; }
done
batch() {  # mean µs per exec of N runs of $1
  local t0=$EPOCHREALTIME i
  for ((i = 0; i < N; i++)); do "$1" </dev/null >/dev/null; done
  awk -v a="$t0" -v b="$EPOCHREALTIME" -v n="$N" 'BEGIN{printf "%.0f", (b - a) * 1e6 / n}'
}
declare -A runs
for ((k = 0; k < BATCHES; k++)); do
  for name in true dynamic static; do
    case $name in true) b=/bin/true ;; dynamic) b=$dynamic ;; static) b=$static ;; esac
    runs[$name]="${runs[$name]:-} $(batch "$b")"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mkdir -p bench/last-run
{
  echo -e "binary\tmedian_us\tbatches_us"
  for name in true dynamic static; do
    echo -e "$name\t$(echo "${runs[$name]}" | median)\t$(echo ${runs[$name]} | tr ' ' ',')"
  done
} > bench/last-run/exec.tsv
column -t bench/last-run/exec.tsv
