#!/bin/sh
# Clone the repository (what is committed, nothing else) into a temporary folder, then
# configure and build everything there, tests included: a file or step missing from git
# fails here rather than in CI. Also runs the unit test that needs a build without sanitizers.
set -eu
src=$1
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    echo "clone_build: $src is not a git checkout; skipping"
    exit 77
fi
tmp=$(mktemp -d /tmp/hx-clone-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$src" "$tmp/src"
echo "clone_build: cloned $(git -C "$tmp/src" rev-parse --short HEAD) into $tmp/src"
# Same flags as the test build, no sanitizers (faster); every target, tests included.
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DHX_WERROR=ON -DHX_TESTS=ON \
    >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" -j"$(nproc 2>/dev/null || echo 2)" >"$tmp/build.log" 2>&1 ||
    { tail -50 "$tmp/build.log"; exit 1; }
for f in node/ctl/hiepeerctl node/daemon/hiepeerd; do
    [ -x "$tmp/build/$f" ] || { echo "clone_build: $f was not built"; exit 1; }
done
"$tmp/build/node/ctl/hiepeerctl" --version
# The test build is sanitized, and its allocator has no heap settings: test_common's
# test_malloc_tune runs here instead (hx_malloc_tune, which hiepeerd calls at start).
"$tmp/build/tests/unit/test_common" >"$tmp/test_common.log" 2>&1 ||
    { cat "$tmp/test_common.log"; exit 1; }
grep -q "OK \] test_malloc_tune" "$tmp/test_common.log" ||
    { echo "clone_build: test_malloc_tune did not run"; cat "$tmp/test_common.log"; exit 1; }
echo "clone_build: ok"
