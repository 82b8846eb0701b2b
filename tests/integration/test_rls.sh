#!/bin/sh
# The record locator service: hiepeerd with [node] role = rls, peers A, B and C enrolled.
#  1. publish and locate: C finds A (3 tokens) before B (2); A is not told about itself;
#     removing a token takes it from the remover only; ties ordered by organisation id;
#  1b. streams: a publication applied before (same stream, sequence and tokens) is
#     acknowledged as a replay and changes nothing; an older sequence, or the last one with
#     other tokens, is a conflict and changes nothing either, so a late duplicate cannot undo
#     a later removal; a new stream is applied; a bad stream is a 400; a check says how far
#     each of the caller's streams is applied (0 for one never seen);
#  1c. an organisation suspended or removed at the RLS is not named by a locate (its tokens
#     stay: named again once resumed);
#  1d. a snapshot of a range: the caller's tokens there become exactly those listed (its
#     other tokens there go, another organisation's stay, tokens outside the range stay); a
#     resend is a replay; a range wider than a sixteenth of the token space, tokens out of
#     order or outside the range: 400;
#  2. limits: tokens of 31 bytes, 65 tokens in a locate, 10,001 tokens in a publish, an
#     empty publish, bodies that are not protobuf: 4xx with an Error, nothing stored, the
#     daemon up; exactly 64 and 10,000 tokens are served;
#  3. who is answered: an unenrolled certificate is refused; a node with role = node does
#     not serve the RLS routes, and the RLS does not serve the node's;
#  4. the audit chain verifies and holds one PUBLISH record per stored publish and a LOCATE
#     record per locate, with the caller's organisation; the locator survives a restart;
#  5. 32 publishes at once are all acknowledged, stored and audited, and share commits;
#  6. a stop with publishes in flight: a clean exit, and every acknowledged one stored.
set -eu
ctl=$1
hiepeerd=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/hx-rls-XXXXXX)
. "$here/lib.sh"
trap 'lib_cleanup "$tmp/rls.log"' EXIT
cd "$tmp"
R=2.16.840.1.113883.3.7900
A=2.16.840.1.113883.3.7001
B=2.16.840.1.113883.3.7002
C=2.16.840.1.113883.3.7003
N=2.16.840.1.113883.3.7004
X=2.16.840.1.113883.3.7009

# rls WHO ARGS...: rls_client.py against the RLS as WHO (a, b, c, x: WHO.pem, WHO.key).
rls() { _who=$1; shift; python3 "$here/rls_client.py" 127.0.0.1 "$rls_port" ca/ca.pem \
    "$_who.pem" "$_who.key" "$@"; }
# expect FILE WHAT PYTHON-EXPRESSION: the JSON answer in FILE (as `d`) satisfies it.
expect() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$3" 2>/dev/null || fail "$2: $(cat "$1")"
}
# located WHO TOKENS...: the organisations WHO is told hold TOKENS, as "org:hits org:hits".
located() {
    _who=$1; shift
    rls "$_who" locate "$@" >loc.json
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(" ".join("%s:%d" % (o["org_id"], o["hits"]) for o in d["orgs"]) if d["status"] == 200 else "ERROR %s" % d)' loc.json ||
        echo "ERROR $(cat loc.json)"
}
# A random token outside slice 1 (first four bits 0001), which 1d snapshots: only the tokens
# 1d makes are there.
tok() { python3 -c 'import os
t = bytearray(os.urandom(32))
t[0] = 0x20 | (t[0] & 0xdf) if t[0] >> 4 == 1 else t[0]
print(t.hex())'; }

# ---- set-up: a PKI, the RLS store with A, B, C enrolled, the RLS daemon -----------------------
"$ctl" pki ca ca >/dev/null
for p in rls:$R a:$A b:$B c:$C n:$N x:$X; do issue ca "${p%%:*}" "${p#*:}"; done
"$ctl" --store srls init --org "$R" >/dev/null
for p in a:$A b:$B c:$C; do
    "$ctl" --store srls peer add --org "${p#*:}" --name "peer ${p%%:*}" \
        --url https://localhost:1 --cert "${p%%:*}.pem" --ca ca/ca.pem >/dev/null
done
node_conf rls "$R" rls ca/ca.pem "[node]
role = rls
"
start_node rls
rls_pid=$node_pid
rls_port=$node_port

t1=$(tok); t2=$(tok); t3=$(tok); t4=$(tok); t5=$(tok)

# ---- 1. publish and locate ---------------------------------------------------------------------
rls a publish --add "$t1" "$t2" "$t3" --sequence 1 >p.json
expect p.json "A publishes t1 t2 t3" 'd == {"status": 200, "sequence": 1, "replay": False, "applied": 0, "conflict": False, "gap": False}'
rls b publish --add "$t2" "$t3" --sequence 7 >p.json
expect p.json "B publishes t2 t3" 'd == {"status": 200, "sequence": 7, "replay": False, "applied": 0, "conflict": False, "gap": False}'
rls b publish --add "$t3" --sequence 8 >p.json # again: idempotent
expect p.json "B publishes t3 again" 'd["status"] == 200 and d["sequence"] == 8'

got=$(located c "$t1" "$t2" "$t3")
[ "$got" = "$A:3 $B:2" ] || fail "C locates t1 t2 t3: '$got', want '$A:3 $B:2'"
got=$(located a "$t1" "$t2" "$t3")
[ "$got" = "$B:2" ] || fail "A locates t1 t2 t3 (its own organisation left out): '$got'"
got=$(located c "$t2" "$t2" "$t2")
[ "$got" = "$A:1 $B:1" ] || fail "a token sent three times counts once: '$got'"
got=$(located c "$t4")
[ -z "$got" ] || fail "a token nobody published: '$got'"

rls a publish --remove "$t3" --sequence 2 >p.json
expect p.json "A removes t3" 'd == {"status": 200, "sequence": 2, "replay": False, "applied": 0, "conflict": False, "gap": False}'
got=$(located c "$t3")
[ "$got" = "$B:1" ] || fail "after A removed t3, C locates t3: '$got', want '$B:1'"
got=$(located c "$t1" "$t2" "$t3")
[ "$got" = "$A:2 $B:2" ] || fail "a tie is ordered by organisation id: '$got'"
rls b publish --remove "$t1" >p.json # B never held t1: A keeps it
expect p.json "B removes a token only A holds" 'd["status"] == 200'
got=$(located c "$t1")
[ "$got" = "$A:1" ] || fail "B's remove of t1 touched A's: '$got'"
rls c publish --add "$t5" --remove "$t5" >p.json # in both lists: removed, then added
expect p.json "C adds and removes t5 at once" 'd["status"] == 200'
got=$(located a "$t5")
[ "$got" = "$C:1" ] || fail "a token added and removed in one publish: '$got', want '$C:1'"
rls c publish --remove "$t5" >p.json
got=$(located a "$t5")
[ -z "$got" ] || fail "C removed t5: '$got'"

# ---- 1b. publisher streams: each sequence applied once, in order -------------------------------
s1=0123456789abcdef0123456789abcdef s2=fedcba9876543210fedcba9876543210
t6=$(tok)
rls c publish --add "$t6" --sequence 1 --stream "$s1" >p.json
expect p.json "C adds t6 (stream 1, sequence 1)" 'd == {"status": 200, "sequence": 1, "replay": False, "applied": 1, "conflict": False, "gap": False}'
rls c publish --add "$t6" --sequence 1 --stream "$s1" >p.json # its ack was lost: sent again
expect p.json "the same publication again" 'd == {"status": 200, "sequence": 1, "replay": True, "applied": 1, "conflict": False, "gap": False}'
rls c publish --add "$(tok)" --sequence 1 --stream "$s1" >p.json # sequence 1, other tokens
expect p.json "sequence 1 with other tokens" 'd == {"status": 200, "sequence": 1, "replay": True, "applied": 1, "conflict": True, "gap": False}'
rls c publish --remove "$t6" --sequence 2 --stream "$s1" >p.json
expect p.json "C removes t6 (sequence 2)" 'd == {"status": 200, "sequence": 2, "replay": False, "applied": 2, "conflict": False, "gap": False}'
rls c publish --add "$t6" --sequence 1 --stream "$s1" >p.json # a duplicate of 1 arriving late
expect p.json "sequence 1 after 2" 'd == {"status": 200, "sequence": 1, "replay": True, "applied": 2, "conflict": True, "gap": False}'
got=$(located a "$t6")
[ -z "$got" ] || fail "a late duplicate of an older publication undid a removal: '$got'"
rls c publish --add "$t6" --sequence 1 --stream "$s2" >p.json # a new stream starts at 1
expect p.json "a new stream" 'd == {"status": 200, "sequence": 1, "replay": False, "applied": 1, "conflict": False, "gap": False}'
rls c publish --add "$(tok)" --sequence 5 --stream 55555555555555555555555555555555 >p.json
expect p.json "a stream never seen, past its first publication" 'd["status"] == 200 and d["gap"] and d["applied"] == 0'
got=$(located a "$t6")
[ "$got" = "$C:1" ] || fail "a new stream's publication: '$got', want '$C:1'"
tg=$(tok)
rls c publish --add "$tg" --sequence 3 --stream "$s2" >p.json # 2 never came
expect p.json "a gap in the stream" 'd["status"] == 200 and d["replay"] and d["gap"] and d["applied"] == 1 and not d["conflict"]'
[ -z "$(located a "$tg")" ] || fail "a publication after a gap was applied"
rls a publish --add "$t6" "$(tok)" --sequence 1 --stream "$s1" >p.json # per organisation
expect p.json "A under C's stream id" 'd == {"status": 200, "sequence": 1, "replay": False, "applied": 1, "conflict": False, "gap": False}'
rls c publish --remove "$t6" --sequence 2 --stream "$s1" >p.json # the old stream keeps its place
expect p.json "the old stream, again" 'd["status"] == 200 and d["replay"] and d["applied"] == 2'
got=$(located b "$t6")
[ "$got" = "$A:1 $C:1" ] || fail "t6 after the old stream's replay: '$got', want '$A:1 $C:1'"
rls c publish --add "$t6" --sequence 3 --stream 0123 >p.json
expect p.json "a stream of 2 bytes" 'd["status"] == 400 and "stream is 16 bytes" in d["error"]["message"]'
rls c publish --add "$t6" --stream "$s2" >p.json
expect p.json "a stream with sequence 0" 'd["status"] == 400'
rls a publish --remove "$t6" --sequence 2 --stream "$s1" >p.json
expect p.json "A removes t6" 'd["status"] == 200 and not d["replay"]'
# A check: how far a stream of the caller's is applied (each organisation its own), 0 for one
# never seen; the acknowledged sequence it sends does not change the answer, nor anything.
rls c check --stream "$s1" >p.json
expect p.json "C checks stream 1" 'd == {"status": 200, "sequence": 0, "replay": False, "applied": 2, "conflict": False, "gap": False}'
rls c check --stream "$s2" --acknowledged 7 >p.json
expect p.json "C checks stream 2, saying it had 7 acknowledged" 'd["status"] == 200 and d["applied"] == 1'
rls b check --stream "$s1" >p.json
expect p.json "B checks C's stream id" 'd["status"] == 200 and d["applied"] == 0'
rls c check --stream 0123 >p.json
expect p.json "a check of a 2-byte stream" 'd["status"] == 400 and "16 bytes" in d["error"]["message"]'
rls c publish --add "$(tok)" --sequence 2 --stream "$s2" >p.json
expect p.json "C's stream 2 goes on after the checks" 'd["status"] == 200 and d["applied"] == 2 and not d["gap"]'
grep -q "check from $C: its stream is applied here up to 1, short of the 7 it had acknowledged" rls.log ||
    fail "the RLS did not log a check short of what was acknowledged: $(grep check rls.log)"

# ---- 1c. only organisations active at the RLS are named ---------------------------------------
t7=$(tok)
rls b publish --add "$t7" >p.json
[ "$(located c "$t1" "$t2" "$t7")" = "$A:2 $B:2" ] || fail "before B's suspension: $(located c "$t1" "$t2" "$t7")"
"$ctl" --store srls peer suspend "$B" >/dev/null || fail "peer suspend B at the RLS"
located_is() { [ "$(located c "$@")" = "$want" ]; }
want="$A:2"
within 5000 located_is "$t1" "$t2" "$t7" >/dev/null ||
    fail "B suspended at the RLS, C locates t1 t2 t7: '$(located c "$t1" "$t2" "$t7")', want '$want'"
"$ctl" --store srls peer resume "$B" >/dev/null || fail "peer resume B at the RLS"
want="$A:2 $B:2"
within 5000 located_is "$t1" "$t2" "$t7" >/dev/null ||
    fail "B resumed, C locates t1 t2 t7: '$(located c "$t1" "$t2" "$t7")', want '$want'"
rls b publish --remove "$t7" >p.json

# ---- 1d. snapshots of a range ---------------------------------------------------------------------
lo=0fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff  # slice 1: (lo, hi]
hi=1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
sa=10$(tok | cut -c3-) sb=11$(tok | cut -c3-) sc=12$(tok | cut -c3-) out2=20$(tok | cut -c3-)
s3=33333333333333333333333333333333
rls c publish --add "$sa" "$sc" "$out2" >p.json
rls b publish --add "$sc" >p.json
rls c snapshot "$sa" "$sb" --after "$lo" --through "$hi" --sequence 1 --stream "$s3" >p.json
expect p.json "C's snapshot of slice 1" 'd == {"status": 200, "sequence": 1, "replay": False, "applied": 1, "conflict": False, "gap": False}'
[ "$(located a "$sa")" = "$C:1" ] && [ "$(located a "$sb")" = "$C:1" ] ||
    fail "the snapshot's tokens: $(located a "$sa") / $(located a "$sb")"
[ "$(located a "$sc")" = "$B:1" ] || fail "C's token left out of its snapshot, B's kept: '$(located a "$sc")'"
[ "$(located a "$out2")" = "$C:1" ] || fail "C's token outside the range: '$(located a "$out2")'"
rls c snapshot "$sa" "$sb" --after "$lo" --through "$hi" --sequence 1 --stream "$s3" >p.json
expect p.json "the same snapshot again" 'd["status"] == 200 and d["replay"] and not d["conflict"]'
rls c snapshot "$sa" --sequence 2 --stream "$s3" >p.json
expect p.json "a snapshot of every token at once" 'd["status"] == 400 and "one sixteenth" in d["error"]["message"]'
rls c snapshot "$sb" "$sa" --after "$lo" --through "$hi" --sequence 2 --stream "$s3" >p.json
expect p.json "a snapshot out of order" 'd["status"] == 400'
rls c snapshot "$out2" --after "$lo" --through "$hi" --sequence 2 --stream "$s3" >p.json
expect p.json "a snapshot's token outside its range" 'd["status"] == 400'
rls c snapshot --after "$lo" --through "$hi" --sequence 2 --stream "$s3" >p.json # holds none
expect p.json "an empty snapshot of slice 1" 'd["status"] == 200 and not d["replay"]'
[ -z "$(located a "$sa" "$sb")" ] || fail "after an empty snapshot of the slice: '$(located a "$sa" "$sb")'"
rls c publish --remove "$out2" >p.json
rls b publish --remove "$sc" >p.json

# ---- 2. limits and bad input -------------------------------------------------------------------
short=$(echo "$t4" | cut -c1-62) # 31 bytes
long="${t4}00"                   # 33 bytes
rls a publish --add "$t4" "$short" >p.json
expect p.json "a publish with a 31-byte token" 'd["status"] == 400 and d["error"]["message"]'
rls a publish --add "$t4" --remove "$long" >p.json
expect p.json "a publish with a 33-byte token" 'd["status"] == 400 and d["error"]["message"]'
rls a publish --sequence 3 >p.json
expect p.json "an empty publish" 'd["status"] == 400 and d["error"]["message"]'
rls c locate "$t1" "$short" >p.json
expect p.json "a locate with a 31-byte token" 'd["status"] == 400 and d["error"]["message"]'
rls c locate >p.json
expect p.json "a locate of no tokens" 'd["status"] == 400 and d["error"]["message"]'
rls c locate "$t1" --random 64 >p.json
expect p.json "a locate of 65 tokens" 'd["status"] == 400 and "64" in d["error"]["message"]'
rls c locate "$t1" --random 63 >p.json
expect p.json "a locate of 64 tokens" "d == {'status': 200, 'orgs': [{'org_id': '$A', 'hits': 1}]}"
rls a publish --add "$t4" --random-add 10000 --sequence 4 >p.json
expect p.json "a publish of 10,001 tokens" \
    'd["status"] in (400, 413) and "10000" in d["error"]["message"]'
got=$(located c "$t4")
[ -z "$got" ] || fail "a refused publish of 10,001 tokens stored some: '$got'"
for path in /hie/v1/rls/publish /hie/v1/rls/locate; do
    rls a raw "$path" --body-hex ffffffff0f >p.json
    expect p.json "garbage to $path" 'd["status"] == 400 and d["error"]["message"]'
    rls a raw "$path" --body-text "this is not protobuf" >p.json
    expect p.json "text to $path" 'd["status"] == 400 and d["error"]["message"]'
done
rls a raw /hie/v1/rls/publish --body-hex "$(python3 -c 'print("0a20" + "00" * 32 + "ff")')" >p.json
expect p.json "a publish cut in the middle of a field" 'd["status"] == 400'
t0=$(date +%s%N)
rls a publish --add "$t4" --random-add 9999 --sequence 5 >p.json
expect p.json "a publish of exactly 10,000 tokens" 'd == {"status": 200, "sequence": 5, "replay": False, "applied": 0, "conflict": False, "gap": False}'
echo "a publish of 10,000 tokens took $(ms_since "$t0") ms"
got=$(located c "$t4")
[ "$got" = "$A:1" ] || fail "after a publish of 10,000 tokens, t4: '$got'"
got=$(located c "$t1" "$t2" "$t3")
[ "$got" = "$A:2 $B:2" ] || fail "the refused requests changed the locator: '$got'"
kill -0 "$rls_pid" || fail "the RLS died during the bad-input battery"

# ---- 3. who is answered ------------------------------------------------------------------------
rls x locate "$t1" >p.json
expect p.json "an unenrolled certificate" \
    'd["status"] is None and "orgs" not in d'
rls x publish --add "$t4" >p.json
expect p.json "an unenrolled certificate publishing" 'd["status"] is None'
got=$(located c "$t4")
[ "$got" = "$A:1" ] || fail "an unenrolled publisher changed t4: '$got'"
rls a raw /hie/v1/documents/query --body-hex "" >p.json
expect p.json "the RLS and a node route" 'd["status"] == 404'

"$ctl" --store sn init --org "$N" >/dev/null
"$ctl" --store sn peer add --org "$A" --name "peer a" --url https://localhost:1 --cert a.pem \
    --ca ca/ca.pem >/dev/null
node_conf n "$N" n ca/ca.pem
start_node n
node_n_pid=$node_pid
python3 "$here/rls_client.py" 127.0.0.1 "$node_port" ca/ca.pem a.pem a.key locate "$t1" >p.json
expect p.json "locate at a node with role = node" \
    'd["status"] == 404 and "orgs" not in d and d["error"]["message"]'
python3 "$here/rls_client.py" 127.0.0.1 "$node_port" ca/ca.pem a.pem a.key publish \
    --add "$t1" >p.json
expect p.json "publish at a node with role = node" 'd["status"] == 404'
kill "$node_n_pid"

# ---- 4. audit and durability -------------------------------------------------------------------
sleep 0.3 # the lazy LOCATE records ride the next group commit
"$ctl" --store srls audit verify >/dev/null || fail "the RLS's audit chain does not verify"
# status at the RLS: the locator's size, and each publishing organisation (with a stream).
"$ctl" --config rls.conf --json status >st.json || fail "status at the RLS"
python3 - st.json "$A" "$C" <<'PY' || fail "status at the RLS: $(cat st.json)"
import json, sys
d = json.load(open(sys.argv[1]))
loc = d["locator"]
assert loc["pairs"] > 0, loc
by = {p["org_id"]: p for p in loc["publishers"]}
assert sys.argv[2] in by and sys.argv[3] in by, by
assert by[sys.argv[3]]["streams"] >= 2 and by[sys.argv[3]]["last_applied"].startswith("20"), by
PY
"$ctl" --config rls.conf status >st.txt || fail "status at the RLS (text)"
grep -q "^locator  *[1-9][0-9]* (token, organisation) pair(s)$" st.txt &&
    grep -q "^publisher  *$C: last applied [0-9-]* [0-9:]* UTC (sequence [0-9]* of its stream; [0-9]* stream(s) known)$" st.txt ||
    fail "status at the RLS: $(cat st.txt)"
"$ctl" --store srls --json audit list --limit 10000 >audit.json || fail "audit list"
python3 - audit.json "$A" "$B" "$C" <<'PY' || fail "the RLS's audit records"
import json, sys
recs = json.load(open(sys.argv[1]))
A, B, C = sys.argv[2:5]
pub = [r for r in recs if r["action"] == "PUBLISH" and r["outcome"] != "DENIED"]
denied = [r for r in recs if r["action"] == "PUBLISH" and r["outcome"] == "DENIED"]
loc = [r for r in recs if r["action"] == "LOCATE"]
# The two conflicts and the gap of 1b, audited as denied (a resend is not audited again).
assert [(r["actor_org"], r["detail"]) for r in denied] == [
    (C, "publish: sequence 1 conflicts with its stream (applied up to 1): not applied"),
    (C, "publish: sequence 1 conflicts with its stream (applied up to 2): not applied"),
    (C, "publish: sequence 5 leaves a gap in its stream (applied up to 0): not applied"),
    (C, "publish: sequence 3 leaves a gap in its stream (applied up to 1): not applied")], denied
# Stored publishes only: A 5 (t1-t3, remove t3, stream: t6, remove t6, 10,000), B 7, C 10
# (two without a stream, then stream 1 sequences 1 and 2, stream 2 sequences 1 and 2); replays,
# refused ones and checks wrote none.
by = lambda rs, o: [r for r in rs if r.get("actor_org") == o]
assert (len(by(pub, A)), len(by(pub, B)), len(by(pub, C))) == (5, 7, 10), pub
assert len(pub) == 22, pub
assert [r["detail"] for r in by(pub, C) if r["detail"].startswith("snapshot")] == [
    "snapshot: 2 held in the range, 1 added, 1 removed, sequence 1",
    "snapshot: 0 held in the range, 0 added, 2 removed, sequence 2"], pub
assert [r["detail"] for r in by(pub, C)][2:5] == [
    "publish: 1 added, 0 removed, sequence 1", "publish: 0 added, 1 removed, sequence 2",
    "publish: 1 added, 0 removed, sequence 1"], pub
assert by(pub, A)[0]["detail"] == "publish: 3 added, 0 removed, sequence 1", pub
assert by(pub, A)[1]["detail"] == "publish: 0 added, 1 removed, sequence 2", pub
assert by(pub, A)[4]["detail"] == "publish: 10000 added, 0 removed, sequence 5", pub
assert all(r["outcome"] == "SUCCESS" for r in pub + loc), recs
assert all(r.get("actor_fingerprint", "").startswith("SHA256:") for r in pub + loc), recs
assert any(r["detail"] == "locate: 3 tokens, 2 organisations" for r in by(loc, C)), loc
assert any(r["detail"] == "locate: 3 tokens, 1 organisations" for r in by(loc, A)), loc
assert len(by(loc, C)) >= 10 and len(by(loc, A)) >= 1, loc
assert not [r for r in recs if r.get("actor_org") == sys.argv[4] and r["action"] == "LOCATE"
            and "65 tokens" in r["detail"]], loc
PY

before=$(located c "$t1" "$t2" "$t3" "$t4")
kill -TERM "$rls_pid"
wait "$rls_pid" || fail "the RLS's exit status after SIGTERM"
rm -f srls/hiepeerd.state
start_node rls
rls_pid=$node_pid
rls_port=$node_port
after=$(located c "$t1" "$t2" "$t3" "$t4")
[ "$before" = "$A:3 $B:2" ] || fail "before the restart: '$before'"
[ "$after" = "$before" ] || fail "after a restart: '$after', before: '$before'"
"$ctl" --store srls audit verify >/dev/null || fail "the audit chain after the restart"

# ---- 5. publishes answered once durable, without holding a worker ------------------------------
# 32 publishes from A at once, each on its own connection: every one acknowledged, every token
# then located at A, one PUBLISH record each, and they shared commits: LMDB's last transaction
# id moves by far fewer than 32. (A worker that waited for each commit before reading its next
# request would make at least 16 commits for them with its 2 workers.)
txnid() { mdb_stat -e srls | sed -n 's/^ *Last transaction ID: *//p'; }
tx0=$(txnid)
rls a burst 32 >burst.json
tx1=$(txnid)
[ -n "$tx0" ] && [ -n "$tx1" ] || fail "mdb_stat -e srls gave no transaction id"
expect burst.json "32 publishes at once" 'd["acked"] == list(range(1, 33))'
python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["tokens"]))' burst.json >burst.tok
# shellcheck disable=SC2046 # the tokens are words
[ "$(located c $(cat burst.tok))" = "$A:32" ] || fail "the 32 tokens published at once: $(located c $(cat burst.tok))"
# The check needs a commit to take longer than reading a request, as a durable one does on a
# disk; on a RAM-backed folder every publish may have a commit of its own, and it says nothing.
if [ "$(stat -f -c %T .)" = tmpfs ]; then
    echo "test_rls: the store is on tmpfs: commits not counted ($((tx1 - tx0)) for 32 publishes)"
else
    [ $((tx1 - tx0)) -lt 16 ] ||
        fail "32 publishes at once took $((tx1 - tx0)) commits: each waited for its own"
    echo "test_rls: 32 publishes at once shared $((tx1 - tx0)) commit(s)"
fi
"$ctl" --store srls --json audit list --limit 10000 >audit.json || fail "audit list"
python3 - audit.json "$A" <<'PY' || fail "the PUBLISH records of the 32 publishes"
import json, sys
recs = json.load(open(sys.argv[1]))
burst = [r for r in recs if r["action"] == "PUBLISH" and r.get("actor_org") == sys.argv[2]
         and r["detail"].startswith("publish: 1 added, 0 removed, sequence ")]
assert sorted(int(r["detail"].rsplit(" ", 1)[1]) for r in burst) == list(range(1, 33)), burst
PY
"$ctl" --store srls audit verify >/dev/null || fail "the audit chain after the 32 publishes"
kill -0 "$rls_pid" || fail "the RLS died"

# ---- 6. a stop while publishes are in flight: nothing acknowledged is lost ----------------------
# 32 publishes at once, and SIGTERM right behind them (sent by the client once all 32 are
# sent): the RLS answers every one (requests received before the stop are served within the
# grace period), stops cleanly, and after a restart all of them are there.
rls a burst 32 --kill "$rls_pid" >burst2.json || fail "the publishing client during the stop"
wait "$rls_pid" || fail "the RLS's exit status after SIGTERM with publishes in flight"
grep -q "Sanitizer\|runtime error" rls.log && fail "the RLS's log: $(grep -m1 -A5 'Sanitizer\|runtime error' rls.log)"
rm -f srls/hiepeerd.state
start_node rls
rls_pid=$node_pid
rls_port=$node_port
python3 - burst2.json >burst2.acked <<'PY' || fail "the stop's publishing client said nothing: $(cat burst2.json)"
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(t for t, a in zip(d["tokens"], d["acked"]) if a is not None))
PY
nacked=$(wc -w <burst2.acked)
[ "$nacked" -eq 32 ] || fail "a stop with 32 publishes received: $nacked acknowledged"
if [ "$nacked" -gt 0 ]; then
    # shellcheck disable=SC2046 # the tokens are words
    [ "$(located c $(cat burst2.acked))" = "$A:$nacked" ] ||
        fail "acknowledged before the stop, missing after it: $(located c $(cat burst2.acked)) for $nacked"
fi
echo "test_rls: a stop with 32 publishes in flight: $nacked acknowledged, all of them stored"
"$ctl" --store srls audit verify >/dev/null || fail "the audit chain after the stop"
lib_done test_rls
