-- Least-privilege PostgreSQL roles for Jaga.
--
--   psql -X -v ON_ERROR_STOP=1 -f deploy/postgres-roles.sql "postgres://postgres@PRIMARY/postgres"
--
-- Run by a superuser (or a role with CREATEROLE and CREATEDB), on the primary,
-- with psql (it uses \gexec, \if and \connect). Run it
--   1. once before the first `jaga migrate`: creates the roles, the database
--      and the schema privileges (no table exists yet: the grants are skipped
--      with a notice), and
--   2. again after every `jaga migrate`: grants the service role exactly what
--      is listed below on every table. It is idempotent.
-- It stops with an error when a table exists that it has no line for (a new
-- migration added it: decide its privileges here first), when a table is not
-- owned by the owner role, or when the service role owns anything.
--
-- Variables (psql -v NAME=VALUE), with their defaults:
--   dbname  jaga           the database
--   owner   jaga_owner     owns every object, used only by `jaga migrate`
--   service jaga_service   what the instances log in as
--
-- Passwords are not set here: afterwards, `\password jaga_owner` and
-- `\password jaga_service` in psql (SCRAM), or certificate authentication in
-- pg_hba.conf. Allow jaga_service only from the three Jaga hosts, and
-- jaga_owner only from where migrations are run.
--
-- Why a list re-run after each migration rather than ALTER DEFAULT
-- PRIVILEGES FOR ROLE jaga_owner: default privileges are one set for every
-- future table, so they would give a new append-only table UPDATE and DELETE
-- (or give too little elsewhere), silently. Here every table's grants are
-- written down, and a table nobody decided on stops the script.
--
-- An existing database whose tables were created by `jaga serve` under the
-- service role (before database.migrate = false): hand them over first, as a
-- superuser in that database: REASSIGN OWNED BY <old role> TO jaga_owner;

\set ON_ERROR_STOP 1
\if :{?dbname}
\else
\set dbname jaga
\endif
\if :{?owner}
\else
\set owner jaga_owner
\endif
\if :{?service}
\else
\set service jaga_service
\endif

-- Roles (cluster-wide). CREATE ROLE's defaults are NOSUPERUSER NOCREATEDB
-- NOCREATEROLE NOREPLICATION NOBYPASSRLS; said again so that a role made
-- earlier by hand is brought back to them.
select format('create role %I login', :'owner')
 where not exists (select from pg_roles where rolname = :'owner') \gexec
select format('create role %I login', :'service')
 where not exists (select from pg_roles where rolname = :'service') \gexec
alter role :"owner" nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
alter role :"service" nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
-- The service role must not inherit the owner's rights.
select format('revoke %I from %I', :'owner', :'service')
 where pg_has_role(:'service', :'owner', 'member') \gexec

-- The database, owned by the owner role.
select format('create database %I owner %I', :'dbname', :'owner')
 where not exists (select from pg_database where datname = :'dbname') \gexec
revoke all on database :"dbname" from public;
grant connect, temporary on database :"dbname" to :"owner";
grant connect on database :"dbname" to :"service";

\connect :"dbname"

-- Schema public: nobody but the owner role creates objects in it (PostgreSQL
-- 15 already revokes CREATE from PUBLIC; older versions do not).
revoke all on schema public from public;
grant usage, create on schema public to :"owner";
grant usage on schema public to :"service";

-- Per-table privileges of the service role, from the statements in
-- src/store/**/*.rs. Notes:
-- * SELECT is needed wherever a statement reads a column (WHERE, RETURNING,
--   ON CONFLICT), not only for reads.
-- * INSERT ... ON CONFLICT DO UPDATE (upsert) needs UPDATE; SELECT ... FOR
--   UPDATE (account) needs UPDATE as well.
-- * audit_event, audit_checkpoint and audit_node: SELECT and INSERT only. No UPDATE,
--   DELETE or TRUNCATE; the append-only triggers are the second line, and
--   the service role cannot drop or disable them because it owns nothing.
-- * Foreign-key checks run as the owner of the referenced table: no
--   REFERENCES grant is needed.
-- * _sqlx_migrations: SELECT only (serve with database.migrate = false
--   checks that every migration is applied). sqlx's migrator starts with
--   CREATE TABLE IF NOT EXISTS _sqlx_migrations, which the service role is
--   refused even when the table exists: the check must only read it.
-- * Advisory locks (the writer's, the signer's) and LISTEN/NOTIFY need no grant.
-- * VACUUM needs ownership before PostgreSQL 17: `jaga citizens erase`
--   runs `vacuum account`, which the service role skips with a warning
--   (autovacuum still cleans up). On 17 and later the MAINTAIN privilege
--   is granted below so that it runs.
set jaga.owner = :'owner';
set jaga.service = :'service';

do $$
declare
    owner text := current_setting('jaga.owner');
    service text := current_setting('jaga.service');
    tbl text;
    privs text;
    listed text[] := '{}';
    unlisted text;
    grants constant text[][] := array[
        ['_sqlx_migrations', 'select'],
        ['audit_event',      'select, insert'],
        ['audit_checkpoint', 'select, insert'],
        ['audit_node',       'select, insert'],                  -- insert ... on conflict do nothing
        ['audit_cosignature', 'select, insert'],                 -- insert ... on conflict do nothing
        ['alert',            'select, insert'],                  -- insert ... on conflict do nothing
        ['alert_delivery',   'select, insert, update'],
        ['alert_cursor',     'select, insert, update'],          -- upsert
        ['incident',         'select, insert, update'],
        ['incident_citizen', 'select, insert, update'],
        ['audit_head',       'select, update'],
        ['audit_tip',        'select, insert, update'],
        ['account',          'select, insert, update'],          -- never deleted (erasure updates)
        ['officer_role',     'select, insert, delete'],          -- roles replaced: delete, then insert
        ['passkey',          'select, insert, update, delete'],
        ['ceremony',         'select, insert, delete'],          -- consumed by delete ... returning
        ['session',          'select, insert, update, delete'],
        ['recovery_code',    'select, insert, update, delete'],
        ['enrolment_code',   'select, insert, update, delete'],
        ['counter_recovery', 'select, insert, update'],          -- kept (the review trail)
        ['citizen_key',      'select, insert, update, delete'],  -- update: keys rewrap; delete: erasure
        ['citizen_field',    'select, insert, update, delete'],  -- upsert
        ['blind_index',      'select, insert, delete'],          -- insert ... on conflict do nothing
        ['module',           'select, insert, update'],          -- revoked, never deleted
        ['collection',       'select, insert, update'],          -- upsert, never deleted
        ['record_field',     'select, insert, update, delete'],  -- upsert
        ['consent_event',    'select, insert'],                  -- append-only: the proof of consent
        ['break_glass',      'select, insert, update'],          -- update: the review; never deleted
        ['module_case',      'select, insert, update'],          -- update: closed (kept for retention)
        ['guardian_link',    'select, insert, update'],          -- upsert on a new link
        ['correction_request', 'select, insert, update, delete'], -- update: the decision; delete: erasure
        ['erasure',          'select, insert, update'],          -- update: finished; never deleted
        ['oauth_revoked',    'select, insert, delete'],          -- delete: past the token's expiry
        ['oauth_par',        'select, insert, delete'],          -- delete: used or expired
        ['oauth_grant',      'select, insert, update, delete'],  -- update: bound, revoked; delete: purge
        ['oauth_code',       'select, insert, update, delete'],  -- update: used; delete: purge
        ['oauth_refresh',    'select, insert, update, delete'],  -- update: used; delete: purge
        ['oauth_logout',     'select, insert, update, delete']   -- update: delivery; delete: purge
    ];
begin
    for i in 1 .. array_length(grants, 1) loop
        tbl := grants[i][1];
        privs := grants[i][2];
        listed := listed || tbl;
        if to_regclass(format('public.%I', tbl)) is null then
            raise notice 'table % does not exist yet: run this again after jaga migrate', tbl;
            continue;
        end if;
        if (select pg_get_userbyid(relowner) from pg_class where oid = format('public.%I', tbl)::regclass)
           <> owner then
            raise exception 'table % is not owned by %: REASSIGN OWNED BY its owner TO % first', tbl, owner, owner;
        end if;
        execute format('revoke all on public.%I from public, %I', tbl, service);
        execute format('grant %s on public.%I to %I', privs, tbl, service);
        if current_setting('server_version_num')::int >= 170000 and tbl = 'account' then
            execute format('grant maintain on public.%I to %I', tbl, service);
        end if;
    end loop;

    select string_agg(c.relname, ', ' order by c.relname) into unlisted
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
       and c.relname::text <> all (listed);
    if unlisted is not null then
        raise exception 'no privileges decided for table(s) %: add them to deploy/postgres-roles.sql', unlisted;
    end if;

    -- Sequences and functions: none is needed by the service today; PUBLIC
    -- keeps EXECUTE on functions (the trigger function only raises).
    select string_agg(c.relname, ', ') into unlisted
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'S';
    if unlisted is not null then
        raise exception 'sequence(s) % appeared: decide their privileges in deploy/postgres-roles.sql', unlisted;
    end if;

    if exists (select from pg_class where relowner = (select oid from pg_roles where rolname = service))
       or exists (select from pg_namespace where nspowner = (select oid from pg_roles where rolname = service))
       or exists (select from pg_proc where proowner = (select oid from pg_roles where rolname = service)) then
        raise exception 'role % owns objects in this database: REASSIGN OWNED BY % TO %', service, service, owner;
    end if;
end
$$;
