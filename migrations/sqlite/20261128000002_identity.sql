-- Citizens and officers, their passkeys, ceremonies in flight and sessions.
-- Personal data kept here for now (display_name, nik) moves into the vault
-- as field-level ciphertext in a later migration.
create table account (
    account_id text primary key,
    kind text not null check (kind in ('citizen', 'officer')),
    -- WebAuthn user handle: 64 random bytes, never derived from personal data.
    user_handle blob not null unique,
    -- Pseudonymous public id used in audit events and logs.
    pseudonym text not null unique,
    status text not null check (status in ('pending', 'active', 'suspended', 'erased')),
    -- Counter-verified (the KTP was checked by an officer).
    verified integer not null default 0,
    -- Why a security officer should look at this account, if at all.
    flag text,
    display_name text not null,
    nik text,
    -- HMAC-SHA256 blind index of the NIK (16 bytes): uniqueness without the plain NIK.
    nik_index blob,
    created_at integer not null,
    updated_at integer not null
);
create unique index account_nik_index_key on account (nik_index)
    where nik_index is not null and status not in ('suspended', 'erased');

create table officer_role (
    account_id text not null references account (account_id),
    role text not null check (role in ('counter', 'security', 'admin')),
    primary key (account_id, role)
);

create table passkey (
    credential_id blob primary key,
    account_id text not null references account (account_id),
    name text not null,
    -- webauthn_rp static state (public key, algorithm) and dynamic state
    -- (signature counter, backup flags), in its binary encodings.
    static_state blob not null,
    dynamic_state blob not null,
    -- AuthTransports bit set, for exclude lists.
    transports integer not null,
    backup_eligible integer not null,
    backed_up integer not null,
    created_at integer not null,
    last_used_at integer
);
create index passkey_account on passkey (account_id);

-- Server-side WebAuthn ceremony state, keyed by the challenge; deleted on
-- first use (the replay defence) or when expired.
create table ceremony (
    challenge blob primary key,
    kind text not null check (kind in ('register', 'authenticate')),
    account_id text references account (account_id),
    state blob not null,
    -- What the ceremony is for (e.g. a pending enrolment), JSON.
    payload text not null,
    expires_at integer not null
);
create index ceremony_expiry on ceremony (expires_at);

create table session (
    -- SHA-256 of the 256-bit token; the token itself is only in the cookie.
    token_hash blob primary key,
    session_id text not null unique,
    account_id text not null references account (account_id),
    credential_id blob,
    csrf_token text not null,
    user_agent text not null,
    ip text not null,
    created_at integer not null,
    last_seen_at integer not null,
    expires_at integer not null
);
create index session_account on session (account_id);

-- One-time recovery codes, stored as SHA-256(account_id ‖ code).
create table recovery_code (
    account_id text not null references account (account_id),
    code_hash blob not null,
    created_at integer not null,
    used_at integer,
    primary key (account_id, code_hash)
);

-- One-time codes (assisted enrolment, officer-assisted recovery, an
-- officer's first passkey, a citizen's verification at the counter),
-- stored as SHA-256 of the code.
create table enrolment_code (
    code_hash blob primary key,
    account_id text not null references account (account_id),
    purpose text not null check (purpose in ('enrol', 'recover', 'officer', 'verify')),
    -- The officer who checked the KTP; null when issued from the command line.
    issued_by text references account (account_id),
    revoke_old integer not null,
    -- For a counter enrolment: the NIK index the account takes when the
    -- code is used (not before: an unused code must not take a NIK).
    nik_index blob,
    created_at integer not null,
    expires_at integer not null,
    used_at integer
);
