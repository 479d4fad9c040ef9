#!/usr/bin/env bash
# Installs the real components the tests and the demo drive, from Debian packages, when missing:
# nginx, Apache httpd with mod_fcgid and mod_xsendfile, lighttpd, Caddy, spawn-fcgi, fcgiwrap, curl,
# setpriv (util-linux), python3, systemd-analyze (systemd), and php-cli, ruby, nodejs and openssl
# for the signing snippets of docs/signing.md, php-fpm for the app-delegation test, chromium and
# playwright-core (npm, into target/playwright) for the browser test, HAProxy for its fcgi-app test,
# puma and gunicorn (PyPI, into target/pyenv) for app delegation through proxy_pass, faketime for the
# SDL1 vectors; for the client packages and their migration guides ruby-rack, ruby-sinatra,
# composer, symfony/http-foundation, Express (npm, into target/clients/node), Django,
# django-sendfile2 and pytest (PyPI, into target/pyclients); python3-fusepy and fuse3 for a FUSE file
# system that stalls, Prometheus and promtool, redis-server, aria2 and wget, lintian and logrotate;
# s3s-fs and cargo-deb (crates.io, built once into a cache outside the clone). Idempotent; quiet
# when all are there.
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v spawn-fcgi >/dev/null 2>&1 || need+=(spawn-fcgi)
[ -x /usr/sbin/apache2 ] || need+=(apache2)
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] || need+=(libapache2-mod-fcgid)
[ -f /usr/lib/apache2/modules/mod_xsendfile.so ] || need+=(libapache2-mod-xsendfile)
[ -x /usr/sbin/lighttpd ] || need+=(lighttpd)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
[ -x /usr/sbin/fcgiwrap ] || need+=(fcgiwrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v php >/dev/null 2>&1 || need+=(php-cli)
[ -x /usr/sbin/php-fpm8.2 ] || need+=(php-fpm)
command -v ruby >/dev/null 2>&1 || need+=(ruby)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v puma >/dev/null 2>&1 || need+=(puma)
# The client packages' apps (tests/client_packages.rs): Sinatra (with rack) for the gem's app.
ruby -e 'require "sinatra/base"' >/dev/null 2>&1 || need+=(ruby-rack ruby-sinatra)
command -v composer >/dev/null 2>&1 || need+=(composer)
# symfony/http-foundation and symfony/mime for the BinaryFileResponse migration (tests/client_migrations.rs).
[ -f /usr/share/php/Symfony/Component/HttpFoundation/autoload.php ] || need+=(php-symfony-http-foundation)
[ -f /usr/share/php/Symfony/Component/Mime/autoload.php ] || need+=(php-symfony-mime)
# libfaketime runs the daemon at the time of each SDL1 vector (tests/sdl1_vectors.rs).
command -v faketime >/dev/null 2>&1 || need+=(faketime)
# A FUSE file system whose lookups stall (tests of stalled storage): fusepy over libfuse (Debian's
# /usr/bin/python3: a python3 earlier on PATH may not see it), fusermount3.
/usr/bin/python3 -c 'import fusepy' >/dev/null 2>&1 || need+=(python3-fusepy)
command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)
# Prometheus scrapes the metrics endpoint; promtool checks the exposition.
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Redis holds the state of limited-use links shared by several nodes; aria2c, wget and curl download them.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v aria2c >/dev/null 2>&1 || need+=(aria2)
command -v wget >/dev/null 2>&1 || need+=(wget)
# The Debian package: lintian checks it, logrotate rotates its access log.
command -v lintian >/dev/null 2>&1 || need+=(lintian)
[ -x /usr/sbin/logrotate ] || need+=(logrotate)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "installing: ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
# Built tools (cargo install) live outside the clone so that a fresh clone on the same machine reuses
# them: s3s-fs (an S3 server that verifies signatures) and cargo-deb. XSENDFILED_TOOLS overrides.
tools="${XSENDFILED_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/xsendfiled/tools}"
mkdir -p "$tools"
if [ ! -x "$tools/bin/s3s-fs" ]; then
    echo "building s3s-fs 0.14.1 (crates.io) into $tools (about 3 minutes, once)" >&2
    cargo install --quiet --root "$tools" s3s-fs --version 0.14.1 --features binary --locked >&2
fi
if [ ! -x "$tools/bin/cargo-deb" ]; then
    echo "building cargo-deb (crates.io) into $tools (once)" >&2
    cargo install --quiet --root "$tools" cargo-deb --version '^3' --locked >&2
fi
# playwright-core drives Debian's Chromium in tests/browser.rs (it downloads no browser of its own).
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$here/target/playwright/node_modules/playwright-core" ]; then
    echo "installing playwright-core (npm) into target/playwright" >&2
    npm install --silent --no-audit --no-fund --prefix "$here/target/playwright" playwright-core@1 >&2
fi
# gunicorn serves the WSGI app of tests/app_delegation_proxy.rs (run as `python3 -m gunicorn`).
if [ ! -d "$here/target/pyenv/gunicorn" ]; then
    echo "installing gunicorn (PyPI) into target/pyenv" >&2
    python3 -m pip install --quiet --disable-pip-version-check --target "$here/target/pyenv" 'gunicorn>=21,<24' >&2
fi
# Express serves the npm package's app in tests/client_packages.rs (and its own test, clients/node).
if [ ! -f "$here/target/clients/node/node_modules/express/package.json" ]; then
    echo "installing express@4 (npm) into target/clients/node" >&2
    npm install --silent --no-audit --no-fund --prefix "$here/target/clients/node" express@4 >&2
fi
# Django, django-sendfile2 and pytest (PyPI, into target/pyclients) for clients/python/test.sh and
# tests/clients_python.rs; reinstalled when clients/python/requirements-test.txt changes.
req="$here/clients/python/requirements-test.txt"
if [ ! -f "$here/target/pyclients/.installed" ] || ! cmp -s "$req" "$here/target/pyclients/.installed"; then
    echo "installing the Python client's test requirements (PyPI) into target/pyclients" >&2
    rm -rf "$here/target/pyclients"
    python3 -m pip install --quiet --disable-pip-version-check --target "$here/target/pyclients" -r "$req" >&2
    cp "$req" "$here/target/pyclients/.installed"
fi
# xsendfile_middleware and Flask (PyPI, into target/pymigrate): the "before" apps of the migration
# guides run by tests/client_migrations.rs.
if [ ! -d "$here/target/pymigrate/xsendfile_middleware" ] || [ ! -d "$here/target/pymigrate/flask" ]; then
    echo "installing xsendfile_middleware and Flask (PyPI) into target/pymigrate" >&2
    python3 -m pip install --quiet --disable-pip-version-check --target "$here/target/pymigrate" \
        'xsendfile_middleware==0.1.1' 'Flask>=3,<4' >&2
fi
# Debian may start system nginx/Apache/lighttpd/Caddy/HAProxy on port 80 at install; the tests run their own
# instances on ports of their own choosing.
exit 0
