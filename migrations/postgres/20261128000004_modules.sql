-- Service modules (machine clients until OpenID Connect lands), the
-- collections they define, and their citizens' records, sealed under each
-- citizen's data key like the profile.
create table module (
    module_id text primary key,
    -- Lower-case identifier, the prefix of its collections: antrian, perizinan.
    name text not null unique,
    -- SHA-256 of the API key (256 random bits); the key is shown once.
    key_hash bytea not null unique,
    created_at bigint not null,
    revoked_at bigint
);

create table collection (
    -- <module name>.<collection>, e.g. antrian.ticket
    name text primary key,
    module_id text not null references module (module_id),
    -- JSON array of {"name", "classification"}; see src/modules/collection.rs.
    fields text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table record_field (
    collection text not null references collection (name),
    account_id text not null references account (account_id),
    record_id text not null,
    field text not null,
    record_version bigint not null,
    sealed bytea not null,
    updated_at bigint not null,
    primary key (collection, account_id, record_id, field)
);
create index record_field_account on record_field (account_id);
