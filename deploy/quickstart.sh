#!/bin/sh
# Quickstart: install dependencies, build (Release), and bring up a demo region on loopback
# with a throw-away PKI: a record locator (RLS) and three hospitals, each holding synthetic
# patients (the same people, recorded differently at each). The hospitals publish their
# patients' tokens to the RLS; St Mary then finds one of its patients' documents at the other
# hospitals with a cross-organisation query, and retrieves one over mutual TLS.
#
#   deploy/quickstart.sh          # build, set up, start the four nodes, run the query
#   deploy/quickstart.sh stop     # stop the nodes the quickstart started
#
# Settings: HX_DEMO_DIR (the region's folder, default demo/), HX_BUILD_DIR (where to build,
# default build-release/), HX_PREBUILT=DIR (use the hiepeerctl and hiepeerd already built in
# the build tree DIR: no packages installed, nothing built; the tests use it).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${HX_BUILD_DIR:-$root/build-release}
demo=${HX_DEMO_DIR:-$root/demo}
R=2.16.840.1.113883.3.7000 # the region's record locator
A=2.16.840.1.113883.3.7001 # St Mary Hospital, which asks
B=2.16.840.1.113883.3.7002 # General Hospital
C=2.16.840.1.113883.3.7003 # Lakeside Hospital
# name:org:display name, the RLS first
NODES="rls:$R:Region RLS
st-mary:$A:St Mary Hospital
general:$B:General Hospital
lakeside:$C:Lakeside Hospital"
HOSPITALS="st-mary general lakeside"

# field NAME N: the Nth field (1 name, 2 org, 3 display name) of node NAME in NODES.
field() { echo "$NODES" | awk -F: -v n="$1" -v f="$2" '$1 == n { print $f }'; }

# q WORD: WORD, quoted for a shell when it needs to be.
q() {
    case $1 in
    *[!A-Za-z0-9._/:-]*) printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf %s "$1" ;;
    esac
}

# stop_nodes: stop every node whose state file the region's folder holds (st-mary alone was
# the previous quickstart's): all signalled at once, then up to 10 s for them to exit.
stop_nodes() {
    stopping=""
    for name in rls st-mary general lakeside; do
        state="$demo/$name/hiepeerd.state"
        [ -f "$state" ] || continue
        pid=$(sed -n 's/^pid = //p' "$state")
        if [ -n "$pid" ] && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = hiepeerd ]; then
            kill -TERM "$pid" 2>/dev/null || true
            stopping="$stopping $name:$pid"
        else
            rm -f "$state"
        fi
    done
    for np in $stopping; do
        name=${np%%:*} pid=${np#*:}
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
            echo "quickstart: $(field "$name" 3) (pid $pid) did not stop within 10 s" >&2
            exit 1
        fi
        rm -f "$demo/$name/hiepeerd.state"
        echo "quickstart: stopped $(field "$name" 3) (pid $pid)"
    done
}

if [ "${1:-}" = "stop" ]; then
    stop_nodes
    exit 0
fi
[ $# -eq 0 ] || { echo "usage: deploy/quickstart.sh [stop]" >&2; exit 2; }

if [ -n "${HX_PREBUILT:-}" ]; then
    build=$HX_PREBUILT
else
    deploy/install-deps.sh
    echo "quickstart: building (Release) in $build"
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHX_TESTS=OFF >/dev/null
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target hiepeerctl hiepeerd >/dev/null
fi
ctl="$build/node/ctl/hiepeerctl"
hiepeerd="$build/node/daemon/hiepeerd"
for b in "$ctl" "$hiepeerd"; do
    [ -x "$b" ] || { echo "quickstart: $b is not built" >&2; exit 1; }
done

stop_nodes
case "$demo" in /|"$root"|"") echo "quickstart: refusing to use $demo as the demo folder" >&2; exit 1 ;; esac
# The region's stores, keys, queries and retrieved documents are its owner's alone (after
# the build and the package installation, which keep the system's umask).
umask 077
rm -rf "$demo"
mkdir -p "$demo/pki"

echo
echo "== a community CA, the region's linkage key, and a certificate for each node"
"$ctl" pki ca "$demo/pki/ca" --cn "Demo Region CA" >/dev/null
"$ctl" pki linkage-key "$demo/pki/linkage.key"
echo "$NODES" | while IFS=: read -r name org display; do
    "$ctl" pki issue --ca "$demo/pki/ca" --org "$org" --org-name "$display" --cn localhost \
        --dns localhost --ip 127.0.0.1 --out "$demo/pki/$name" >/dev/null
done
# St Mary's EHR: one of St Mary's own systems, a client of its node's local API.
"$ctl" pki issue --ca "$demo/pki/ca" --org "$(field st-mary 2)" --org-name "$(field st-mary 3)" \
    --cn st-mary-ehr --out "$demo/pki/st-mary-ehr" >/dev/null
"$ctl" cert show "$demo/pki/st-mary.pem" | head -6

# A free loopback port for each node, fixed in its configuration: the hospitals name the
# RLS's, and each other's, before they start, and a node restarted keeps its port.
ports=$(python3 -c 'import socket, sys
ss = [socket.socket() for _ in sys.argv[1:]]
for s in ss: s.bind(("127.0.0.1", 0))
for name, s in zip(sys.argv[1:], ss): print(name, s.getsockname()[1])' rls st-mary general lakeside st-mary-local)
port() { echo "$ports" | awk -v n="$1" '$1 == n { print $2 }'; }
url() { echo "https://localhost:$(port "$1")"; }

echo
echo "== four node stores; each hospital's synthetic patients (the same people, recorded differently)"
i=0
echo "$NODES" | while IFS=: read -r name org display; do
    {
        printf '[node]\norg_id = %s\nname = %s (demo)\n' "$org" "$display"
        [ "$name" != rls ] || echo "role = rls"
        printf 'store = %s\nworkers = 2\n\n' "$demo/$name"
        printf '[tls]\ncertificate = %s.pem\nkey = %s.key\nca = %s\n\n' "$demo/pki/$name" \
            "$demo/pki/$name" "$demo/pki/ca/ca.pem"
        printf '[listen]\npeer = 127.0.0.1:%s\n' "$(port "$name")"
        [ "$name" != st-mary ] || printf 'local = 127.0.0.1:%s\n' "$(port st-mary-local)"
        [ "$name" = rls ] ||
            printf '\n[rls]\nendpoints = %s\nlinkage_key = %s\n' "$(url rls)" "$demo/pki/linkage.key"
    } >"$demo/$name.conf"
    printf '%-9s ' "$name:"
    "$ctl" --store "$demo/$name" init --org "$org"
    if [ "$name" != rls ]; then
        # --config: the documents are signed by their origin, with its key.
        printf '%-9s ' "$name:"
        "$ctl" --config "$demo/$name.conf" demo-data --seed 42 --persons 300 --org-index $i \
            --org-count 3 --share 0.6 --docs 2
        i=$((i + 1))
    fi
    "$hiepeerd" -n -c "$demo/$name.conf" >/dev/null
done

echo
echo "== enrolment: the RLS enrols the three hospitals; each hospital the RLS and the other two"
enrol() { # STORE-NAME PEER-NAME ROLE
    "$ctl" --store "$demo/$1" peer add --org "$(field "$2" 2)" --name "$(field "$2" 3)" \
        --url "$(url "$2")" --cert "$demo/pki/$2.pem" --ca "$demo/pki/ca/ca.pem" --role "$3" \
        >/dev/null
}
for h in $HOSPITALS; do
    enrol rls "$h" node
    enrol "$h" rls rls
    for p in $HOSPITALS; do [ "$p" = "$h" ] || enrol "$h" "$p" node; done
done
"$ctl" --store "$demo/st-mary" peer list
echo "-- St Mary registers its EHR as a client of its node's local API"
"$ctl" --config "$demo/st-mary.conf" client add st-mary-ehr --cert "$demo/pki/st-mary-ehr.pem"

echo
echo "== starting the four nodes (logs: $demo/NAME.log)"
# The RLS first, listening before the hospitals start publishing to it (else each logs a
# first failed try and backs off a second); then the three hospitals together.
for name in rls $HOSPITALS; do
    "$hiepeerd" -c "$demo/$name.conf" </dev/null >/dev/null 2>"$demo/$name.log" &
    [ "$name" != rls ] || n=0
    while [ "$name" = rls ] && [ ! -s "$demo/rls/hiepeerd.state" ] && [ $n -lt 100 ]; do
        n=$((n + 1))
        sleep 0.1
    done
done
for name in rls $HOSPITALS; do
    n=0
    until [ -s "$demo/$name/hiepeerd.state" ]; do
        n=$((n + 1))
        if [ $n -ge 100 ]; then
            tail -20 "$demo/$name.log"
            echo "quickstart: $name's node did not start (its log: $demo/$name.log)" >&2
            exit 1
        fi
        sleep 0.1
    done
    printf '%-9s pid %s, %s\n' "$name:" "$(sed -n 's/^pid = //p' "$demo/$name/hiepeerd.state")" \
        "$(sed -n 's/^peer = /peer /p' "$demo/$name/hiepeerd.state")"
done

echo
echo "== each hospital publishes its patients' tokens to the RLS"
t0=$(date +%s)
for h in $HOSPITALS; do
    until "$ctl" --config "$demo/$h.conf" --json status | python3 -c 'import json, sys
r = json.load(sys.stdin)["rls"][0]
sys.exit(0 if r["publications_waiting"] == 0 and r["changes_to_prepare"] == 0 else 1)'; do
        if [ $(($(date +%s) - t0)) -ge 60 ]; then
            "$ctl" --config "$demo/$h.conf" status >&2 || true
            echo "quickstart: $h's publications did not reach the RLS within 60 s (log: $demo/$h.log)" >&2
            exit 1
        fi
        sleep 0.2
    done
    printf '%-9s ' "$h:"
    "$ctl" --config "$demo/$h.conf" status | sed -n 's/^rls  *//p'
done

# A patient of St Mary's, as they describe themselves (family, first given name, birth date,
# sex), who is also at General or Lakeside: the first of St Mary's patients found at both,
# else the first found at one. These searches leave nothing in the correlation cache
# (--no-cache), so that the query shown below discovers as a clinician's first one would; each
# is in St Mary's audit trail, as a lookup from its command line.
"$ctl" --store "$demo/st-mary" --json patient list --limit 20 | python3 -c 'import json, sys
for p in json.load(sys.stdin):
    n = (p.get("names") or [{}])[0]
    if n.get("family") and n.get("given") and p.get("birth_date"):
        print("\t".join([n["family"], n["given"][0], p["birth_date"], p.get("sex", "UNKNOWN").lower()]))
' >"$demo/candidates.tsv"
chosen=""
tab=$(printf '\t')
while IFS=$tab read -r family given birth sex; do
    "$ctl" --config "$demo/st-mary.conf" --json query --family "$family" --given "$given" \
        --birth-date "$birth" --sex "$sex" --purpose treatment --no-cache --user quickstart \
        >"$demo/query.json" || continue
    orgs=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for o in d["organisations"] if o["status"] == "ok" and o["documents"] > 0))' "$demo/query.json")
    if [ "$orgs" -ge 2 ] || { [ "$orgs" -ge 1 ] && [ -z "$chosen" ]; }; then
        chosen="$family$tab$given$tab$birth$tab$sex"
        cp "$demo/query.json" "$demo/chosen.json"
        [ "$orgs" -lt 2 ] || break
    fi
done <"$demo/candidates.tsv"
if [ -z "$chosen" ]; then
    echo "quickstart: none of St Mary's first 20 patients was found at another hospital" >&2
    exit 1
fi
IFS=$tab read -r family given birth sex <<EOF
$chosen
EOF

ehr_cert="$demo/pki/st-mary-ehr.pem" ehr_key="$demo/pki/st-mary-ehr.key"
echo
echo "== St Mary's EHR asks the region, through St Mary's node, for the documents of $given $family (born $birth, $sex)"
echo "\$ $(q "${ctl#"$root"/}") --config $(q "${demo#"$root"/}/st-mary.conf") query --family $(q "$family")" \
    "--given $(q "$given") --birth-date $birth --sex $sex --purpose treatment --user dr.demo" \
    "--local --client-cert $(q "${demo#"$root"/}/pki/st-mary-ehr.pem") --client-key …"
# The same query in JSON, for this script to read, first and without the cache, so that the
# one shown after it discovers at each hospital as the clinician's first query would.
"$ctl" --config "$demo/st-mary.conf" --json query --family "$family" --given "$given" \
    --birth-date "$birth" --sex "$sex" --purpose treatment --user dr.demo --no-cache \
    --local --client-cert "$ehr_cert" --client-key "$ehr_key" >"$demo/query.json"
rm -f "$demo/chosen.json"
"$ctl" --config "$demo/st-mary.conf" query --family "$family" --given "$given" \
    --birth-date "$birth" --sex "$sex" --purpose treatment --user dr.demo \
    --local --client-cert "$ehr_cert" --client-key "$ehr_key"
# N documents, M organisations, and a document to retrieve (the first listed): its id,
# origin, and the origin's name.
read -r ndocs norgs doc origin <<EOF
$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ok = [o for o in d["organisations"] if o["status"] == "ok" and o["documents"] > 0]
e = d["documents"][0]
print(len(d["documents"]), len(ok), e["id"], e["origin_org"])' "$demo/query.json")
EOF
origin_name=$(field "$(echo "$NODES" | awk -F: -v o="$origin" '$2 == o { print $1 }')" 3)

echo
echo "== St Mary's EHR retrieves document $doc from $origin_name through St Mary's node"
echo "   (the node checks the SHA-256 and $origin_name's signature before handing it on)"
"$ctl" --config "$demo/st-mary.conf" fetch "$origin" "$doc" -o "$demo/retrieved.doc" \
    --local --client-cert "$ehr_cert" --client-key "$ehr_key" >"$demo/retrieve.txt"
cat "$demo/retrieve.txt"
echo "-- its first lines:"
python3 -c 'import sys
for line in open(sys.argv[1], errors="replace").read().splitlines()[:8]:
    print(line[:120])' "$demo/retrieved.doc"
verified=""
if grep -q 'origin signature checked by the node' "$demo/retrieve.txt"; then
    verified=", signature verified"
fi

echo
echo "The region keeps running (configurations and logs in $demo); stop it with:" \
    "${HX_DEMO_DIR:+HX_DEMO_DIR=$(q "$demo") }deploy/quickstart.sh stop"
echo "quickstart: found $ndocs documents at $norgs organisations for $given $family; retrieved $doc from $origin_name$verified"
