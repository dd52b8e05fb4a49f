//! The list of configuration keys Jaga understands.
//!
//! Every key is named once here, with its kind and whether it is a secret.
//! The loader refuses any key that is not listed, and `jaga config check`
//! prints them in this order.

/// What a configuration value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    StrList,
    Int,
}

/// One configuration key.
#[derive(Debug)]
pub struct KeySpec {
    /// Dotted name as written in `jaga.toml` (`section.key`).
    pub name: &'static str,
    pub kind: Kind,
    /// Secrets are redacted by `config check` and may be read from a file
    /// named by the `JAGA_…_FILE` environment variable.
    pub secret: bool,
    pub help: &'static str,
}

const fn key(name: &'static str, kind: Kind, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        kind,
        secret: false,
        help,
    }
}

const fn secret(name: &'static str, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        kind: Kind::Str,
        secret: true,
        help,
    }
}

pub const KEYS: &[KeySpec] = &[
    key("server.listen", Kind::StrList, "addresses to listen on (host:port)"),
    key(
        "server.admin_listen",
        Kind::Str,
        "separate address for /metrics; empty serves it on the main listener",
    ),
    key(
        "server.trusted_proxies",
        Kind::StrList,
        "proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed",
    ),
    key("server.max_body_bytes", Kind::Int, "largest accepted request body"),
    key("server.request_timeout_secs", Kind::Int, "time limit for one request"),
    key(
        "server.shutdown_grace_secs",
        Kind::Int,
        "time given to in-flight requests at shutdown",
    ),
    secret(
        "server.metrics_token",
        "bearer token that opens /metrics on the main listener (else only the admin listener, or --dev)",
    ),
    key("tls.cert_path", Kind::Str, "PEM certificate chain"),
    key("tls.key_path", Kind::Str, "PEM private key"),
    key(
        "tls.client_ca_path",
        Kind::Str,
        "PEM CA bundle for modules' TLS client certificates (tls_client_auth); unset: none asked for",
    ),
    secret("database.url", "sqlite://path or postgres://user@host/db"),
    key(
        "database.max_connections",
        Kind::Int,
        "size of the read connection pool",
    ),
    key(
        "database.migrations",
        Kind::Str,
        "apply (default): apply pending migrations at start; check: refuse to start unless `jaga migrate` applied them",
    ),
    key("keys.path", Kind::Str, "key file written by `jaga keys init`"),
    secret("keys.inline", "the key file's contents, instead of keys.path"),
    key(
        "policies.dir",
        Kind::Str,
        "folder of the written policies (purposes.toml); checked at start, a bad file stops it",
    ),
    key(
        "audit.origin",
        Kind::Str,
        "name of the audit log in its signed checkpoints",
    ),
    key(
        "audit.checkpoint_file",
        Kind::Str,
        "copy of the latest signed checkpoint outside the database (default: beside the key file)",
    ),
    key(
        "audit.checkpoint_every_events",
        Kind::Int,
        "sign a checkpoint after this many new events",
    ),
    key(
        "audit.checkpoint_every_secs",
        Kind::Int,
        "sign a checkpoint at least this often while events arrive",
    ),
    key(
        "audit.reverify_every_secs",
        Kind::Int,
        "how often the whole audit log is verified again in the background",
    ),
    key(
        "audit.signer_takeover_secs",
        Kind::Int,
        "how often an instance that does not sign checkpoints tries to take over from one that stopped",
    ),
    key(
        "audit.witnesses",
        Kind::StrList,
        "witnesses the checkpoints are sent to (C2SP tlog-witness), each \"<witness verifier key> <URL>\"",
    ),
    key(
        "audit.witness_dir",
        Kind::Str,
        "a folder kept as a witness: the latest checkpoint, on storage the database administrators cannot write",
    ),
    key(
        "audit.witness_every_secs",
        Kind::Int,
        "how often new checkpoints are sent to the witnesses",
    ),
    key(
        "alerts.webhook_url",
        Kind::Str,
        "where alerts are sent (POST, JSON, signed with alerts.webhook_secret); unset: the console only",
    ),
    secret(
        "alerts.webhook_secret",
        "the HMAC-SHA256 key that signs each alert sent to the webhook (at least 32 characters)",
    ),
    key(
        "alerts.every_secs",
        Kind::Int,
        "how often the alert rules read the new audit events",
    ),
    key(
        "alerts.retry_base_secs",
        Kind::Int,
        "the first retry of a failed webhook delivery waits this long, each next one twice as long",
    ),
    key(
        "alerts.max_attempts",
        Kind::Int,
        "webhook attempts before an alert is kept as a dead letter",
    ),
    key(
        "webauthn.rp_id",
        Kind::Str,
        "relying party id: the domain passkeys are bound to (dev: localhost)",
    ),
    key(
        "webauthn.origins",
        Kind::StrList,
        "origins browsers use, e.g. https://jaga.example.go.id (dev: http://localhost:8080)",
    ),
    key("webauthn.rp_name", Kind::Str, "name shown by the passkey dialog"),
    key(
        "webauthn.ceremony_timeout_secs",
        Kind::Int,
        "lifetime of a registration or sign-in challenge",
    ),
    key(
        "sessions.idle_timeout_secs",
        Kind::Int,
        "a session ends after this long without a request",
    ),
    key(
        "sessions.absolute_timeout_secs",
        Kind::Int,
        "a session ends this long after sign-in, whatever happens",
    ),
    key(
        "sessions.reauth_window_secs",
        Kind::Int,
        "sensitive account changes need a sign-in at most this old",
    ),
    key(
        "sessions.purge_every_secs",
        Kind::Int,
        "how often expired sessions, used or expired codes and expired ceremonies are deleted",
    ),
    key(
        "ratelimit.policies",
        Kind::StrList,
        "rate-limit policies changed from their defaults, as NAME=BURST/WINDOW_SECS",
    ),
    secret(
        "ratelimit.store",
        "where rate-limit buckets live: memory (default) or a redis:// URL shared by every instance",
    ),
    key(
        "oauth.issuer",
        Kind::Str,
        "the OpenID provider's issuer identifier, Jaga's public https origin (default: the first webauthn origin)",
    ),
    key(
        "oauth.access_token_secs",
        Kind::Int,
        "lifetime of access tokens (default 300)",
    ),
    key(
        "modules.static_keys",
        Kind::Str,
        "allow: the module API still takes static API keys (weaker; warned in the log and /metrics); refuse (default outside --dev)",
    ),
    key("log.format", Kind::Str, "auto, json or pretty"),
    key(
        "log.filter",
        Kind::Str,
        "tracing filter such as info or jaga=debug (RUST_LOG wins)",
    ),
    key(
        "log.queue_lines",
        Kind::Int,
        "log lines queued for the output; past that, lines are dropped (counted in /metrics), never a request blocked",
    ),
];

/// The `JAGA_*` environment variable that sets a key.
pub fn env_name(name: &str) -> String {
    format!("JAGA_{}", name.replace('.', "_").to_uppercase())
}

pub fn find(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}
