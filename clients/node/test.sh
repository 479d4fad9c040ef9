#!/usr/bin/env bash
# The package's own tests with node's test runner (node --test). Installs nodejs and npm with
# apt-get when missing, and Express 4 (npm, for the Express helper's test) into target/clients/node;
# packs the package with npm and installs the tarball there to check that it loads from it.
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$repo/clients/lib.sh"
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
install_missing "${need[@]}"
out="$repo/target/clients/node"
mkdir -p "$out"
if [ ! -f "$out/node_modules/express/package.json" ]; then
    echo "installing express@4 (npm) into target/clients/node" >&2
    npm install --silent --no-audit --no-fund --prefix "$out" express@4 >&2
fi
tarball="$(cd "$out" && npm pack --silent "$here" | tail -n 1)"
npm install --silent --no-audit --no-fund --no-save --prefix "$out/installed" "$out/$tarball" >&2
node -e 'const x = require(process.argv[1]); if (x.delegateUri("a") !== "/_xsendfiled/a" || typeof x.express.middleware !== "function") process.exit(1)' \
    "$out/installed/node_modules/xsendfiled"
use_xsendfiled
cd "$here"
NODE_PATH="$out/node_modules" exec node --test test/
