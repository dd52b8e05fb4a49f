//! OpenID Connect Back-Channel Logout 1.0: when a person's sign-in at a
//! module ends (they sign out, a session is revoked, the account is
//! suspended or erased, consent is withdrawn, a token is reused), Jaga
//! posts a signed logout token to the module's registered URI.
//!
//! The logout is queued in the transaction that ended the sign-in, so it
//! is never lost; a background task delivers it, retries with backoff
//! for a day, and audits the outcome.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::json;

use super::Deps;
use super::access::{IssueError, sign};
use super::id_token::pairwise_sub;
use crate::audit::{self, Actor, ActorKind, AuditError, Event, Outcome, Target};
use crate::store::oauth_tokens::{self as stored, LogoutRow};

/// The event a logout token carries.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Retries stop a day after the sign-in ended.
const GIVE_UP_SECS: i64 = 86_400;

/// A logout token (typ `logout+jwt`) for `row`.
pub fn logout_token(deps: &Deps, row: &LogoutRow, now: i64) -> Result<String, IssueError> {
    let body = json!({
        "iss": deps.issuer.url,
        "aud": row.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": B64URL.encode(crate::ids::bytes::<16>()?),
        "sub": pairwise_sub(&deps.keys.index, &row.client_id, &row.account_id),
        "sid": row.grant_id,
        "events": { LOGOUT_EVENT: {} },
    });
    sign(&deps.keys.oauth, Some("logout+jwt"), &body, now).map(|(jws, _)| jws)
}

/// Posts one logout token; `Err` says why it was not accepted.
async fn post(uri: &str, token: &str) -> Result<(), String> {
    let client = super::fetch::http().ok_or("no HTTP client")?;
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", token)
        .finish();
    let response = client
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cache-control", "no-store")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("not delivered: {}", e.without_url()))?;
    // OIDC Back-Channel Logout §2.8: 200 (or 204) means done.
    match response.status().as_u16() {
        200 | 204 => Ok(()),
        status => Err(format!("the module answered {status}")),
    }
}

/// Seconds to wait before attempt `attempts + 1`: 10 s, doubling, at most an hour.
fn backoff(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 10)).unwrap_or(10);
    (10_i64 << exponent).min(3_600)
}

/// Delivers the logouts due now; returns how many were delivered.
pub async fn deliver_due(deps: &Deps, now: i64) -> Result<usize, AuditError> {
    let due = stored::due_logouts(&deps.db, now, 50).await?;
    let mut delivered = 0;
    for row in due {
        let grant = row.grant_id.clone();
        let claimed = deps
            .writer
            .write::<bool, AuditError, _>(move |tx| {
                Box::pin(async move { Ok(stored::claim_logout(tx, &grant, now, now + 60).await?) })
            })
            .await?;
        if !claimed {
            continue;
        }
        let result = match logout_token(deps, &row, now) {
            Ok(token) => post(&row.uri, &token).await,
            Err(e) => Err(e.to_string()),
        };
        let ok = result.is_ok();
        let error = result.err();
        let give_up = !ok && now.saturating_sub(row.created_at) >= GIVE_UP_SECS;
        let next_at = (!ok && !give_up).then(|| now + backoff(row.attempts));
        if let Some(e) = &error {
            tracing::warn!(client = %row.client_id, attempt = row.attempts + 1, error = %e, gave_up = give_up,
                "back-channel logout not accepted");
        }
        let event = (ok || give_up).then(|| {
            Event::new(
                Actor::new(ActorKind::System, "jaga"),
                "oauth.backchannel_logout",
                Target::new("oauth_grant", Some(row.grant_id.clone())),
                if ok { Outcome::Success } else { Outcome::Failure },
            )
            .reason(row.reason.clone())
        });
        let grant = row.grant_id.clone();
        deps.writer
            .write::<(), AuditError, _>(move |tx| {
                Box::pin(async move {
                    stored::logout_attempted(tx, &grant, ok, next_at, error.as_deref(), now).await?;
                    if let Some(e) = event {
                        audit::record(tx, e).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        if ok {
            delivered += 1;
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(0), 10);
        assert_eq!(backoff(1), 20);
        assert_eq!(backoff(5), 320);
        assert_eq!(backoff(9), 3_600);
        assert_eq!(backoff(50), 3_600);
    }
}
