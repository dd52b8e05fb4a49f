//! Where alerts go: the console always, and a webhook when one is set.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use super::{ConfigError, Getter, invalid};

#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub webhook: Option<WebhookConfig>,
    /// How often the rules read the new audit events.
    pub every: Duration,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Signs each body (HMAC-SHA256); at least 32 characters.
    pub secret: SecretString,
    pub retry_base_secs: i64,
    pub max_attempts: i32,
}

pub(super) fn alerts(get: &Getter<'_>) -> Result<AlertsConfig, ConfigError> {
    let url = get.string("alerts.webhook_url")?;
    let secret = get.secret("alerts.webhook_secret")?;
    let webhook = match (url, secret) {
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("alerts.webhook_secret", "set alerts.webhook_url too")),
        (Some(_), None) => {
            return Err(invalid(
                "alerts.webhook_secret",
                "required with alerts.webhook_url: every body is signed with it",
            ));
        }
        (Some(url), Some(secret)) => {
            let local = url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost");
            if !(url.starts_with("https://") || local) || url.contains([' ', '#']) {
                return Err(invalid(
                    "alerts.webhook_url",
                    "an https URL (http only on this machine)",
                ));
            }
            if secret.expose_secret().len() < 32 {
                return Err(invalid("alerts.webhook_secret", "at least 32 characters"));
            }
            Some(WebhookConfig {
                url,
                secret,
                retry_base_secs: get.int("alerts.retry_base_secs", 30, 1, 3_600)?,
                max_attempts: get.int("alerts.max_attempts", 8, 1, 50)?,
            })
        }
    };
    Ok(AlertsConfig {
        webhook,
        every: Duration::from_secs(get.int("alerts.every_secs", 30, 1, 3_600)?),
    })
}
