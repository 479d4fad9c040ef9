#!/usr/bin/env bash
# Installs the real components the tests and the demo drive, from Debian packages, when missing:
# nginx, spawn-fcgi, fcgiwrap, curl, setpriv (util-linux), python3. Idempotent; quiet when all are there.
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v spawn-fcgi >/dev/null 2>&1 || need+=(spawn-fcgi)
[ -x /usr/sbin/fcgiwrap ] || need+=(fcgiwrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ "${#need[@]}" -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "installing: ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
# Debian starts a system nginx on port 80 when the package is installed; the tests run their own.
