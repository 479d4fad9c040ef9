#!/usr/bin/env bash
# Builds the Debian package with cargo-deb (the [package.metadata.deb] table of Cargo.toml, the
# files under pkg/deb/) from the release profile: target/debian/xsendfiled_<version>-1_<arch>.deb,
# and prints its path. The tests (tests/package.rs, run by scripts/test.sh) install this very file.
#
# cargo-deb comes from scripts/install-deps.sh (built once into the tools cache) or PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${XSENDFILED_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/xsendfiled/tools}"
if [ -x "$tools/bin/cargo-deb" ]; then
    cargo_deb=("$tools/bin/cargo-deb")
elif command -v cargo-deb >/dev/null; then
    cargo_deb=(cargo-deb)
else
    echo "cargo-deb is missing: run scripts/install-deps.sh" >&2
    exit 1
fi
out=target/debian
rm -f "$out"/xsendfiled_*.deb
# cargo-deb strips the binary (debug info stays out of the package) and gzips the man pages.
"${cargo_deb[@]}" --locked --strip --no-dbgsym --output "$out" >&2
ls "$out"/xsendfiled_*.deb
