//! `jaga config check`: the effective configuration, one `key = value`
//! line per key, secrets redacted.

use secrecy::ExposeSecret as _;

use super::Config;

impl Config {
    /// The effective configuration, one `key = value` line per key, secrets redacted.
    pub fn describe(&self) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let redacted = |set: bool| if set { "<redacted>" } else { "" }.to_owned();
        let tls = self.tls.as_ref();
        let rows: Vec<(&str, String)> = vec![
            ("mode", if self.dev { "development" } else { "production" }.to_owned()),
            ("server.listen", self.server.listen.join(", ")),
            ("server.admin_listen", opt(&self.server.admin_listen)),
            ("server.metrics_token", redacted(self.server.metrics_token.is_some())),
            (
                "server.trusted_proxies",
                self.server
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("server.max_body_bytes", self.server.max_body_bytes.to_string()),
            (
                "server.request_timeout_secs",
                self.server.request_timeout.as_secs().to_string(),
            ),
            (
                "server.shutdown_grace_secs",
                self.server.shutdown_grace.as_secs().to_string(),
            ),
            (
                "tls.cert_path",
                tls.map(|t| t.cert_path.display().to_string()).unwrap_or_default(),
            ),
            (
                "tls.key_path",
                tls.map(|t| t.key_path.display().to_string()).unwrap_or_default(),
            ),
            (
                "tls.client_ca_path",
                tls.and_then(|t| t.client_ca_path.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
            ("database.url", redact_url(self.database.url.expose_secret())),
            ("database.max_connections", self.database.max_connections.to_string()),
            (
                "database.migrations",
                if self.database.apply_migrations {
                    "apply"
                } else {
                    "check"
                }
                .to_owned(),
            ),
            ("keys.path", self.keys.path.display().to_string()),
            ("keys.inline", redacted(self.keys.inline.is_some())),
            ("policies.dir", self.policies_dir.display().to_string()),
            ("audit.origin", self.audit.origin.clone()),
            (
                "audit.checkpoint_every_events",
                self.audit.checkpoint_every_events.to_string(),
            ),
            (
                "audit.checkpoint_every_secs",
                self.audit.checkpoint_every.as_secs().to_string(),
            ),
            (
                "audit.reverify_every_secs",
                self.audit.reverify_every.as_secs().to_string(),
            ),
            (
                "audit.witnesses",
                self.audit
                    .witnesses
                    .http
                    .iter()
                    .map(|w| format!("{} {}", w.name, w.url))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "audit.witness_dir",
                self.audit
                    .witnesses
                    .folder
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
            ),
            (
                "audit.signer_takeover_secs",
                self.audit.signer_takeover.as_secs().to_string(),
            ),
            (
                "webauthn.rp_id",
                self.webauthn.as_ref().map(|w| w.rp_id.clone()).unwrap_or_default(),
            ),
            (
                "webauthn.origins",
                self.webauthn.as_ref().map(|w| w.origins.join(", ")).unwrap_or_default(),
            ),
            (
                "webauthn.rp_name",
                self.webauthn.as_ref().map(|w| w.rp_name.clone()).unwrap_or_default(),
            ),
            (
                "sessions.idle_timeout_secs",
                self.sessions.idle_timeout.as_secs().to_string(),
            ),
            (
                "sessions.absolute_timeout_secs",
                self.sessions.absolute_timeout.as_secs().to_string(),
            ),
            (
                "sessions.reauth_window_secs",
                self.sessions.reauth_window.as_secs().to_string(),
            ),
            (
                "sessions.purge_every_secs",
                self.sessions.purge_every.as_secs().to_string(),
            ),
            (
                "ratelimit.policies",
                self.ratelimit
                    .iter()
                    .map(|(n, b, w)| format!("{n}={b}/{}", w.as_secs()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "ratelimit.store",
                self.ratelimit_store
                    .as_ref()
                    .map_or_else(|| "memory".to_owned(), |u| redact_url(u.expose_secret())),
            ),
            ("log.format", format!("{:?}", self.log.format).to_lowercase()),
            ("log.filter", self.log.filter.clone()),
            ("log.queue_lines", self.log.queue_lines.to_string()),
        ];
        rows.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

/// Shows the scheme, host and database of a URL but never its credentials.
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            let host = host.split_once('?').map_or(host, |(h, _)| h);
            let creds = if rest.contains('@') { "<redacted>@" } else { "" };
            format!("{scheme}://{creds}{host}")
        }
        None => "<redacted>".to_owned(),
    }
}
