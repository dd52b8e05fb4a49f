-- Witnesses' cosignatures of the audit log's checkpoints (C2SP
-- tlog-cosignature): the signature line each witness returned, and the
-- time it signed at.
create table audit_cosignature (
    witness text not null,
    tree_size bigint not null,
    cosignature text not null,
    time_s bigint not null,
    primary key (witness, tree_size)
);

create trigger audit_cosignature_append_only before update or delete on audit_cosignature
    for each row execute function audit_append_only();
create trigger audit_cosignature_no_truncate before truncate on audit_cosignature
    for each statement execute function audit_append_only();
