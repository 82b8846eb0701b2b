#!/bin/sh
# The quickstart, as a user runs it, with this build's binaries (HX_PREBUILT: nothing
# installed or built) in a temporary folder (HX_DEMO_DIR: the developer's demo/ untouched):
#  1. it ends with "quickstart: found N documents at M organisations for ...; retrieved
#     <docid> from ..." (N, M >= 1), and its four nodes (the RLS and three hospitals) run;
#  2. `quickstart.sh stop` stops all four;
#  3. run twice, the second run stops the first region and starts a fresh one.
set -eu
src=$1
build=$2
tmp=$(mktemp -d /tmp/hx-quickstart-XXXXXX)
HX_DEMO_DIR=$tmp/demo HX_PREBUILT=$build
export HX_DEMO_DIR HX_PREBUILT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
cleanup() {
    [ "$fails" -eq 0 ] || tail -20 "$tmp"/demo/*.log 2>/dev/null || true
    "$src/deploy/quickstart.sh" stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# pids: the pids in the four nodes' state files; running PID: it is a live hiepeerd.
pids() {
    for n in rls st-mary general lakeside; do
        sed -n 's/^pid = //p' "$HX_DEMO_DIR/$n/hiepeerd.state" 2>/dev/null || true
    done
}
running() { [ "$(ps -p "$1" -o comm= 2>/dev/null)" = hiepeerd ]; }

# 1. The region comes up and the query finds the patient elsewhere.
t0=$(date +%s)
rc=0
"$src/deploy/quickstart.sh" >"$tmp/out1.txt" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/out1.txt"; fail "quickstart: exit $rc"; exit 1; }
echo "quickstart ran in $(($(date +%s) - t0)) s"
last=$(tail -1 "$tmp/out1.txt")
echo "$last"
echo "$last" | grep -Eq '^quickstart: found [1-9][0-9]* documents at [1-9] organisations for .*; retrieved [0-9a-f]{32} from .*' ||
    { cat "$tmp/out1.txt"; fail "the last line: $last"; }
first=$(pids)
[ "$(echo "$first" | wc -w)" -eq 4 ] || fail "not four state files: $first"
for p in $first; do running "$p" || fail "node $p is not running"; done
grep -q "^found [1-9][0-9]* document(s) at [1-9] organisation(s)" "$tmp/out1.txt" ||
    fail "the query's table is missing"
# The region's patient data and keys are its owner's alone.
for f in query.json candidates.tsv retrieved.doc pki/st-mary-ehr.key st-mary/data.mdb; do
    [ "$(stat -c %a "$HX_DEMO_DIR/$f")" = 600 ] || fail "$f is $(stat -c %a "$HX_DEMO_DIR/$f"), not 600"
done
for d in "" st-mary pki; do
    [ "$(stat -c %a "$HX_DEMO_DIR/$d")" = 700 ] || fail "demo/$d is $(stat -c %a "$HX_DEMO_DIR/$d"), not 700"
done

# 3. A second run replaces the region.
"$src/deploy/quickstart.sh" >"$tmp/out2.txt" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/out2.txt"; fail "second run: exit $rc"; exit 1; }
[ "$(tail -1 "$tmp/out2.txt")" = "$last" ] || fail "the second run ended differently: $(tail -1 "$tmp/out2.txt")"
for p in $first; do ! running "$p" || fail "the first run's node $p still runs"; done
second=$(pids)
for p in $second; do running "$p" || fail "node $p of the second run is not running"; done

# 2. stop.
"$src/deploy/quickstart.sh" stop >"$tmp/stop.txt" 2>&1 || fail "quickstart.sh stop: exit $?"
[ "$(grep -c '^quickstart: stopped ' "$tmp/stop.txt")" -eq 4 ] || fail "stop: $(cat "$tmp/stop.txt")"
for p in $second; do ! running "$p" || fail "node $p still runs after stop"; done
[ -z "$(pids)" ] || fail "state files remain after stop"

if [ "$fails" -ne 0 ]; then
    echo "test_quickstart: $fails failure(s)"
    exit 1
fi
echo "test_quickstart: ok"
