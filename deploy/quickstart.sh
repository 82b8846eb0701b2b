#!/bin/sh
# Quickstart: install dependencies, build (Release), create a node store for a demo hospital
# in ./demo/, load deterministic synthetic patients and documents, and show what is there.
#
#   deploy/quickstart.sh          # build and set up the demo node
#   deploy/quickstart.sh stop     # stop what the quickstart started (nothing runs yet)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BUILD_DIR:-$root/build-release}
demo=${HX_DEMO_DIR:-$root/demo}
org=2.16.840.1.113883.3.7001

if [ "${1:-}" = "stop" ]; then
    echo "quickstart: nothing is running (this version starts no daemons)"
    exit 0
fi

deploy/install-deps.sh
echo "quickstart: building (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHX_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target hiepeerctl hiepeerd >/dev/null
ctl="$build/node/ctl/hiepeerctl"
hiepeerd="$build/node/daemon/hiepeerd"

store="$demo/st-mary"
rm -rf "$store"
mkdir -p "$demo"
echo
"$ctl" --store "$store" init --org "$org"
"$ctl" --store "$store" demo-data --seed 42 --persons 3000 --org-index 0 --org-count 3 --docs 4

cat >"$demo/st-mary.conf" <<CONF
[node]
org_id = $org
name = St Mary Hospital (demo)
role = node
store = $store
CONF
"$hiepeerd" -n -c "$demo/st-mary.conf"

echo
"$ctl" --store "$store" store stat
echo
"$ctl" --store "$store" patient list --limit 5
pid=$("$ctl" --store "$store" --json patient list --limit 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "documents of patient $pid:"
"$ctl" --store "$store" doc list "$pid" --status any
echo
"$ctl" --store "$store" audit verify
patients=$("$ctl" --store "$store" --json store stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["patients"])')
docs=$("$ctl" --store "$store" --json store stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])')
echo
echo "quickstart: node $org ready in $store with $patients patients and $docs documents"
