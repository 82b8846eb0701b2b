#!/bin/sh
# The region with each node in its own network namespace (as separate hosts would be): an RLS
# and four hospitals on a bridge, 10.77.0.0/24. A finds the patient held at B, C and D; then D
# is cut off the network (its link goes down while the region runs): A's next query ends
# within its deadline + 50 ms, D "timeout", B and C found; D's link comes back and D is found
# again. Needs root and `ip netns`; elsewhere it skips (exit 77) and says why.
set -eu
ctl=$1
hiepeerd=$2
here=$(cd "$(dirname "$0")" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
tag=hx$$
ip netns add "${tag}probe" 2>/dev/null || skip "cannot create a network namespace here"
ip netns del "${tag}probe"
ip link add "${tag}br" type bridge 2>/dev/null || skip "cannot create a bridge here"

tmp=$(mktemp -d /tmp/hx-netns-XXXXXX)
. "$here/lib.sh"
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    sleep 0.3
    for n in r a b c d; do ip netns del "$tag$n" 2>/dev/null || true; done
    ip link del "${tag}br" 2>/dev/null || true
    [ "${fails:-0}" -eq 0 ] || tail -20 "$tmp/a.log" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
ip link set "${tag}br" up

# One namespace per node, a veth into the bridge: r .10, a .11, b .12, c .13, d .14.
i=10
for n in r a b c d; do
    ip netns add "$tag$n"
    ip link add "${tag}$n" type veth peer name eth0 netns "$tag$n"
    ip link set "${tag}$n" master "${tag}br" up
    ip netns exec "$tag$n" ip addr add "10.77.0.$i/24" dev eth0
    ip netns exec "$tag$n" ip link set eth0 up
    ip netns exec "$tag$n" ip link set lo up
    eval "ip_$n=10.77.0.$i"
    i=$((i + 1))
done

R=2.16.840.1.113883.3.7000 A=2.16.840.1.113883.3.7001 B=2.16.840.1.113883.3.7002
C=2.16.840.1.113883.3.7003 D=2.16.840.1.113883.3.7004
"$ctl" pki ca ca >/dev/null
for n in r:$R a:$A b:$B c:$C d:$D; do
    eval "ipn=\$ip_${n%%:*}"
    "$ctl" pki issue --ca ca --org "${n#*:}" --cn "${n%%:*}.region.test" --ip "$ipn" \
        --out "${n%%:*}" >/dev/null
done
"$ctl" pki linkage-key key.hex >/dev/null

# conf NAME ORG [role]: a node listening on its namespace's address, port 7443.
conf() {
    eval "ipn=\$ip_$1"
    printf '[node]\norg_id = %s\nstore = %s/s%s\nworkers = 1\n%s\n[tls]\ncertificate = %s/%s.pem\nkey = %s/%s.key\nca = %s/ca/ca.pem\n[listen]\npeer = %s:7443\n' \
        "$2" "$tmp" "$1" "${3:+role = $3}" "$tmp" "$1" "$tmp" "$1" "$tmp" "$ipn" >"$1.conf"
    [ -n "${3:-}" ] || printf '[rls]\nendpoints = https://%s:7443\nlinkage_key = %s/key.hex\n' \
        "$ip_r" "$tmp" >>"$1.conf"
}
run_in() { # NAME: start hiepeerd in its namespace
    ip netns exec "$tag$1" "$hiepeerd" -c "$1.conf" </dev/null >/dev/null 2>"$1.log" &
    pids="$pids $!"
    eval "pid_$1=\$!"
    n=0
    until [ -s "s$1/hiepeerd.state" ]; do
        n=$((n + 1)); [ $n -lt 100 ] || { cat "$1.log"; exit 1; }
        sleep 0.1
    done
}

"$ctl" --store sr init --org "$R" >/dev/null
for n in a:$A b:$B c:$C d:$D; do
    "$ctl" --store sr peer add --org "${n#*:}" --name "${n%%:*}" --url https://127.0.0.1:1 \
        --cert "${n%%:*}.pem" --ca ca/ca.pem >/dev/null
done
conf r "$R" rls
run_in r
for n in b:$B c:$C d:$D; do
    x=${n%%:*}
    "$ctl" --store "s$x" init --org "${n#*:}" >/dev/null
    "$ctl" --store "s$x" patient add --id "K$x" --family Smith --given Katherine \
        --birth-date 1980-03-04 --sex female >/dev/null
    conf "$x" "${n#*:}"
    printf 'Note %s\n' "$x" >"doc$x.txt"
    "$ctl" --config "$x.conf" doc import --patient "K$x" --file "doc$x.txt" --type 11506-3 \
        --title "Note $x" >/dev/null
    "$ctl" --store "s$x" peer add --org "$R" --name RLS --url "https://$ip_r:7443" --cert r.pem \
        --ca ca/ca.pem --role rls >/dev/null
    "$ctl" --store "s$x" peer add --org "$A" --name A --url https://127.0.0.1:1 --cert a.pem \
        --ca ca/ca.pem >/dev/null
    run_in "$x"
done
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store sa peer add --org "$R" --name RLS --url "https://$ip_r:7443" --cert r.pem \
    --ca ca/ca.pem --role rls >/dev/null
for n in b:$B c:$C d:$D; do
    eval "ipn=\$ip_${n%%:*}"
    "$ctl" --store sa peer add --org "${n#*:}" --name "${n%%:*}" --url "https://$ipn:7443" \
        --cert "${n%%:*}.pem" --ca ca/ca.pem >/dev/null
done
conf a "$A"
published() {
    for x in b c d; do
        "$ctl" --config "$x.conf" --json status | python3 -c 'import json,sys
r = json.load(sys.stdin)["rls"][0]
sys.exit(0 if r["publications_waiting"] == 0 and r["changes_to_prepare"] == 0 else 1)' || return 1
    done
}
within 20000 published >/dev/null || fail "the holders did not publish across namespaces"

query() { # OUT: from A's namespace
    ip netns exec "${tag}a" "$ctl" --config a.conf --json query --family Smith --given Katherine \
        --birth-date 1980-03-04 --sex female --purpose treatment --timeout 1500 --no-cache >"$1"
}
statuses() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
st = {o["org_id"]: o["status"] for o in d["organisations"]}
print(" ".join(st.get(o, "-") for o in sys.argv[2:]), d["ms"])' "$1" "$B" "$C" "$D"
}
query q1.json || fail "query across namespaces: exit $?"
set -- $(statuses q1.json)
[ "$1 $2 $3" = "ok ok ok" ] || fail "across namespaces: B C D = $1 $2 $3"

# D cut off the network while the region runs.
ip link set "${tag}d" down
query q2.json || fail "query with D cut off: exit $?"
set -- $(statuses q2.json)
echo "D cut off: B $1, C $2, D $3, the query took $4 ms (deadline 1500)"
[ "$1 $2 $3" = "ok ok timeout" ] || fail "with D cut off: B C D = $1 $2 $3"
[ "$4" -le 1550 ] || fail "the query took $4 ms for a 1500 ms deadline"
ip link set "${tag}d" up
ms=$(within 5000 sh -c "ip netns exec ${tag}a '$ctl' --config a.conf --json query --family Smith --given Katherine --birth-date 1980-03-04 --sex female --purpose treatment --timeout 1500 --no-cache | grep -c '\"status\":	\"ok\"' | grep -qx 3") ||
    fail "D not found again $ms ms after its link came back"
for x in r b c d; do eval "kill -0 \$pid_$x" || fail "node $x died"; done
lib_done test_netns
