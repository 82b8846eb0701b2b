#!/bin/sh
# tests/bench/bench_tls.sh NAME [ROUNDS [SECONDS]]: the transport benchmarks, against nginx.
#
#   retrieve-1k    warm keep-alive POST /hie/v1/documents/retrieve of a 1 KB document:
#                  server CPU us per request, ours / nginx, target <= 1.0
#   retrieve-100k  the same with a 100 KB document
#   locate-mtls    keep-alive POST /hie/v1/rls/locate of 10 tokens to an RLS (a locator of
#                  200,000 tokens): requests per server CPU-second, ours / nginx, target >= 0.8
#   handshake      new mTLS connection + GET /hie/v1/health + close: connections per server
#                  CPU-second, ours / nginx, target >= 1.0
#   resume         the same, each connection resuming the previous session of its slot:
#                  target >= 2.0 x nginx with its default session tickets
#
# Normally run as `deploy/bench.sh NAME`, which builds bench_load, bench_mkreq, hiepeerctl and
# hiepeerd into $HX_BENCH_BUILD_DIR first. Per run: a throw-away PKI (openssl CLI, ECDSA
# P-256), a store holding one document, hiepeerd (workers = 1) and nginx-light (one worker)
# with the same certificates, both on core 0 and serving the same response bytes; the load
# (bench_load) on core 1. Rounds alternate the two servers (nginx first in odd rounds, ours
# first in even ones); each run is a warm-up then a measured part, over which bench_load
# reads the server's utime + stime from /proc/PID/stat. The medians of the rounds give the
# last line:  NAME: ratio R (ours X UNIT, anchor Y UNIT) target <= T   (or >= T)
#
# Environment: HX_BENCH_BUILD_DIR (build-bench), HX_BENCH_DIR (/var/tmp: where the run's
# temporary directory goes), HX_BENCH_TLS (1.3 or 1.2), HX_BENCH_CONNS (per benchmark),
# HX_BENCH_WARMUP (1 s), HX_BENCH_SERVER_CPU (0), HX_BENCH_LOAD_CPU (1), HX_BENCH_KEEP=1
# (keep the temporary directory), HX_BENCH_ANCHOR_GET=1 (retrieve: GET the file from nginx
# instead of POSTing the request body to it; see nginx.conf.in).
set -eu

ORG=2.16.840.1.113883.3.7001        # the node and its certificate
CLIENT_ORG=2.16.840.1.113883.3.7002 # the load tool's certificate, enrolled as a peer
DOC_TYPE=11506-3                    # LOINC progress note

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${HX_BENCH_BUILD_DIR:-$root/build-bench}
load=$build/tests/bench/bench_load
mkreq=$build/tests/bench/bench_mkreq
ctl=$build/node/ctl/hiepeerctl
daemon=$build/node/daemon/hiepeerd

usage() {
	echo "usage: bench_tls.sh retrieve-1k|retrieve-100k|handshake|resume|locate-mtls [ROUNDS [SECONDS]]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
name=$1
rounds=${2:-5}
secs=${3:-5}
warmup=${HX_BENCH_WARMUP:-1}
tls=${HX_BENCH_TLS:-1.3}
server_cpu=${HX_BENCH_SERVER_CPU:-0}
load_cpu=${HX_BENCH_LOAD_CPU:-1}

# Per benchmark: load mode, connections, request, and how the figure compares.
case "$name" in
retrieve-1k | retrieve-100k)
	mode=keepalive
	conns=${HX_BENCH_CONNS:-16}
	method=POST
	path=/hie/v1/documents/retrieve
	if [ "$name" = retrieve-1k ]; then doc_size=1024; else doc_size=102400; fi
	unit=us/req
	cmp='≤'
	target=1.0
	;;
locate-mtls)
	# The record locator over mutual TLS keep-alive: a locate of 10 tokens against a locator
	# of 200,000 tokens; requests per server CPU-second. nginx serves our answer's bytes
	# (under 1 KB: a little less work for it than the 1 KB the issue names).
	mode=keepalive
	conns=${HX_BENCH_CONNS:-16}
	method=POST
	path=/hie/v1/rls/locate
	doc_size=0
	unit=req/cpu-s
	cmp='≥'
	target=0.8
	;;
handshake | resume)
	if [ "$name" = handshake ]; then mode=connect; target=1.0; else mode=resume; target=2.0; fi
	conns=${HX_BENCH_CONNS:-8}
	method=GET
	path=/hie/v1/health
	doc_size=1024
	unit=conn/cpu-s
	cmp='≥'
	;;
*) usage ;;
esac
case "$rounds$secs" in *[!0-9]*) usage ;; esac
if [ "$rounds" -lt 1 ] || [ "$secs" -lt 1 ]; then usage; fi

say() { printf '%s\n' "$*"; }
die() {
	say "$name: $*" >&2
	exit 1
}

for f in "$load" "$mkreq" "$ctl" "$daemon"; do
	[ -x "$f" ] || die "$f is missing: build it first (deploy/bench.sh $name does)"
done
for t in openssl nginx taskset python3 pgrep; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed (deploy/install-deps.sh)"
done
if [ "$(nproc)" -lt 2 ]; then
	say "$name: WARNING: $(nproc) CPU: server and load share a core; figures are not comparable"
fi

# ---- the run's directory and cleanup ------------------------------------------------------

tmp=""
nginx_pid=""
nginx_worker=""
nginx_port=""
node_pid=""
node_port=""
# Per-round figures of each side, appended to through eval in run_one.
# shellcheck disable=SC2034
anchor_fig="" anchor_rps="" anchor_p50="" anchor_p99=""
# shellcheck disable=SC2034
ours_fig="" ours_rps="" ours_p50="" ours_p99=""

stop_pid() { # PID: TERM, up to 5 s, then KILL
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	stop_pid "$node_pid"
	stop_pid "$nginx_pid"
	stop_pid "$nginx_worker"
	if [ -n "$tmp" ]; then
		if [ -n "${HX_BENCH_KEEP:-}" ]; then say "$name: kept $tmp"; else rm -rf "$tmp"; fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base=${HX_BENCH_DIR:-/var/tmp}
tmp=$(mktemp -d "$base/hx-bench-tls.XXXXXX")
pki=$tmp/pki
www=$tmp/www
store=$tmp/store
mkdir -p "$pki" "$www/hie/v1/documents"

# ---- PKI: a CA, a server and a client certificate, ECDSA P-256 ---------------------------

make_pki() {
	cat >"$pki/ext.cnf" <<-EOF
		[ca]
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		subjectKeyIdentifier = hash
		[server]
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = serverAuth,clientAuth
		subjectAltName = DNS:localhost,IP:127.0.0.1,URI:urn:oid:$ORG
		authorityKeyIdentifier = keyid
		[client]
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = serverAuth,clientAuth
		subjectAltName = URI:urn:oid:$CLIENT_ORG
		authorityKeyIdentifier = keyid
	EOF
	for k in ca server client; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$k.key" \
			2>/dev/null
	done
	openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=hiepeer bench CA" -days 2 \
		-config "$pki/ext.cnf" -extensions ca -out "$pki/ca.pem" 2>/dev/null
	for k in server client; do
		if [ $k = server ]; then cn=localhost; o=$ORG; else cn=bench-client; o=$CLIENT_ORG; fi
		openssl req -new -key "$pki/$k.key" -subj "/O=$o/CN=$cn" -out "$pki/$k.csr" \
			2>/dev/null
		openssl x509 -req -in "$pki/$k.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$pki/ext.cnf" \
			-extensions $k -out "$pki/$k.pem" 2>/dev/null
		openssl verify -CAfile "$pki/ca.pem" "$pki/$k.pem" >/dev/null ||
			die "the $k certificate does not verify against the run's CA"
	done
}

# ---- the node's store and document --------------------------------------------------------

# ==== DOCUMENT LOADING ======================================================================
# load_document SIZE: put a document of exactly SIZE bytes into $store (hiepeerctl patient add
# + doc import); sets doc_id and doc_bytes. Fallback for a hiepeerctl without `doc import`:
# `demo-data --doc-size`, whose documents are only roughly that size (C-CDA headers make a
# "1K" document about 5 KB); the run says which it used. Both servers serve the same bytes
# either way, so the comparison is fair; only the size in the name is off.
load_document() {
	if "$ctl" --help 2>&1 | grep -q 'doc import'; then
		pat=BENCH1
		if "$ctl" --help 2>&1 | grep -q 'patient add'; then
			"$ctl" --store "$store" patient add --id "$pat" --family Bench --given Load \
				--birth-date 1970-01-01 --sex female >/dev/null
		else
			"$ctl" --store "$store" demo-data --persons 1 --docs 0 >/dev/null
			pat=$("$ctl" --store "$store" --json patient list |
				python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
		fi
		python3 -c 'import sys
n = int(sys.argv[1]); line = b"Progress note: stable, continue the current plan.\n"
sys.stdout.buffer.write((line * (n // len(line) + 1))[:n])' "$1" >"$tmp/doc.txt"
		"$ctl" --store "$store" doc import --patient "$pat" --file "$tmp/doc.txt" \
			--type "$DOC_TYPE" --title "Progress note" >/dev/null ||
			die "hiepeerctl doc import failed"
		doc_note="hiepeerctl doc import"
	else
		"$ctl" --store "$store" demo-data --persons 1 --docs 1 --doc-size "$1" >/dev/null
		doc_note="FALLBACK: demo-data --doc-size $1, no 'hiepeerctl doc import'"
		pat=$("$ctl" --store "$store" --json patient list |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
	fi
	# The patient's document closest to SIZE: "ID BYTES".
	# shellcheck disable=SC2046 # two words, split on purpose
	set -- $("$ctl" --store "$store" --json doc list "$pat" | python3 -c 'import json,sys
want = int(sys.argv[1])
d = min(json.load(sys.stdin), key=lambda e: abs(int(e["size"]) - want))
print(d["id"], d["size"])' "$1")
	doc_id=$1
	doc_bytes=$2
}
# ============================================================================================

make_store() {
	"$ctl" --store "$store" init --org "$ORG" >/dev/null
	if [ "$name" = locate-mtls ]; then
		mkdir -p "$www/hie/v1/rls"
		"$mkreq" locator "$store" 200000 "$tmp/retrieve.req"
		"$mkreq" health "$ORG" "$www/hie/v1/health"
		: >"$www$path" # filled with our answer by check_node_bytes
		doc_id=- doc_bytes=0 doc_note="a locator of 200,000 tokens"
		return 0
	fi
	load_document "$doc_size"
	"$mkreq" request "$doc_id" "$tmp/retrieve.req"
	"$mkreq" response "$store" "$doc_id" "$www/hie/v1/documents/retrieve"
	"$mkreq" health "$ORG" "$www/hie/v1/health"
}

# ---- nginx ---------------------------------------------------------------------------------

free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_nginx() {
	user=""
	[ "$(id -u)" -ne 0 ] || user="user root;"
	nginx_port=$(free_port)
	sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$nginx_port|g" -e "s|@USER@|$user|" \
		"$here/nginx.conf.in" >"$tmp/nginx.conf"
	taskset -c "$server_cpu" nginx -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" \
		>"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	i=0
	while [ -z "$nginx_worker" ]; do
		if ! kill -0 "$nginx_pid" 2>/dev/null; then
			cat "$tmp/nginx.out" "$tmp/nginx-error.log" >&2 2>/dev/null || true
			nginx_pid=""
			die "nginx did not start (its output is above)"
		fi
		[ $i -lt 100 ] || die "nginx started no worker within 10 s"
		sleep 0.1
		i=$((i + 1))
		nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1) || true
	done
}

# ---- ours: hiepeerd ------------------------------------------------------------------------

ours_missing=""
missing() { ours_missing="${ours_missing:+$ours_missing; }$*"; }

# Enrol the load tool's certificate as a peer (hiepeerctl peer add, being added).
enrol_client() {
	if ! "$ctl" --help 2>&1 | grep -q 'peer add'; then
		missing "'hiepeerctl peer add' does not exist yet (the client cannot be enrolled)"
		return 0
	fi
	if ! "$ctl" --store "$store" peer add --org "$CLIENT_ORG" --name bench \
		--url https://127.0.0.1:1 --cert "$pki/client.pem" --ca "$pki/ca.pem" >"$tmp/peer-add.out" 2>&1; then
		missing "'hiepeerctl peer add' failed: $(tr '\n' ' ' <"$tmp/peer-add.out")"
	fi
}

write_node_conf() { # [STATE_LINE]
	cat >"$tmp/hiepeerd.conf" <<-EOF
		[node]
		org_id = $ORG
		store = $store
		workers = 1
		$1

		[tls]
		certificate = $pki/server.pem
		key = $pki/server.key
		ca = $pki/ca.pem

		[listen]
		peer = 127.0.0.1:0
	EOF
}

start_node() {
	state=$tmp/hiepeerd.state
	if [ "$name" = locate-mtls ]; then
		write_node_conf "state = $state
role = rls"
	else
		write_node_conf "state = $state"
	fi
	if ! "$daemon" -n -c "$tmp/hiepeerd.conf" >"$tmp/hiepeerd.check" 2>&1; then
		if grep -q "unknown key 'state'" "$tmp/hiepeerd.check"; then
			# Before [node] state existed: the default place.
			state=$store/hiepeerd.state
			write_node_conf ""
		fi
		if ! "$daemon" -n -c "$tmp/hiepeerd.conf" >"$tmp/hiepeerd.check" 2>&1; then
			missing "hiepeerd refuses the configuration: $(tr '\n' ' ' <"$tmp/hiepeerd.check")"
			return 0
		fi
	fi
	taskset -c "$server_cpu" "$daemon" -c "$tmp/hiepeerd.conf" >"$tmp/hiepeerd.out" 2>&1 &
	node_pid=$!
	i=0
	while ! grep -q '^peer *=' "$state" 2>/dev/null; do
		if ! kill -0 "$node_pid" 2>/dev/null; then
			wait "$node_pid" && st=0 || st=$?
			node_pid=""
			missing "hiepeerd exited (status $st) before writing its state file $state:" \
				"$(tail -n 3 "$tmp/hiepeerd.out" | tr '\n' ' ')"
			return 0
		fi
		if [ $i -ge 100 ]; then
			missing "hiepeerd runs but wrote no 'peer = ADDR' to its state file $state" \
				"within 10 s: no TLS peer listener yet"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	addr=$(sed -n 's/^peer *= *//p' "$state" | head -n 1)
	node_port=${addr##*:}
	pid=$(sed -n 's/^pid *= *//p' "$state" | head -n 1)
	[ -z "$pid" ] || [ "$pid" = "$node_pid" ] ||
		say "$name: note: the state file's pid $pid is not the started $node_pid; using it"
	node_pid=${pid:-$node_pid}
}

# The node answers one request; its body must be the bytes nginx serves. If they differ,
# nginx is given the node's bytes (before it starts), so both serve the same thing.
check_node_bytes() {
	file=$www$path
	# shellcheck disable=SC2046 # common_args is split on purpose
	if ! taskset -c "$load_cpu" "$load" $(common_args "$node_port") --mode keepalive \
		--conns 1 --requests 1 --save-body "$tmp/ours.body" >/dev/null 2>"$tmp/check.err"; then
		missing "hiepeerd does not answer $method $path: $(head -n 3 "$tmp/check.err" |
			tr '\n' ' ')"
		return 0
	fi
	if ! cmp -s "$tmp/ours.body" "$file"; then
		say "$name: note: the node's $path body ($(wc -c <"$tmp/ours.body") bytes) differs" \
			"from the one made from the store ($(wc -c <"$file") bytes); nginx serves the" \
			"node's"
		cp "$tmp/ours.body" "$file"
	fi
}

# ---- measurement ---------------------------------------------------------------------------

# Arguments every bench_load run shares (paths come from mktemp: no spaces).
common_args() { # PORT [METHOD]
	m=${2:-$method}
	echo "--host 127.0.0.1 --port $1 --servername localhost --cert $pki/client.pem" \
		"--key $pki/client.key --ca $pki/ca.pem --tls $tls --method $m --path $path" \
		"$([ "$m" = POST ] && echo "--body $tmp/retrieve.req" \
			"--content-type application/x-protobuf")"
}

field() { # NAME: a key=value field of $out
	printf '%s\n' "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# run_one anchor|ours: one measured run; appends to that side's lists and prints a summary.
run_one() {
	who=$1
	if [ "$who" = anchor ]; then
		port=$nginx_port
		pids=$nginx_pid,$nginx_worker
		m=$anchor_method
	else
		port=$node_port
		pids=$node_pid
		m=$method
	fi
	# shellcheck disable=SC2046 # common_args is split on purpose
	if ! out=$(taskset -c "$load_cpu" "$load" $(common_args "$port" "$m") --mode "$mode" \
		--conns "$conns" --warmup "$warmup" --duration "$secs" --cpu-pid "$pids" \
		--expect-bytes "$(wc -c <"$www$path")" \
		2>"$tmp/load.err"); then
		cat "$tmp/load.err" >&2
		die "the load against $who failed (round $r): $out"
	fi
	[ ! -s "$tmp/load.err" ] || sed "s/^/  $who: /" "$tmp/load.err"
	cpu=$(field cpu_us_per_req)
	if [ "$unit" = us/req ]; then fig=$cpu; else fig=$(awk -v c="$cpu" 'BEGIN {
		printf "%.0f", (c > 0 ? 1e6 / c : 0) }'); fi
	eval "${who}_fig=\"\$${who}_fig $fig\" ${who}_rps=\"\$${who}_rps $(field rps)\""
	eval "${who}_p50=\"\$${who}_p50 $(field p50_us)\" ${who}_p99=\"\$${who}_p99 $(field p99_us)\""
	extra=""
	[ "$mode" != resume ] || extra=", resumed $(field resumed)/$(field handshakes)"
	printf '  %-6s %s %s, %.0f req/s, p50 %s us, p99 %s us, server CPU %s%%, load CPU %s%%%s\n' \
		"$who" "$fig" "$unit" "$(field rps)" "$(field p50_us)" "$(field p99_us)" \
		"$(field server_cpu_pct)" "$(field client_cpu_pct)" "$extra"
}

# Figures as printed: us/req with 2 decimals, conn/cpu-s and the rest whole.
fmt() { # UNIT VALUE
	if [ "$1" = us/req ]; then printf '%.2f' "$2"; else printf '%.0f' "$2"; fi
}

median() { # "X Y Z ..."
	printf '%s\n' "$1" | tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END {
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

summary() { # anchor|ours LABEL
	f="" rps="" p50="" p99=""
	eval "f=\$${1}_fig rps=\$${1}_rps p50=\$${1}_p50 p99=\$${1}_p99"
	printf '  %-26s %s %s, %.0f req/s, p50 %.0f us, p99 %.0f us\n' "$2:" \
		"$(fmt "$unit" "$(median "$f")")" "$unit" "$(median "$rps")" "$(median "$p50")" \
		"$(median "$p99")"
}

# ---- the run -------------------------------------------------------------------------------

make_pki
make_store
say "$name: $mode, $conns connections, TLS $tls, $rounds rounds of ${warmup}s warm-up +" \
	"${secs}s; server on CPU $server_cpu, load on CPU $load_cpu"
say "$name: document $doc_id, $doc_bytes bytes ($doc_note)"
enrol_client
start_node
[ -z "$node_port" ] || check_node_bytes
start_nginx
anchor_method=$method
if [ -n "${HX_BENCH_ANCHOR_GET:-}" ]; then
	anchor_method=GET
	say "$name: HX_BENCH_ANCHOR_GET: the anchor is asked with GET (no request body)"
fi
say "$name: $method $path answers $(wc -c <"$www$path") bytes; anchor $(nginx -v 2>&1 |
	sed 's/.*: //') on port $nginx_port, ours hiepeerd${node_port:+ on port $node_port}"
if [ -n "$ours_missing" ]; then
	say "$name: OURS IS NOT MEASURED: $ours_missing"
	say "$name: measuring the anchor alone"
fi

r=1
while [ $r -le "$rounds" ]; do
	say "round $r:"
	if [ -n "$ours_missing" ]; then
		run_one anchor
	elif [ $((r % 2)) -eq 1 ]; then
		run_one anchor
		run_one ours
	else
		run_one ours
		run_one anchor
	fi
	r=$((r + 1))
done

say "medians of $rounds rounds:"
summary anchor "anchor (nginx, 1 worker)"
a=$(fmt "$unit" "$(median "$anchor_fig")")
if [ -n "$ours_missing" ]; then
	say "$name: OURS IS NOT MEASURED: $ours_missing"
	say "$name: ratio unavailable (ours not measured, anchor $a $unit) target $cmp $target"
	exit 1
fi
summary ours "ours (hiepeerd, workers 1)"
o=$(fmt "$unit" "$(median "$ours_fig")")
ratio=$(awk -v o="$o" -v a="$a" 'BEGIN { printf "%.2f", (a > 0 ? o / a : 0) }')
say "$name: ratio $ratio (ours $o $unit, anchor $a $unit) target $cmp $target"
