#!/bin/sh
# Run a benchmark from tests/bench/ on a Release build. Not part of CI.
#
#   deploy/bench.sh ingest [DOCS [ROUNDS]]
#   deploy/bench.sh retrieve-1k|retrieve-100k|handshake|resume|locate-mtls [ROUNDS [SECONDS]]
#   deploy/bench.sh match [FILE [FILE_B]]   matching accuracy: FEBRL data sets 1-3 from
#                                           ../shared/data/febrl, or a FEBRL-format file
#                                           (deduplicated) or two (A linked against B)
#   deploy/bench.sh discover [PERSONS [ROUNDS [SECONDS]]]
#   deploy/bench.sh locate [ORGS [TOKENS_PER_ORG [ROUNDS [SECONDS]]]]
#   deploy/bench.sh fanout-10|fanout-50 [ROUNDS]
#
# Each benchmark measures an anchor (raw LMDB, nginx, ...) in the same run, interleaved with
# ours, and prints as its last line:  NAME: ratio R (ours X UNIT, anchor Y UNIT) target >= T
# (or <= T, for a cost such as CPU per request).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BENCH_BUILD_DIR:-$root/build-bench}
names="ingest retrieve-1k retrieve-100k handshake resume locate-mtls match discover locate fanout-10 fanout-50"

if [ $# -lt 1 ]; then
    echo "usage: deploy/bench.sh NAME [ARGS]   (names: $names)" >&2
    exit 2
fi
name=$1
shift
case "$name" in
ingest) targets=bench_ingest ;;
match) targets=bench_match ;;
locate) targets=bench_locate ;;
fanout-10 | fanout-50) targets="bench_fanout bench_load hiepeerctl hiepeerd" ;;
discover) targets="bench_discover bench_load bench_mkreq hiepeerctl hiepeerd" ;;
retrieve-1k | retrieve-100k | handshake | resume | locate-mtls)
    targets="bench_load bench_mkreq hiepeerctl hiepeerd" ;;
*) echo "bench: unknown benchmark '$name' (names: $names)" >&2; exit 2 ;;
esac

deploy/install-deps.sh >/dev/null
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHX_TESTS=ON >/dev/null
# shellcheck disable=SC2086 # a list of targets
cmake --build "$build" -j"$(nproc)" --target $targets >/dev/null
# Keep benchmark data on the same disk as a real store would be, not on tmpfs.
export HX_BENCH_DIR="${HX_BENCH_DIR:-/var/tmp}"
case "$name" in
ingest) exec "$build/tests/bench/bench_ingest" "$@" ;;
match)
    if [ $# -gt 0 ]; then exec "$build/tests/bench/bench_match" "$@"; fi
    data=$root/../shared/data/febrl
    [ -d "$data" ] || { echo "match: $data is missing (the FEBRL data sets)" >&2; exit 1; }
    for d in 1 2 3; do
        "$build/tests/bench/bench_match" --name "dataset$d" "$data/dataset$d.csv"
    done
    ;;
discover) export HX_BENCH_BUILD_DIR="$build"; exec tests/bench/bench_discover.sh "$@" ;;
locate) exec "$build/tests/bench/bench_locate" "$@" ;;
fanout-10 | fanout-50)
    export HX_BENCH_BUILD_DIR="$build"
    exec tests/bench/bench_fanout.sh "${name#fanout-}" "$@" ;;
*) export HX_BENCH_BUILD_DIR="$build"; exec tests/bench/bench_tls.sh "$name" "$@" ;;
esac
