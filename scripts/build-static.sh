#!/usr/bin/env bash
# Builds xsendfiled as a static PIE (glibc linked in, still position-independent, so ASLR keeps
# working) and prints the binary's path. For CGI deployments, where a process starts per request:
# no dynamic loader, no libgcc_s/libm/libc to map and bind. Measured with bench/cgi-exec.sh.
#
#   scripts/build-static.sh        # -> target/static/x86_64-unknown-linux-gnu/release/xsendfiled
#
# Static glibc cannot load NSS modules of another glibc version, and the daemon resolves a host name
# in --listen (other than localhost) through them: give the static daemon an address there. CGI mode
# resolves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | awk '/^host:/{print $2}')
# A --target build keeps the flag off build scripts and proc-macros (which cannot be static).
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked -q --target "$target" --target-dir target/static
bin="target/static/$target/release/xsendfiled"
# A static PIE has no program interpreter and is still of type DYN (position-independent).
if readelf -l "$bin" | grep -q INTERP || ! readelf -h "$bin" | grep -q "DYN"; then
  echo "build-static: $bin is not a static PIE" >&2
  exit 1
fi
echo "$bin"
