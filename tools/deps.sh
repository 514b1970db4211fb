#!/bin/sh
# Install the Debian 12 packages fieldsync builds, tests and benchmarks with.
# Idempotent and silent when everything is present; prints what it installs
# otherwise. Must run as root (or with sudo available) on a machine that can
# reach a Debian mirror.
set -eu

PKGS="build-essential pkg-config
libsqlite3-dev sqlite3
libcurl4-openssl-dev
libcjson-dev
zlib1g-dev
libmicrohttpd-dev
libsodium-dev
libpq-dev postgresql
libcsv-dev
libcmocka-dev
libgps-dev gpsd gpsd-clients
clang libclang-rt-14-dev
faketime
perl jq
libxml2-utils
chromium python3 fonts-dejavu-core fonts-wqy-microhei curl openssl"

missing=""
for p in $PKGS; do
    # dpkg-query prints "install ok installed" only for fully installed packages
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        "install ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps.sh: need root to install:$missing" >&2
        exit 1
    fi
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps.sh: apt-get failed" >&2
    exit 1
fi
echo "deps.sh: done"
