#!/bin/sh
# Run a benchmark from tests/bench/ on a Release build. Not part of CI.
#
#   deploy/bench.sh ingest [DOCS [ROUNDS]]
#
# Each benchmark measures an anchor (raw LMDB, nginx, ...) in the same run, interleaved with
# ours, and prints as its last line:  NAME: ratio R (ours X UNIT, anchor Y UNIT) target >= T
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BENCH_BUILD_DIR:-$root/build-bench}

if [ $# -lt 1 ]; then
    echo "usage: deploy/bench.sh NAME [ARGS]   (names: ingest)" >&2
    exit 2
fi
name=$1
shift
case "$name" in
ingest) ;;
*) echo "bench: unknown benchmark '$name' (names: ingest)" >&2; exit 2 ;;
esac

deploy/install-deps.sh >/dev/null
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHX_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "bench_$name" >/dev/null
# Keep benchmark data on the same disk as a real store would be, not on tmpfs.
export HX_BENCH_DIR="${HX_BENCH_DIR:-/var/tmp}"
exec "$build/tests/bench/bench_$name" "$@"
