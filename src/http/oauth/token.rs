//! The token, introspection and revocation endpoints.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::form::Form;
use super::{ClientCert, DPOP_NONCE, error};
use crate::app::AppState;
use crate::http::client::{Client, ClientIp};
use crate::oauth::error::{Code, OauthError};
use crate::oauth::grant::{self, DpopHeader};
use crate::ratelimit::{Key, OAUTH_FAILURE_IP};

/// The form parameters the token endpoint reads (RFC 6749, RFC 7521).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form; the handler reads it with the duplicate check"
)]
pub(crate) struct TokenForm {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: String,
    /// authorization_code: the code from the authorization response.
    code: Option<String>,
    /// authorization_code: the redirect URI of the pushed request.
    redirect_uri: Option<String>,
    /// authorization_code: the PKCE verifier (43-128 characters).
    code_verifier: Option<String>,
    /// refresh_token: the refresh token (rotated: use the new one next time).
    refresh_token: Option<String>,
    /// Space-separated: `collections` and catalog purposes of the module.
    scope: Option<String>,
    client_id: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    client_assertion_type: Option<String>,
    /// The client's signed JWT (private_key_jwt).
    client_assertion: Option<String>,
}

/// The form parameters of introspection (RFC 7662) and revocation (RFC 7009).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form; the handler reads it with the duplicate check"
)]
pub(crate) struct TokenQuestion {
    token: String,
    /// `access_token` or `refresh_token`.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// Answers a refusal: audited, unless this address keeps failing, when it
/// is 429 (and the trip is audited once a minute).
pub(super) async fn refuse(
    state: &AppState,
    action: &'static str,
    named: Option<&str>,
    e: &OauthError,
    who: &Client,
    ip: Option<ClientIp>,
) -> Response {
    // `use_dpop_nonce` is a step of the protocol (the client retries with
    // the nonce it is given): neither a failure nor audited.
    if e.code == Code::UseDpopNonce {
        return error(e, &state.oauth.nonce(crate::oauth::now())).into_response();
    }
    if e.code != Code::ServerError
        && let Some(ClientIp(ip)) = ip
    {
        let key = Key::for_ip(ip);
        let decision = state.limits.fail(OAUTH_FAILURE_IP, &key).await;
        if !decision.allowed() {
            if state.limits.should_audit(OAUTH_FAILURE_IP, &key) {
                crate::audit::record_trip(&state.writer, OAUTH_FAILURE_IP.name, &who.ctx).await;
            }
            return crate::http::limits::too_many(&decision).into_response();
        }
    }
    grant::audit_refusal(&state.oauth, action, named, e, &who.ctx).await;
    error(e, &state.oauth.nonce(crate::oauth::now())).into_response()
}

pub(super) fn named(form: &Form, headers: &HeaderMap) -> Option<String> {
    form.presented(headers, None)
        .ok()
        .and_then(|p| p.basic.map(|(id, _)| id).or(p.client_id))
}

pub(super) fn no_store(mut response: Response, nonce: Option<String>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(v) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
        headers.insert(DPOP_NONCE, v);
    }
    response
}

/// Token endpoint
///
/// `grant_type=client_credentials` with `private_key_jwt` client
/// authentication (RFC 7523) and a DPoP proof (RFC 9449): an ES256 JWT
/// access token (RFC 9068) for the module API, bound to the proof's key,
/// valid 5 minutes. Errors follow RFC 6749 §5.2 and RFC 9449
/// (`use_dpop_nonce` with a `DPoP-Nonce` header).
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "access_token, token_type DPoP, expires_in, scope", body = Object),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_dpop_proof, use_dpop_nonce", body = crate::http::error::ErrorBody),
        (status = 401, description = "invalid_client", body = crate::http::error::ErrorBody),
        (status = 429, description = "This address keeps failing client authentication (oauth-failure-ip)", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn token(
    State(state): State<AppState>,
    who: Client,
    ip: Option<axum::Extension<ClientIp>>,
    cert: ClientCert,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = ip.map(|e| e.0);
    let form = match Form::parse(&headers, &body) {
        Ok(f) => f,
        Err(e) => return refuse(&state, "oauth.token", None, &e, &who, ip).await,
    };
    let result = async {
        let presented = form.presented(&headers, cert.0.as_ref())?;
        let proof = super::dpop_proof(&headers)?;
        let url = state.oauth.issuer.endpoint(super::TOKEN);
        let dpop = DpopHeader {
            proof,
            method: "POST",
            url: &url,
        };
        match form.get("grant_type") {
            None => Err(OauthError::request("grant_type is required")),
            Some("client_credentials") => {
                grant::client_credentials(&state.oauth, &presented, form.get("scope"), dpop, &who.ctx).await
            }
            Some("authorization_code") => {
                crate::oauth::code::authorization_code(&state.oauth, &presented, &|n| form.get(n), dpop, &who.ctx).await
            }
            Some("refresh_token") => {
                crate::oauth::code::refresh_token(&state.oauth, &presented, &|n| form.get(n), dpop, &who.ctx).await
            }
            Some(other) => Err(OauthError::new(
                Code::UnsupportedGrantType,
                format!("the grant type {other:?} is not offered here"),
            )),
        }
    }
    .await;
    match result {
        Ok(issued) => no_store(
            Json(issued.body).into_response(),
            Some(state.oauth.nonce(crate::oauth::now())),
        ),
        Err(e) => refuse(&state, "oauth.token", named(&form, &headers).as_deref(), &e, &who, ip).await,
    }
}

/// Token introspection (RFC 7662)
///
/// Tells the client a token was issued to whether it is active, and what
/// it says; any other client learns only `{"active": false}`.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenQuestion, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "active, and the token's claims when active", body = Object),
        (status = 400, description = "invalid_request", body = crate::http::error::ErrorBody),
        (status = 401, description = "invalid_client", body = crate::http::error::ErrorBody),
        (status = 429, description = "This address keeps failing client authentication (oauth-failure-ip)", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn introspect(
    State(state): State<AppState>,
    who: Client,
    ip: Option<axum::Extension<ClientIp>>,
    cert: ClientCert,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    about_a_token(
        &state,
        Question::Introspect,
        &who,
        ip.map(|e| e.0),
        &cert,
        &headers,
        &body,
    )
    .await
}

#[derive(Debug, Clone, Copy)]
enum Question {
    Introspect,
    Revoke,
}

/// Introspection and revocation: a client asks about one of its tokens.
async fn about_a_token(
    state: &AppState,
    question: Question,
    who: &Client,
    ip: Option<ClientIp>,
    cert: &ClientCert,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let action = match question {
        Question::Introspect => "oauth.introspect",
        Question::Revoke => "oauth.revoke",
    };
    let form = match Form::parse(headers, body) {
        Ok(f) => f,
        Err(e) => return refuse(state, action, None, &e, who, ip).await,
    };
    let result = async {
        let presented = form.presented(headers, cert.0.as_ref())?;
        let token = form
            .get("token")
            .ok_or_else(|| OauthError::request("token is required"))?;
        match question {
            Question::Introspect => grant::introspect(&state.oauth, &presented, token)
                .await
                .map(|body| Json(body).into_response()),
            Question::Revoke => grant::revoke(&state.oauth, &presented, token, &who.ctx)
                .await
                .map(|()| axum::http::StatusCode::OK.into_response()),
        }
    }
    .await;
    match result {
        Ok(response) => no_store(response, None),
        Err(e) => refuse(state, action, named(&form, headers).as_deref(), &e, who, ip).await,
    }
}

/// Token revocation (RFC 7009)
///
/// Revokes an access token of the calling client; the module API refuses
/// it on every instance from then on. Unknown tokens get the same 200.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenQuestion, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "invalid_request", body = crate::http::error::ErrorBody),
        (status = 401, description = "invalid_client", body = crate::http::error::ErrorBody),
        (status = 429, description = "This address keeps failing client authentication (oauth-failure-ip)", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn revoke(
    State(state): State<AppState>,
    who: Client,
    ip: Option<axum::Extension<ClientIp>>,
    cert: ClientCert,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    about_a_token(&state, Question::Revoke, &who, ip.map(|e| e.0), &cert, &headers, &body).await
}
