-- The tamper-evident audit log. Events are leaves of an RFC 9162 Merkle
-- tree; seq is the 0-based leaf index. Values never appear here: only
-- pseudonymous ids and field names.
create table audit_event (
    seq integer primary key,
    time_us integer not null,
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
    mac blob not null
);

create index audit_event_target on audit_event (target_kind, target_id);
create index audit_event_actor on audit_event (actor_kind, actor_id);

-- Signed checkpoints; note is the C2SP signed note, frontier the right
-- edge of the tree at tree_size (for resuming without a full rescan).
create table audit_checkpoint (
    tree_size integer primary key,
    root_hash blob not null,
    time_s integer not null,
    note text not null,
    frontier blob not null
);

-- Append-only, as far as the application is concerned. Someone with direct
-- database access can drop these triggers; the signed checkpoints are what
-- catches them then.
create trigger audit_event_no_update before update on audit_event
begin select raise(abort, 'audit_event is append-only'); end;
create trigger audit_event_no_delete before delete on audit_event
begin select raise(abort, 'audit_event is append-only'); end;
create trigger audit_checkpoint_no_update before update on audit_checkpoint
begin select raise(abort, 'audit_checkpoint is append-only'); end;
create trigger audit_checkpoint_no_delete before delete on audit_checkpoint
begin select raise(abort, 'audit_checkpoint is append-only'); end;
