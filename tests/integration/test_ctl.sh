#!/bin/sh
# hiepeerctl and hiepeerd end to end on real stores: what an operator types and sees.
set -eu
ctl=$1
hiepeerd=$2
tmp=$(mktemp -d /tmp/hx-ctl-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
org=2.16.840.1.113883.3.7001
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# expect_error PATTERN CMD...: exits non-zero with exactly one line on stderr matching PATTERN.
expect_error() {
    pattern=$1
    shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then
        fail "expected failure: $*"
        return
    fi
    lines=$(wc -l <"$tmp/err")
    if [ "$lines" -ne 1 ]; then
        fail "expected one error line from: $* (got $lines)"; cat "$tmp/err" >&2
    fi
    grep -q -- "$pattern" "$tmp/err" || { fail "error of '$*' lacks '$pattern'"; cat "$tmp/err" >&2; }
}

json() { # json FILE EXPR: evaluate a python expression over the parsed JSON as j
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

s="$tmp/node"
# --- init --------------------------------------------------------------------------------
"$ctl" --store "$s" init --org "$org" >"$tmp/out"
grep -q "initialised store $s for organisation $org" "$tmp/out" || fail "init message"
expect_error "already initialised" "$ctl" --store "$s" init --org "$org"
expect_error "is not an OID" "$ctl" --store "$tmp/x" init --org 1.02.3
expect_error "--org OID is required" "$ctl" --store "$tmp/x" init
expect_error "no store at $tmp/none" "$ctl" --store "$tmp/none" patient list
expect_error "unknown command 'frobnicate'" "$ctl" --store "$s" frobnicate
expect_error "doc list: no patient 'NOSUCH1'" "$ctl" --store "$s" doc list NOSUCH1
# --user is checked before any call: text that fits the audit record's actor.
expect_error "query: --user: at most 256 bytes" "$ctl" --store "$s" query --family Smith \
    --birth-date 1980-01-02 --purpose treatment --user "$(python3 -c 'print("д" * 200)')"
expect_error "query: --user: at most 256 bytes" "$ctl" --store "$s" query --family Smith \
    --birth-date 1980-01-02 --purpose treatment --user "$(printf 'dr\tx')"
expect_error "$tmp: a directory, not a configuration file" "$ctl" --config "$tmp" status
# A mistyped second word names what the first takes; a mistaken global option and a
# command's unknown option are one line each, beginning "hiepeerctl".
expect_error "unknown command 'peer lst'; 'peer' takes: .*list" "$ctl" --store "$s" peer lst
expect_error "^hiepeerctl: unknown option '--timeout' before the command" "$ctl" --store "$s" --timeout 5 status
expect_error "^hiepeerctl: --config needs a value" "$ctl" --config
expect_error "^hiepeerctl: unknown option '-x' before the command" "$ctl" --store "$s" -xj status
expect_error "^hiepeerctl patient list: unrecognized option '--lmit'" "$ctl" --store "$s" patient list --lmit 3

# --- demo data: deterministic, loaded, listed --------------------------------------------
"$ctl" --store "$s" demo-data --seed 7 --persons 400 --org-index 1 --org-count 3 --docs 2 \
    >"$tmp/load"
grep -q "^loaded [0-9]* patients and [0-9]* documents" "$tmp/load" || fail "demo-data message"
np=$(sed -n 's/^loaded \([0-9]*\) patients.*/\1/p' "$tmp/load")
nd=$(sed -n 's/^loaded [0-9]* patients and \([0-9]*\) documents.*/\1/p' "$tmp/load")
[ "$np" -gt 100 ] || fail "too few patients: $np"
"$ctl" --store "$s" --json store stat >"$tmp/stat"
[ "$(json "$tmp/stat" 'j["patients"]')" = "$np" ] || fail "store stat patients != loaded"
[ "$(json "$tmp/stat" 'j["documents"]')" = "$nd" ] || fail "store stat documents != loaded"
[ "$(json "$tmp/stat" 'j["org_id"]')" = "$org" ] || fail "store stat org"

s2="$tmp/node2"
"$ctl" --store "$s2" init --org "$org" >/dev/null
"$ctl" --store "$s2" demo-data --seed 7 --persons 400 --org-index 1 --org-count 3 --docs 2 >/dev/null
"$ctl" --store "$s" --json patient list --limit 10000 >"$tmp/p1"
"$ctl" --store "$s2" --json patient list --limit 10000 >"$tmp/p2"
grep -v '"updated"' "$tmp/p1" >"$tmp/p1n"; grep -v '"updated"' "$tmp/p2" >"$tmp/p2n"
cmp -s "$tmp/p1n" "$tmp/p2n" || fail "demo-data is not deterministic for the same seed"
[ "$(json "$tmp/p1" 'len(j)')" = "$np" ] || fail "patient list count"

pid=$(json "$tmp/p1" 'j[0]["id"]')
"$ctl" --store "$s" patient list --limit 3 >"$tmp/table"
head -1 "$tmp/table" | grep -q "^ID  *NAME  *BORN  *SEX  *CITY" || fail "patient list header"
[ "$(wc -l <"$tmp/table")" -eq 5 ] || fail "patient list --limit 3 rows + more line"
grep -q "more: hiepeerctl patient list --after" "$tmp/table" || fail "patient list paging hint"
"$ctl" --store "$s" patient show "$pid" >"$tmp/show"
[ "$(json "$tmp/show" 'j["id"]')" = "$pid" ] || fail "patient show id"
json "$tmp/show" 'j["names"][0]["family"]' | grep -q . || fail "patient show family name"

# A patient with documents: list, show, content whose SHA-256 matches the entry.
docpid=$(python3 - "$tmp/p1" "$ctl" "$s" <<'PY'
import json, subprocess, sys
pats = json.load(open(sys.argv[1]))
for p in pats:
    out = subprocess.run([sys.argv[2], "--store", sys.argv[3], "--json", "doc", "list", p["id"],
                          "--status", "any"], capture_output=True, check=True).stdout
    if json.loads(out):
        print(p["id"]); break
PY
)
[ -n "$docpid" ] || fail "no patient with documents"
"$ctl" --store "$s" --json doc list "$docpid" --status any >"$tmp/docs"
docid=$(json "$tmp/docs" 'j[0]["id"]')
"$ctl" --store "$s" doc show "$docid" >"$tmp/entry"
sha=$(json "$tmp/entry" 'j["sha256"]')
[ "$(json "$tmp/entry" 'j["patient_id"]')" = "$docpid" ] || fail "doc show patient"
"$ctl" --store "$s" doc show "$docid" -o "$tmp/content" >/dev/null
[ "$(sha256sum "$tmp/content" | cut -d' ' -f1)" = "$sha" ] || fail "content hash != entry sha256"
[ "$(wc -c <"$tmp/content")" = "$(json "$tmp/entry" 'j["size"]')" ] || fail "content size"
"$ctl" --store "$s" doc list "$docpid" --status any --from 2100-01-01 >"$tmp/none"
[ "$(wc -l <"$tmp/none")" -eq 1 ] || fail "doc list --from in the future lists nothing"

# --- bad input: one line, non-zero -------------------------------------------------------
expect_error "not a valid patient id" "$ctl" --store "$s" patient show "../etc/passwd"
expect_error "no patient 'NOBODY1'" "$ctl" --store "$s" patient show NOBODY1
expect_error "not a document id" "$ctl" --store "$s" doc show "ABC"
expect_error "no document" "$ctl" --store "$s" doc show 00000000000000000000000000000000
expect_error "is not a whole number" "$ctl" --store "$s" patient list --limit many
expect_error "is not a date" "$ctl" --store "$s" doc list "$pid" --from yesterday
expect_error "approved, deprecated or any" "$ctl" --store "$s" doc list "$pid" --status maybe
expect_error "is not a size" "$ctl" --store "$s" store grow lots
expect_error "smaller than the current map" "$ctl" --store "$s" store grow 1M

# --- audit --------------------------------------------------------------------------------
"$ctl" --store "$s" audit verify >"$tmp/audit"
grep -q "audit chain ok: 2 records" "$tmp/audit" || { fail "audit verify"; cat "$tmp/audit"; }
"$ctl" --store "$s" store grow 2G >/dev/null
"$ctl" --store "$s" --json audit list >"$tmp/alist"
[ "$(json "$tmp/alist" '",".join(e["action"] for e in j)')" = "STORE_INIT,IMPORT,STORE_CHANGE" ] ||
    fail "audit list actions"
[ "$(json "$tmp/alist" 'j[1]["actor_org"]')" = "$org" ] || fail "audit actor org"

# --- a damaged store ----------------------------------------------------------------------
mkdir "$tmp/bad"
head -c 65536 /dev/urandom >"$tmp/bad/data.mdb"
expect_error "not a usable LMDB file" "$ctl" --store "$tmp/bad" patient list

# --- hiepeerd: configuration check and a clean start/stop ---------------------------------
cat >"$tmp/ok.conf" <<CONF
[node]
org_id = $org
name = Test Hospital
store = $s
workers = 0                 ; one per core

[limits]
max_body = 16M
CONF
"$hiepeerd" -n -c "$tmp/ok.conf" | grep -q "configuration ok" || fail "hiepeerd -n ok"
printf '[node]\norg_id = %s\nstore = %s\ncolour = blue\n' "$org" "$s" >"$tmp/bad1.conf"
expect_error "bad1.conf:4: unknown key 'colour' in \[node\]" "$hiepeerd" -n -c "$tmp/bad1.conf"
printf '[node]\norg_id = 1.2.x\nstore = %s\n' "$s" >"$tmp/bad2.conf"
expect_error "bad2.conf:2: 'org_id' is not an OID" "$hiepeerd" -n -c "$tmp/bad2.conf"
printf '[node]\nstore = %s\n' "$s" >"$tmp/bad3.conf"
expect_error "\[node\] org_id is required" "$hiepeerd" -n -c "$tmp/bad3.conf"
printf '[node]\norg_id = %s\nstore = %s\n[limits]\nmax_body = huge\n' "$org" "$s" >"$tmp/bad4.conf"
expect_error "bad4.conf:5: 'max_body' must be a size" "$hiepeerd" -n -c "$tmp/bad4.conf"
printf '[node]\norg_id = %s\norg_id = %s\nstore = %s\n' "$org" "$org" "$s" >"$tmp/bad5.conf"
expect_error "bad5.conf:3: 'org_id' is set twice" "$hiepeerd" -n -c "$tmp/bad5.conf"
printf '[nodes]\norg_id = %s\n' "$org" >"$tmp/bad6.conf"
expect_error "unknown section \[nodes\]" "$hiepeerd" -n -c "$tmp/bad6.conf"
# -n also checks what the configuration names, as a start would: the store and its
# organisation, a linkage key readable by others, the RLS given the linkage key, endpoints
# without one, a duration past 30 days.
printf '[node]\norg_id = 2.16.840.1.113883.3.9999\nstore = %s\n' "$s" >"$tmp/bad7.conf"
expect_error "store .* belongs to organisation $org, the configuration says 2.16.840.1.113883.3.9999" \
    "$hiepeerd" -n -c "$tmp/bad7.conf"
printf '[node]\norg_id = %s\nstore = %s/nowhere\n' "$org" "$tmp" >"$tmp/bad8.conf"
expect_error "nowhere" "$hiepeerd" -n -c "$tmp/bad8.conf"
"$ctl" pki linkage-key "$tmp/lk.hex" >/dev/null || fail "pki linkage-key"
chmod 644 "$tmp/lk.hex"
printf '[node]\norg_id = %s\nstore = %s\n[rls]\nlinkage_key = %s\n' "$org" "$s" "$tmp/lk.hex" >"$tmp/bad9.conf"
expect_error "readable by others" "$hiepeerd" -n -c "$tmp/bad9.conf"
chmod 600 "$tmp/lk.hex"
"$hiepeerd" -n -c "$tmp/bad9.conf" | grep -q "configuration ok" || fail "hiepeerd -n with a 0600 linkage key"
printf '[node]\norg_id = %s\nstore = %s\nrole = rls\n[rls]\nlinkage_key = %s\n' "$org" "$s" "$tmp/lk.hex" >"$tmp/bad10.conf"
expect_error "role = rls takes no \[rls\] linkage_key" "$hiepeerd" -n -c "$tmp/bad10.conf"
printf '[node]\norg_id = %s\nstore = %s\n[rls]\nendpoints = https://rls.example:7443\n' "$org" "$s" >"$tmp/bad11.conf"
expect_error "\[rls\] endpoints are set but no \[rls\] linkage_key" "$hiepeerd" -n -c "$tmp/bad11.conf"
printf '[node]\norg_id = %s\nstore = %s\n[rls]\ncheck_interval = 31d\n' "$org" "$s" >"$tmp/bad12.conf"
expect_error "'check_interval' must be a duration like 500ms or 5s, up to 30d" "$hiepeerd" -n -c "$tmp/bad12.conf"
"$hiepeerd" --help | grep -q "^usage: hiepeerd" || fail "hiepeerd --help"

"$hiepeerd" -c "$tmp/ok.conf" 2>"$tmp/d.log" &
dpid=$!
i=0
until grep -q "started: organisation $org" "$tmp/d.log"; do
    i=$((i + 1)); [ $i -lt 100 ] || { fail "hiepeerd did not start"; cat "$tmp/d.log"; break; }
    sleep 0.1
done
# The store is shared with a running daemon: the CLI reads it meanwhile.
"$ctl" --store "$s" audit verify >/dev/null || fail "audit verify while hiepeerd runs"
kill -TERM "$dpid"
if wait "$dpid"; then :; else fail "hiepeerd exit status after SIGTERM"; fi
grep -q "stopped" "$tmp/d.log" || fail "hiepeerd stop message"
printf '[node]\norg_id = 1.2.3\nstore = %s\n' "$s" >"$tmp/other.conf"
expect_error "belongs to organisation $org" "$hiepeerd" -c "$tmp/other.conf"
grep -qi "smith\|johnson\|[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T.*born" "$tmp/d.log" && fail "PHI-looking text in the daemon log"

if [ "$fails" -ne 0 ]; then
    echo "test_ctl: $fails failure(s)"
    exit 1
fi
echo "test_ctl: ok"
