-- The audit tree's stored nodes: the root of every complete subtree whose
-- height is a multiple of 8 (a node stands for 256 of the stored level
-- below it, as a C2SP tlog-tiles tile does), written in the transaction
-- of the events that complete it. Proofs are built from these and a few
-- leaves. A log written before this table is backfilled in the background.
create table audit_node (
    height integer not null,
    idx integer not null,
    hash blob not null,
    primary key (height, idx)
) without rowid;

create trigger audit_node_no_update before update on audit_node
begin select raise(abort, 'audit_node is append-only'); end;
create trigger audit_node_no_delete before delete on audit_node
begin select raise(abort, 'audit_node is append-only'); end;
