#!/bin/sh
# Install dependencies, build with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror,
# and run every test suite with ctest. Exits non-zero on any failure.
#
#   deploy/test.sh              # everything
#   deploy/test.sh -L unit      # extra arguments go to ctest (here: unit tests only)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BUILD_DIR:-$root/build-test}
jobs=$(nproc 2>/dev/null || echo 2)

deploy/install-deps.sh

echo "test: configuring $build (Debug, ASan+UBSan, -Werror)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DHX_SANITIZE=ON -DHX_WERROR=ON \
    -DHX_TESTS=ON >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
echo "test: building"
cmake --build "$build" -j"$jobs"

# Sanitizers: fail on the first report, with stacks; leaks count.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export HX_SOURCE_DIR="$root"

echo "test: running ctest"
cd "$build"
ctest --output-on-failure -j"$jobs" "$@"
echo "test: all passed"
