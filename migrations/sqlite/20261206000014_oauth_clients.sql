-- Service modules become OAuth 2.0 clients of Jaga's OpenID provider
-- (FAPI 2.0 Security Profile). The client_id is the module's name. Every
-- existing module becomes a confidential client authenticating with
-- private_key_jwt, with no key registered yet: until `jaga modules set-jwks`
-- gives it one it can only use its static API key, and only where static
-- keys are allowed (--dev or modules.static_keys = allow).
alter table module add column client_auth text not null default 'private_key_jwt'
    check (client_auth in ('private_key_jwt', 'tls_client_auth', 'client_secret_basic', 'none'));
-- The client's public JWKS (JSON), for private_key_jwt.
alter table module add column jwks text;
-- SHA-256 of the client secret (256 random bits), only for a client
-- explicitly registered with client_secret_basic.
alter table module add column secret_hash blob;
-- The subject DN of the client's certificate, for tls_client_auth (RFC 8705).
alter table module add column tls_subject text;
-- JSON arrays: exact redirect URIs; grant types.
alter table module add column redirect_uris text not null default '[]';
alter table module add column grant_types text not null default '["client_credentials"]';
-- Whom the module signs in through Jaga: citizen or officer.
alter table module add column audience text not null default 'citizen'
    check (audience in ('citizen', 'officer'));
alter table module add column updated_at integer;
-- Access tokens issued at or before this second (unix time) are refused:
-- set when a disabled module is registered again, so that neither its old
-- tokens nor its old credentials come back with it.
alter table module add column tokens_not_before integer;

-- Access tokens revoked before they expire (RFC 7009), by their jti; a
-- row is deleted once the token would have expired anyway.
create table oauth_revoked (
    jti text primary key,
    client_id text not null,
    expires_at integer not null
);
create index oauth_revoked_expiry on oauth_revoked (expires_at);
