-- Changes to shared state announced by the command line (`jaga keys
-- rotate`, `jaga policy reload`) to the running instance. PostgreSQL
-- deployments use NOTIFY jaga_changes instead; the instance polls this
-- table once a second and acts on rows newer than its start.
create table change_note (
    seq integer primary key autoincrement,
    change text not null,
    noted_at integer not null
);
