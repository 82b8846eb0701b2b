#!/bin/sh
# tests/bench/bench_fanout.sh N [ROUNDS]: the cross-organisation query to N peer nodes on
# loopback (each its own hiepeerd process holding the patient and a 1 KB document), against a
# libcurl-multi client calling N nginx mTLS endpoints (one nginx, N ports) that serve the very
# bytes our nodes answer. Normally run as `deploy/bench.sh fanout-10` or `fanout-50`.
# Warm rounds are also measured, for reading, against N nginx processes of one port each
# (the process topology of our nodes).
# Prints the warm, cold and stalled measures; last line:
#   fanout-N: ratio R (ours p99 X ms, anchor p99 Y ms) target <= 1.5
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${HX_BENCH_BUILD_DIR:-$root/build-bench}
ctl=$build/node/ctl/hiepeerctl
daemon=$build/node/daemon/hiepeerd
load=$build/tests/bench/bench_load
fan=$build/tests/bench/bench_fanout
n=${1:?usage: bench_fanout.sh N [ROUNDS]}
rounds=${2:-200}
A=2.16.840.1.113883.3.7001

for f in "$ctl" "$daemon" "$load" "$fan"; do
    [ -x "$f" ] || { echo "fanout: $f is missing (deploy/bench.sh builds it)" >&2; exit 1; }
done
command -v nginx >/dev/null || { echo "fanout: nginx is not installed (deploy/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d "${HX_BENCH_DIR:-/var/tmp}/hx-bench-fanout.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for f in "$tmp"/nginx*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done || true
    sleep 0.5
    rm -rf "$tmp"
}
trap cleanup EXIT
# dash runs the EXIT trap on exit only: make a signal an exit (nginx daemonises).
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$tmp"

echo "fanout-$n: $n peer nodes on loopback..."
"$ctl" pki ca ca >/dev/null
"$ctl" pki issue --ca ca --org "$A" --cn localhost --dns localhost --ip 127.0.0.1 --out a >/dev/null
head -c 1024 /dev/zero | tr '\0' 'x' >doc.txt
"$ctl" --store sa init --org "$A" >/dev/null
"$ctl" --store ss init --org "$A" >/dev/null # the same node, with one peer stalled
i=1
while [ $i -le "$n" ]; do
    org=2.16.840.1.113883.3.$((8000 + i))
    "$ctl" pki issue --ca ca --org "$org" --cn localhost --dns localhost --ip 127.0.0.1 --out "n$i" >/dev/null
    "$ctl" --store "s$i" init --org "$org" >/dev/null
    "$ctl" --store "s$i" patient add --id K1 --family Smith --given Katherine \
        --birth-date 1980-03-04 --sex female >/dev/null
    "$ctl" --store "s$i" doc import --patient K1 --file doc.txt --type 11506-3 --title Note >/dev/null
    "$ctl" --store "s$i" peer add --org "$A" --name A --url https://localhost:1 --cert a.pem \
        --ca ca/ca.pem >/dev/null
    printf '[node]\norg_id = %s\nstore = %s/s%s\nworkers = 1\n[tls]\ncertificate = %s/n%s.pem\nkey = %s/n%s.key\nca = %s/ca/ca.pem\n[listen]\npeer = 127.0.0.1:0\n' \
        "$org" "$tmp" "$i" "$tmp" "$i" "$tmp" "$i" "$tmp" >"n$i.conf"
    "$daemon" -c "n$i.conf" </dev/null >/dev/null 2>"n$i.log" &
    pids="$pids $!"
    i=$((i + 1))
done
i=1
while [ $i -le "$n" ]; do
    org=2.16.840.1.113883.3.$((8000 + i))
    k=0
    until [ -s "s$i/hiepeerd.state" ]; do k=$((k + 1)); [ $k -lt 200 ] || { cat "n$i.log"; exit 1; }; sleep 0.05; done
    port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' "s$i/hiepeerd.state")
    eval "port_$i=$port"
    "$ctl" --store sa peer add --org "$org" --name "n$i" --url "https://localhost:$port" \
        --cert "n$i.pem" --ca ca/ca.pem >/dev/null
    if [ $i -lt "$n" ]; then
        "$ctl" --store ss peer add --org "$org" --name "n$i" --url "https://localhost:$port" \
            --cert "n$i.pem" --ca ca/ca.pem >/dev/null
    fi
    i=$((i + 1))
done
# The stalled peer: accepts connections, never answers.
python3 "$root/tests/integration/silent_peer.py" silent.port </dev/null >/dev/null 2>&1 &
pids="$pids $!"
k=0
until [ -s silent.port ]; do k=$((k + 1)); [ $k -lt 100 ] || exit 1; sleep 0.05; done
"$ctl" --store ss peer add --org "2.16.840.1.113883.3.$((8000 + n))" --name stalled \
    --url "https://localhost:$(cat silent.port)" --cert "n$n.pem" --ca ca/ca.pem >/dev/null
for s in a:sa s:ss; do
    printf '[node]\norg_id = %s\nstore = %s/%s\n[tls]\ncertificate = %s/a.pem\nkey = %s/a.key\nca = %s/ca/ca.pem\n' \
        "$A" "$tmp" "${s#*:}" "$tmp" "$tmp" "$tmp" >"${s%%:*}.conf"
done

# The bytes the nodes answer, for nginx to serve.
python3 - <<'PY'
def v(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def f(num, wire, payload):
    key = v(num << 3 | wire)
    return key + (v(len(payload)) + payload if wire == 2 else v(payload))
name = f(2, 2, b"Smith") + f(3, 2, b"Katherine")
demo = f(1, 2, name) + f(2, 2, b"1980-03-04") + f(3, 0, 1)
open("discover.req", "wb").write(f(1, 2, demo) + f(2, 0, 1))
open("query.req", "wb").write(f(1, 2, b"K1") + f(7, 0, 1))
PY
mkdir -p www/hie/v1/patients www/hie/v1/documents
# shellcheck disable=SC2154 # port_1 is set by the eval above
common="--host 127.0.0.1 --port $port_1 --servername localhost --cert a.pem --key a.key --ca ca/ca.pem --mode keepalive --conns 1 --requests 1 --method POST --content-type application/x-protobuf"
# shellcheck disable=SC2086
"$load" $common --path /hie/v1/patients/discover --body discover.req --save-body www/hie/v1/patients/discover >/dev/null
# shellcheck disable=SC2086
"$load" $common --path /hie/v1/documents/query --body query.req --save-body www/hie/v1/documents/query >/dev/null
# 2N distinct free ports, taken at once (one at a time, the kernel may hand out one twice).
free_ports=$(python3 -c 'import socket,sys
ss = [socket.socket() for _ in range(2 * int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$n")
# shellcheck disable=SC2086 # the ports are words
single_ports=$(echo $free_ports | cut -d' ' -f1-"$n")
# shellcheck disable=SC2086
process_ports=$(echo $free_ports | cut -d' ' -f$((n + 1))-)
# The anchor: one nginx (one worker process) serving N ports. Also measured, for reading: N
# nginx instances of one process and one port each, the process topology of our N nodes.
nginx_conf() { # CONF PID FIRST_INDEX PORTS...
    conf=$1 pidf=$2 k=$3; shift 3
    {
        echo "worker_processes 1; daemon on; pid $pidf; error_log $tmp/nginx-error.log warn;"
        [ "$(id -u)" -ne 0 ] || echo "user root;"
        echo "events { worker_connections 4096; }"
        echo "http { access_log off; types { } default_type application/x-protobuf;"
        echo "  client_body_temp_path $tmp/nb; proxy_temp_path $tmp/np; fastcgi_temp_path $tmp/nf; uwsgi_temp_path $tmp/nu; scgi_temp_path $tmp/ns;"
        echo "  keepalive_requests 1000000; keepalive_timeout 300s;"
        for p in "$@"; do
            echo "  server { listen 127.0.0.1:$p ssl; server_name localhost; root $tmp/www;"
            echo "    ssl_certificate $tmp/n$k.pem; ssl_certificate_key $tmp/n$k.key;"
            echo "    ssl_client_certificate $tmp/ca/ca.pem; ssl_verify_client on; ssl_protocols TLSv1.2 TLSv1.3;"
            echo "    location / { error_page 405 =200 \$uri; } }"
            k=$((k + 1))
        done
        echo "}"
    } >"$conf"
}
echo "$single_ports" | tr ' ' ',' >ports.txt
# shellcheck disable=SC2086 # the ports are words
nginx_conf nginx.conf "$tmp/nginx.pid" 1 $single_ports
nginx -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log"
i=1
for p in $process_ports; do
    nginx_conf "nginx$i.conf" "$tmp/nginx$i.pid" "$i" "$p"
    nginx -p "$tmp/" -c "$tmp/nginx$i.conf" -e "$tmp/nginx-error.log"
    i=$((i + 1))
done
HX_FANOUT_PROCESS_PORTS=$(echo "$process_ports" | tr ' ' ',')
export HX_FANOUT_PROCESS_PORTS
sleep 0.5
${HX_BENCH_WRAP:-} "$fan" a.conf "$rounds" "$(cat ports.txt)" ca/ca.pem a.pem a.key discover.req query.req s.conf \
    >out.txt || { cat out.txt; exit 1; }
# The peers run as shipped, at the default log level (info), which logs no line per request.
sed '$d' out.txt
echo "fanout-$n: the peers' logs at their default level (info): $(cat n*.log | wc -l) line(s) for the whole run"
tail -n 1 out.txt
