#!/bin/sh
# Live trust changes without a restart: a CRL that changes takes effect; a CRL past
# nextUpdate, signed by another CA or unparsable keeps the last good state (and shows in
# hiepeerctl status); the node's own certificate is renewed in place; an open connection of a
# peer enrolled again with other roles is closed; the pid never changes.
set -eu
ctl=$1
hiepeerd=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/hx-trust-XXXXXX)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cd "$tmp"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002

"$ctl" pki ca ca >/dev/null
"$ctl" pki ca other >/dev/null
for n in a:$A b:$B; do
    "$ctl" pki issue --ca ca --org "${n#*:}" --cn localhost --dns localhost --ip 127.0.0.1 \
        --out "${n%%:*}" >/dev/null
done
"$ctl" pki crl --ca ca --out crl.pem >/dev/null
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa peer add --org "$B" --name B --url https://localhost:1 --cert b.pem \
    --ca ca/ca.pem >/dev/null 2>&1 ||
    "$ctl" --store sa peer add --org "$B" --name B --url https://localhost:1 --cert b.pem >/dev/null
cat >a.conf <<CONF
[node]
org_id = $A
store = $tmp/sa
workers = 2
[tls]
certificate = $tmp/a.pem
key = $tmp/a.key
ca = $tmp/ca/ca.pem
crl = $tmp/crl.pem
[listen]
peer = 127.0.0.1:0
CONF
"$hiepeerd" -c a.conf 2>a.log &
apid=$!
pids=$apid
n=0
until [ -s sa/hiepeerd.state ]; do
    n=$((n + 1)); [ $n -lt 100 ] || { cat a.log; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' sa/hiepeerd.state)
"$ctl" --store sb init --org "$B" >/dev/null
"$ctl" --store sb peer add --org "$A" --name A --url "https://localhost:$port" --cert a.pem \
    --ca ca/ca.pem >/dev/null 2>&1 ||
    "$ctl" --store sb peer add --org "$A" --name A --url "https://localhost:$port" --cert a.pem >/dev/null
printf '[node]\norg_id = %s\nstore = %s/sb\n[tls]\ncertificate = %s/b.pem\nkey = %s/b.key\nca = %s/ca/ca.pem\n' \
    "$B" "$tmp" "$tmp" "$tmp" "$tmp" >b.conf

ping_ok() { "$ctl" --config b.conf peer ping "$A" >/dev/null 2>&1; }
# within SECONDS, `ping_ok` reaches the wanted state (0 = works, 1 = refused)
within() {
    want=$1; secs=$2; n=0
    while :; do
        if ping_ok; then got=0; else got=1; fi
        [ "$got" = "$want" ] && return 0
        n=$((n + 1)); [ $n -lt $((secs * 10)) ] || return 1
        sleep 0.1
    done
}
served_fp() {
    openssl s_client -connect "127.0.0.1:$port" -servername localhost -cert b.pem -key b.key \
        -CAfile ca/ca.pem </dev/null 2>/dev/null | openssl x509 -outform der 2>/dev/null |
        sha256sum | cut -d' ' -f1
}
file_fp() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }

ping_ok || fail "B cannot call A at the start"
"$ctl" --config a.conf status >status.txt || fail "status"
grep -q "running (pid $apid)" status.txt || { fail "status: daemon"; cat status.txt; }
grep -q "(current)" status.txt || { fail "status: trust generation"; cat status.txt; }
grep -q "^crl .*next update 20" status.txt || { fail "status: CRL"; cat status.txt; }

# 1. A CRL that revokes B takes effect without a restart (within 2 s).
cp crl.pem crl-good.pem
"$ctl" pki crl --ca ca --out crl.new --revoke b.pem >/dev/null && mv crl.new crl.pem
within 1 2 || fail "B still served 2 s after its certificate was revoked in the CRL"
# 2. And lifting it does too.
cp crl-good.pem crl.new && mv crl.new crl.pem
within 0 2 || fail "B still refused 2 s after the CRL was replaced by one without it"

# 3. Bad CRLs keep the last good trust state, and status says why.
for bad in stale other garbage; do
    case $bad in
    stale) "$ctl" pki crl --ca ca --out crl.new --revoke b.pem --expired >/dev/null ;;
    other) "$ctl" pki crl --ca other --out crl.new >/dev/null ;;
    garbage) head -c 2000 /dev/urandom >crl.new ;;
    esac
    mv crl.new crl.pem
    sleep 1.5
    ping_ok || fail "a $bad CRL was taken (B, revoked in it, is refused)"
    "$ctl" --config a.conf status >status.txt
    grep -q "kept its previous trust state" status.txt || { fail "status does not show the $bad CRL"; cat status.txt; }
    cp crl-good.pem crl.new && mv crl.new crl.pem
    sleep 1.5
done
"$ctl" --config a.conf status >status.txt
grep -q "kept its previous" status.txt && fail "status still shows a problem after a good CRL"
# Each file change the daemon looked at is in the audit chain, taken or not.
"$ctl" --store sa --json audit list >audit-crl.json
n=$(grep -o 'TLS files changed: CRL; not adopted' audit-crl.json | wc -l)
[ "$n" -eq 3 ] || fail "audit: $n records of refused CRLs, expected 3"
n=$(grep -o 'TLS files changed: CRL; adopted' audit-crl.json | wc -l)
[ "$n" -ge 5 ] || fail "audit: $n records of adopted CRLs, expected at least 5"

# 4. Rotation of a peer's certificate: staged (both accepted), then committed (old refused).
"$ctl" pki issue --ca ca --org "$B" --cn localhost --dns localhost --ip 127.0.0.1 --out b2 >/dev/null
sed "s|$tmp/b.pem|$tmp/b2.pem|; s|$tmp/b.key|$tmp/b2.key|" b.conf >b2.conf
ping2_ok() { "$ctl" --config b2.conf peer ping "$A" >/dev/null 2>&1; }
ping2_ok && fail "B's next certificate was accepted before it was staged"
"$ctl" --store sa peer rotate "$B" --cert b2.pem --ca ca/ca.pem >/dev/null || fail "peer rotate (stage)"
n=0
until ping2_ok; do
    n=$((n + 1)); [ $n -lt 20 ] || { fail "the staged certificate is not accepted after 2 s"; break; }
    sleep 0.1
done
ping_ok || fail "the current certificate was refused while the next one is staged"
"$ctl" --store sa peer rotate "$B" --commit >/dev/null || fail "peer rotate --commit"
within 1 2 || fail "the old certificate is still accepted 2 s after the rotation was committed"
ping2_ok || fail "the new certificate is refused after the commit"
"$ctl" --store sa peer rotate "$B" --commit 2>err.txt && fail "a second commit succeeded"
grep -q "no staged certificate" err.txt || fail "second commit message"
"$ctl" --store sa --json audit list >audit.json
python3 - audit.json "$(file_fp b.pem)" "$(file_fp b2.pem)" <<'PY' || fail "rotation audit records"
import base64, json, sys
ev = [e for e in json.load(open(sys.argv[1])) if e["action"] == "PEER_CHANGE"]
assert len(ev) >= 2 and "staged" in ev[-2]["detail"] and "committed" in ev[-1]["detail"], ev
PY
"$ctl" --store sa audit verify >/dev/null || fail "audit chain after the rotation"
cp b2.conf b.conf # B now calls with its new certificate

# 5. Renewal of the node's own certificate and key, in place: new handshakes use it.
old=$(served_fp)
[ "$old" = "$(file_fp a.pem)" ] || fail "the served certificate is not a.pem"
"$ctl" pki issue --ca ca --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 --out a2 >/dev/null
cp a2.key a.key.new && cp a2.pem a.pem.new && mv a.key.new a.key && mv a.pem.new a.pem
n=0
while [ "$(served_fp)" != "$(file_fp a2.pem)" ]; do
    n=$((n + 1)); [ $n -lt 20 ] || { fail "the renewed certificate is not served after 2 s"; break; }
    sleep 0.1
done
# B pinned A's old fingerprint: it refuses the renewed one until re-enrolled (a rotation).
ping_ok && fail "B accepted a certificate other than the one it enrolled"

# 6. An open keep-alive connection does not keep the rights it was admitted with: B, connected
# as a node, is removed and enrolled again as a record locator; its connection is closed
# within 2 s, and a new one is refused discover (403).
python3 - "$here" "$port" b2.pem b2.key ca/ca.pem "$ctl" "$B" "$tmp" <<'PY' || fail "re-enrolment with other roles: the open connection kept its rights"
import subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from peer_battery import connect, discover_body, post, read_response
port, cert, key, ca, ctl, org, tmp = sys.argv[2:9]
req = post(b"/hie/v1/patients/discover",
           discover_body(family=b"Smith", given=b"Katherine", birth=b"1980-03-04"))
def status(s):
    s.sendall(req)
    return read_response(s)[0]  # None: closed
s = connect("127.0.0.1", int(port), ca, cert, key)
assert status(s) == 200, "discover as a node"
assert status(s) == 200, "discover again on the same connection"
run = lambda *a: subprocess.run([ctl, "--store", tmp + "/sa"] + list(a), check=True,
                               stdout=subprocess.DEVNULL)
run("peer", "remove", org)
run("peer", "add", "--org", org, "--name", "B", "--url", "https://localhost:1", "--cert", cert,
    "--ca", ca, "--role", "rls")
deadline = time.time() + 2
closed = False
while time.time() < deadline and not closed:
    try:
        closed = status(s) is None
    except OSError:
        closed = True
    if not closed:
        time.sleep(0.1)
assert closed, "the connection admitted as a node still answers 2 s after the re-enrolment"
# A new connection, once the daemon has seen the enrolment (a trust tick between the remove
# and the add refuses the handshake until the next one): discover is refused.
deadline = time.time() + 3
while True:
    try:
        st = status(connect("127.0.0.1", int(port), ca, cert, key))
    except OSError:  # TLS 1.3 may also refuse only at the first read: st None
        st = None
    if st is not None or time.time() > deadline:
        break
    time.sleep(0.1)
assert st == 403, "discover by the locator on a new connection: %r" % st
PY
grep -q "closing a connection of $B: \(its enrolment changed\|no longer trusted\)" a.log ||
    fail "no log line for the connection closed on re-enrolment"

kill -0 "$apid" || fail "the daemon died"
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "the pid changed"
kill -TERM "$apid"
wait "$apid" || fail "exit status after SIGTERM"
pids=""
if [ "$fails" -ne 0 ]; then
    echo "test_trust: $fails failure(s)"; tail -20 a.log; exit 1
fi
echo "test_trust: ok"
