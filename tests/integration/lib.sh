# lib.sh: shared steps of the integration scripts (sourced, POSIX sh).
# The caller sets: ctl, hiepeerd (paths), and has cd'ed into its temporary folder `tmp`.
# It provides: fail, a failure count in `fails`, `pids` killed at exit, and helpers to make a
# PKI, a store, a node configuration, and to start a node and wait for its state file.

fails=0
pids=""
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# lib_cleanup LOG: for the EXIT trap: show LOG's tail on failure, stop what was started.
lib_cleanup() {
    if [ "${fails:-0}" -ne 0 ] && [ -n "${1:-}" ] && [ -f "$1" ]; then tail -30 "$1"; fi
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}

# issue CA NAME ORG: a node certificate NAME.pem / NAME.key for ORG, valid for localhost.
issue() {
    "$ctl" pki issue --ca "$1" --org "$3" --cn localhost --dns localhost --ip 127.0.0.1 \
        --out "$2" >/dev/null
}

# node_conf NAME ORG CERTPREFIX CA [EXTRA]: write NAME.conf for store s<NAME>, listening on
# an ephemeral loopback port, with EXTRA appended verbatim.
node_conf() {
    printf '[node]\norg_id = %s\nstore = %s/s%s\nworkers = 2\n[tls]\ncertificate = %s/%s.pem\nkey = %s/%s.key\nca = %s/%s\n[listen]\npeer = 127.0.0.1:0\n%s' \
        "$2" "$tmp" "$1" "$tmp" "$3" "$tmp" "$3" "$tmp" "$4" "${5:-}" >"$1.conf"
}

# start_node NAME: start hiepeerd -c NAME.conf (log NAME.log), wait for its state file, and
# set node_pid and node_port.
start_node() {
    "$hiepeerd" -c "$1.conf" </dev/null >/dev/null 2>"$1.log" &
    node_pid=$!
    pids="$pids $node_pid"
    _n=0
    until [ -s "s$1/hiepeerd.state" ]; do
        _n=$((_n + 1)); [ $_n -lt 100 ] || { cat "$1.log"; exit 1; }
        sleep 0.1
    done
    node_port=$(sed -n 's/^peer = .*:\([0-9]*\)$/\1/p' "s$1/hiepeerd.state")
}

# ms_since T0: milliseconds since T0 (from date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# within MS CMD...: run CMD every 50 ms until it succeeds, at most MS milliseconds; prints
# the milliseconds it took; status 1 if it never succeeded.
within() {
    _lim=$1; shift
    _t0=$(date +%s%N)
    while ! "$@" >/dev/null 2>&1; do
        [ "$(ms_since "$_t0")" -lt "$_lim" ] || { ms_since "$_t0"; return 1; }
        sleep 0.05
    done
    ms_since "$_t0"
}

# lib_done NAME: the last line, and the exit status.
lib_done() {
    if [ "$fails" -ne 0 ]; then
        echo "$1: $fails failure(s)"; exit 1
    fi
    echo "$1: ok"
}
