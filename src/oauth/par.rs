//! Pushed authorization requests (RFC 9126), the only way into the
//! authorization endpoint (FAPI 2.0): the client authenticates and sends
//! its request over the back channel; the browser carries only the
//! `request_uri`, valid 60 seconds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};

use super::client::{self, Presented};
use super::dpop::{self, Expected};
use super::error::{Code, OauthError};
use super::grant::DpopHeader;
use super::{Deps, OPENID_SCOPE, now};
use crate::store::oauth_flow::{self as stored, ParRow};

pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request may wait for the browser.
pub const PAR_SECS: i64 = 60;
const MAX_STATE: usize = 512;

/// What the browser's person may be asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    None,
    Login,
    Consent,
}

/// A checked authorization request, as it waits for the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pushed {
    pub client_id: String,
    pub redirect_uri: String,
    /// `openid` and catalog purposes of the module.
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 of the PKCE verifier.
    pub code_challenge: String,
    /// The DPoP key the code is bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    pub prompt: Option<Prompt>,
    pub max_age: Option<i64>,
}

/// A parameter of the pushed form, or `None`.
pub type Param<'a> = &'a (dyn Fn(&str) -> Option<&'a str> + Sync);

fn is_b64url(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn text(param: Param<'_>, name: &str) -> Result<Option<String>, OauthError> {
    match param(name) {
        None => Ok(None),
        Some(v) if v.len() > MAX_STATE => Err(OauthError::request(format!("{name} is too long"))),
        Some(v) if v.chars().any(char::is_control) => {
            Err(OauthError::request(format!("{name} has control characters")))
        }
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// Checks a pushed request of the authenticated `client`.
pub fn check(
    deps: &Deps,
    client: &client::Client,
    param: Param<'_>,
    proof_jkt: Option<&str>,
) -> Result<Pushed, OauthError> {
    if !client.grants().iter().any(|g| g == "authorization_code") {
        return Err(OauthError::new(
            Code::UnauthorizedClient,
            "this client is not registered for the authorization_code grant",
        ));
    }
    if param("request").is_some() {
        return Err(OauthError::request(
            "request objects are not supported: push the parameters",
        ));
    }
    if param("request_uri").is_some() {
        return Err(OauthError::request("request_uri may not be pushed"));
    }
    match param("response_type") {
        Some("code") => {}
        None => return Err(OauthError::request("response_type is required")),
        Some(_) => {
            return Err(OauthError::new(
                Code::UnsupportedResponseType,
                "only response_type=code is offered",
            ));
        }
    }
    if param("response_mode").is_some_and(|m| m != "query") {
        return Err(OauthError::request("only response_mode=query is offered"));
    }
    let redirect_uri = param("redirect_uri").ok_or_else(|| OauthError::request("redirect_uri is required"))?;
    let registered: Vec<String> = serde_json::from_str(&client.row.redirect_uris).unwrap_or_default();
    if !registered.iter().any(|r| r == redirect_uri) {
        return Err(OauthError::request(
            "redirect_uri is not one registered for this client",
        ));
    }
    let scope: Vec<String> = param("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scope.iter().any(|s| s == OPENID_SCOPE) {
        return Err(OauthError::new(Code::InvalidScope, "the scope must include openid"));
    }
    let allowed = deps.sign_in_scopes(client);
    if let Some(bad) = scope.iter().find(|s| !allowed.contains(s)) {
        return Err(OauthError::new(
            Code::InvalidScope,
            format!("the scope {bad:?} is not one this client may ask a person for"),
        ));
    }
    let mut scope_unique = scope;
    scope_unique.sort();
    scope_unique.dedup();
    let code_challenge =
        param("code_challenge").ok_or_else(|| OauthError::request("code_challenge is required (PKCE)"))?;
    if param("code_challenge_method") != Some("S256") {
        return Err(OauthError::request("code_challenge_method must be S256"));
    }
    if !is_b64url(code_challenge, 43) {
        return Err(OauthError::request("code_challenge is not a base64url SHA-256"));
    }
    let dpop_jkt = match (param("dpop_jkt"), proof_jkt) {
        (Some(p), _) if !is_b64url(p, 43) => return Err(OauthError::request("dpop_jkt is not a JWK thumbprint")),
        (Some(p), Some(k)) if p != k => {
            return Err(OauthError::new(
                Code::InvalidDpopProof,
                "dpop_jkt does not match the DPoP proof's key",
            ));
        }
        (Some(p), _) => Some(p.to_owned()),
        (None, k) => k.map(str::to_owned),
    };
    if client.method == client::AuthMethod::None && dpop_jkt.is_none() {
        return Err(OauthError::request(
            "a public client binds its code to its DPoP key: send a DPoP proof or dpop_jkt",
        ));
    }
    let prompt = match param("prompt") {
        None => None,
        Some("none") => Some(Prompt::None),
        Some("login") => Some(Prompt::Login),
        Some("consent") => Some(Prompt::Consent),
        Some(other) => {
            return Err(OauthError::request(format!(
                "prompt {other:?} is not offered (none, login, consent)"
            )));
        }
    };
    let max_age = match param("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| (0..=31_536_000).contains(n))
                .ok_or_else(|| OauthError::request("max_age is a number of seconds"))?,
        ),
    };
    Ok(Pushed {
        client_id: client.id().to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope_unique,
        state: text(param, "state")?,
        nonce: text(param, "nonce")?,
        code_challenge: code_challenge.to_owned(),
        dpop_jkt,
        prompt,
        max_age,
    })
}

/// The answer to a pushed request.
#[derive(Debug, Clone)]
pub struct RequestUri {
    pub request_uri: String,
    pub expires_in: i64,
}

/// `POST /oauth/par`: authenticates the client, checks its request (and
/// its DPoP proof, if it sent one), and keeps the request for 60 seconds.
pub async fn push(
    deps: &Deps,
    presented: &Presented,
    param: Param<'_>,
    dpop_header: DpopHeader<'_>,
) -> Result<RequestUri, OauthError> {
    let now = now();
    let client = client::authenticate(deps, presented, now).await?;
    if param("client_id").is_some_and(|id| id != client.id()) {
        return Err(OauthError::request("client_id does not match the authenticated client"));
    }
    let proof = match dpop_header.proof {
        None => None,
        Some(p) => Some(
            dpop::check(
                p,
                Expected {
                    method: dpop_header.method,
                    url: dpop_header.url,
                    access_token: None,
                },
                &deps.keys.index,
                &deps.replay,
                now,
            )
            .await?,
        ),
    };
    let pushed = check(deps, &client, param, proof.as_ref().map(|p| p.jkt.as_str()))?;
    let request_uri = format!(
        "{REQUEST_URI_PREFIX}{}",
        B64URL.encode(crate::ids::bytes::<32>().map_err(|e| OauthError::server(&e))?)
    );
    let row = ParRow {
        client_id: client.id().to_owned(),
        request: serde_json::to_string(&pushed).map_err(|e| OauthError::server(&e))?,
        created_at: now,
        expires_at: now + PAR_SECS,
    };
    let hash = crate::ids::sha256(request_uri.as_bytes());
    deps.writer
        .write::<(), crate::store::StoreError, _>(move |tx| {
            Box::pin(async move { stored::insert_par(tx, &hash, &row).await })
        })
        .await
        .map_err(|e| OauthError::server(&e))?;
    Ok(RequestUri {
        request_uri,
        expires_in: PAR_SECS,
    })
}

/// A pushed request the browser brought back, still waiting.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub hash: [u8; 32],
    pub pushed: Pushed,
    pub pushed_at: i64,
}

/// Why the authorization endpoint cannot even say where to send an error:
/// shown to the person, never redirected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("the sign-in request is unknown, used or expired")]
    Unknown,
    #[error("the sign-in request names another client")]
    WrongClient,
    #[error("the module is not registered or is disabled")]
    NoClient,
}

/// Finds the pushed request `request_uri` of `client_id`.
pub async fn waiting(deps: &Deps, client_id: &str, request_uri: &str, now: i64) -> Result<Waiting, WaitingError> {
    if !request_uri.starts_with(REQUEST_URI_PREFIX) || request_uri.len() > 120 {
        return Err(WaitingError::Unusable(Unusable::Unknown));
    }
    let hash = crate::ids::sha256(request_uri.as_bytes());
    let row = stored::par(&deps.db, &hash)
        .await?
        .filter(|r| r.expires_at > now)
        .ok_or(WaitingError::Unusable(Unusable::Unknown))?;
    if row.client_id != client_id {
        return Err(WaitingError::Unusable(Unusable::WrongClient));
    }
    let pushed: Pushed = serde_json::from_str(&row.request).map_err(|_| WaitingError::Unusable(Unusable::Unknown))?;
    Ok(Waiting {
        hash,
        pushed,
        pushed_at: row.created_at,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum WaitingError {
    #[error(transparent)]
    Unusable(Unusable),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
