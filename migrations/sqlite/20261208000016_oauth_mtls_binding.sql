-- A sign-in's tokens may be bound to the module's TLS client certificate
-- (RFC 8705 cnf.x5t#S256) instead of a DPoP key: its SHA-256 thumbprint.
alter table oauth_grant add column x5t text;
