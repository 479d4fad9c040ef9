#!/usr/bin/env bash
# The Python client's own tests, with pytest, against the package installed as a user installs it
# (`pip install ./clients/python`), not against its source tree. Installs what it needs from PyPI
# into target/ when missing; fails when python3 or pip is missing. Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$repo/clients/lib.sh"
deps="$repo/target/pyclients"
pkg="$repo/target/pyclient-install"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "clients/python/test.sh: python3 with pip is needed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
pip=(python3 -m pip install --quiet --disable-pip-version-check)
if [ ! -f "$deps/.installed" ] || ! cmp -s "$here/requirements-test.txt" "$deps/.installed"; then
    echo "installing the Python client's test requirements (PyPI) into target/pyclients" >&2
    rm -rf "$deps"
    "${pip[@]}" --target "$deps" -r "$here/requirements-test.txt" >&2
    cp "$here/requirements-test.txt" "$deps/.installed"
fi
rm -rf "$pkg"
"${pip[@]}" --no-deps --target "$pkg" "$here" >&2
rm -rf "$here/build" "$here"/src/*.egg-info
export PYTHONPATH="$pkg:$deps" PYTHONDONTWRITEBYTECODE=1
python3 -c 'import sys, xsendfiled; sys.exit(0 if xsendfiled.__file__.startswith(sys.argv[1]) else "xsendfiled imported from " + xsendfiled.__file__)' "$pkg"
use_xsendfiled
cd "$here"
python3 -m pytest -p no:cacheprovider "$@" tests
