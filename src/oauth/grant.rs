//! The token endpoint's client credentials grant, introspection and
//! revocation. Every issuance, refusal and revocation is audited.

use serde_json::{Value, json};

use super::access::{self, Binding, NewToken};
use super::client::{self, Client, Presented};
use super::dpop::{self, Expected};
use super::error::{Code, OauthError};
use super::{Deps, now};
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::store::clients as stored;
use crate::store::oauth_flow as flow;

/// A DPoP proof sent with a request, and the request it must match.
#[derive(Debug, Clone, Copy)]
pub struct DpopHeader<'a> {
    pub proof: Option<&'a str>,
    pub method: &'a str,
    pub url: &'a str,
}

/// Checks the DPoP proof a request must carry (tokens are
/// sender-constrained; at a resource, `access_token` is the one sent).
pub async fn require_proof(
    deps: &Deps,
    dpop_header: DpopHeader<'_>,
    access_token: Option<&str>,
    now: i64,
) -> Result<dpop::Proof, OauthError> {
    let proof = dpop_header
        .proof
        .ok_or_else(|| OauthError::request("a DPoP proof is required: access tokens are sender-constrained"))?;
    dpop::check(
        proof,
        Expected {
            method: dpop_header.method,
            url: dpop_header.url,
            access_token,
        },
        &deps.keys.index,
        &deps.replay,
        now,
    )
    .await
}

/// What the tokens of this request are bound to: the TLS client
/// certificate of a module that authenticated with it and sent no DPoP
/// proof (RFC 8705 §3), else the key of the DPoP proof it must send.
pub async fn binding(
    deps: &Deps,
    client: &Client,
    presented: &Presented,
    dpop_header: DpopHeader<'_>,
    now: i64,
) -> Result<Binding, OauthError> {
    match (&presented.cert, dpop_header.proof) {
        (Some(cert), None) if client.method == client::AuthMethod::TlsClientAuth => {
            Ok(Binding::Certificate(cert.thumbprint()))
        }
        _ => Ok(Binding::Dpop(require_proof(deps, dpop_header, None, now).await?.jkt)),
    }
}

/// What the token endpoint answers on success.
#[derive(Debug, Clone)]
pub struct Issued {
    pub body: Value,
}

pub(super) fn event(client_id: &str, action: &str, outcome: Outcome) -> Event {
    Event::new(
        Actor::new(ActorKind::Module, client_id),
        action,
        Target::new("oauth_client", Some(client_id.to_owned())),
        outcome,
    )
}

/// Audits a refusal at an OAuth endpoint. The actor is the client the
/// request named (unverified: it says who was refused, not who was there).
pub async fn audit_refusal(deps: &Deps, action: &'static str, named: Option<&str>, error: &OauthError, ctx: &Context) {
    if error.code == Code::ServerError {
        return;
    }
    let who: String = named
        .filter(|n| crate::modules::is_ident(n, 2, 32))
        .unwrap_or("-")
        .to_owned();
    let outcome = if error.code == Code::InvalidRequest {
        Outcome::Failure
    } else {
        Outcome::Denied
    };
    let mut e = event(&who, action, outcome).reason(error.code.as_str()).within(ctx);
    if who == "-" {
        e.actor = Actor::new(ActorKind::Anonymous, "-");
    }
    let result = deps
        .writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record_attempt(tx, e)))
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit an OAuth refusal");
    }
}

/// `grant_type=client_credentials`: a sender-constrained access token for
/// the module API, with the scopes asked for (all the module may have when
/// it asks for none). It is bound to the DPoP key of the request's proof
/// or, for a module that authenticated with its TLS client certificate and
/// sent no proof, to that certificate (RFC 8705 §3).
pub async fn client_credentials(
    deps: &Deps,
    presented: &Presented,
    scope: Option<&str>,
    dpop_header: DpopHeader<'_>,
    ctx: &Context,
) -> Result<Issued, OauthError> {
    let now = now();
    let client = client::authenticate(deps, presented, now).await?;
    if client.method == client::AuthMethod::None || !client.grants().iter().any(|g| g == "client_credentials") {
        return Err(OauthError::new(
            Code::UnauthorizedClient,
            "this client is not registered for the client_credentials grant",
        ));
    }
    let allowed = deps.scopes_for(client.id());
    let scope: Vec<String> = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => allowed,
        Some(asked) => {
            let asked: Vec<String> = asked.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if let Some(bad) = asked.iter().find(|s| !allowed.contains(s)) {
                return Err(OauthError::new(
                    Code::InvalidScope,
                    format!("the scope {bad:?} is not one this client may have"),
                ));
            }
            asked
        }
    };
    let binding = binding(deps, &client, presented, dpop_header, now).await?;
    let audience = deps.issuer.module_api();
    let (token, claims) = access::issue(
        &deps.keys.oauth,
        &deps.issuer,
        &NewToken {
            client_id: client.id(),
            sub: client.id(),
            aud: &audience,
            scope: &scope,
            jkt: binding.jkt(),
            x5t: binding.x5t(),
            lifetime_secs: deps.issuer.access_token_secs,
            grant: None,
        },
        now,
    )
    .map_err(|e| OauthError::server(&e))?;
    let e = event(client.id(), "oauth.token", Outcome::Success)
        .reason("client_credentials")
        .within(ctx);
    deps.writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await
        .map_err(|e| OauthError::server(&e))?;
    Ok(Issued {
        body: json!({
            "access_token": token,
            "token_type": binding.token_type(),
            "expires_in": claims.exp - now,
            "scope": claims.scope.join(" "),
        }),
    })
}

/// RFC 7662: what a token is, told only to the client it was issued to
/// (to anyone else it is `{"active": false}`).
pub async fn introspect(deps: &Deps, presented: &Presented, token: &str) -> Result<Value, OauthError> {
    let now = now();
    let client = client::authenticate(deps, presented, now).await?;
    if client.method == client::AuthMethod::None {
        return Err(OauthError::client("a public client may not introspect tokens"));
    }
    let inactive = json!({ "active": false });
    let Some(t) = access_token(deps, token, now) else {
        return refresh_introspection(deps, &client, token, now).await;
    };
    if t.client_id != client.id() {
        return Ok(inactive);
    }
    if stored::token_holder(&deps.db, &t.client_id, &t.jti, t.iat)
        .await
        .map_err(|e| OauthError::server(&e))?
        .is_none()
    {
        return Ok(inactive);
    }
    if let Some(grant) = &t.grant
        && flow::live_grant(&deps.db, grant, now)
            .await
            .map_err(|e| OauthError::server(&e))?
            .is_none()
    {
        return Ok(inactive);
    }
    let mut body = json!({
        "active": true,
        "iss": deps.issuer.url,
        "client_id": t.client_id,
        "sub": t.sub,
        "aud": t.aud,
        "scope": t.scope.join(" "),
        "exp": t.exp,
        "iat": t.iat,
        "jti": t.jti,
        "token_type": if t.jkt.is_some() { "DPoP" } else { "Bearer" },
    });
    if let (Some(cnf), Some(obj)) = (t.cnf(), body.as_object_mut()) {
        obj.insert("cnf".into(), cnf);
    }
    Ok(body)
}

/// One of Jaga's access tokens, for the module API or for userinfo.
fn access_token(deps: &Deps, token: &str, now: i64) -> Option<access::AccessToken> {
    [deps.issuer.module_api(), deps.issuer.userinfo()]
        .iter()
        .find_map(|aud| {
            deps.verified
                .get_or_verify(&deps.keys.oauth, &deps.issuer, token, aud, now)
                .ok()
        })
}

/// Introspection of a refresh token: active while it is the grant's
/// newest (not used) and the grant is live.
async fn refresh_introspection(deps: &Deps, client: &Client, token: &str, now: i64) -> Result<Value, OauthError> {
    let server = |e: &dyn std::fmt::Display| OauthError::server(&e);
    let hash = crate::ids::sha256(token.as_bytes());
    let Some((grant, unused)) = crate::store::oauth_tokens::refresh_state(&deps.db, &hash)
        .await
        .map_err(|e| server(&e))?
    else {
        return Ok(json!({ "active": false }));
    };
    if grant.client_id != client.id() || !unused {
        return Ok(json!({ "active": false }));
    }
    let Some(grant) = flow::live_grant(&deps.db, &grant.grant_id, now)
        .await
        .map_err(|e| server(&e))?
    else {
        return Ok(json!({ "active": false }));
    };
    let mut body = json!({
        "active": true,
        "iss": deps.issuer.url,
        "client_id": grant.client_id,
        "sub": super::id_token::pairwise_sub(&deps.keys.index, &grant.client_id, &grant.account_id),
        "scope": grant.scope,
        "exp": grant.expires_at,
        "iat": grant.created_at,
    });
    if let (Some(cnf), Some(obj)) = (Binding::of_grant(&grant).map(|b| b.cnf()), body.as_object_mut()) {
        obj.insert("cnf".into(), cnf);
    }
    Ok(body)
}

/// RFC 7009: revokes an access token of the calling client, or a refresh
/// token (and with it the whole sign-in it belongs to). Unknown, expired
/// or foreign tokens change nothing and get the same answer.
pub async fn revoke(deps: &Deps, presented: &Presented, token: &str, ctx: &Context) -> Result<(), OauthError> {
    let now = now();
    let client: Client = client::authenticate(deps, presented, now).await?;
    let Some(t) = access_token(deps, token, now) else {
        return revoke_refresh(deps, &client, token, ctx).await;
    };
    if t.client_id != client.id() {
        return Ok(());
    }
    let e = event(client.id(), "oauth.revoke", Outcome::Success)
        .reason("access_token")
        .within(ctx);
    deps.writer
        .write::<(), AuditError, _>(move |tx| {
            Box::pin(async move {
                if stored::revoke_token(tx, &t.jti, &t.client_id, t.exp).await? {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| OauthError::server(&e))
}

/// Revokes the grant of a refresh token of `client`.
async fn revoke_refresh(deps: &Deps, client: &Client, token: &str, ctx: &Context) -> Result<(), OauthError> {
    let now = now();
    let hash = crate::ids::sha256(token.as_bytes());
    let Some((grant, _)) = crate::store::oauth_tokens::refresh_state(&deps.db, &hash)
        .await
        .map_err(|e| OauthError::server(&e))?
    else {
        return Ok(());
    };
    if grant.client_id != client.id() {
        return Ok(());
    }
    let mut e = event(client.id(), "oauth.revoke", Outcome::Success)
        .reason("refresh_token")
        .within(ctx);
    e.target = Target::new("oauth_grant", Some(grant.grant_id.clone()));
    deps.writer
        .write::<(), AuditError, _>(move |tx| {
            Box::pin(async move {
                if flow::revoke_grant(tx, &grant.grant_id, "revoked_by_client", now).await? {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| OauthError::server(&e))
}
