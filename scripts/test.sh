#!/usr/bin/env bash
# The whole test suite: installs the real servers it needs (Debian packages) when missing, then
# formatting, lints, and every test (unit, codec, core table, wire, end to end through nginx,
# spawn-fcgi and fcgiwrap, the Debian package installed and purged). With CI=true a missing
# component fails the run; it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$PATH:/usr/sbin:/sbin"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The Debian package the operator tests install (tests/package.rs): the release build that ships,
# about a minute with a warm target/ and two to three minutes from cold.
scripts/build-deb.sh
cargo test --all-targets --locked
clients/python/test.sh
clients/ruby/test.sh
clients/php/test.sh
clients/node/test.sh
