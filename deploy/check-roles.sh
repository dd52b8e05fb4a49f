#!/usr/bin/env bash
# Checks deploy/postgres-roles.sql against a real PostgreSQL server, in the
# order deploy/README.md gives:
#   1. postgres-roles.sql as the superuser (roles, database, schema)
#   2. every migrations/postgres/*.sql in order, as the owner role, recorded
#      in _sqlx_migrations the way sqlx records them (what `jaga migrate` does)
#   3. postgres-roles.sql again (the grants)
#   4. as the service role: what the service does works; changing or removing
#      audit history, disabling or dropping its triggers, creating objects and
#      privileges beyond the list fail.
#
#   deploy/check-roles.sh [SERVER_URL]   (default postgres://postgres@127.0.0.1:5432/postgres)
#
# SERVER_URL's user must be able to create roles and databases. The scratch
# database and both roles get unique names and are dropped at exit, whatever
# happens. Exits non-zero on any unexpected outcome. Needs psql and sha384sum.
#
# With JAGA_BIN=path/to/jaga (and curl), after the grants it also runs the
# real binary as the service role with database.migrations = check: keys
# init, modules add, serve (a collection defined and a record looked up over
# HTTP, /readyz, SIGTERM), audit verify; and sees that migrations = apply is
# refused to the service role. Without JAGA_BIN that step is skipped.
set -euo pipefail

url=${1:-postgres://postgres@127.0.0.1:5432/postgres}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
roles_sql=$here/postgres-roles.sql
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}

tag=$(date +%s)_$$
db=jaga_roles_check_$tag
owner=jaga_owner_check_$tag
service=jaga_service_check_$tag
owner_pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
service_pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

passed=0
failed=0
created=0
jaga_tmp=
serve_pid=

cleanup() {
    if [ -n "$serve_pid" ]; then
        kill -KILL "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    [ -z "$jaga_tmp" ] || rm -rf "$jaga_tmp"
    [ "$created" = 1 ] || return 0
    psql -X -q "$url" >/dev/null 2>&1 <<SQL || echo "check-roles: cleanup failed; drop $db, $owner and $service by hand" >&2
drop database if exists "$db" with (force);
drop role if exists "$service";
drop role if exists "$owner";
SQL
}
trap cleanup EXIT

# as ROLE SQL: runs SQL in the scratch database as ROLE (super, owner or
# service); prints psql's output and errors; returns psql's status.
as() {
    local user pass
    case $1 in
        super) user=; pass= ;;
        owner) user=$owner pass=$owner_pw ;;
        service) user=$service pass=$service_pw ;;
    esac
    local target="dbname=$db"
    [ -n "$user" ] && target="$target user=$user password=$pass"
    psql -X -q -v ON_ERROR_STOP=1 "$url" 2>&1 <<SQL
\c -reuse-previous=on "$target"
$2
SQL
}

ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; [ -z "${2:-}" ] || printf '      %s\n' "$2"; }

# expect_ok ROLE DESCRIPTION SQL
expect_ok() {
    local out
    if out=$(as "$1" "$3"); then ok "$2"; else bad "$2" "$out"; fi
}

# expect_error ROLE DESCRIPTION SQL PATTERN: SQL must fail with an error matching PATTERN.
expect_error() {
    local out
    if out=$(as "$1" "$3"); then
        bad "$2 (it succeeded)"
    elif grep -Eq "$4" <<<"$out"; then
        ok "$2: $(grep -Eo 'ERROR: .*' <<<"$out" | head -1)"
    else
        bad "$2 (wrong error)" "$out"
    fi
}

die() { echo "check-roles: $*" >&2; exit 1; }

# roles: deploy/postgres-roles.sql as SERVER_URL's user, for the scratch names.
roles() {
    psql -X -q -v ON_ERROR_STOP=1 -v dbname="$db" -v owner="$owner" -v service="$service" -f "$roles_sql" "$url"
}

# 1. Roles, database, schema.
psql -X -q "$url" -Atc 'select 1' >/dev/null || die "cannot connect to $url"
created=1
out=$(roles 2>&1) || die "postgres-roles.sql (before migrations) failed: $out"
if grep -q 'does not exist yet' <<<"$out"; then
    ok "postgres-roles.sql before the migrations: roles and database created, grants deferred"
else
    bad "postgres-roles.sql before the migrations did not defer the grants" "$out"
fi
# Passwords, as an operator would set them with \password.
as super "alter role \"$owner\" password '$owner_pw'; alter role \"$service\" password '$service_pw';" >/dev/null \
    || die "cannot set the test roles' passwords"

# 2. Migrations as the owner role, recorded as sqlx records them.
expect_ok owner "owner creates _sqlx_migrations as sqlx does" "
create table if not exists _sqlx_migrations (
    version bigint primary key,
    description text not null,
    installed_on timestamptz not null default now(),
    success boolean not null,
    checksum bytea not null,
    execution_time bigint not null
);"
for f in "$root"/migrations/postgres/*.sql; do
    base=$(basename "$f" .sql)
    version=${base%%_*}
    description=${base#*_}
    description=${description//_/ }
    checksum=$(sha384sum "$f" | cut -d' ' -f1)
    expect_ok owner "owner applies migration $base" "
begin;
\\i '$f'
insert into _sqlx_migrations (version, description, success, checksum, execution_time)
    values ($version, '$description', true, decode('$checksum', 'hex'), 0);
commit;"
done

# 3. The grants.
if out=$(roles 2>&1) && ! grep -q 'does not exist yet' <<<"$out"; then
    ok "postgres-roles.sql after the migrations: every table has its grants"
else
    bad "postgres-roles.sql after the migrations" "$out"
fi

# 3b. The real binary as the service role, with database.migrations = check
# (only with JAGA_BIN). Runs before step 4, whose test rows are not a valid
# audit log.
# jaga_env MODE: sets jenv to the whole environment of the binary, the
# variables below and nothing else (the binary refuses unknown JAGA_* keys,
# so nothing may leak in), with database.migrations = MODE.
jenv=()
jaga_env() {
    jenv=(PATH="$PATH" USER=check-roles
        JAGA_DATABASE_URL="$service_url"
        JAGA_DATABASE_MIGRATIONS="$1"
        JAGA_KEYS_PATH="$jaga_tmp/keys.toml"
        JAGA_POLICIES_DIR="$here/../policies"
        JAGA_SERVER_LISTEN=127.0.0.1:0
        JAGA_LOG_FORMAT=json
        JAGA_WEBAUTHN_RP_ID=localhost
        JAGA_WEBAUTHN_ORIGINS=http://localhost:8080
        JAGA_AUDIT_ORIGIN=check-roles.jaga.test
        JAGA_AUDIT_CHECKPOINT_FILE="$jaga_tmp/cp.txt"
        JAGA_MODULES_STATIC_KEYS=allow)
}

# jaga MODE ARGS...: a one-shot command, stopped after 120 s.
jaga() {
    jaga_env "$1"
    shift
    timeout 120 env -i "${jenv[@]}" "$JAGA_BIN" "$@"
}

# jaga_serve MODE OUTFILE ERRFILE: starts `jaga serve` in the background;
# serve_pid is the binary's own PID (env execs it), so signals reach it.
jaga_serve() {
    jaga_env "$1"
    env -i "${jenv[@]}" "$JAGA_BIN" serve >"$2" 2>"$3" &
    serve_pid=$!
}

# running PID: the process exists and is not a zombie.
running() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state#Z}" = "$state" ]
}

# gone PID SECONDS: whether PID ends within SECONDS.
gone() {
    local i
    for i in $(seq $(($2 * 10))); do
        running "$1" || return 0
        sleep 0.1
    done
    ! running "$1"
}

# http METHOD PATH [CURL ARGS...]: prints the status code; the body goes to
# $jaga_tmp/body.
http() {
    local method=$1 path=$2
    shift 2
    curl -sS --max-time 10 -o "$jaga_tmp/body" -w '%{http_code}' -X "$method" "$@" \
        "http://127.0.0.1:$port$path" 2>&1 || true
}

# expect_http DESCRIPTION WANT METHOD PATH [CURL ARGS...]
expect_http() {
    local what=$1 want=$2 got
    shift 2
    got=$(http "$@")
    if [ "$got" = "$want" ]; then
        ok "$what: $want"
    else
        bad "$what: $got, not $want" "$(head -c 500 "$jaga_tmp/body" 2>/dev/null)"
    fi
}

# last_error TEXT: the first line that says what went wrong.
last_error() { grep -Ei 'error|denied|refus' <<<"$1" | head -1 | cut -c1-300; }

jaga_end_to_end() {
    # The service role's URL, from SERVER_URL's host, port and parameters.
    local rest authority query=
    case $url in
        postgres://*|postgresql://*) ;;
        *) bad "jaga: SERVER_URL is not a postgres:// URL; cannot derive the service role's URL"; return ;;
    esac
    rest=${url#*://}
    authority=${rest%%[/?]*}
    authority=${authority##*@}
    case $rest in *\?*) query="?${rest#*\?}" ;; esac
    if [ -z "$authority" ]; then
        bad "jaga: SERVER_URL has no host (a Unix socket?); the binary needs TCP"
        return
    fi
    service_url="postgres://$service:$service_pw@$authority/$db$query"
    jaga_tmp=$(mktemp -d "${TMPDIR:-/tmp}/jaga-check-roles.XXXXXX")

    local out rc mode key i port=''
    # 1. keys init
    if out=$(jaga check keys init 2>&1); then
        mode=$(stat -c %a "$jaga_tmp/keys.toml" 2>/dev/null || echo missing)
        if [ "$mode" = 600 ]; then
            ok "jaga keys init: key file created, mode 0600"
        else
            bad "jaga keys init: key file mode is $mode, not 600"
        fi
    else
        bad "jaga keys init" "$out"
        return
    fi

    # 2. modules add (writes an audit event and a checkpoint as the service role)
    if out=$(jaga check modules add --name antrian 2>"$jaga_tmp/add.err") \
        && key=$(grep -Eo 'jaga_mk_[A-Za-z0-9_-]+' <<<"$out" | head -1) && [ -n "$key" ]; then
        ok "jaga modules add --name antrian (migrations = check): API key printed"
    else
        bad "jaga modules add --name antrian" "$(cat "$jaga_tmp/add.err") $out"
        return
    fi

    # 3. serve in the background; the port from its "listening" log line.
    jaga_serve check "$jaga_tmp/serve.out" "$jaga_tmp/serve.err"
    for i in $(seq 300); do
        port=$(grep '"message":"listening"' "$jaga_tmp/serve.out" 2>/dev/null \
            | grep -Eo '"server\.addr":"127\.0\.0\.1:[0-9]+"' | head -1 | grep -Eo '[0-9]+"$' | tr -d '"') || true
        [ -z "$port" ] || break
        running "$serve_pid" || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        local logs
        logs=$(tail -n 5 "$jaga_tmp/serve.out" "$jaga_tmp/serve.err" 2>/dev/null)
        if running "$serve_pid"; then
            bad "jaga serve (migrations = check): no \"listening\" line after 30 s" "$logs"
        else
            wait "$serve_pid" && rc=0 || rc=$?
            serve_pid=
            bad "jaga serve (migrations = check) exited with status $rc before listening" "$logs"
            return
        fi
    else
        ok "jaga serve (migrations = check) listens on 127.0.0.1:$port after $((i / 10)).$((i % 10)) s"
        # 4. Over HTTP.
        expect_http "GET /readyz" 200 GET /readyz
        expect_http "PUT /api/collections/antrian.ticket (module key)" 200 PUT /api/collections/antrian.ticket \
            -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
            --data '{"fields":[{"name":"queue_number","classification":"personal"}]}'
        expect_http "GET a record of an unknown citizen (authorized, citizen unknown)" 404 \
            GET '/api/collections/antrian.ticket/records/ctz_nobody/r1?purpose=antrian.call' \
            -H "Authorization: Bearer $key"
        expect_http "the same without the module key" 401 \
            GET '/api/collections/antrian.ticket/records/ctz_nobody/r1?purpose=antrian.call'
    fi
    if grep -qi 'permission denied' "$jaga_tmp/serve.out" "$jaga_tmp/serve.err"; then
        bad "jaga serve logged a permission error" \
            "$(grep -hi 'permission denied' "$jaga_tmp/serve.out" "$jaga_tmp/serve.err" | head -3)"
    fi

    # 5. SIGTERM, then exit status 0 within 30 s.
    kill -TERM "$serve_pid" 2>/dev/null || true
    if ! gone "$serve_pid" 30; then
        kill -KILL "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=
        bad "jaga serve did not stop within 30 s of SIGTERM (killed)"
    else
        wait "$serve_pid" && rc=0 || rc=$?
        serve_pid=
        if [ "$rc" = 0 ]; then
            ok "jaga serve stops on SIGTERM with status 0"
        else
            bad "jaga serve stopped on SIGTERM with status $rc" "$(tail -n 5 "$jaga_tmp/serve.out" "$jaga_tmp/serve.err")"
        fi
    fi

    # 6. The audit log the binary wrote as the service role verifies.
    if out=$(jaga check audit verify 2>&1); then
        ok "jaga audit verify (migrations = check): $(tail -n 1 <<<"$out" | cut -c1-200)"
    else
        rc=$?
        bad "jaga audit verify: status $rc" "$out"
    fi

    # 7. migrations = apply needs DDL the service role does not have.
    if out=$(jaga apply modules list 2>&1); then
        bad "jaga modules list with migrations = apply as the service role (it succeeded)"
    elif grep -qi 'permission denied' <<<"$out"; then
        ok "jaga modules list with migrations = apply is refused: $(last_error "$out")"
    else
        bad "jaga modules list with migrations = apply (wrong error)" "$out"
    fi
    jaga_serve apply "$jaga_tmp/apply.out" "$jaga_tmp/apply.err"
    if gone "$serve_pid" 30; then
        wait "$serve_pid" && rc=0 || rc=$?
        serve_pid=
        out=$(cat "$jaga_tmp/apply.out" "$jaga_tmp/apply.err")
        if [ "$rc" = 0 ]; then
            bad "jaga serve with migrations = apply as the service role (it exited 0)"
        elif grep -qi 'permission denied' <<<"$out"; then
            ok "jaga serve with migrations = apply is refused (status $rc): $(last_error "$out")"
        else
            bad "jaga serve with migrations = apply (wrong error, status $rc)" "$out"
        fi
    else
        kill -KILL "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=
        bad "jaga serve with migrations = apply as the service role (it started)" "$(tail -n 3 "$jaga_tmp/apply.out" "$jaga_tmp/apply.err")"
    fi
}

if [ -z "${JAGA_BIN:-}" ]; then
    echo "skip  jaga end to end (set JAGA_BIN=path/to/jaga to run the binary as the service role)"
elif [ ! -x "$JAGA_BIN" ]; then
    bad "JAGA_BIN=$JAGA_BIN is not an executable file"
elif ! command -v curl >/dev/null; then
    bad "JAGA_BIN is set but curl is missing"
else
    jaga_end_to_end
fi

# 4. The service role.
expect_ok service "service connects" "select 1;"
expect_ok service "service selects from audit_event" "select count(*) from audit_event;"
expect_ok service "service inserts into audit_event" "
insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_fields, outcome, mac)
    select coalesce(max(seq) + 1, 0), 1, 'system', 'jaga', 'check.roles', 'none', '', 'success', '\\x00' from audit_event;"
expect_ok service "service inserts into audit_checkpoint (on conflict do nothing)" "
insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) values (1, '\\x00', 1, 'n', '\\x00')
    on conflict (tree_size) do nothing;"
expect_ok service "service inserts into audit_node (on conflict do nothing)" "
insert into audit_node (height, idx, hash) values (8, 0, '\\x00') on conflict (height, idx) do nothing;"
expect_ok service "service takes the next sequence numbers (update audit_head ... returning)" "
update audit_head set next_seq = next_seq + 1 returning next_seq - 1;"
expect_ok service "service upserts audit_tip" "
insert into audit_tip (singleton, tree_size, frontier, note) values (1, 1, '\\x00', 'n')
    on conflict (singleton) do update set tree_size = excluded.tree_size, frontier = excluded.frontier, note = excluded.note;
insert into audit_tip (singleton, tree_size, frontier, note) values (1, 2, '\\x00', 'n')
    on conflict (singleton) do update set tree_size = excluded.tree_size, frontier = excluded.frontier, note = excluded.note;"
expect_ok service "service reads _sqlx_migrations" "select version, checksum from _sqlx_migrations order by version;"
expect_ok service "service takes advisory locks and uses LISTEN/NOTIFY (writer, signer, key reload)" "
begin;
select pg_advisory_xact_lock(7);
commit;
select pg_try_advisory_lock(8), pg_advisory_unlock(8);
listen jaga_check;
notify jaga_check, 'keys';"
expect_ok service "service works on accounts, sessions, ceremonies and the vault" "
begin;
insert into account (account_id, kind, user_handle, pseudonym, status, display_name, created_at, updated_at)
    values ('acc_check', 'officer', '\\x01', 'ctz_check', 'active', '', 1, 1);
select 1 from account where account_id = 'acc_check' for update;
update account set unit = 'Kecamatan', updated_at = 2 where account_id = 'acc_check';
insert into officer_role (account_id, role) values ('acc_check', 'counter') on conflict do nothing;
insert into session (token_hash, session_id, account_id, csrf_token, user_agent, ip, created_at, last_seen_at, expires_at)
    values ('\\x02', 'ses_check', 'acc_check', 'c', 'ua', '192.0.2.1', 1, 1, 2);
update session set last_seen_at = 2 where session_id = 'ses_check';
delete from session where expires_at <= 3;
insert into ceremony (challenge, kind, state, payload, expires_at) values ('\\x03', 'authenticate', '\\x00', '{}', 9);
delete from ceremony where challenge = '\\x03' returning challenge, kind;
insert into citizen_key (account_id, dek_version, kek_version, wrapped, created_at) values ('acc_check', 1, 1, '\\x04', 1);
update citizen_key set kek_version = 2, wrapped = '\\x05' where account_id = 'acc_check' and kek_version = 1;
insert into citizen_field (account_id, field, record_version, sealed, updated_at) values ('acc_check', 'profile.phone', 1, '\\x06', 1)
    on conflict (account_id, field) do update set record_version = excluded.record_version, sealed = excluded.sealed;
insert into citizen_field (account_id, field, record_version, sealed, updated_at) values ('acc_check', 'profile.phone', 2, '\\x07', 2)
    on conflict (account_id, field) do update set record_version = excluded.record_version, sealed = excluded.sealed;
insert into blind_index (domain, digest, account_id) values ('nik', '\\x08', 'acc_check') on conflict do nothing;
delete from blind_index where account_id = 'acc_check';
delete from citizen_field where account_id = 'acc_check';
delete from citizen_key where account_id = 'acc_check';
delete from enrolment_code where (used_at is not null or expires_at <= 1)
    and code_hash not in (select code_hash from counter_recovery where reviewed_at is null);
rollback;"

expect_error service "service cannot UPDATE audit_event" "update audit_event set outcome = 'x';" \
    'permission denied for table audit_event'
expect_error service "service cannot DELETE from audit_event" "delete from audit_event;" \
    'permission denied for table audit_event'
expect_error service "service cannot TRUNCATE audit_event" "truncate audit_event;" \
    'permission denied for table audit_event'
expect_error service "service cannot UPDATE audit_checkpoint" "update audit_checkpoint set note = 'x';" \
    'permission denied for table audit_checkpoint'
expect_error service "service cannot UPDATE audit_node" "update audit_node set hash = '\\x01';" \
    'permission denied for table audit_node'
expect_error service "service cannot DELETE from audit_checkpoint" "delete from audit_checkpoint;" \
    'permission denied for table audit_checkpoint'
expect_error service "service cannot TRUNCATE audit_checkpoint" "truncate audit_checkpoint;" \
    'permission denied for table audit_checkpoint'
expect_error service "service cannot DELETE from audit_tip" "delete from audit_tip;" \
    'permission denied for table audit_tip'
expect_error service "service cannot disable the audit triggers" "alter table audit_event disable trigger all;" \
    'must be owner of table audit_event'
expect_error service "service cannot drop an audit trigger" "drop trigger audit_event_append_only on audit_event;" \
    'must be owner of (table|relation) audit_event'
expect_error service "service cannot replace the trigger function" \
    "create or replace function audit_append_only() returns trigger language plpgsql as \$\$ begin return null; end \$\$;" \
    'must be owner of function audit_append_only|permission denied for schema public'
expect_error service "service cannot skip triggers with session_replication_role" "set session_replication_role = replica;" \
    'permission denied to set parameter'
expect_error service "service cannot drop audit_event" "drop table audit_event;" \
    'must be owner of table audit_event'
expect_error service "service cannot CREATE TABLE" "create table x (i int);" \
    'permission denied for schema public'
expect_error service "service cannot create temporary tables" "create temporary table x (i int);" \
    'permission denied to create temporary tables'
expect_error service "service cannot DELETE from account" "delete from account;" \
    'permission denied for table account'
expect_error service "service cannot write _sqlx_migrations" "delete from _sqlx_migrations;" \
    'permission denied for table _sqlx_migrations'
expect_error service "service cannot run migrations (sqlx's first statement)" "
create table if not exists _sqlx_migrations (version bigint primary key, description text not null,
    installed_on timestamptz not null default now(), success boolean not null, checksum bytea not null,
    execution_time bigint not null);" \
    'permission denied for schema public'

# Every table's privileges exactly (no more, no less), as the catalog says.
expected="
_sqlx_migrations  SELECT
audit_event       SELECT,INSERT
audit_checkpoint  SELECT,INSERT
audit_node        SELECT,INSERT
audit_cosignature SELECT,INSERT
alert             SELECT,INSERT
alert_delivery    SELECT,INSERT,UPDATE
alert_cursor      SELECT,INSERT,UPDATE
incident          SELECT,INSERT,UPDATE
incident_citizen  SELECT,INSERT,UPDATE
audit_head        SELECT,UPDATE
audit_tip         SELECT,INSERT,UPDATE
account           SELECT,INSERT,UPDATE
officer_role      SELECT,INSERT,DELETE
passkey           SELECT,INSERT,UPDATE,DELETE
ceremony          SELECT,INSERT,DELETE
session           SELECT,INSERT,UPDATE,DELETE
recovery_code     SELECT,INSERT,UPDATE,DELETE
enrolment_code    SELECT,INSERT,UPDATE,DELETE
counter_recovery  SELECT,INSERT,UPDATE
citizen_key       SELECT,INSERT,UPDATE,DELETE
citizen_field     SELECT,INSERT,UPDATE,DELETE
blind_index       SELECT,INSERT,DELETE
module            SELECT,INSERT,UPDATE
collection        SELECT,INSERT,UPDATE
record_field      SELECT,INSERT,UPDATE,DELETE
consent_event     SELECT,INSERT
break_glass       SELECT,INSERT,UPDATE
module_case       SELECT,INSERT,UPDATE
guardian_link     SELECT,INSERT,UPDATE
correction_request SELECT,INSERT,UPDATE,DELETE
erasure           SELECT,INSERT,UPDATE
oauth_revoked     SELECT,INSERT,DELETE
oauth_par         SELECT,INSERT,DELETE
oauth_grant       SELECT,INSERT,UPDATE,DELETE
oauth_code        SELECT,INSERT,UPDATE,DELETE
oauth_refresh     SELECT,INSERT,UPDATE,DELETE
oauth_logout      SELECT,INSERT,UPDATE,DELETE"
actual=$(as super "\\pset format unaligned
\\pset tuples_only on
\\pset fieldsep ' '
select c.relname, string_agg(p, ',' order by array_position(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER'], p))
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  cross join unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) as p
 where n.nspname = 'public' and c.relkind = 'r' and has_table_privilege('$service', c.oid, p)
 group by c.relname order by c.relname;")
want=$(awk 'NF { print $1, $2 }' <<<"$expected" | sort)
have=$(sort <<<"$actual")
if [ "$want" = "$have" ]; then
    ok "service privileges are exactly the list on all $(wc -l <<<"$want") tables"
else
    bad "service privileges differ from the list" "$(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | tr '\n' ';')"
fi
owned=$(as super "\\pset tuples_only on
select count(*) from pg_class where relowner = '$service'::regrole;" | tr -d ' \n')
if [ "$owned" = 0 ]; then ok "service owns no relation"; else bad "service owns $owned relation(s)"; fi

# The owner meets the triggers (the second line), and vacuum shows what the
# service role may not do (information, not a failure).
expect_error owner "owner's UPDATE of audit_event is stopped by the append-only trigger" \
    "update audit_event set outcome = 'x';" 'audit_event is append-only'
out=$(as service "vacuum account;")
case $out in
    *skipping*|*"permission denied"*) echo "note  service's 'vacuum account' is skipped: $(grep -Eo 'WARNING: .*' <<<"$out" | head -1)" ;;
    *) echo "note  service's 'vacuum account' runs (MAINTAIN granted, PostgreSQL 17+)" ;;
esac

# A table that nobody decided on stops the script; a second run is harmless.
as owner "create table unlisted_check (i int);" >/dev/null
if out=$(roles 2>&1); then
    bad "postgres-roles.sql accepted a table it has no line for"
elif grep -q 'no privileges decided for table(s) unlisted_check' <<<"$out"; then
    ok "postgres-roles.sql refuses a table it has no line for"
else
    bad "postgres-roles.sql failed for another reason" "$out"
fi
as owner "drop table unlisted_check;" >/dev/null
if out=$(roles 2>&1); then
    ok "postgres-roles.sql runs again cleanly (idempotent)"
else
    bad "postgres-roles.sql second run" "$out"
fi

echo "check-roles: $passed passed, $failed failed (server $(psql -X -Atc 'show server_version' "$url"))"
[ "$failed" = 0 ]
