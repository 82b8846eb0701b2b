#!/bin/sh
# Rotation under load, no restart:
#  1. a peer's certificate: staged next (both accepted; a new handshake with the next one
#     works within 2 s), then committed (the old one refused within 2 s), while the peer
#     keeps a load on with the old certificate and then the new one: zero failed requests;
#  2. the node's own certificate and key, renewed with `cert install` while a peer keeps
#     keep-alive and new-connection load on it: zero failed requests, new handshakes present
#     the new certificate within 2 s, the peer's pinned client follows through its own
#     rotation of our fingerprint, and the audit chain holds both the administrator's record
#     and the daemon's adoption, with old and new fingerprints.
set -eu
ctl=$1
hiepeerd=$2
load=$3
tmp=$(mktemp -d /tmp/hx-rotload-XXXXXX)
. "$(dirname "$0")/lib.sh"
trap 'lib_cleanup "$tmp/a.log"' EXIT
cd "$tmp"
A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002

"$ctl" pki ca ca >/dev/null
issue ca a "$A"; issue ca a2 "$A"; issue ca b "$B"; issue ca b2 "$B"
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa peer add --org "$B" --name B --url https://localhost:1 --cert b.pem \
    --ca ca/ca.pem >/dev/null
node_conf a "$A" a ca/ca.pem
start_node a
apid=$node_pid
port=$node_port
"$ctl" --store sb init --org "$B" >/dev/null
"$ctl" --store sb peer add --org "$A" --name A --url "https://localhost:$port" --cert a.pem \
    --ca ca/ca.pem >/dev/null
node_conf b "$B" b ca/ca.pem
node_conf b2 "$B" b2 ca/ca.pem
sed -i "s#/sb2\$#/sb#" b2.conf # B's next identity, same store

# load NAME CERT MODE SECONDS: a steady load on A's health route, output in NAME.out.
load() {
    "$load" --port "$port" --cert "$2.pem" --key "$2.key" --ca ca/ca.pem --servername localhost \
        --mode "$3" --conns 2 --duration "$4" --method GET --path /hie/v1/health \
        >"$1.out" 2>&1 &
    eval "$1=\$!"
    pids="$pids $!"
}
# judge NAME PID: the load ended with zero failed requests.
judge() {
    wait "$2" || fail "load $1 failed: $(cat "$1.out")"
    grep -q "errors=0" "$1.out" || fail "load $1 saw failed requests: $(cat "$1.out")"
    r=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$1.out")
    [ "${r:-0}" -gt 20 ] || fail "load $1 did not run: $(cat "$1.out")"
    echo "load $1: $(sed -n 's/.*\(requests=[0-9]*\).*\(errors=[0-9]*\).*/\1 \2/p' "$1.out")"
}
ping_as() { "$ctl" --config "$1.conf" peer ping "$A"; }
refused_as() { ! "$ctl" --config "$1.conf" peer ping "$A"; }

# ---- 1. a peer's certificate --------------------------------------------------------------
ping_as b >/dev/null || fail "B cannot call A before the rotation"
refused_as b2 >/dev/null 2>&1 || fail "B's next certificate was accepted before it was staged"
load L1 b keepalive 5
load L1c b connect 5
sleep 1
"$ctl" --store sa peer rotate "$B" --cert b2.pem --ca ca/ca.pem >/dev/null
ms=$(within 2000 ping_as b2) || fail "B's staged certificate not accepted after $ms ms"
echo "staged certificate accepted after $ms ms"
load L2 b2 keepalive 6
load L2c b2 connect 6
judge L1 "$L1"
judge L1c "$L1c"
"$ctl" --store sa peer rotate "$B" --commit >/dev/null
ms=$(within 2000 refused_as b) || fail "B's old certificate still accepted after $ms ms"
echo "old certificate refused $ms ms after the commit"
ping_as b2 >/dev/null || fail "B's new certificate refused after the commit"
judge L2 "$L2"
judge L2c "$L2c"

# ---- 2. our own certificate -----------------------------------------------------------------
# B first stages our next fingerprint, so its pinned client accepts either.
"$ctl" --store sb peer rotate "$A" --cert a2.pem --ca ca/ca.pem >/dev/null
served_fp() {
    openssl s_client -connect "127.0.0.1:$port" -servername localhost -cert b2.pem \
        -key b2.key -CAfile ca/ca.pem </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
fp_a=$(openssl x509 -in a.pem -noout -fingerprint -sha256 | sed 's/.*=//')
fp_a2=$(openssl x509 -in a2.pem -noout -fingerprint -sha256 | sed 's/.*=//')
[ "$(served_fp)" = "$fp_a" ] || fail "A does not present its first certificate"
load L3 b2 keepalive 5
load L3c b2 connect 5
sleep 1
out=$("$ctl" --config a.conf cert install --cert a2.pem --key a2.key 2>&1) ||
    fail "cert install: $out"
serves_new() { [ "$(served_fp)" = "$fp_a2" ]; }
ms=$(within 2000 serves_new) || fail "A still presents its old certificate after $ms ms"
echo "new handshakes present the renewed certificate after $ms ms"
ping_as b2 >/dev/null || fail "B's pinned client refuses A's renewed certificate"
judge L3 "$L3"
judge L3c "$L3c"
"$ctl" --store sb peer rotate "$A" --commit >/dev/null
ping_as b2 >/dev/null || fail "B cannot call A after committing A's new fingerprint"

# Refusals of cert install change nothing.
cp a.pem a-copy.pem
issue ca x "$B"
out=$("$ctl" --config a.conf cert install --cert x.pem --key x.key 2>&1) &&
    fail "cert install took another organisation's certificate"
echo "$out" | grep -q "organisation" || fail "wrong-organisation refusal says: $out"
out=$("$ctl" --config a.conf cert install --cert a-copy.pem --key a2.key 2>&1) &&
    fail "cert install took a key that is not the certificate's"
[ "$(served_fp)" = "$fp_a2" ] || fail "a refused install changed what A presents"

# The audit chain: the administrator's record and the daemon's adoption, old and new.
"$ctl" --store sa audit verify >/dev/null || fail "audit verify"
audit=$("$ctl" --store sa --json audit list)
python3 - "$fp_a" "$fp_a2" "$audit" <<'PY' || fail "audit records of the renewal"
import json, sys
old, new, doc = sys.argv[1].replace(":", "").lower(), sys.argv[2].replace(":", "").lower(), json.loads(sys.argv[3])
recs = doc if isinstance(doc, list) else doc.get("records", doc.get("audit", []))
def fp(r, k):
    return str(r.get(k, "")).lower().replace("sha256:", "").replace(":", "")
admin = [r for r in recs if "own certificate renewed" in r.get("detail", "")]
daemon = [r for r in recs if "TLS files changed" in r.get("detail", "") and "adopted" in r.get("detail", "")]
ok = True
for what, rs in (("admin", admin), ("daemon", daemon)):
    if not rs:
        print("no %s record" % what); ok = False; continue
    r = rs[-1]
    if fp(r, "old_fingerprint") != old or fp(r, "new_fingerprint") != new:
        print("%s record fingerprints: %r" % (what, r)); ok = False
if any("not adopted" in r.get("detail", "") for r in recs):
    print("a half-replaced key/certificate pair was reported as a problem"); ok = False
sys.exit(0 if ok else 1)
PY
grep -q "still serving" a.log && fail "the daemon reported a problem during the renewal"
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "the pid changed"
kill -TERM "$apid"
wait "$apid" || fail "exit status after SIGTERM"
pids=""
lib_done test_rotate_load
