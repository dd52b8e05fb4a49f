#!/usr/bin/env bash
# A local PostgreSQL 15 primary with a synchronous streaming standby behind
# HAProxy: the setup of Jaga's failover test, and a worked example for
# operators (docs/failover.md has the procedure around it).
#
#   scripts/pg-replica.sh up | kill-primary | promote | status | down | url
#
#   15/jaga_primary  127.0.0.1:5433  primary, one physical slot, one named sync standby
#   15/jaga_standby  127.0.0.1:5434  hot standby from pg_basebackup -R, through the slot
#   haproxy          127.0.0.1:5439  TCP, to whichever node is a writable primary
#   Jaga uses postgres://postgres@127.0.0.1:5439/postgres (`url` prints it).
#
# Why a proxy, not a multi-host URL: libpq takes several hosts and
# target_session_attrs=read-write, but Jaga's driver (sqlx 0.9) connects to one
# host per URL and has no target_session_attrs. A TCP proxy whose check passes
# only on a node answering pg_is_in_recovery() = f gives every Jaga instance one
# stable address that follows a promotion; `on-marked-down shutdown-sessions`
# cuts sessions to a node that died or stopped being primary, so pools reconnect.
#
# Durability: synchronous_commit = on with one named synchronous standby: a
# commit is acknowledged only once the standby has flushed it, so when the
# primary dies and the standby is promoted no acknowledged commit is lost.
# The price: commits wait while the standby is away, and the promoted standby
# runs alone until the old primary rejoins.
#
# Fencing: never start the old primary again as a primary: two primaries take
# writes that diverge (split brain). Rejoin it as a standby of the new one with
# pg_rewind (wal_log_hints is on for that). `up` refuses to run after a failover
# (`down` then `up` starts afresh); `promote` refuses while the primary answers.
#
# TEST SETUP ONLY: trust authentication (replication included) for local and
# 127.0.0.1 connections, no TLS, loopback only. Runs as root on Debian 12 with
# PostgreSQL 15 installed, installs haproxy (and socat) if missing, and touches
# no other cluster (15/main on 5432 stays). Environment: JAGA_REPLICA_PRIMARY_PORT,
# _STANDBY_PORT, _PROXY_PORT (5433, 5434, 5439), JAGA_REPLICA_DIR (HAProxy's
# config, pid file, stats socket and check script; /tmp/jaga-replica).
set -euo pipefail

V=15
PGBIN=/usr/lib/postgresql/$V/bin
PRIMARY=jaga_primary STANDBY=jaga_standby
PRIMARY_PORT=${JAGA_REPLICA_PRIMARY_PORT:-5433}
STANDBY_PORT=${JAGA_REPLICA_STANDBY_PORT:-5434}
PROXY_PORT=${JAGA_REPLICA_PROXY_PORT:-5439}
DIR=${JAGA_REPLICA_DIR:-/tmp/jaga-replica}
URL=postgres://postgres@127.0.0.1:$PROXY_PORT/postgres
export PGCONNECT_TIMEOUT=2

die() { echo "pg-replica: $*" >&2; exit 1; }
datadir() { echo "/var/lib/postgresql/$V/$1"; }
exists() { [ -f "/etc/postgresql/$V/$1/postgresql.conf" ]; }
now_ms() { date +%s%3N; }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }
# sql PORT SQL: one statement as postgres over TCP, unaligned output; q: errors hidden.
sql() { "$PGBIN/psql" -X -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$2"; }
q() { sql "$@" 2>/dev/null; }
writable() { [ "$(q "$1" 'select pg_is_in_recovery()')" = f ]; }
# The proxy reaches the node on PORT, and that node is a writable primary.
proxy_on() { [ "$(q "$PROXY_PORT" "select inet_server_port() || ' ' || pg_is_in_recovery()")" = "$1 false" ]; }
sync_ok() { [ "$(q "$PRIMARY_PORT" "select sync_state from pg_stat_replication where application_name = '$STANDBY'")" = sync ]; }
# A server's state as HAProxy's checks see it (UP, DOWN, "UP 1/2" = going down...).
check_state() {
    echo "show stat" | socat - "UNIX-CONNECT:$DIR/haproxy.sock" |
        awk -F, -v s="$1" '$1 == "jaga_postgres" && $2 == s { print $18 }'
}
marked_down() { [ "$(check_state "$1")" = DOWN ]; }
proxy_pid() { [ -s "$DIR/haproxy.pid" ] && kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null && cat "$DIR/haproxy.pid"; }
# wait_for SECONDS WHAT COMMAND...: poll every 100 ms.
wait_for() {
    local limit=$1 what=$2 deadline=$(($(now_ms) + $1 * 1000))
    shift 2
    until "$@"; do
        (($(now_ms) < deadline)) || die "timed out after ${limit}s waiting for $what"
        sleep 0.1
    done
}

# Authentication and settings of a new cluster; ROLE is primary or standby.
configure() {
    local name=$1 role=$2 etc=/etc/postgresql/$V/$1
    # Trust for everything local and on 127.0.0.1, replication included: test setup only.
    cat >"$etc/pg_hba.conf" <<EOF
local all         all              trust
local replication all              trust
host  all         all 127.0.0.1/32 trust
host  replication all 127.0.0.1/32 trust
EOF
    cat >"$etc/conf.d/jaga-replica.conf" <<EOF
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
wal_log_hints = on          # pg_rewind can rejoin this node after a failover,
wal_keep_size = 256MB       # from WAL it keeps back to the last common checkpoint
synchronous_commit = on     # a commit is acknowledged once flushed on the sync standby
EOF
    # Only the first primary waits for a standby; the promoted one runs alone.
    [ "$role" = standby ] ||
        echo "synchronous_standby_names = 'FIRST 1 ($STANDBY)'" >>"$etc/conf.d/jaga-replica.conf"
}

start() {  # start NAME PORT
    q "$2" 'select 1' >/dev/null || { echo "starting $V/$1"; pg_ctlcluster "$V" "$1" start; }
    wait_for 30 "$V/$1 to accept connections" q "$2" 'select 1' >/dev/null
}

start_proxy() {
    local pkg missing=()
    for pkg in haproxy socat; do command -v "$pkg" >/dev/null || missing+=("$pkg"); done
    if ((${#missing[@]})); then
        echo "installing ${missing[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "${missing[@]}" >/dev/null ||
            { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
    fi
    if proxy_pid >/dev/null; then echo "haproxy already running (pid $(proxy_pid))"; return; fi
    # The health check: HAProxy passes proxy address/port, then server address ($3) and port ($4).
    cat >"$DIR/is-primary.sh" <<EOF
#!/bin/sh
# Passes (exit 0) only on a node that answers and is not in recovery.
out=\$(PGCONNECT_TIMEOUT=1 /usr/bin/timeout 1 $PGBIN/psql -X -h "\$3" -p "\$4" -U postgres -d postgres -Atqc 'select pg_is_in_recovery()' 2>/dev/null)
[ "\$out" = f ]
EOF
    chmod 755 "$DIR/is-primary.sh"
    cat >"$DIR/haproxy.cfg" <<EOF
global
    insecure-fork-wanted        # external checks fork a process
    external-check
    stats socket $DIR/haproxy.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    retries 1                   # a refused connect is retried once, after ~1 s,
    option redispatch           # on another server if one has come up
    timeout check 1s
    timeout client 1h
    timeout server 1h
listen jaga_postgres
    bind 127.0.0.1:$PROXY_PORT
    balance first
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $DIR/is-primary.sh
    default-server inter 300ms fall 2 rise 1 on-marked-down shutdown-sessions
    server $PRIMARY 127.0.0.1:$PRIMARY_PORT check
    server $STANDBY 127.0.0.1:$STANDBY_PORT check
EOF
    haproxy -c -q -f "$DIR/haproxy.cfg"
    haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid"
    echo "haproxy started (pid $(cat "$DIR/haproxy.pid")) on 127.0.0.1:$PROXY_PORT, config $DIR/haproxy.cfg"
}

cmd_up() {
    mkdir -p "$DIR"
    if [ -e "$DIR/killed_at" ] || { exists "$STANDBY" && writable "$STANDBY_PORT"; }; then
        die "a failover happened: run '$0 down' first (the old primary must not come back as a primary)"
    fi
    if ! exists "$PRIMARY"; then
        echo "creating $V/$PRIMARY on 127.0.0.1:$PRIMARY_PORT"
        pg_createcluster -q --start-conf=manual -p "$PRIMARY_PORT" -d "$(datadir "$PRIMARY")" "$V" "$PRIMARY" >/dev/null
        configure "$PRIMARY" primary
    fi
    start "$PRIMARY" "$PRIMARY_PORT"
    sql "$PRIMARY_PORT" "select pg_create_physical_replication_slot('$STANDBY')
        where not exists (select from pg_replication_slots where slot_name = '$STANDBY')" >/dev/null
    if ! exists "$STANDBY"; then
        echo "creating $V/$STANDBY on 127.0.0.1:$STANDBY_PORT"
        pg_createcluster -q --start-conf=manual -p "$STANDBY_PORT" -d "$(datadir "$STANDBY")" "$V" "$STANDBY" >/dev/null
        configure "$STANDBY" standby
    fi
    # The data pg_createcluster made (or a half-done copy) is replaced by a copy of the primary.
    if [ ! -f "$(datadir "$STANDBY")/standby.signal" ]; then
        echo "pg_basebackup of the primary into $(datadir "$STANDBY") (slot $STANDBY)"
        rm -rf "$(datadir "$STANDBY")"
        install -d -o postgres -g postgres -m 700 "$(datadir "$STANDBY")"
        # -R writes standby.signal and primary_conninfo (with application_name,
        # which synchronous_standby_names matches) and primary_slot_name.
        runuser -u postgres -- "$PGBIN/pg_basebackup" -R -X stream -S "$STANDBY" -D "$(datadir "$STANDBY")" \
            -d "host=127.0.0.1 port=$PRIMARY_PORT user=postgres application_name=$STANDBY"
    fi
    start "$STANDBY" "$STANDBY_PORT"
    wait_for 30 "the standby to be synchronous (pg_stat_replication.sync_state)" sync_ok
    echo "replication: $STANDBY streams from $PRIMARY, sync_state = sync"
    start_proxy
    wait_for 30 "haproxy to route to the primary" proxy_on "$PRIMARY_PORT"
    # HAProxy 2.6 starts every server UP: until its checks fail, the standby counts as one.
    wait_for 10 "haproxy to mark $STANDBY down" marked_down "$STANDBY"
    echo "ready: $URL"
}

cmd_kill_primary() {
    local pid
    pid=$(head -n1 "$(datadir "$PRIMARY")/postmaster.pid" 2>/dev/null || true)
    kill -0 "$pid" 2>/dev/null || die "the primary is not running"
    mkdir -p "$DIR"
    now_ms >"$DIR/killed_at"   # also keeps `up` from restarting it
    kill -9 "$pid"
    echo "killed the primary's postmaster (pid $pid) with SIGKILL; nothing restarts it"
    wait_for 10 "the primary's port to close" eval "! q $PRIMARY_PORT 'select 1' >/dev/null"
}

cmd_promote() {
    local t0 t1 t2
    q "$STANDBY_PORT" 'select 1' >/dev/null || die "$STANDBY is not running"
    # Fencing: with the old primary still answering, promotion would make two primaries.
    ! writable "$PRIMARY_PORT" || die "$PRIMARY still answers as a primary: fence it (kill-primary) first"
    if writable "$STANDBY_PORT"; then
        echo "$STANDBY is already a primary"
        wait_for 30 "haproxy to route to $STANDBY" proxy_on "$STANDBY_PORT"
        return
    fi
    echo "promoting $V/$STANDBY"
    t0=$(now_ms)
    [ "$(sql "$STANDBY_PORT" 'select pg_promote(true, 30)')" = t ] || die "pg_promote failed"
    wait_for 30 "$STANDBY to leave recovery" writable "$STANDBY_PORT"
    t1=$(now_ms)
    wait_for 30 "haproxy to route to $STANDBY" proxy_on "$STANDBY_PORT"
    t2=$(now_ms)
    echo "promoted in $(secs $((t1 - t0))); haproxy followed $(secs $((t2 - t1))) later"
    [ ! -s "$DIR/killed_at" ] || echo "since kill-primary: $(secs $((t2 - $(cat "$DIR/killed_at"))))"
}

cmd_status() {
    local name port
    for name in "$PRIMARY" "$STANDBY"; do
        port=$PRIMARY_PORT; [ "$name" = "$STANDBY" ] && port=$STANDBY_PORT
        if ! exists "$name"; then echo "$name: not created"
        elif ! q "$port" 'select 1' >/dev/null; then echo "$name (:$port): down"
        elif writable "$port"; then
            echo "$name (:$port): primary; standbys: $(q "$port" "select coalesce(string_agg(
                application_name || ' ' || state || ' ' || sync_state, ', '), 'none') from pg_stat_replication")"
        else
            echo "$name (:$port): standby in recovery; receiver: $(q "$port" "select coalesce(max(status ||
                ' from port ' || sender_port), 'not streaming') from pg_stat_wal_receiver")"
        fi
    done
    if proxy_pid >/dev/null; then
        echo "haproxy (pid $(proxy_pid)) :$PROXY_PORT reaches: $(q "$PROXY_PORT" "select 'port ' ||
            inet_server_port() || ', in recovery ' || pg_is_in_recovery()" || echo 'nothing (no writable primary)')"
        echo "  checks: $PRIMARY $(check_state "$PRIMARY"), $STANDBY $(check_state "$STANDBY")"
    else
        echo "haproxy: not running"
    fi
}

cmd_down() {
    local pid name
    if pid=$(proxy_pid); then
        echo "stopping haproxy (pid $pid)"; kill "$pid"
        wait_for 10 "haproxy to exit" eval "! kill -0 $pid 2>/dev/null"
    fi
    for name in "$STANDBY" "$PRIMARY"; do
        exists "$name" || continue
        echo "dropping $V/$name"; pg_dropcluster --stop "$V" "$name"
    done
    rm -f "$DIR"/{haproxy.cfg,haproxy.pid,haproxy.sock,is-primary.sh,killed_at}
    [ ! -d "$DIR" ] || rmdir "$DIR"
    echo "down"
}

case ${1:-} in
up) cmd_up ;;
kill-primary) cmd_kill_primary ;;
promote) cmd_promote ;;
status) cmd_status ;;
down) cmd_down ;;
url) echo "$URL" ;;
*) echo "usage: $0 up|kill-primary|promote|status|down|url" >&2; exit 2 ;;
esac
