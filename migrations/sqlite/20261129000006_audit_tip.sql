-- The latest signed checkpoint, made at every group commit in the same
-- transaction as the events it covers, with the tree's right edge (for
-- extending it without a rescan). Every acknowledged event is covered by
-- a signed checkpoint; a copy is kept outside the database.
create table audit_tip (
    singleton integer primary key check (singleton = 1),
    tree_size integer not null,
    frontier blob not null,
    note text not null
);

-- An existing log starts from its newest stored checkpoint (already signed).
insert into audit_tip (singleton, tree_size, frontier, note)
    select 1, tree_size, frontier, note from audit_checkpoint order by tree_size desc limit 1;
