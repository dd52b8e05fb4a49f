//! The token endpoint's grants for a person's sign-in: the authorization
//! code (PKCE S256, the pushed redirect URI, the DPoP key the code was
//! bound to) and the refresh token (bound to the grant's DPoP key, rotated
//! on every use). A code presented a second time, or a refresh token
//! presented again after the one issued in its place was used, revokes
//! everything its sign-in issued. A retry with the previous refresh token
//! while its successor is unused (the answer was lost) is answered
//! (FAPI 2.0 §5.3.2.1). Checks that a stranger could fail (another
//! client, another DPoP key) change nothing: they cannot burn a token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use super::access::Binding;
use super::access::{self, NewToken};
use super::client::{self, Client, Presented};
use super::error::{Code, OauthError};
use super::grant::{DpopHeader, Issued, binding, event};
use super::id_token::{self, NewIdToken};
use super::par::Param;
use super::{Deps, OPENID_SCOPE, now};
use crate::audit::{self, AuditError, Context, Event, Outcome, Target};
use crate::store::oauth_flow::{self as stored, GrantRow};
use crate::store::oauth_tokens as tokens;

/// How long after a refresh a retry with the previous token is answered.
const RETRY_SECS: i64 = 60;

fn invalid_grant(description: &str) -> OauthError {
    OauthError::new(Code::InvalidGrant, description)
}

/// A PKCE verifier (RFC 7636 §4.1): 43 to 128 unreserved characters.
fn is_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// What a transaction at the token endpoint decided.
#[derive(Debug, Clone)]
enum Decided {
    /// Refused with this description; nothing changed, or a used-up code.
    Refused(&'static str),
    /// Presented again: the sign-in is revoked now.
    Reused,
    /// Good: the grant, and (for a code) its request.
    Good(Box<GrantRow>, Option<String>),
}

fn audited(client_id: &str, grant_id: &str, outcome: Outcome, reason: &str, ctx: &Context) -> Event {
    let mut e = event(client_id, "oauth.token", outcome).reason(reason).within(ctx);
    e.target = Target::new("oauth_grant", Some(grant_id.to_owned()));
    e
}

async fn write(
    deps: &Deps,
    work: impl for<'t, 'c> FnOnce(
        &'t mut crate::store::Tx<'c>,
    ) -> futures_util::future::BoxFuture<'t, Result<Decided, AuditError>>
    + Clone
    + Send
    + 'static,
) -> Result<Decided, OauthError> {
    deps.writer
        .write::<Decided, AuditError, _>(work)
        .await
        .map_err(|e| OauthError::server(&e))
}

/// `grant_type=authorization_code`.
pub async fn authorization_code(
    deps: &Deps,
    presented: &Presented,
    param: Param<'_>,
    dpop_header: DpopHeader<'_>,
    ctx: &Context,
) -> Result<Issued, OauthError> {
    let now = now();
    let client = client::authenticate(deps, presented, now).await?;
    if !client.grants().iter().any(|g| g == "authorization_code") {
        return Err(OauthError::new(
            Code::UnauthorizedClient,
            "this client is not registered for the authorization_code grant",
        ));
    }
    let code = param("code").ok_or_else(|| OauthError::request("code is required"))?;
    let redirect_uri = param("redirect_uri").ok_or_else(|| OauthError::request("redirect_uri is required"))?;
    let verifier = param("code_verifier").ok_or_else(|| OauthError::request("code_verifier is required (PKCE)"))?;
    if !is_verifier(verifier) {
        return Err(OauthError::request(
            "code_verifier must be 43 to 128 unreserved characters",
        ));
    }
    let binding = binding(deps, &client, presented, dpop_header, now).await?;
    let hash = crate::ids::sha256(code.as_bytes());
    let client_id = client.id().to_owned();
    let reuse_ctx = ctx.clone();
    let decided = write(deps, move |tx| {
        Box::pin(async move {
            let Some((code, grant)) = stored::take_code(tx, &hash, &client_id, now).await? else {
                return Ok(Decided::Refused("the code is unknown, used or expired"));
            };
            if grant.client_id != client_id {
                return Ok(Decided::Refused("the code was issued to another client"));
            }
            if code.used_at.is_some() {
                if !stored::revoke_grant(tx, &grant.grant_id, "code_reuse", now).await? {
                    return Ok(Decided::Reused);
                }
                audit::record(
                    tx,
                    audited(&client_id, &grant.grant_id, Outcome::Denied, "code_reuse", &reuse_ctx),
                )
                .await?;
                return Ok(Decided::Reused);
            }
            if code.expires_at <= now {
                return Ok(Decided::Refused("the code is unknown, used or expired"));
            }
            Ok(Decided::Good(Box::new(grant), Some(code.request)))
        })
    })
    .await?;
    let (grant, request) = match decided {
        Decided::Refused(why) => return Err(invalid_grant(why)),
        Decided::Reused => {
            return Err(invalid_grant(
                "the code was used before: everything issued with it is revoked",
            ));
        }
        Decided::Good(grant, request) => (*grant, request.unwrap_or_default()),
    };
    let request: Value = serde_json::from_str(&request).unwrap_or(Value::Null);
    let field = |name: &str| request.get(name).and_then(Value::as_str);
    if field("redirect_uri") != Some(redirect_uri) {
        return Err(invalid_grant(
            "redirect_uri is not the one of the authorization request",
        ));
    }
    let challenge = B64URL.encode(crate::ids::sha256(verifier.as_bytes()));
    let matches: bool =
        subtle::ConstantTimeEq::ct_eq(challenge.as_bytes(), field("code_challenge").unwrap_or("").as_bytes()).into();
    if !matches {
        return Err(invalid_grant("code_verifier does not match the code_challenge"));
    }
    if field("dpop_jkt").is_some_and(|jkt| binding.jkt() != Some(jkt)) {
        return Err(invalid_grant(
            "the DPoP proof's key is not the one the code is bound to",
        ));
    }
    let nonce = field("nonce").map(str::to_owned);
    // Issue only if the sign-in is still live as the tokens are stored
    // (the person may have signed out since the code was made).
    let refresh = issues_refresh(&client).then(new_refresh).transpose()?;
    let (grant_id, client_id, bound) = (grant.grant_id.clone(), grant.client_id.clone(), binding.clone());
    let (stored_refresh, issue_ctx) = (refresh.as_ref().map(|(_, h)| *h), ctx.clone());
    let decided = write(deps, move |tx| {
        Box::pin(async move {
            let Some(live) = stored::live_grant_in(tx, &grant_id, now).await? else {
                return Ok(Decided::Refused("the sign-in this code came from has ended"));
            };
            let live = match Binding::of_grant(&live) {
                None => {
                    stored::bind_grant(tx, &grant_id, bound.jkt(), bound.x5t()).await?;
                    GrantRow {
                        jkt: bound.jkt().map(str::to_owned),
                        x5t: bound.x5t().map(str::to_owned),
                        ..live
                    }
                }
                Some(_) => live,
            };
            if let Some(hash) = stored_refresh {
                tokens::insert_refresh(tx, &hash, &grant_id, now).await?;
            }
            audit::record(
                tx,
                audited(
                    &client_id,
                    &grant_id,
                    Outcome::Success,
                    "authorization_code",
                    &issue_ctx,
                ),
            )
            .await?;
            Ok(Decided::Good(Box::new(live), None))
        })
    })
    .await?;
    let Decided::Good(live, _) = decided else {
        return Err(invalid_grant("the sign-in this code came from has ended"));
    };
    sign(
        deps,
        &live,
        &binding,
        refresh.map(|(t, _)| t),
        Some(nonce.as_deref()),
        now,
    )
}

fn issues_refresh(client: &Client) -> bool {
    client.grants().iter().any(|g| g == "refresh_token")
}

/// A new refresh token and its hash.
fn new_refresh() -> Result<(String, [u8; 32]), OauthError> {
    let token = B64URL.encode(crate::ids::bytes::<32>().map_err(|e| OauthError::server(&e))?);
    let hash = crate::ids::sha256(token.as_bytes());
    Ok((token, hash))
}

/// `grant_type=refresh_token`.
pub async fn refresh_token(
    deps: &Deps,
    presented: &Presented,
    param: Param<'_>,
    dpop_header: DpopHeader<'_>,
    ctx: &Context,
) -> Result<Issued, OauthError> {
    let now = now();
    let client = client::authenticate(deps, presented, now).await?;
    if !issues_refresh(&client) {
        return Err(OauthError::new(
            Code::UnauthorizedClient,
            "this client is not registered for the refresh_token grant",
        ));
    }
    let token = param("refresh_token").ok_or_else(|| OauthError::request("refresh_token is required"))?;
    if param("scope").is_some() {
        return Err(OauthError::new(
            Code::InvalidScope,
            "a refresh keeps the scope it was granted",
        ));
    }
    let binding = binding(deps, &client, presented, dpop_header, now).await?;
    let hash = crate::ids::sha256(token.as_bytes());
    let (next, next_hash) = new_refresh()?;
    let (client_id, bound, tx_ctx) = (client.id().to_owned(), binding.clone(), ctx.clone());
    let decided = write(deps, move |tx| {
        Box::pin(async move {
            let Some(found) = tokens::refresh_in(tx, &hash).await? else {
                return Ok(Decided::Refused("the refresh token is unknown"));
            };
            let grant_id = found.grant.grant_id.clone();
            // Checks a stranger holding the token would fail change nothing.
            if found.grant.client_id != client_id {
                return Ok(Decided::Refused("the refresh token was issued to another client"));
            }
            if Binding::of_grant(&found.grant).as_ref() != Some(&bound) {
                return Ok(Decided::Refused(
                    "the DPoP key or TLS certificate is not the one the refresh token is bound to",
                ));
            }
            let reason = match (&found.used_at, &found.next) {
                (None, _) => "refresh_token",
                // The answer to the last refresh was lost: answer again.
                (Some(used), Some((lost, true))) if now.saturating_sub(*used) <= RETRY_SECS => {
                    tokens::supersede(tx, lost, now).await?;
                    "refresh_token_retry"
                }
                _ => {
                    if stored::revoke_grant(tx, &grant_id, "refresh_token_reuse", now).await? {
                        let e = audited(&client_id, &grant_id, Outcome::Denied, "refresh_token_reuse", &tx_ctx);
                        audit::record(tx, e).await?;
                    }
                    return Ok(Decided::Reused);
                }
            };
            let Some(live) = stored::live_grant_in(tx, &grant_id, now).await? else {
                return Ok(Decided::Refused("the sign-in this refresh token came from has ended"));
            };
            tokens::use_refresh(tx, &hash, &next_hash, now).await?;
            tokens::insert_refresh(tx, &next_hash, &grant_id, now).await?;
            audit::record(tx, audited(&client_id, &grant_id, Outcome::Success, reason, &tx_ctx)).await?;
            Ok(Decided::Good(Box::new(live), None))
        })
    })
    .await?;
    match decided {
        Decided::Refused(why) => Err(invalid_grant(why)),
        Decided::Reused => Err(invalid_grant(
            "the refresh token was used before: the sign-in it came from is revoked",
        )),
        Decided::Good(grant, _) => sign(deps, &grant, &binding, Some(next), None, now),
    }
}

/// Signs the tokens of a grant whose issuance is stored and audited: an
/// access token for userinfo, the refresh token and, after a code
/// (`nonce` is `Some`), an ID token.
fn sign(
    deps: &Deps,
    grant: &GrantRow,
    binding: &Binding,
    refresh: Option<String>,
    nonce: Option<Option<&str>>,
    now: i64,
) -> Result<Issued, OauthError> {
    let server = |e: &dyn std::fmt::Display| OauthError::server(&e);
    let scope: Vec<String> = grant
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let sub = id_token::pairwise_sub(&deps.keys.index, &grant.client_id, &grant.account_id);
    let audience = deps.issuer.userinfo();
    let (access_token, claims) = access::issue(
        &deps.keys.oauth,
        &deps.issuer,
        &NewToken {
            client_id: &grant.client_id,
            sub: &sub,
            aud: &audience,
            scope: &scope,
            jkt: binding.jkt(),
            x5t: binding.x5t(),
            lifetime_secs: deps.issuer.access_token_secs,
            grant: Some(&grant.grant_id),
        },
        now,
    )
    .map_err(|e| server(&e))?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": binding.token_type(),
        "expires_in": claims.exp - now,
        "scope": scope.join(" "),
    });
    let Some(obj) = body.as_object_mut() else {
        return Err(OauthError::server(&"the token response is not an object"));
    };
    if let Some(refresh) = refresh {
        obj.insert("refresh_token".into(), Value::String(refresh));
    }
    if let Some(nonce) = nonce
        && scope.iter().any(|s| s == OPENID_SCOPE)
    {
        let amr: Vec<String> = serde_json::from_str(&grant.amr).unwrap_or_default();
        let id_token = id_token::issue(
            &deps.keys.oauth,
            &deps.issuer,
            &NewIdToken {
                client_id: &grant.client_id,
                sub: &sub,
                nonce,
                auth_time: grant.auth_time,
                amr: &amr,
                sid: &grant.grant_id,
            },
            now,
        )
        .map_err(|e| server(&e))?;
        obj.insert("id_token".into(), Value::String(id_token));
    }
    Ok(Issued { body })
}
