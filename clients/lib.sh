# Sourced by clients/*/test.sh (with $repo set to the repository): what every package's test script
# needs besides its own runner.

# Installs the Debian packages named, if any, with apt-get (sudo when not root).
install_missing() {
    [ "$#" -gt 0 ] || return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: $*" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Exports XSENDFILED_BIN, the daemon the ask tests start on an app socket: as given, else the
# repository's debug build (built here; cargo fails loudly when it cannot).
use_xsendfiled() {
    if [ -z "${XSENDFILED_BIN:-}" ]; then
        (cd "$repo" && cargo build --quiet --bin xsendfiled) >&2
        XSENDFILED_BIN="$repo/target/debug/xsendfiled"
    fi
    export XSENDFILED_BIN
}
