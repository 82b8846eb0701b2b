#!/bin/sh
# Quickstart: install dependencies, build (Release), and bring up two demo hospitals on
# loopback with a throw-away PKI: St Mary serves its patients' documents over mutual TLS,
# General Hospital queries it and retrieves a document, checking its SHA-256.
#
#   deploy/quickstart.sh          # build, set up, start St Mary's node, run the exchange
#   deploy/quickstart.sh stop     # stop the node the quickstart started
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BUILD_DIR:-$root/build-release}
demo=${HX_DEMO_DIR:-$root/demo}
A=2.16.840.1.113883.3.7001 # St Mary Hospital
B=2.16.840.1.113883.3.7002 # General Hospital

stop_node() {
    state="$demo/st-mary/hiepeerd.state"
    [ -f "$state" ] || return 0
    pid=$(sed -n 's/^pid = //p' "$state")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        echo "quickstart: stopped St Mary's node (pid $pid)"
    fi
    rm -f "$state"
}

if [ "${1:-}" = "stop" ]; then
    stop_node
    exit 0
fi

deploy/install-deps.sh
echo "quickstart: building (Release) in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHX_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target hiepeerctl hiepeerd >/dev/null
ctl="$build/node/ctl/hiepeerctl"
hiepeerd="$build/node/daemon/hiepeerd"

stop_node
rm -rf "$demo"
mkdir -p "$demo/pki"
echo
echo "== a community CA and a certificate for each hospital"
"$ctl" pki ca "$demo/pki/ca" --cn "Demo Region CA" >/dev/null
for h in st-mary:$A general:$B; do
    name=${h%%:*}
    "$ctl" pki issue --ca "$demo/pki/ca" --org "${h#*:}" --cn localhost --dns localhost \
        --ip 127.0.0.1 --out "$demo/pki/$name" >/dev/null
done
"$ctl" cert show "$demo/pki/st-mary.pem" | head -6

echo
echo "== two node stores with synthetic patients (the same people, recorded differently)"
"$ctl" --store "$demo/st-mary" init --org "$A"
"$ctl" --store "$demo/st-mary" demo-data --seed 42 --persons 3000 --org-index 0 --org-count 3 --docs 4
"$ctl" --store "$demo/general" init --org "$B"
"$ctl" --store "$demo/general" demo-data --seed 42 --persons 3000 --org-index 1 --org-count 3 --docs 4

for n in st-mary:$A general:$B; do
    name=${n%%:*}
    cat >"$demo/$name.conf" <<CONF
[node]
org_id = ${n#*:}
name = $name (demo)
store = $demo/$name
workers = 2

[tls]
certificate = $demo/pki/$name.pem
key = $demo/pki/$name.key
ca = $demo/pki/ca/ca.pem

[listen]
peer = 127.0.0.1:0
CONF
done
"$hiepeerd" -n -c "$demo/st-mary.conf"

echo
echo "== St Mary enrols General, and starts serving"
"$ctl" --store "$demo/st-mary" peer add --org "$B" --name "General Hospital" \
    --url https://localhost:1 --cert "$demo/pki/general.pem" --ca "$demo/pki/ca/ca.pem" >/dev/null
"$hiepeerd" -c "$demo/st-mary.conf" </dev/null >/dev/null 2>"$demo/st-mary.log" &
n=0
until [ -s "$demo/st-mary/hiepeerd.state" ]; do
    n=$((n + 1))
    if [ $n -ge 100 ]; then cat "$demo/st-mary.log"; echo "quickstart: the node did not start" >&2; exit 1; fi
    sleep 0.1
done
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' "$demo/st-mary/hiepeerd.state")
cat "$demo/st-mary/hiepeerd.state"

echo
echo "== General enrols St Mary and calls it over mutual TLS"
"$ctl" --store "$demo/general" peer add --org "$A" --name "St Mary Hospital" \
    --url "https://localhost:$port" --cert "$demo/pki/st-mary.pem" --ca "$demo/pki/ca/ca.pem" >/dev/null
"$ctl" --config "$demo/general.conf" peer list
"$ctl" --config "$demo/general.conf" peer ping "$A"
pid=$("$ctl" --store "$demo/st-mary" --json patient list --limit 1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "documents St Mary holds for its patient $pid, as General sees them:"
"$ctl" --config "$demo/general.conf" remote query "$A" --patient "$pid" --status any
doc=$("$ctl" --config "$demo/general.conf" --json remote query "$A" --patient "$pid" --status any |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
"$ctl" --config "$demo/general.conf" remote retrieve "$A" "$doc" -o "$demo/retrieved.doc"
head -c 300 "$demo/retrieved.doc"
echo
echo
"$ctl" --store "$demo/st-mary" audit verify
patients=$("$ctl" --store "$demo/st-mary" --json store stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["patients"])')
docs=$("$ctl" --store "$demo/st-mary" --json store stat | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])')
bytes=$(wc -c <"$demo/retrieved.doc")
echo
echo "quickstart: St Mary ($A) serves $patients patients and $docs documents on https://localhost:$port; General retrieved document $doc ($bytes bytes, SHA-256 verified). Stop it with: deploy/quickstart.sh stop"
