-- Personal data breach incidents (UU PDP Art. 46): a time window and the
-- officers and modules involved; the citizens affected and their data
-- categories are taken from the audit log when it is opened. Each citizen
-- and the authority must be notified in writing within 3 x 24 hours of
-- discovery; when each notice was sent is recorded here.
create table incident (
    incident_id text primary key,
    title text not null,
    window_from_us integer not null,
    window_to_us integer not null,
    -- Officers' pseudonyms and modules' names, space-separated.
    officers text not null,
    modules text not null,
    opened_by text not null,
    discovered_at integer not null,
    authority_notified_at integer
);

create table incident_citizen (
    incident_id text not null references incident (incident_id),
    citizen text not null,
    -- Field names (data categories), space-separated.
    categories text not null,
    accesses integer not null,
    notified_at integer,
    primary key (incident_id, citizen)
);
