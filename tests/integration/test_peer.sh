#!/bin/sh
# Peer links over mutual TLS, end to end: two real nodes on 127.0.0.1 with a fresh PKI.
#  - B queries (type and time filters) and retrieves from A: exactly A's entries and bytes
#  - the client-authentication matrix over TLS 1.2 and 1.3
#  - the malformed-HTTP battery, each case followed by a good request
#  - client side: fake peers that must be refused before a request is sent, and a peer whose
#    certificate A's CRL revokes
#  - a second daemon on A's store is refused, and A runs on
#  - A's pid is the same at the end; SIGTERM stops it cleanly
set -eu
ctl=$1
hiepeerd=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/hx-peer-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002
cd "$tmp"

# --- PKI ----------------------------------------------------------------------------------
"$ctl" pki ca ca >/dev/null
"$ctl" pki ca other-ca >/dev/null
issue() { # issue NAME ORG [pki issue options]
    n=$1; o=$2; shift 2
    "$ctl" pki issue --ca ca --org "$o" --cn "$n" --dns localhost --ip 127.0.0.1 --out "$n" "$@" >/dev/null
}
issue a "$A"
issue b "$B"
i=10
for v in expired not-yet-valid self-signed ca-leaf wrong-eku rsa1024 other-ca revoked \
         not-enrolled suspended; do
    case $v in
    revoked | not-enrolled | suspended) issue "$v" "2.16.840.1.113883.3.70$i" ;;
    other-ca) issue "$v" "2.16.840.1.113883.3.70$i" --variant other-ca --other-ca other-ca ;;
    *) issue "$v" "2.16.840.1.113883.3.70$i" --variant "$v" ;;
    esac
    i=$((i + 1))
done
"$ctl" pki crl --ca ca --out ca.crl --revoke revoked.pem >/dev/null

# --- node A --------------------------------------------------------------------------------
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa demo-data --seed 3 --persons 60 --docs 4 >/dev/null
"$ctl" --store sa peer add --org "$B" --name "Node B" --url https://localhost:1 --cert b.pem --ca ca/ca.pem >/dev/null
i=10
for v in expired not-yet-valid self-signed ca-leaf wrong-eku rsa1024 other-ca revoked \
         not-enrolled suspended; do
    # Enrol where enrolment takes it: the server must refuse them for their own flaw.
    [ "$v" = not-enrolled ] && { i=$((i + 1)); continue; }
    "$ctl" --store sa peer add --org "2.16.840.1.113883.3.70$i" --name "$v" \
        --url https://localhost:1 --cert "$v.pem" --ca ca/ca.pem >/dev/null 2>&1 || true
    i=$((i + 1))
done
"$ctl" --store sa peer suspend 2.16.840.1.113883.3.7019 >/dev/null
cat >a.conf <<CONF
[node]
org_id = $A
store = $tmp/sa
workers = 2
[tls]
certificate = $tmp/a.pem
key = $tmp/a.key
ca = $tmp/ca/ca.pem
crl = $tmp/ca.crl
[listen]
peer = 127.0.0.1:0
[limits]
max_connections_per_peer = 6
header_timeout = 1s
CONF
"$hiepeerd" -c a.conf 2>a.log &
apid=$!
pids="$apid"
n=0
until [ -s sa/hiepeerd.state ]; do
    n=$((n + 1)); [ $n -lt 100 ] || { cat a.log; echo "node A did not start"; exit 1; }
    sleep 0.1
done
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "state file pid"
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' sa/hiepeerd.state)

# A second daemon on the same store is refused at once, in one line naming the first; the
# first keeps its state file (what `status` and `quickstart.sh stop` read) and runs on.
if timeout 10 "$hiepeerd" -c a.conf </dev/null >second.out 2>second.err; then
    fail "a second daemon on A's store started"
else
    rc=$?
    [ "$rc" -eq 1 ] || fail "a second daemon on A's store: exit $rc, not 1 ($(cat second.err))"
fi
grep -q "store .*/sa is in use by another hiepeerd (pid $apid); stop it first" second.err ||
    fail "the second daemon's refusal: $(cat second.err)"
[ "$(grep -c . second.err)" -eq 1 ] || fail "the refusal is not one line: $(cat second.err)"
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "the second daemon changed A's state file"
kill -0 "$apid" || fail "node A died when a second daemon was started on its store"
"$ctl" --config a.conf status | grep -q "running (pid $apid)" ||
    fail "status after a second start: $("$ctl" --config a.conf status)"

# --- node B calls A ------------------------------------------------------------------------
"$ctl" --store sb init --org "$B" >/dev/null
"$ctl" --store sb peer add --org "$A" --name "Node A" --url "https://localhost:$port" --cert a.pem --ca ca/ca.pem >/dev/null
cat >b.conf <<CONF
[node]
org_id = $B
store = $tmp/sb
[tls]
certificate = $tmp/b.pem
key = $tmp/b.key
ca = $tmp/ca/ca.pem
CONF
"$ctl" --config b.conf peer ping "$A" | grep -q "ok, organisation $A" || fail "peer ping"

# A patient of A with several documents; a query with a type and a time window.
pid=$("$ctl" --store sa --json patient list --limit 100 | python3 -c '
import json, subprocess, sys
for p in json.load(sys.stdin):
    d = json.loads(subprocess.run(sys.argv[1:] + [p["id"], "--status", "any"],
                   capture_output=True, check=True).stdout)
    if len(d) >= 3:
        print(p["id"]); break' "$ctl" --store sa --json doc list)
[ -n "$pid" ] || fail "no patient with 3 documents"
"$ctl" --store sa --json doc list "$pid" --status any >all.json
type=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["type_code"]["code"])' all.json)
"$ctl" --store sa --json doc list "$pid" --status any --type "$type" --from 2000-01-01 --to 2030-01-01 >local.json
"$ctl" --config b.conf --json remote query "$A" --patient "$pid" --status any --type "$type" \
    --from 2000-01-01 --to 2030-01-01 >remote.json || fail "remote query"
python3 - local.json remote.json <<'PY' || fail "remote query answer differs from A's own listing"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a and [e["id"] for e in a] == [e["id"] for e in b], (a, b)
assert a == b
PY
"$ctl" --config b.conf --json remote query "$A" --patient "$pid" --status any \
    --from 2100-01-01 >none.json || fail "remote query (empty window)"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' none.json)" = 0 ] ||
    fail "a future time window returned documents"
# max_results: the first N (newest first), and the answer says it was cut; without it, all.
python3 - "$here" "$port" ca/ca.pem b.pem b.key "$pid" all.json <<'PY' || fail "query with max_results"
import json, sys
sys.path.insert(0, sys.argv[1])
from peer_battery import connect, pb_field, post, read_response
port, ca, cert, key, pid, allf = sys.argv[2:8]
want = [e["id"] for e in json.load(open(allf))]
def fields(buf):  # (number, value) of each top-level field: length-delimited or varint
    i, out = 0, []
    def varint():
        nonlocal i
        v = s = 0
        while True:
            b = buf[i]; i += 1
            v |= (b & 0x7F) << s; s += 7
            if b < 0x80: return v
    while i < len(buf):
        tag = varint()
        if tag & 7 == 2:
            n = varint(); out.append((tag >> 3, buf[i:i + n])); i += n
        else:
            out.append((tag >> 3, varint()))
    return out
def query(max_results):
    body = (pb_field(1, 2, pid.encode()) + pb_field(4, 0, 1) + pb_field(4, 0, 2)
            + pb_field(7, 0, 1) + (pb_field(9, 0, max_results) if max_results else b""))
    s = connect("127.0.0.1", int(port), ca, cert, key)
    s.sendall(post(b"/hie/v1/documents/query", body))
    st, _, resp = read_response(s)
    s.close()
    assert st == 200, st
    f = fields(resp)
    ids = [dict(fields(v))[1].decode() for n, v in f if n == 1]
    return ids, any(n == 2 and v == 1 for n, v in f)
ids, cut = query(0)
assert ids == want and not cut, (ids, want, cut)
ids, cut = query(2)
assert ids == want[:2] and cut, (ids, want, cut)
ids, cut = query(len(want))
assert ids == want and not cut, (ids, want, cut)
PY
doc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' all.json)
"$ctl" --config b.conf remote retrieve "$A" "$doc" -o got.bin 2>unsigned.err &&
    fail "an unsigned document was handed on"
grep -q "not signed by its origin" unsigned.err || fail "unsigned refusal: $(cat unsigned.err)"
[ -e got.bin ] && fail "a refused document was written"
"$ctl" --config b.conf remote retrieve "$A" "$doc" -o got.bin --allow-unsigned >/dev/null ||
    fail "remote retrieve"
"$ctl" --store sa doc show "$doc" -o want.bin >/dev/null
cmp -s got.bin want.bin || fail "retrieved bytes differ from A's"
"$ctl" --store sa doc show "$doc" >entry.json
[ "$(sha256sum got.bin | cut -d' ' -f1)" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' entry.json)" ] ||
    fail "retrieved bytes do not hash to the entry's sha256"
"$ctl" --config b.conf remote retrieve "$A" 00000000000000000000000000000000 -o x.bin 2>err.txt &&
    fail "retrieve of a missing document succeeded"
grep -q "has no document" err.txt || fail "missing document message"

# --- client-authentication matrix --------------------------------------------------------
python3 "$here/peer_battery.py" auth 127.0.0.1 "$port" ca/ca.pem "$doc" ok b.pem b.key ||
    fail "the enrolled peer was refused"
python3 "$here/peer_battery.py" auth 127.0.0.1 "$port" ca/ca.pem "$doc" refused - - \
    self-signed.pem self-signed.key other-ca.pem other-ca.key expired.pem expired.key \
    not-yet-valid.pem not-yet-valid.key revoked.pem revoked.key ca-leaf.pem ca-leaf.key \
    wrong-eku.pem wrong-eku.key rsa1024.pem rsa1024.key not-enrolled.pem not-enrolled.key \
    suspended.pem suspended.key || fail "authentication matrix"

# --- malformed HTTP ----------------------------------------------------------------------------
python3 "$here/peer_battery.py" battery 127.0.0.1 "$port" ca/ca.pem b.pem b.key "$doc" - ||
    fail "malformed-HTTP battery"

# --- connection caps and timeouts ------------------------------------------------------------
python3 "$here/peer_battery.py" limits 127.0.0.1 "$port" ca/ca.pem b.pem b.key "$doc" 6 ||
    fail "connection caps and timeouts"

# --- client side: fake peers are refused before any request is sent ----------------------------
issue wrongname "$A" # a valid certificate of A's org, but for another host name
"$ctl" pki issue --ca ca --org "$A" --cn other.example --dns other.example --out wronghost >/dev/null
"$ctl" pki issue --ca ca --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 --variant expired --out srv-expired >/dev/null
"$ctl" pki issue --ca ca --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 --variant self-signed --out srv-self >/dev/null
fake() { # fake NAME CERT: an openssl s_server with CERT; B calls it as A
    name=$1; cert=$2
    fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    openssl s_server -quiet -accept "127.0.0.1:$fport" -cert "$cert.pem" -key "$cert.key" \
        -CAfile ca/ca.pem -naccept 1 >"fake-$name.out" 2>&1 &
    spid=$!
    sleep 0.3
    "$ctl" --store sb peer remove "$A" >/dev/null
    "$ctl" --store sb peer add --org "$A" --name "Node A" --url "https://localhost:$fport" --cert a.pem --ca ca/ca.pem >/dev/null
    if "$ctl" --config b.conf remote retrieve "$A" "$doc" -o fake.bin 2>"fake-$name.err"; then
        fail "fake peer ($name) was accepted"
    fi
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    if grep -q "POST\|retrieve" "fake-$name.out"; then fail "request bytes reached the fake peer ($name)"; fi
}
fake "wrong host name" wronghost
fake "expired certificate" srv-expired
fake "self-signed certificate" srv-self
fake "certificate not enrolled" wrongname   # valid chain and name, another fingerprint

# --- sessions across trust changes ---------------------------------------------------------------
issue extra 2.16.840.1.113883.3.7030
python3 "$here/peer_battery.py" resume 127.0.0.1 "$port" ca/ca.pem b.pem b.key "$doc" \
    "'$ctl' --store sa peer add --org 2.16.840.1.113883.3.7030 --name extra --url https://localhost:1 --cert extra.pem --ca $tmp/ca/ca.pem || '$ctl' --store sa peer remove 2.16.840.1.113883.3.7030" \
    "'$ctl' --store sa peer suspend $B" || fail "session resumption across trust changes"
"$ctl" --store sa peer resume "$B" >/dev/null
sleep 1.5 # the workers pick the change up within a second

# --- the daemon survived all of it ---------------------------------------------------------------
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "state file"
kill -0 "$apid" || fail "node A died"
"$ctl" --store sb peer remove "$A" >/dev/null
"$ctl" --store sb peer add --org "$A" --name "Node A" --url "https://localhost:$port" --cert a.pem --ca ca/ca.pem >/dev/null
"$ctl" --config b.conf peer ping "$A" >/dev/null || fail "node A does not answer at the end"
# A calls a peer whose certificate A's CRL revokes (its server presents revoked.pem): the call
# is refused in the handshake, for the revocation, as A's own server refuses that peer.
R=2.16.840.1.113883.3.7017
rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$rport" -cert revoked.pem -key revoked.key -www -quiet \
    </dev/null >/dev/null 2>&1 &
spid=$!
pids="$pids $spid"
n=0
until echo | openssl s_client -connect "127.0.0.1:$rport" >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -lt 60 ] || fail "the revoked peer's server did not start"; sleep 0.05
done
"$ctl" --store sa peer remove "$R" >/dev/null 2>&1 || true
"$ctl" --store sa peer add --org "$R" --name revoked --url "https://localhost:$rport" \
    --cert revoked.pem --ca ca/ca.pem >/dev/null || fail "enrol the revoked peer at its address"
out=$("$ctl" --config a.conf peer ping "$R" 2>&1) && fail "A's call to a revoked peer succeeded: $out"
echo "$out" | grep -qi "revoked" || fail "A's call to a revoked peer was not refused for it: $out"
kill "$spid" 2>/dev/null || true
kill -TERM "$apid"
wait "$apid" || fail "node A's exit status after SIGTERM"
pids=""
grep -q "stopped" a.log || fail "node A did not log its stop"
"$ctl" --store sa audit verify >/dev/null || fail "audit chain of A"

if [ "$fails" -ne 0 ]; then
    echo "test_peer: $fails failure(s)"; tail -20 a.log
    exit 1
fi
echo "test_peer: ok"
