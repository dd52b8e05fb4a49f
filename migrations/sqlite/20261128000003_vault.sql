-- The vault: per-citizen data keys (wrapped by a root KEK) and sealed
-- fields. Only ciphertext lives here; destroying a citizen's key row makes
-- all their fields unreadable (crypto-shredding).
create table citizen_key (
    account_id text primary key references account (account_id),
    dek_version integer not null,
    kek_version integer not null,
    wrapped blob not null,
    created_at integer not null
);
create index citizen_key_kek on citizen_key (kek_version);

create table citizen_field (
    account_id text not null references account (account_id),
    -- e.g. profile.nik, profile.phone, antrian.ticket.queue_number
    field text not null,
    record_version integer not null,
    sealed blob not null,
    updated_at integer not null,
    primary key (account_id, field)
);

-- Blind indexes (HMAC-SHA256, 16 bytes) for exact lookups without decrypting.
create table blind_index (
    domain text not null,
    digest blob not null,
    account_id text not null references account (account_id),
    primary key (domain, digest, account_id)
);
create index blind_index_account on blind_index (account_id);
