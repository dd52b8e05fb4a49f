//! The userinfo endpoint (OpenID Connect Core §5.3), a DPoP-protected
//! resource: errors are `WWW-Authenticate: DPoP` challenges (RFC 9449 §7).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::http::module_auth::challenge;
use crate::oauth::error::{Code, OauthError};
use crate::oauth::grant::DpopHeader;
use crate::oauth::userinfo::Presentation;

use super::ClientCert;

/// An OAuth error at a DPoP-protected resource, as its challenge.
pub(in crate::http) fn resource_error(state: &AppState, e: &OauthError) -> ApiError {
    let api = match e.code {
        Code::UseDpopNonce => challenge("use_dpop_nonce", e.description.clone()).with_header(
            super::DPOP_NONCE,
            HeaderValue::from_str(&state.oauth.nonce(crate::oauth::now())).unwrap_or(HeaderValue::from_static("")),
        ),
        Code::InvalidDpopProof => challenge("invalid_dpop_proof", e.description.clone()),
        Code::InsufficientScope => ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", e.description.clone())
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("DPoP error=\"insufficient_scope\", scope=\"openid\""),
            ),
        Code::ServerError => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.description.clone()),
        Code::InvalidRequest => challenge("invalid_request", e.description.clone()),
        _ => challenge("invalid_token", e.description.clone()),
    };
    api.with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

async fn answer(state: &AppState, method: &Method, headers: &HeaderMap, cert: &ClientCert, who: &Client) -> Response {
    let result = async {
        let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let (bearer, token) = match authorization {
            Some(v) if v.starts_with("DPoP ") => (false, v.get(5..).unwrap_or_default().trim()),
            Some(v) if v.starts_with("Bearer ") => (true, v.get(7..).unwrap_or_default().trim()),
            _ => {
                return Err(OauthError::new(
                    Code::InvalidToken,
                    "a sender-constrained access token is required: Authorization: DPoP <token> with a DPoP proof \
                     (or Bearer <token> on the TLS connection it is bound to)",
                ));
            }
        };
        let proof = super::dpop_proof(headers)?;
        let url = state.oauth.issuer.userinfo();
        let dpop = DpopHeader {
            proof,
            method: method.as_str(),
            url: &url,
        };
        let how = Presentation {
            bearer,
            dpop,
            cert: cert.0.as_ref(),
        };
        crate::oauth::userinfo::userinfo(&state.oauth, token, how, &who.ctx).await
    }
    .await;
    match result {
        Ok(claims) => {
            let mut response = Json(claims).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => resource_error(state, &e).into_response(),
    }
}

/// UserInfo
///
/// The signed-in person's claims for the module: `sub` (pairwise) and,
/// for a citizen, the profile fields the purposes in the token's scope
/// allow, at their reveal level, while the citizen's consent is in force.
/// Every field opened is audited. `Authorization: DPoP <token>` with a
/// DPoP proof (`ath`), or, for a token bound to the module's TLS client
/// certificate, `Authorization: Bearer <token>` on that connection.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth",
    responses(
        (status = 200, description = "sub and the claims allowed", body = Object),
        (status = 401, description = "invalid_token, invalid_dpop_proof, use_dpop_nonce (WWW-Authenticate: DPoP)", body = crate::http::error::ErrorBody),
        (status = 403, description = "insufficient_scope", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn get(
    State(state): State<AppState>,
    who: Client,
    cert: ClientCert,
    headers: HeaderMap,
) -> Response {
    answer(&state, &Method::GET, &headers, &cert, &who).await
}

/// UserInfo (POST)
///
/// The same as `GET /oauth/userinfo`.
#[utoipa::path(post, path = "/oauth/userinfo", tag = "oauth",
    responses(
        (status = 200, description = "sub and the claims allowed", body = Object),
        (status = 401, description = "invalid_token, invalid_dpop_proof, use_dpop_nonce (WWW-Authenticate: DPoP)", body = crate::http::error::ErrorBody),
        (status = 403, description = "insufficient_scope", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn post(
    State(state): State<AppState>,
    who: Client,
    cert: ClientCert,
    headers: HeaderMap,
) -> Response {
    answer(&state, &Method::POST, &headers, &cert, &who).await
}
