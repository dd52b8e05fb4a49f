-- The audit tree's stored nodes: the root of every complete subtree whose
-- height is a multiple of 8 (a node stands for 256 of the stored level
-- below it, as a C2SP tlog-tiles tile does), written in the transaction
-- of the events that complete it. Proofs are built from these and a few
-- leaves. A log written before this table is backfilled in the background.
create table audit_node (
    height bigint not null,
    idx bigint not null,
    hash bytea not null,
    primary key (height, idx)
);

create trigger audit_node_append_only before update or delete on audit_node
    for each row execute function audit_append_only();
create trigger audit_node_no_truncate before truncate on audit_node
    for each statement execute function audit_append_only();
