//! Who is calling the module API: a module presenting a DPoP-bound access
//! token (`Authorization: DPoP <token>` with a `DPoP` proof, RFC 9449), a
//! token bound to its TLS client certificate (`Authorization: Bearer
//! <token>` on a connection with that certificate, RFC 8705), or a static
//! API key (`Authorization: Bearer jaga_mk_…`) where static keys
//! are still allowed (`--dev`, or `modules.static_keys = "allow"`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};

use super::error::ApiError;
use crate::app::AppState;
use crate::modules::purpose::Purpose;
use crate::modules::{self, Module, ModuleError};
use crate::oauth::dpop::{self, Expected};
use crate::oauth::error::Code;

/// What the caller may do: everything its module may (a static key), or
/// the scopes its token carries.
#[derive(Debug, Clone)]
pub enum Scope {
    StaticKey,
    Token(Vec<String>),
}

/// An authenticated module.
#[derive(Debug, Clone)]
pub struct Caller(pub Module, pub Scope);

impl Caller {
    /// The purpose a request names, if its token's scope covers it.
    pub fn purpose(&self, identifier: Option<&str>) -> Result<Purpose, ApiError> {
        let purpose = Purpose::required(identifier).map_err(ApiError::from)?;
        self.needs(purpose.as_str())?;
        Ok(purpose)
    }

    /// Refuses (403 insufficient_scope) unless the token's scope holds `scope`.
    pub fn needs(&self, scope: &str) -> Result<(), ApiError> {
        match &self.1 {
            Scope::Token(granted) if !granted.iter().any(|s| s == scope) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the access token's scope does not include {scope}"),
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&format!("DPoP error=\"insufficient_scope\", scope=\"{scope}\""))
                    .unwrap_or(HeaderValue::from_static("DPoP error=\"insufficient_scope\"")),
            )),
            _ => Ok(()),
        }
    }
}

const ALGS: &str = "ES256 PS256 EdDSA";

pub(super) fn challenge(code: &'static str, message: impl Into<String>) -> ApiError {
    let value = format!("DPoP error=\"{code}\", algs=\"{ALGS}\"");
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("DPoP")),
    )
}

fn unauthorized(static_keys: bool) -> ApiError {
    let how = if static_keys {
        "A DPoP-bound access token (Authorization: DPoP …, with a DPoP proof) or a module API key is required."
    } else {
        "A DPoP-bound access token is required: Authorization: DPoP <token>, with a DPoP proof."
    };
    challenge("unauthorized", how)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let static_keys = state.config.oauth.static_keys;
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized(static_keys))?;
        if let Some(token) = authorization.strip_prefix("DPoP ") {
            return with_token(parts, state, token.trim()).await;
        }
        let Some(bearer) = authorization.strip_prefix("Bearer ").map(str::trim) else {
            return Err(unauthorized(static_keys));
        };
        if !bearer.starts_with(modules::KEY_PREFIX) {
            return with_certificate_token(parts, state, bearer).await;
        }
        if !static_keys {
            return Err(challenge(
                "unauthorized",
                "static module API keys are not accepted here: use a DPoP-bound access token from /oauth/token",
            ));
        }
        let module = modules::authenticate(&state.db, bearer)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| unauthorized(static_keys))?;
        state.metrics.static_key_used();
        Ok(Caller(module, Scope::StaticKey))
    }
}

/// RFC 6750 §3 / RFC 8705 §3: a Bearer token refused.
fn bearer_challenge(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    )
}

/// A token bound to a TLS client certificate (`cnf.x5t#S256`, RFC 8705
/// §3), presented as Bearer on a connection with that certificate.
async fn with_certificate_token(parts: &Parts, state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let oauth = &state.oauth;
    let now = crate::oauth::now();
    let claims = oauth
        .verified
        .get_or_verify(&oauth.keys.oauth, &oauth.issuer, token, &oauth.issuer.module_api(), now)
        .map_err(|e| bearer_challenge(e.0))?;
    let Some(bound_to) = claims.x5t.as_deref() else {
        return Err(challenge(
            "invalid_token",
            "this access token is DPoP-bound: send Authorization: DPoP <token> with a DPoP proof",
        ));
    };
    let presented = super::oauth::peer_cert(&parts.extensions).map(|c| c.thumbprint());
    let matches =
        presented.is_some_and(|p| bool::from(subtle::ConstantTimeEq::ct_eq(p.as_bytes(), bound_to.as_bytes())));
    if !matches {
        return Err(bearer_challenge(
            "the access token is bound to a TLS client certificate this connection did not present",
        ));
    }
    let module = modules::authenticate_token(&state.db, &claims.client_id, &claims.jti, claims.iat)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| bearer_challenge("the access token was revoked or its module disabled"))?;
    Ok(Caller(module, Scope::Token(claims.scope)))
}

async fn with_token(parts: &Parts, state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let oauth = &state.oauth;
    let now = crate::oauth::now();
    let claims = oauth
        .verified
        .get_or_verify(&oauth.keys.oauth, &oauth.issuer, token, &oauth.issuer.module_api(), now)
        .map_err(|e| challenge("invalid_token", e.0))?;
    let Some(bound_to) = claims.jkt.as_deref() else {
        return Err(challenge("invalid_token", "the access token is not DPoP-bound"));
    };
    let mut proofs = parts.headers.get_all("dpop").iter();
    let (Some(proof), None) = (proofs.next(), proofs.next()) else {
        return Err(challenge("invalid_dpop_proof", "exactly one DPoP header is required"));
    };
    let proof = proof
        .to_str()
        .map_err(|_| challenge("invalid_dpop_proof", "the DPoP header is not text"))?;
    let url = oauth.issuer.endpoint(parts.uri.path());
    let checked = dpop::check(
        proof,
        Expected {
            method: parts.method.as_str(),
            url: &url,
            access_token: Some(token),
        },
        &oauth.keys.index,
        &oauth.replay,
        now,
    )
    .await
    .map_err(|e| match e.code {
        Code::UseDpopNonce => challenge("use_dpop_nonce", e.description).with_header(
            axum::http::HeaderName::from_static("dpop-nonce"),
            HeaderValue::from_str(&oauth.nonce(now)).unwrap_or(HeaderValue::from_static("")),
        ),
        Code::ServerError => ApiError::internal(ModuleError::Invalid(e.description)),
        _ => challenge("invalid_dpop_proof", e.description),
    })?;
    if checked.jkt != bound_to {
        return Err(challenge(
            "invalid_token",
            "the DPoP proof's key is not the one the token is bound to",
        ));
    }
    let module = modules::authenticate_token(&state.db, &claims.client_id, &claims.jti, claims.iat)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| challenge("invalid_token", "the access token was revoked or its module disabled"))?;
    Ok(Caller(module, Scope::Token(claims.scope)))
}
