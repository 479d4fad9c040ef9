#!/usr/bin/env bash
# The package's own tests in plain PHP (tests/run.php prints "N passed, N failed"). Installs php-cli
# and composer with apt-get when missing, checks composer.json and that Composer's PSR-4 autoloader
# (written into target/clients/php) finds the classes and functions, then runs the tests with the
# plain `require` of autoload.php. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$repo/clients/lib.sh"
need=()
command -v php >/dev/null 2>&1 || need+=(php-cli)
command -v composer >/dev/null 2>&1 || need+=(composer)
install_missing "${need[@]}"
cd "$here"
export COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1
composer validate --quiet --no-check-publish
vendor="$repo/target/clients/php/vendor"
COMPOSER_VENDOR_DIR="$vendor" composer dump-autoload --quiet
php -d error_reporting=-1 -r '
require $argv[1];
$h = Xsendfiled\Delegate::headers("a b", filename: "x.txt");
if (!function_exists("Xsendfiled\\delegate") || $h["X-Accel-Redirect"] !== "/_xsendfiled/a%20b?filename=x.txt") { exit(1); }
' "$vendor/autoload.php"
use_xsendfiled
exec php -d error_reporting=-1 -d display_errors=1 tests/run.php
