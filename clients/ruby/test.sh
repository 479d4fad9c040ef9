#!/usr/bin/env bash
# The gem's own tests (minitest), with the real rack and sinatra gems from Debian. Installs what is
# missing (ruby, ruby-rack, ruby-sinatra) with apt-get, builds the gem and installs it into
# target/clients/ruby to check that it loads from there, then runs every test/test_*.rb in one
# minitest run. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
need=()
command -v ruby >/dev/null 2>&1 || need+=(ruby)
ruby -e 'require "rack"' >/dev/null 2>&1 || need+=(ruby-rack)
ruby -e 'require "sinatra/base"' >/dev/null 2>&1 || need+=(ruby-sinatra)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
cd "$here"
out="$repo/target/clients/ruby"
mkdir -p "$out"
gem build --silent xsendfiled.gemspec -o "$out/xsendfiled.gem" >/dev/null
gem install --silent --local --no-document --install-dir "$out/gems" "$out/xsendfiled.gem" >/dev/null
GEM_PATH="$out/gems" ruby -e 'gem "xsendfiled"; require "xsendfiled"; Xsendfiled.delegate("a") or exit 1'
# The ask tests talk to a real xsendfiled (--app-socket): $XSENDFILED, else the repo's build.
if [ -z "${XSENDFILED:-}" ]; then
    (cd "$repo" && cargo build --quiet --bin xsendfiled)
    export XSENDFILED="$repo/target/debug/xsendfiled"
fi
exec ruby -w -Ilib -Itest -e 'Dir[File.join(__dir__, "test", "test_*.rb")].sort.each { |f| require f }' -- "$@"
