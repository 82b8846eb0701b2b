#!/bin/sh
# testssl.sh against the peer port: TLS 1.2 and 1.3 only, and no finding of severity MEDIUM
# or above. Its exit code means nothing; its JSON findings are judged here.
set -eu
ctl=$1
hiepeerd=$2
if ! command -v testssl >/dev/null 2>&1; then
    echo "test_testssl: testssl.sh is not installed (deploy/install-deps.sh installs it); skipping"
    exit 77
fi
tmp=$(mktemp -d /tmp/hx-testssl-XXXXXX)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cd "$tmp"
A=2.16.840.1.113883.3.7001

# A CRL served over http on loopback, named in the node's certificate.
crlport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ctl" pki ca ca >/dev/null
"$ctl" pki issue --ca ca --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 \
    --crl-uri "http://127.0.0.1:$crlport/ca.crl" --out a >/dev/null
mkdir www
"$ctl" pki crl --ca ca --out www/ca.crl >/dev/null
python3 -m http.server --bind 127.0.0.1 --directory www "$crlport" >/dev/null 2>&1 &
pids="$!"

"$ctl" --store s init --org "$A" >/dev/null
cat >a.conf <<CONF
[node]
org_id = $A
store = $tmp/s
workers = 1
[tls]
certificate = $tmp/a.pem
key = $tmp/a.key
ca = $tmp/ca/ca.pem
crl = $tmp/www/ca.crl
[listen]
peer = 127.0.0.1:0
CONF
"$hiepeerd" -c a.conf 2>a.log &
pids="$pids $!"
n=0
until [ -s s/hiepeerd.state ]; do
    n=$((n + 1)); [ $n -lt 100 ] || { cat a.log; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' s/hiepeerd.state)

testssl --quiet --warnings off --color 0 --add-ca "$tmp/ca/ca.pem" --jsonfile out.json \
    --ip 127.0.0.1 "localhost:$port" >out.txt 2>&1 || true
python3 - out.json <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
bad = []
for proto, want in (("SSLv2", "not offered"), ("SSLv3", "not offered"), ("TLS1", "not offered"),
                    ("TLS1_1", "not offered"), ("TLS1_2", "offered"), ("TLS1_3", "offered")):
    got = by_id.get(proto, {}).get("finding", "(missing)")
    ok = got.startswith(want) and not (want == "offered" and got.startswith("not"))
    print("%-8s %s%s" % (proto, got, "" if ok else "   <-- FAIL"))
    if not ok:
        bad.append(proto)
for f in findings:
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL"):
        print("%-8s %-30s %s   <-- FAIL" % (f["severity"], f["id"], f["finding"][:120]))
        bad.append(f["id"])
print("testssl: %d findings judged, %d failure(s)" % (len(findings), len(bad)))
sys.exit(1 if bad else 0)
PY
