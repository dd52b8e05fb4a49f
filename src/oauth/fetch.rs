//! Jaga's outgoing HTTP: back-channel logouts to modules, and the JWKS a
//! module publishes at its `jwks_uri`. One client, no redirects followed,
//! short timeouts, bodies capped.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::jwk::KeySet;

const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a JWKS document read.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// How long a fetched JWKS is used.
const KEEP_SECS: i64 = 300;
/// A JWKS is fetched again early (for a key id it does not hold) at most
/// once in this long: an unknown key id cannot make Jaga fetch on every
/// request.
const REFETCH_SECS: i64 = 30;

pub fn http() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Jaga")
                .build()
                .map_err(|e| tracing::error!(error = %e, "no HTTP client for outgoing requests"))
                .ok()
        })
        .as_ref()
}

async fn fetch_jwks(uri: &str) -> Result<KeySet, String> {
    let client = http().ok_or("no HTTP client")?;
    let mut response = client
        .get(uri)
        .header("accept", "application/jwk-set+json, application/json")
        .send()
        .await
        .map_err(|e| format!("the JWKS could not be fetched: {}", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("the JWKS address answered {}", response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the JWKS: {}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_JWKS_BYTES {
            return Err("the JWKS is larger than 64 KiB".into());
        }
    }
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| "the JWKS is not JSON".to_owned())?;
    KeySet::parse(&value).map_err(|e| format!("the JWKS: {e}"))
}

#[derive(Debug)]
struct Fetched {
    uri: String,
    keys: KeySet,
    at: i64,
    /// The last fetch asked for early, if any.
    early_at: Option<i64>,
}

/// The JWKS modules publish, as last fetched, per client.
#[derive(Debug, Default)]
pub struct RemoteKeys(Mutex<HashMap<String, Fetched>>);

impl RemoteKeys {
    /// The keys `client_id` publishes at `uri`: as fetched within five
    /// minutes, or fetched now. `fresh` asks for a fetch now (an unknown
    /// key id: the module rotated), granted once in 30 seconds.
    pub async fn get(&self, client_id: &str, uri: &str, now: i64, fresh: bool) -> Result<KeySet, String> {
        let mut early_at = None;
        if let Ok(cache) = self.0.lock()
            && let Some(f) = cache.get(client_id)
            && f.uri == uri
        {
            let recent_early = f.early_at.is_some_and(|t| now.saturating_sub(t) < REFETCH_SECS);
            if now.saturating_sub(f.at) < KEEP_SECS && (!fresh || recent_early) {
                return Ok(f.keys.clone());
            }
            early_at = f.early_at;
        }
        if fresh {
            early_at = Some(now);
        }
        let keys = fetch_jwks(uri).await?;
        if let Ok(mut cache) = self.0.lock() {
            cache.insert(
                client_id.to_owned(),
                Fetched {
                    uri: uri.to_owned(),
                    keys: keys.clone(),
                    at: now,
                    early_at,
                },
            );
        }
        Ok(keys)
    }
}
