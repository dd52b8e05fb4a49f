-- The tamper-evident audit log. Events are leaves of an RFC 9162 Merkle
-- tree; seq is the 0-based leaf index. Values never appear here: only
-- pseudonymous ids and field names.
create table audit_event (
    seq bigint primary key,
    time_us bigint not null,
    actor_kind text not null,
    actor_id text not null,
    action text not null,
    target_kind text not null,
    target_id text,
    target_fields text not null,
    purpose text,
    outcome text not null,
    reason text,
    request_id text,
    source text,
    -- HMAC-SHA256 of the leaf hash under the audit MAC key.
    mac bytea not null
);

create index audit_event_target on audit_event (target_kind, target_id);
create index audit_event_actor on audit_event (actor_kind, actor_id);

-- The next sequence number. Appending takes this row's lock until commit,
-- so sequence numbers are dense and commit in order across instances.
create table audit_head (
    singleton boolean primary key default true check (singleton),
    next_seq bigint not null
);
insert into audit_head (singleton, next_seq) values (true, 0);

-- Signed checkpoints; note is the C2SP signed note, frontier the right
-- edge of the tree at tree_size (for resuming without a full rescan).
create table audit_checkpoint (
    tree_size bigint primary key,
    root_hash bytea not null,
    time_s bigint not null,
    note text not null,
    frontier bytea not null
);

-- Append-only, as far as the application is concerned. Someone with direct
-- database access can drop these triggers; the signed checkpoints are what
-- catches them then.
create function audit_append_only() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name;
end
$$;
create trigger audit_event_append_only before update or delete on audit_event
    for each row execute function audit_append_only();
create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function audit_append_only();
create trigger audit_checkpoint_append_only before update or delete on audit_checkpoint
    for each row execute function audit_append_only();
create trigger audit_checkpoint_no_truncate before truncate on audit_checkpoint
    for each statement execute function audit_append_only();
