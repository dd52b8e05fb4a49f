-- Witnesses' cosignatures of the audit log's checkpoints (C2SP
-- tlog-cosignature): the signature line each witness returned, and the
-- time it signed at.
create table audit_cosignature (
    witness text not null,
    tree_size integer not null,
    cosignature text not null,
    time_s integer not null,
    primary key (witness, tree_size)
) without rowid;

create trigger audit_cosignature_no_update before update on audit_cosignature
begin select raise(abort, 'audit_cosignature is append-only'); end;
create trigger audit_cosignature_no_delete before delete on audit_cosignature
begin select raise(abort, 'audit_cosignature is append-only'); end;
