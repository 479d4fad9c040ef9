#!/bin/sh
# Starts CHILDREN xsendfiled processes under spawn-fcgi, all accepting on one Unix socket (each gets
# it as fd 0), for setups without systemd. spawn-fcgi exits once they run; their PIDs are in PIDFILE,
# one per line: stop them with `kill $(cat PIDFILE)` (SIGTERM drains requests in progress).
#
#   spawn-fcgi.sh SOCKET ROOT [CHILDREN] [PIDFILE]
#
# XSENDFILED_BIN (default /usr/local/bin/xsendfiled) and any XSENDFILED_* variable in the
# environment (backend, prefixes, limits) are passed on. The test suite runs this file.
set -eu
socket=$1
root=$2
children=${3:-2}
pidfile=${4:-/run/xsendfiled.pid}
: "${XSENDFILED_INTERNAL_PREFIX:=/_protected}"
: "${XSENDFILED_STRIP_PREFIX:=/dl}"
export XSENDFILED_ROOT="$root" XSENDFILED_INTERNAL_PREFIX XSENDFILED_STRIP_PREFIX
# -M 0660 with -U/-G lets the web server's group connect; spawn-fcgi's TCP default is 0.0.0.0, so
# with -p always pass -a 127.0.0.1.
exec spawn-fcgi -s "$socket" -M 0660 ${SOCKET_GROUP:+-G "$SOCKET_GROUP"} -F "$children" -P "$pidfile" \
    -- "${XSENDFILED_BIN:-/usr/local/bin/xsendfiled}"
