-- The citizen sign-in half of Jaga's OpenID provider: pushed authorization
-- requests (RFC 9126), authorization codes, the grants a citizen gave a
-- module in one sign-in, and the refresh tokens of each grant. Codes and
-- refresh tokens are stored only as SHA-256 hashes.

-- A pushed authorization request, until it is used or expires (60 s).
create table oauth_par (
    request_hash bytea primary key,
    client_id text not null,
    -- JSON: the checked request (redirect_uri, scope, state, nonce,
    -- code_challenge, dpop_jkt, prompt, max_age).
    request text not null,
    created_at bigint not null,
    expires_at bigint not null
);
create index oauth_par_expiry on oauth_par (expires_at);

-- What a citizen (or officer) allowed a module in one sign-in. Its codes,
-- refresh tokens and access tokens die with it: revoked on code reuse,
-- refresh reuse, sign-out, session revocation, removal of the passkey the
-- session was signed in with, suspension, erasure and consent withdrawal;
-- it ends at the latest when its browser session would have (absolute
-- timeout).
create table oauth_grant (
    grant_id text primary key,
    client_id text not null,
    account_id text not null,
    session_id text not null,
    -- The passkey the session was signed in with.
    credential_id bytea,
    -- Space-separated: openid and the catalog purposes allowed.
    scope text not null,
    -- The DPoP key thumbprint the grant's tokens are bound to (set when
    -- the code is exchanged, or at the pushed request through dpop_jkt).
    jkt text,
    auth_time bigint not null,
    -- JSON array (RFC 8176): how the person signed in.
    amr text not null,
    created_at bigint not null,
    expires_at bigint not null,
    revoked_at bigint,
    revoked_reason text
);
create index oauth_grant_account on oauth_grant (account_id);
create index oauth_grant_session on oauth_grant (session_id);
create index oauth_grant_expiry on oauth_grant (expires_at);

-- Authorization codes: single use, valid 60 s.
create table oauth_code (
    code_hash bytea primary key,
    grant_id text not null references oauth_grant (grant_id),
    -- JSON: redirect_uri, nonce, code_challenge, dpop_jkt.
    request text not null,
    expires_at bigint not null,
    used_at bigint
);
create index oauth_code_grant on oauth_code (grant_id);

-- Refresh tokens: opaque, rotated on every use; a used one presented
-- again revokes its whole grant.
create table oauth_refresh (
    token_hash bytea primary key,
    grant_id text not null references oauth_grant (grant_id),
    created_at bigint not null,
    used_at bigint,
    -- The token issued when this one was used: a retry with this one is
    -- answered while that one is unused (FAPI 2.0 §5.3.2.1).
    next_hash bytea
);
create index oauth_refresh_grant on oauth_refresh (grant_id);

-- OpenID Connect Back-Channel Logout 1.0: where a module hears that a
-- person's sign-in ended, and which of its pages a person may be sent to
-- after signing out (RP-initiated logout). JSON array for the latter.
alter table module add column backchannel_logout_uri text;
-- Where a private_key_jwt module publishes its public keys (instead of an
-- inline JWKS): fetched when needed, kept five minutes.
alter table module add column jwks_uri text;
alter table module add column post_logout_redirect_uris text not null default '[]';

-- Logout tokens waiting to be delivered (one per ended grant of a module
-- with a back-channel logout URI), written in the transaction that ended
-- the grant; retried with backoff, given up after a day.
create table oauth_logout (
    grant_id text primary key references oauth_grant (grant_id),
    client_id text not null,
    account_id text not null,
    reason text not null,
    created_at bigint not null,
    next_at bigint not null,
    attempts bigint not null default 0,
    delivered_at bigint,
    failed_at bigint,
    last_error text
);
create index oauth_logout_due on oauth_logout (next_at) where delivered_at is null and failed_at is null;
