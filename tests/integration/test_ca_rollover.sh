#!/bin/sh
# CA rollover without a restart: with CA1 and CA2 both in the bundle, peers under either
# work; once CA1 is removed from the bundle, its peers are refused within 2 s and CA2's go on.
set -eu
ctl=$1
hiepeerd=$2
tmp=$(mktemp -d /tmp/hx-carollover-XXXXXX)
pids=""
fails=0
trap '[ "${fails:-0}" -ne 0 ] && [ -f "$tmp/a.log" ] && tail -20 "$tmp/a.log"; for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002 # under CA1
D=2.16.840.1.113883.3.7004 # under CA2

"$ctl" pki ca ca1 --cn "Region CA 1" >/dev/null
"$ctl" pki ca ca2 --cn "Region CA 2" >/dev/null
cat ca1/ca.pem ca2/ca.pem >bundle.pem
cp bundle.pem peers-bundle.pem # what B and D trust: their own copy, unchanged
"$ctl" pki issue --ca ca1 --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 --out a >/dev/null
"$ctl" pki issue --ca ca1 --org "$B" --cn localhost --dns localhost --ip 127.0.0.1 --out b >/dev/null
"$ctl" pki issue --ca ca2 --org "$D" --cn localhost --dns localhost --ip 127.0.0.1 --out d >/dev/null
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa peer add --org "$B" --name B --url https://localhost:1 --cert b.pem --ca bundle.pem >/dev/null
"$ctl" --store sa peer add --org "$D" --name D --url https://localhost:1 --cert d.pem --ca bundle.pem >/dev/null
printf '[node]\norg_id = %s\nstore = %s/sa\nworkers = 2\n[tls]\ncertificate = %s/a.pem\nkey = %s/a.key\nca = %s/bundle.pem\n[listen]\npeer = 127.0.0.1:0\n' \
    "$A" "$tmp" "$tmp" "$tmp" "$tmp" >a.conf
"$hiepeerd" -c a.conf 2>a.log &
apid=$!
pids=$apid
n=0
until [ -s sa/hiepeerd.state ]; do
    n=$((n + 1)); [ $n -lt 100 ] || { cat a.log; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' sa/hiepeerd.state)
for p in b:$B d:$D; do
    n=${p%%:*}
    "$ctl" --store "s$n" init --org "${p#*:}" >/dev/null
    "$ctl" --store "s$n" peer add --org "$A" --name A --url "https://localhost:$port" \
        --cert a.pem --ca bundle.pem >/dev/null
    printf '[node]\norg_id = %s\nstore = %s/s%s\n[tls]\ncertificate = %s/%s.pem\nkey = %s/%s.key\nca = %s/peers-bundle.pem\n' \
        "${p#*:}" "$tmp" "$n" "$tmp" "$n" "$tmp" "$n" "$tmp" >"$n.conf"
done
ping() { "$ctl" --config "$1.conf" peer ping "$A" >/dev/null 2>&1; }

ping b || fail "the CA1 peer is refused during the overlap"
ping d || fail "the CA2 peer is refused during the overlap"
cp ca2/ca.pem bundle.new && mv bundle.new bundle.pem # CA1 leaves the bundle
n=0
while ping b; do
    n=$((n + 1)); [ $n -lt 20 ] || { fail "the CA1 peer is still served 2 s after CA1 left"; break; }
    sleep 0.1
done
ping d || fail "the CA2 peer is refused after CA1 left"
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "the pid changed"
kill -TERM "$apid"
wait "$apid" || fail "exit status after SIGTERM"
pids=""
[ "$fails" -eq 0 ] || { echo "test_ca_rollover: $fails failure(s)"; exit 1; }
echo "test_ca_rollover: ok"
