//! Sending alerts to the operator's webhook: a JSON body signed with
//! HMAC-SHA256 under a shared secret, tried again with exponential backoff,
//! and kept as a dead letter after the last attempt.
//!
//! `Jaga-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`:
//! the receiver recomputes it over the raw body, and refuses old `t` to
//! stop replays. `Jaga-Alert-Id` lets it drop a delivery it already took.

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::store::alerts::{self as stored, AlertRow};
use crate::store::{Db, StoreError, Writer};

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: SecretString,
    /// The first retry waits this long; each next one twice as long (at
    /// most an hour).
    pub retry_base_secs: i64,
    /// After this many failed attempts the alert is a dead letter.
    pub max_attempts: i32,
    pub client: reqwest::Client,
}

pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(tag.as_ref()))
}

/// The JSON an alert is sent as.
pub fn body(a: &AlertRow) -> String {
    let facts: serde_json::Value = serde_json::from_str(&a.facts).unwrap_or_else(|_| json!({}));
    json!({
        "id": a.alert_id,
        "rule": a.rule,
        "severity": a.severity,
        "subject": a.subject,
        "facts": facts,
        "audit_seq": a.seq,
        "raised_at": a.raised_at,
    })
    .to_string()
}

/// How long after the `attempts`-th failure the next try waits.
pub fn backoff(base: i64, attempts: i32) -> i64 {
    let doubled = 1i64
        .checked_shl(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(i64::MAX);
    base.saturating_mul(doubled).min(3_600)
}

/// Sends every delivery due at `now`; returns how many were delivered.
pub async fn deliver_due(db: &Db, writer: &Writer, hook: &Webhook, now: i64) -> Result<usize, StoreError> {
    let mut delivered = 0;
    for due in stored::due(db, now, 50).await? {
        let a = due.alert;
        let text = body(&a);
        let sent = hook
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header(
                "jaga-signature",
                signature(hook.secret.expose_secret().as_bytes(), now, &text),
            )
            .header("jaga-alert-id", &a.alert_id)
            .body(text)
            .send()
            .await;
        let error = match sent {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
            Err(e) => Some(e.without_url().to_string()),
        };
        let id = a.alert_id.clone();
        match error {
            None => {
                delivered += 1;
                writer
                    .write::<(), StoreError, _>(move |tx| {
                        Box::pin(async move { stored::delivered(tx, &id, now).await })
                    })
                    .await?;
            }
            Some(error) => {
                let attempts = due.attempts + 1;
                let dead = (attempts >= hook.max_attempts).then_some(now);
                let next = now + backoff(hook.retry_base_secs, attempts);
                tracing::warn!(alert = %a.alert_id, attempts, dead = dead.is_some(), error = %error, "alert webhook delivery failed");
                writer
                    .write::<(), StoreError, _>(move |tx| {
                        Box::pin(async move { stored::failed(tx, &id, &error, next, dead).await })
                    })
                    .await?;
            }
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(
            (1..=5).map(|n| backoff(30, n)).collect::<Vec<_>>(),
            vec![30, 60, 120, 240, 480]
        );
        assert_eq!(backoff(30, 20), 3_600);
        assert_eq!(backoff(30, 200), 3_600);
    }

    #[test]
    fn the_signature_covers_time_and_body() {
        let s = signature(b"rahasia", 1_796_000_000, "{\"id\":\"al_1\"}");
        assert!(s.starts_with("t=1796000000,v1=") && s.len() == "t=1796000000,v1=".len() + 64);
        assert_ne!(s, signature(b"rahasia", 1_796_000_001, "{\"id\":\"al_1\"}"));
        assert_ne!(s, signature(b"rahasia", 1_796_000_000, "{\"id\":\"al_2\"}"));
        assert_ne!(s, signature(b"lain", 1_796_000_000, "{\"id\":\"al_1\"}"));
    }
}
