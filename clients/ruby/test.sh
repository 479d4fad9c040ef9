#!/usr/bin/env bash
# The gem's own tests (minitest), with the real rack and sinatra gems from Debian. Installs what is
# missing (ruby, ruby-rack, ruby-sinatra) with apt-get, builds the gem and installs it into
# target/clients/ruby to check that it loads from there, then runs every test/test_*.rb in one
# minitest run. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$repo/clients/lib.sh"
need=()
command -v ruby >/dev/null 2>&1 || need+=(ruby)
ruby -e 'require "rack"' >/dev/null 2>&1 || need+=(ruby-rack)
ruby -e 'require "sinatra/base"' >/dev/null 2>&1 || need+=(ruby-sinatra)
install_missing "${need[@]}"
cd "$here"
out="$repo/target/clients/ruby"
mkdir -p "$out"
gem build --silent xsendfiled.gemspec -o "$out/xsendfiled.gem" >/dev/null
gem install --silent --local --no-document --install-dir "$out/gems" "$out/xsendfiled.gem" >/dev/null
GEM_PATH="$out/gems" ruby -e 'gem "xsendfiled"; require "xsendfiled"; Xsendfiled.delegate("a") or exit 1'
use_xsendfiled
exec ruby -w -Ilib -Itest -e 'Dir[File.join(__dir__, "test", "test_*.rb")].sort.each { |f| require f }' -- "$@"
