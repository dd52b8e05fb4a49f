//! The token endpoint's grants for a person's sign-in: the authorization
//! code (PKCE S256, the pushed redirect URI, the DPoP key the code was
//! bound to) and the refresh token (rotated on every use, bound to the
//! grant's DPoP key). A code or refresh token presented a second time
//! revokes everything its grant issued.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use super::access::{self, NewToken};
use super::client::{self, Presented};
use super::error::{Code, OauthError};
use super::grant::{DpopHeader, Issued, event, require_proof};
use super::id_token::{self, NewIdToken};
use super::par::Param;
use super::{Deps, OPENID_SCOPE, now};
use crate::audit::{self, AuditError, Context, Outcome};
use crate::store::StoreError;
use crate::store::oauth_flow::{self as stored, GrantRow};

fn invalid_grant(description: &str) -> OauthError {
    OauthError::new(Code::InvalidGrant, description)
}

/// A PKCE verifier (RFC 7636 §4.1): 43 to 128 unreserved characters.
fn is_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// What taking a code or refresh token found.
#[derive(Debug, Clone)]
enum Taken {
    Unknown,
    /// Presented again: the grant is now revoked.
    Reused,
    Found(Box<GrantRow>, Option<String>),
}

/// Takes a code or refresh token (`code` says which); on a second use
/// revokes the grant and audits it, in the same transaction.
async fn take(deps: &Deps, hash: [u8; 32], code: bool, client_id: &str, ctx: &Context) -> Result<Taken, OauthError> {
    let now = now();
    let reuse = event(client_id, "oauth.token", Outcome::Denied)
        .reason(if code { "code_reuse" } else { "refresh_token_reuse" })
        .within(ctx);
    deps.writer
        .write::<Taken, AuditError, _>(move |tx| {
            Box::pin(async move {
                let (used, grant, request) = if code {
                    match stored::take_code(tx, &hash, now).await? {
                        None => return Ok(Taken::Unknown),
                        Some((c, g)) if c.expires_at <= now && c.used_at.is_none() => (false, Some(g), None),
                        Some((c, g)) => (c.used_at.is_some(), Some(g), Some(c.request)),
                    }
                } else {
                    match stored::take_refresh(tx, &hash, now).await? {
                        None => return Ok(Taken::Unknown),
                        Some((used, g)) => (used, Some(g), None),
                    }
                };
                let Some(grant) = grant else { return Ok(Taken::Unknown) };
                if used {
                    let reason = if code { "code_reuse" } else { "refresh_token_reuse" };
                    if stored::revoke_grant(tx, &grant.grant_id, reason, now).await? {
                        let mut e = reuse;
                        e.target = crate::audit::Target::new("oauth_grant", Some(grant.grant_id.clone()));
                        audit::record(tx, e).await?;
                    }
                    return Ok(Taken::Reused);
                }
                if code && request.is_none() {
                    // Expired before it was used: it is used up now.
                    return Ok(Taken::Unknown);
                }
                Ok(Taken::Found(Box::new(grant), request))
            })
        })
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
    let proof = require_proof(deps, dpop_header, None, now).await?;
    let hash = crate::ids::sha256(code.as_bytes());
    let (grant, request) = match take(deps, hash, true, client.id(), ctx).await? {
        Taken::Unknown => return Err(invalid_grant("the code is unknown, used or expired")),
        Taken::Reused => {
            return Err(invalid_grant(
                "the code was used before: everything issued with it is revoked",
            ));
        }
        Taken::Found(grant, request) => (*grant, request.unwrap_or_default()),
    };
    let request: Value = serde_json::from_str(&request).unwrap_or(Value::Null);
    let field = |name: &str| request.get(name).and_then(Value::as_str);
    if grant.client_id != client.id() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if grant.revoked_at.is_some() {
        return Err(invalid_grant("the sign-in this code came from has ended"));
    }
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
    if field("dpop_jkt").is_some_and(|jkt| jkt != proof.jkt) {
        return Err(invalid_grant(
            "the DPoP proof's key is not the one the code is bound to",
        ));
    }
    let nonce = field("nonce").map(str::to_owned);
    mint(deps, &grant, &proof.jkt, nonce.as_deref(), true, now, ctx).await
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
    if !client.grants().iter().any(|g| g == "refresh_token") {
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
    let proof = require_proof(deps, dpop_header, None, now).await?;
    let hash = crate::ids::sha256(token.as_bytes());
    let grant = match take(deps, hash, false, client.id(), ctx).await? {
        Taken::Unknown => return Err(invalid_grant("the refresh token is unknown")),
        Taken::Reused => {
            return Err(invalid_grant(
                "the refresh token was used before: the sign-in it came from is revoked",
            ));
        }
        Taken::Found(grant, _) => *grant,
    };
    if grant.client_id != client.id() {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if grant.jkt.as_deref() != Some(proof.jkt.as_str()) {
        return Err(invalid_grant(
            "the DPoP proof's key is not the one the refresh token is bound to",
        ));
    }
    let live = stored::live_grant(&deps.db, &grant.grant_id, now)
        .await
        .map_err(|e| OauthError::server(&e))?;
    let Some(grant) = live else {
        return Err(invalid_grant("the sign-in this refresh token came from has ended"));
    };
    mint(deps, &grant, &proof.jkt, None, false, now, ctx).await
}

/// Issues the tokens of a grant: an access token for userinfo, a new
/// refresh token and, after a code, an ID token. The refresh token is
/// stored (hashed) and the issuance audited before anything is returned.
async fn mint(
    deps: &Deps,
    grant: &GrantRow,
    jkt: &str,
    nonce: Option<&str>,
    with_id_token: bool,
    now: i64,
    ctx: &Context,
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
            jkt: Some(jkt),
            lifetime_secs: deps.issuer.access_token_secs,
            grant: Some(&grant.grant_id),
        },
        now,
    )
    .map_err(|e| server(&e))?;
    let refresh = B64URL.encode(crate::ids::bytes::<32>().map_err(|e| server(&e))?);
    let refresh_hash = crate::ids::sha256(refresh.as_bytes());
    let grant_id = grant.grant_id.clone();
    let bind = (grant.jkt.is_none()).then(|| jkt.to_owned());
    let mut e = event(&grant.client_id, "oauth.token", Outcome::Success)
        .reason(if with_id_token {
            "authorization_code"
        } else {
            "refresh_token"
        })
        .within(ctx);
    e.target = crate::audit::Target::new("oauth_grant", Some(grant.grant_id.clone()));
    deps.writer
        .write::<(), AuditError, _>(move |tx| {
            Box::pin(async move {
                if let Some(jkt) = &bind {
                    stored::bind_grant(tx, &grant_id, jkt).await?;
                }
                stored::insert_refresh(tx, &refresh_hash, &grant_id, now)
                    .await
                    .map_err(|e: StoreError| AuditError::from(e))?;
                audit::record(tx, e).await
            })
        })
        .await
        .map_err(|e| server(&e))?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "DPoP",
        "expires_in": claims.exp - now,
        "scope": scope.join(" "),
        "refresh_token": refresh,
    });
    if with_id_token && scope.iter().any(|s| s == OPENID_SCOPE) {
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
        if let Some(obj) = body.as_object_mut() {
            obj.insert("id_token".into(), Value::String(id_token));
        }
    }
    Ok(Issued { body })
}
