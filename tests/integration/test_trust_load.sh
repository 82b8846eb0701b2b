#!/bin/sh
# Trust changes under load: while a good peer keeps a steady keep-alive load, another peer
# is suspended and must be refused within 2 s; the good peer sees zero failed requests; the
# pid does not change. Then 200 suspend/resume cycles, each taken by the daemon, leave its
# resident memory within 5% (no leaked SSL_CTX or X509_STORE).
set -eu
ctl=$1
hiepeerd=$2
load=$3
tmp=$(mktemp -d /tmp/hx-tload-XXXXXX)
pids=""
trap '[ -f "$tmp/a.log" ] && [ "${fails:-0}" -ne 0 ] && tail -30 "$tmp/a.log"; for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cd "$tmp"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002
C=2.16.840.1.113883.3.7003

"$ctl" pki ca ca >/dev/null
for n in a:$A b:$B c:$C; do
    "$ctl" pki issue --ca ca --org "${n#*:}" --cn localhost --dns localhost --ip 127.0.0.1 \
        --out "${n%%:*}" >/dev/null
done
"$ctl" --store sa init --org "$A" >/dev/null
for n in b:$B c:$C; do
    "$ctl" --store sa peer add --org "${n#*:}" --name "${n%%:*}" --url https://localhost:1 \
        --cert "${n%%:*}.pem" --ca ca/ca.pem >/dev/null 2>&1 ||
        "$ctl" --store sa peer add --org "${n#*:}" --name "${n%%:*}" --url https://localhost:1 \
            --cert "${n%%:*}.pem" >/dev/null
done
cat >a.conf <<CONF
[node]
org_id = $A
store = $tmp/sa
workers = 2
[tls]
certificate = $tmp/a.pem
key = $tmp/a.key
ca = $tmp/ca/ca.pem
[listen]
peer = 127.0.0.1:0
CONF
# Under AddressSanitizer freed memory sits in a quarantine and would read as growth: none
# here (LeakSanitizer still checks for leaks at exit).
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
    "$hiepeerd" -c a.conf 2>a.log &
apid=$!
pids=$apid
n=0
until [ -s sa/hiepeerd.state ]; do
    n=$((n + 1)); [ $n -lt 100 ] || { cat a.log; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' sa/hiepeerd.state)
"$ctl" --store sc init --org "$C" >/dev/null
"$ctl" --store sc peer add --org "$A" --name A --url "https://localhost:$port" --cert a.pem \
    --ca ca/ca.pem >/dev/null 2>&1 ||
    "$ctl" --store sc peer add --org "$A" --name A --url "https://localhost:$port" --cert a.pem >/dev/null
printf '[node]\norg_id = %s\nstore = %s/sc\n[tls]\ncertificate = %s/c.pem\nkey = %s/c.key\nca = %s/ca/ca.pem\n' \
    "$C" "$tmp" "$tmp" "$tmp" "$tmp" >c.conf

# Steady load from B on the health route.
"$load" --port "$port" --cert b.pem --key b.key --ca ca/ca.pem --servername localhost \
    --mode keepalive --conns 4 --duration 6 --method GET --path /hie/v1/health >load.out 2>&1 &
lpid=$!
pids="$pids $lpid"
sleep 2
"$ctl" --config c.conf peer ping "$A" >/dev/null || fail "C cannot call A before its suspension"
"$ctl" --store sa peer suspend "$C" >/dev/null
t0=$(date +%s%N)
n=0
while "$ctl" --config c.conf peer ping "$A" >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -lt 40 ] || break
    sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "suspended peer refused after $ms ms"
[ "$ms" -le 2000 ] || fail "the suspended peer was served for $ms ms"
wait "$lpid" || fail "the load tool failed"
pids=$apid
cat load.out
grep -q "errors=0" load.out || fail "the good peer saw failed requests"
requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' load.out)
[ "${requests:-0}" -gt 100 ] || fail "the load did not run"

# 200 trust changes, each taken by the daemon; RSS before and after.
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$apid/status"; }
gen() { sed -n 's/^trust_generation = //p' sa/hiepeerd.state; }
"$ctl" --store sa peer resume "$C" >/dev/null
sleep 1
cycles() { # cycles N: N suspend/resume changes of C, each waited for until the daemon took it
    i=0
    while [ $i -lt "$1" ]; do
        if [ $((i % 2)) -eq 0 ]; then op=suspend; else op=resume; fi
        "$ctl" --store sa peer "$op" "$C" >/dev/null
        want=$(( $(gen) + 1 ))
        n=0
        until [ "$(gen)" -ge "$want" ]; do
            n=$((n + 1)); [ $n -lt 100 ] || { fail "change $i was not taken within 5 s"; break; }
            sleep 0.05
        done
        i=$((i + 1))
    done
}
cycles 20 # the allocator's own caches settle first
before=$(rss)
cycles 200
after=$(rss)
# The 5% bound is for a plain build (measured: +1%). Under AddressSanitizer its allocator's
# own bookkeeping grows a little with churn (about +5% here) while LeakSanitizer checks at
# exit that nothing leaked, so the bound there is 10%.
limit=105
if ldd "$hiepeerd" 2>/dev/null | grep -q libasan; then limit=110; fi
echo "RSS before $before kB, after 200 trust changes $after kB (limit +$((limit - 100))%)"
[ $((after * 100)) -le $((before * limit)) ] ||
    fail "RSS grew by more than $((limit - 100))% ($before -> $after kB)"
grep -q "^pid = $apid\$" sa/hiepeerd.state || fail "the pid changed"
kill -TERM "$apid"
wait "$apid" || fail "exit status after SIGTERM (a leak report under ASan fails it too)"
pids=""
if [ "$fails" -ne 0 ]; then
    echo "test_trust_load: $fails failure(s)"; tail -20 a.log; exit 1
fi
echo "test_trust_load: ok"
