//! One typed configuration, loaded once at start and passed in `AppState`.

mod alerts;
mod audit;
mod cidr;
mod describe;
mod load;
mod oauth;
pub mod spec;

pub use cidr::Cidr;

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use alerts::{AlertsConfig, WebhookConfig};
pub use audit::{AuditConfig, HttpWitness, WitnessConfig};
pub use load::{Layers, Raw};
pub use oauth::OauthConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}: unknown configuration key")]
    UnknownKey(String),
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Development mode: plain HTTP on localhost, data under ./data.
    pub dev: bool,
    pub server: ServerConfig,
    pub tls: Option<TlsConfig>,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    /// Folder of the written policies: the purpose catalog.
    pub policies_dir: PathBuf,
    pub audit: AuditConfig,
    pub alerts: AlertsConfig,
    /// Required by `serve` outside development mode.
    pub webauthn: Option<WebauthnConfig>,
    pub sessions: SessionConfig,
    /// Rate-limit policies changed from their defaults: (name, burst, window).
    pub ratelimit: Vec<(String, u32, Duration)>,
    /// Where rate-limit buckets live: `None` in this process's memory, or a
    /// `redis://` URL shared by every instance.
    pub ratelimit_store: Option<SecretString>,
    pub oauth: OauthConfig,
    pub log: LogConfig,
}

/// The relying party: which domain passkeys belong to and which origins
/// may use them. Checked at start.
#[derive(Debug, Clone)]
pub struct WebauthnConfig {
    pub rp_id: String,
    pub origins: Vec<String>,
    pub rp_name: String,
    pub ceremony_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// Adding or removing a passkey and new recovery codes need a sign-in
    /// at most this old.
    pub reauth_window: Duration,
    /// How often expired sessions, codes and ceremonies are deleted.
    pub purge_every: Duration,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: Vec<String>,
    pub admin_listen: Option<String>,
    /// Opens /metrics on the main listener to `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    pub trusted_proxies: Vec<Cidr>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// CA bundle (PEM) for modules' TLS client certificates (RFC 8705
    /// tls_client_auth); unset: none is asked for.
    pub client_ca_path: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
    /// Whether `serve` and the commands apply pending migrations (the
    /// default) or only check that every one is applied, so that the
    /// service's database role needs no DDL (`jaga migrate` runs them as
    /// the owner).
    pub apply_migrations: bool,
}

#[derive(Debug, Clone)]
pub struct KeysConfig {
    pub path: PathBuf,
    pub inline: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
    /// Lines the serving log writer queues before dropping new ones.
    pub queue_lines: usize,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/jaga.db";
pub const DEFAULT_KEYS_PATH: &str = "keys/jaga-keys.toml";
pub const DEV_KEYS_PATH: &str = "data/dev-keys.toml";
pub const DEFAULT_POLICIES_DIR: &str = "policies";

impl Config {
    /// Loads the configuration from `file` (if given) and the process environment.
    pub fn load(file: Option<&Path>, dev: bool) -> Result<Self, ConfigError> {
        let layers = Layers::read(file, std::env::vars())?;
        Self::from_layers(&layers, dev)
    }

    pub fn from_layers(layers: &Layers, dev: bool) -> Result<Self, ConfigError> {
        let get = Getter(layers);
        let tls = tls(&get)?;
        if dev && tls.is_some() {
            return Err(invalid("tls.cert_path", "development mode serves plain HTTP only"));
        }
        let keys = KeysConfig {
            path: get
                .string("keys.path")?
                .unwrap_or_else(|| if dev { DEV_KEYS_PATH } else { DEFAULT_KEYS_PATH }.to_owned())
                .into(),
            inline: get.secret("keys.inline")?,
        };
        Ok(Config {
            dev,
            server: server(&get)?,
            tls,
            database: database(&get)?,
            audit: audit::audit(&get, &keys.path)?,
            alerts: alerts::alerts(&get)?,
            keys,
            policies_dir: get
                .string("policies.dir")?
                .unwrap_or_else(|| DEFAULT_POLICIES_DIR.to_owned())
                .into(),
            webauthn: webauthn(&get, dev)?,
            sessions: sessions(&get)?,
            ratelimit: ratelimit_overrides(&get)?,
            ratelimit_store: ratelimit_store(&get)?,
            oauth: oauth::oauth(&get, dev)?,
            log: log(&get, dev)?,
        })
    }
}

fn server(get: &Getter<'_>) -> Result<ServerConfig, ConfigError> {
    let listen = get
        .list("server.listen")?
        .unwrap_or_else(|| vec!["localhost:8080".to_owned()]);
    if listen.is_empty() {
        return Err(invalid("server.listen", "needs at least one address"));
    }
    let trusted_proxies = get
        .list("server.trusted_proxies")?
        .unwrap_or_default()
        .iter()
        .map(|s| {
            Cidr::parse(s).ok_or_else(|| {
                invalid(
                    "server.trusted_proxies",
                    format!("{s:?} is not an address or CIDR range"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServerConfig {
        listen,
        admin_listen: get.string("server.admin_listen")?.filter(|s| !s.is_empty()),
        metrics_token: metrics_token(get)?,
        trusted_proxies,
        max_body_bytes: get.int("server.max_body_bytes", 1 << 20, 1024, 64 << 20)?,
        request_timeout: Duration::from_secs(get.int("server.request_timeout_secs", 30, 1, 600)?),
        shutdown_grace: Duration::from_secs(get.int("server.shutdown_grace_secs", 20, 0, 600)?),
    })
}

fn tls(get: &Getter<'_>) -> Result<Option<TlsConfig>, ConfigError> {
    match (get.string("tls.cert_path")?, get.string("tls.key_path")?) {
        (Some(cert), Some(key)) => Ok(Some(TlsConfig {
            cert_path: cert.into(),
            key_path: key.into(),
            client_ca_path: get.string("tls.client_ca_path")?.map(PathBuf::from),
        })),
        (None, None) if get.string("tls.client_ca_path")?.is_some() => Err(invalid(
            "tls.client_ca_path",
            "client certificates need Jaga to serve TLS itself (tls.cert_path and tls.key_path)",
        )),
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid("tls.key_path", "missing (tls.cert_path is set)")),
        (None, Some(_)) => Err(invalid("tls.cert_path", "missing (tls.key_path is set)")),
    }
}

fn database(get: &Getter<'_>) -> Result<DatabaseConfig, ConfigError> {
    let url = get
        .secret("database.url")?
        .unwrap_or_else(|| SecretString::from(DEFAULT_DATABASE_URL));
    let scheme_ok = ["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|s| url.expose_secret().starts_with(s));
    if !scheme_ok {
        return Err(invalid("database.url", "must start with sqlite:// or postgres://"));
    }
    Ok(DatabaseConfig {
        url,
        max_connections: get.int("database.max_connections", 8, 1, 256)?,
        apply_migrations: match get.string("database.migrations")?.as_deref() {
            None | Some("apply") => true,
            Some("check") => false,
            Some(_) => return Err(invalid("database.migrations", "must be \"apply\" or \"check\"")),
        },
    })
}

fn sessions(get: &Getter<'_>) -> Result<SessionConfig, ConfigError> {
    Ok(SessionConfig {
        idle_timeout: Duration::from_secs(get.int("sessions.idle_timeout_secs", 30 * 60, 1, 24 * 3600)?),
        absolute_timeout: Duration::from_secs(get.int(
            "sessions.absolute_timeout_secs",
            12 * 3600,
            1,
            7 * 24 * 3600,
        )?),
        reauth_window: Duration::from_secs(get.int("sessions.reauth_window_secs", 600, 1, 24 * 3600)?),
        purge_every: Duration::from_secs(get.int("sessions.purge_every_secs", 600, 1, 24 * 3600)?),
    })
}

fn log(get: &Getter<'_>, dev: bool) -> Result<LogConfig, ConfigError> {
    let format = match get.string("log.format")?.as_deref() {
        None | Some("auto") if dev => LogFormat::Pretty,
        None | Some("auto") | Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some(other) => {
            return Err(invalid("log.format", format!("{other:?} is not auto, json or pretty")));
        }
    };
    let filter = get.string("log.filter")?.unwrap_or_else(|| "info".to_owned());
    if log_filter(&filter).is_none() {
        return Err(invalid(
            "log.filter",
            "not a valid tracing filter (such as info or jaga=debug)",
        ));
    }
    Ok(LogConfig {
        format,
        filter,
        queue_lines: get.int("log.queue_lines", 64 * 1024, 16, 16 * 1024 * 1024)?,
    })
}

/// A tracing filter (`log.filter`, `RUST_LOG`), or `None` if it is not one.
/// Only printable ASCII is taken: tracing-subscriber 0.3 slices a directive
/// with leading spaces at the wrong offsets and panics on multi-byte
/// characters (found by the `config` fuzz target).
pub fn log_filter(text: &str) -> Option<tracing_subscriber::EnvFilter> {
    let printable = text.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    printable
        .then(|| tracing_subscriber::EnvFilter::try_new(text).ok())
        .flatten()
}

/// A bearer token for /metrics: at least 32 characters (a random token).
fn metrics_token(get: &Getter<'_>) -> Result<Option<SecretString>, ConfigError> {
    match get.secret("server.metrics_token")? {
        Some(t) if t.expose_secret().is_empty() => Ok(None),
        Some(t) if t.expose_secret().len() < 32 || t.expose_secret().chars().any(char::is_whitespace) => Err(invalid(
            "server.metrics_token",
            "must be at least 32 characters without spaces (e.g. openssl rand -base64 32)",
        )),
        other => Ok(other),
    }
}

/// `ratelimit.store = "memory" | "redis://host:port/db"`.
fn ratelimit_store(get: &Getter<'_>) -> Result<Option<SecretString>, ConfigError> {
    match get.secret("ratelimit.store")? {
        None => Ok(None),
        Some(s) if s.expose_secret() == "memory" => Ok(None),
        Some(s) if s.expose_secret().starts_with("redis://") || s.expose_secret().starts_with("rediss://") => {
            Ok(Some(s))
        }
        Some(_) => Err(invalid("ratelimit.store", "must be \"memory\" or a redis:// URL")),
    }
}

/// `ratelimit.policies = ["signin-ip=30/60", …]`: a policy's burst and
/// window in seconds (the names are those in `RateLimit-Policy` headers).
fn ratelimit_overrides(get: &Getter<'_>) -> Result<Vec<(String, u32, Duration)>, ConfigError> {
    const KEY: &str = "ratelimit.policies";
    let mut out = Vec::new();
    for entry in get.list(KEY)?.unwrap_or_default() {
        let parsed = entry.split_once('=').and_then(|(name, rest)| {
            let (burst, window) = rest.split_once('/')?;
            let burst = burst
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|b| (1..=1_000_000).contains(b))?;
            let window = window.trim().parse::<u64>().ok().filter(|w| (1..=86_400).contains(w))?;
            Some((name.trim().to_owned(), burst, Duration::from_secs(window)))
        });
        match parsed {
            Some(p) if crate::ratelimit::Policy::named(&p.0).is_some() => out.push(p),
            Some(p) => return Err(invalid(KEY, format!("{:?} is not a rate-limit policy", p.0))),
            None => {
                return Err(invalid(
                    KEY,
                    format!("{entry:?} must be NAME=BURST/WINDOW_SECS (burst 1 to 1000000, window 1 to 86400)"),
                ));
            }
        }
    }
    Ok(out)
}

/// Development mode uses `localhost` and `http://localhost:8080`;
/// production needs both configured. Every origin must be HTTPS (plain HTTP
/// only for localhost) and its host must be the RP id or a subdomain of it.
fn webauthn(get: &Getter<'_>, dev: bool) -> Result<Option<WebauthnConfig>, ConfigError> {
    let rp_id = match (get.string("webauthn.rp_id")?, dev) {
        (Some(id), _) => id,
        (None, true) => "localhost".to_owned(),
        (None, false) if get.list("webauthn.origins")?.is_some() => {
            return Err(invalid("webauthn.rp_id", "missing (webauthn.origins is set)"));
        }
        (None, false) => return Ok(None),
    };
    let valid_domain = !rp_id.is_empty()
        && rp_id.len() <= 253
        && rp_id.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if !valid_domain {
        return Err(invalid(
            "webauthn.rp_id",
            "must be a lower-case domain name such as jaga.example.go.id",
        ));
    }
    let origins = match (get.list("webauthn.origins")?, dev) {
        (Some(o), _) if !o.is_empty() => o,
        (_, true) => vec!["http://localhost:8080".to_owned()],
        (_, false) => return Err(invalid("webauthn.origins", "required outside development mode")),
    };
    for origin in &origins {
        check_webauthn_origin(origin, &rp_id)?;
    }
    let rp_name = get.string("webauthn.rp_name")?.unwrap_or_else(|| "Jaga".to_owned());
    let ceremony_timeout = Duration::from_secs(get.int("webauthn.ceremony_timeout_secs", 300, 1, 600)?);
    Ok(Some(WebauthnConfig {
        rp_id,
        origins,
        rp_name,
        ceremony_timeout,
    }))
}

fn check_webauthn_origin(origin: &str, rp_id: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| invalid("webauthn.origins", format!("{origin}: {why}"));
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| bad("not an origin (scheme://host[:port])"))?;
    if rest.contains('/') || rest.is_empty() {
        return Err(bad("an origin has no path"));
    }
    let host = rest
        .rsplit_once(':')
        .map_or(rest, |(h, port)| if port.parse::<u16>().is_ok() { h } else { rest });
    match scheme {
        "https" => {}
        "http" if host == "localhost" => {}
        _ => return Err(bad("must be https (http only for localhost)")),
    }
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        return Err(bad("host is not the RP id or a subdomain of it"));
    }
    Ok(())
}

/// Checkpoint origins are signed-note key names: printable, no spaces or '+'.
struct Getter<'a>(&'a Layers);

impl Getter<'_> {
    fn raw(&self, key: &'static str) -> Option<&Raw> {
        self.0.values.get(key)
    }

    fn string(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        Ok(self.secret(key)?.map(|s| s.expose_secret().to_owned()))
    }

    fn secret(&self, key: &'static str) -> Result<Option<SecretString>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Raw::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(key, "expected a string")),
        }
    }

    fn list(&self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some(Raw::List(v)) => Ok(Some(v.clone())),
            Some(_) => Err(invalid(key, "expected a list of strings")),
        }
    }

    fn int<T: TryFrom<i64>>(&self, key: &'static str, default: i64, min: i64, max: i64) -> Result<T, ConfigError> {
        let value = match self.raw(key) {
            None => default,
            Some(Raw::Int(i)) => *i,
            Some(_) => return Err(invalid(key, "expected an integer")),
        };
        if !(min..=max).contains(&value) {
            return Err(invalid(key, format!("{value} is outside {min}..={max}")));
        }
        T::try_from(value).map_err(|_| invalid(key, "out of range"))
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
