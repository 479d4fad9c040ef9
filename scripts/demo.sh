#!/usr/bin/env bash
# Builds xsendfiled and runs its main job: nginx on http://127.0.0.1:8080 guarding the sample/
# directory through xsendfiled on a Unix socket, with conf-examples/nginx.conf. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$PATH:/usr/sbin:/sbin"
port="${PORT:-8080}"
cargo build --release --locked
run="$(mktemp -d /tmp/xsendfiled-demo.XXXXXX)"
chmod 755 "$run"
root="$(pwd)/sample"
sed -e "s#{{NGINX_USER}}#$(id -un)#" -e "s#{{RUN_DIR}}#$run#g" -e "s#{{PORT}}#$port#" \
    -e "s#{{UPSTREAM}}#unix:$run/xsendfiled.sock#" -e "s#{{ROOT}}#$root#g" \
    conf-examples/nginx.conf > "$run/nginx.conf"
./target/release/xsendfiled --root "$root" --internal-prefix /_protected --strip-prefix /dl \
    --listen "unix:$run/xsendfiled.sock" --log-level debug &
xpid=$!
nginx -p "$run" -c "$run/nginx.conf" -g 'daemon off;' &
npid=$!
trap 'kill $npid $xpid 2>/dev/null; wait 2>/dev/null; rm -rf "$run"' EXIT INT TERM
sleep 0.5
cat <<MSG

xsendfiled guards $root behind nginx on http://127.0.0.1:$port/dl/ — try:
  curl -i http://127.0.0.1:$port/dl/hello.txt            # 200, sent by nginx
  curl -i 'http://127.0.0.1:$port/dl/docs/a%20b.txt'     # 200, a name with a space
  curl -i http://127.0.0.1:$port/dl/.hidden              # 404, hidden file
  curl -i http://127.0.0.1:$port/dl/docs                 # 404, a directory
  curl -i http://127.0.0.1:$port/_protected/hello.txt    # 404, internal location
Ctrl-C stops nginx and xsendfiled.
MSG
wait
