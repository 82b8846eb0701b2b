#!/bin/sh
# Install everything hiepeer's build, tests and benchmarks need on Debian 12.
# Idempotent: prints what it installs, and does nothing when all is present.
set -eu

PACKAGES="
build-essential cmake pkg-config clang libclang-rt-14-dev git
libssl-dev openssl libcurl4-openssl-dev curl
libprotobuf-c-dev protobuf-c-compiler
liblmdb-dev lmdb-utils
libevent-dev libinih-dev libcjson-dev libxml2-dev
libcmocka-dev
python3 python3-jellyfish
nginx-light procps util-linux testssl.sh
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all $(echo $PACKAGES | wc -w) packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"
