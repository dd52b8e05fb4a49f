//! The pushed authorization request endpoint (RFC 9126).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::form::Form;
use super::token::{named, no_store, refuse};
use crate::app::AppState;
use crate::http::client::{Client, ClientIp};
use crate::oauth::grant::DpopHeader;

/// The parameters of a pushed authorization request.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form; the handler reads it with the duplicate check"
)]
pub(crate) struct ParForm {
    /// `code`.
    response_type: String,
    client_id: Option<String>,
    /// Exactly one of the client's registered redirect URIs.
    redirect_uri: String,
    /// `openid` and catalog purposes of the module (citizen modules).
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    /// base64url SHA-256 of the PKCE verifier.
    code_challenge: String,
    /// `S256`.
    code_challenge_method: String,
    /// Binds the code to this DPoP key (or send a DPoP proof).
    dpop_jkt: Option<String>,
    /// `none`, `login` or `consent`.
    prompt: Option<String>,
    /// Seconds since the person last signed in, at most.
    max_age: Option<i64>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// Pushed authorization request (RFC 9126)
///
/// The only way to start a sign-in (FAPI 2.0): the client authenticates
/// (private_key_jwt) and pushes its request; the browser then goes to
/// `/oauth/authorize?client_id=…&request_uri=…` within 60 seconds. A DPoP
/// proof (or `dpop_jkt`) binds the code to the client's DPoP key.
#[utoipa::path(post, path = "/oauth/par", tag = "oauth",
    request_body(content = ParForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "request_uri and expires_in (60)", body = Object),
        (status = 400, description = "invalid_request, invalid_scope, unauthorized_client, unsupported_response_type, invalid_dpop_proof, use_dpop_nonce", body = crate::http::error::ErrorBody),
        (status = 401, description = "invalid_client", body = crate::http::error::ErrorBody),
        (status = 429, description = "This address keeps failing client authentication (oauth-failure-ip)", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn par(
    State(state): State<AppState>,
    who: Client,
    ip: Option<axum::Extension<ClientIp>>,
    cert: super::ClientCert,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = ip.map(|e| e.0);
    let form = match Form::parse(&headers, &body) {
        Ok(f) => f,
        Err(e) => return refuse(&state, "oauth.par", None, &e, &who, ip).await,
    };
    let result = async {
        let presented = form.presented(&headers, cert.0.as_ref())?;
        let proof = super::dpop_proof(&headers)?;
        let url = state.oauth.issuer.endpoint(super::PAR);
        let dpop = DpopHeader {
            proof,
            method: "POST",
            url: &url,
        };
        crate::oauth::par::push(&state.oauth, &presented, &|n| form.get(n), dpop).await
    }
    .await;
    match result {
        Ok(pushed) => no_store(
            (
                StatusCode::CREATED,
                Json(json!({ "request_uri": pushed.request_uri, "expires_in": pushed.expires_in })),
            )
                .into_response(),
            Some(state.oauth.nonce(crate::oauth::now())),
        ),
        Err(e) => refuse(&state, "oauth.par", named(&form, &headers).as_deref(), &e, &who, ip).await,
    }
}
