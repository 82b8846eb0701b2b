#!/bin/sh
# A fan-out to more peers than a libcurl share keeps TLS sessions for (8) still resumes them
# all: A's daemon asks 12 nodes through its local API; the nodes close idle connections after
# a second; the next query reconnects to each, and each handshake is a resumed one (the nodes
# log "resumed TLS session" at debug level). Before, one share for every peer lost the
# sessions of all but 8 and most reconnections were full handshakes.
# A runs 2 workers, each with its own connections to the nodes; the sessions are the
# process's: ten more queries (each a new local connection, so either worker may take it)
# make no full handshake with any node. Before, each worker kept its own sessions, and the
# first query a second worker took made a full handshake with every node.
set -eu
ctl=$1
hiepeerd=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/hx-resume-XXXXXX)
. "$here/lib.sh"
trap '[ -n "${KEEP:-}" ] || lib_cleanup "$tmp/a.log"' EXIT
cd "$tmp"
A=2.16.840.1.113883.3.7001
N=12

"$ctl" pki ca ca >/dev/null
issue ca a "$A"
issue ca ehr "$A"
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa client add ehr --cert ehr.pem --ca ca/ca.pem >/dev/null
i=1
while [ $i -le $N ]; do
    org=2.16.840.1.113883.3.$((8000 + i))
    issue ca "n$i" "$org"
    "$ctl" --store "sn$i" init --org "$org" >/dev/null
    "$ctl" --store "sn$i" patient add --id K1 --family Smith --given Katherine \
        --birth-date 1980-03-04 --sex female >/dev/null
    "$ctl" --store "sn$i" peer add --org "$A" --name A --url https://localhost:1 --cert a.pem \
        --ca ca/ca.pem >/dev/null
    node_conf "n$i" "$org" "n$i" ca/ca.pem "[limits]
idle_timeout = 1s
"
    sed -i 's/^workers = 2$/workers = 1\nlog_level = debug/' "n$i.conf"
    start_node "n$i"
    "$ctl" --store sa peer add --org "$org" --name "n$i" --url "https://localhost:$node_port" \
        --cert "n$i.pem" --ca ca/ca.pem >/dev/null
    i=$((i + 1))
done
node_conf a "$A" a ca/ca.pem
sed -i 's/^peer = 127.0.0.1:0$/peer = 127.0.0.1:0\nlocal = 127.0.0.1:0/' a.conf
start_node a

lq() {
    "$ctl" --config a.conf --json query --family Smith --given Katherine --birth-date 1980-03-04 \
        --sex female --purpose treatment --no-cache --local --client-cert ehr.pem \
        --client-key ehr.key >"$1"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=sum(1 for o in d["organisations"] if o["status"]=="ok"); assert n==int(sys.argv[2]), d["organisations"]' "$1" "$N"
}
count() { cat n[0-9]*.log | grep -c "$1" || true; }
lq q1.json || fail "the first query did not find the patient at all $N nodes"
[ "$(count 'new TLS session')" -eq $N ] || fail "first contact: $(count 'new TLS session') full handshakes for $N nodes"
sleep 2.5 # every node closes its idle connection from A (idle 1 s, swept every second)
lq q2.json || fail "the second query did not find the patient at all $N nodes"
resumed=$(count 'resumed TLS session')
full=$(count 'new TLS session')
echo "after the nodes closed their connections: $resumed of $N reconnections resumed, $((full - N)) full"
[ "$resumed" -ge $N ] && [ "$full" -eq $N ] || fail "reconnections: $resumed resumed, $((full - N)) full, for $N nodes"
for k in 3 4 5 6 7 8 9 10 11 12; do
    lq "q$k.json" || fail "query $k did not find the patient at all $N nodes"
done
full=$(count 'new TLS session')
echo "ten more queries on either worker: $((full - N)) more full handshakes, $(count 'resumed TLS session') resumed in all"
[ "$full" -eq $N ] || fail "ten more queries on A's 2 workers made $((full - N)) more full handshakes"
lib_done test_fanout_resume
