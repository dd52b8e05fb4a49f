//! Discovery (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AUTHORIZE, INTROSPECT, JWKS, LOGOUT, PAR, REVOKE, TOKEN};
use crate::app::AppState;
use crate::oauth::jwk::Alg;

fn document(state: &AppState) -> Value {
    let issuer = &state.oauth.issuer;
    // tls_client_auth only where the listener asks for client certificates.
    let mtls = state.config.tls.as_ref().is_some_and(|t| t.client_ca_path.is_some());
    let mut client_auth = vec!["private_key_jwt", "client_secret_basic"];
    if mtls {
        client_auth.push("tls_client_auth");
    }
    // Public clients (PKCE and DPoP, no secret) at the token and revocation endpoints.
    let mut token_auth = client_auth.clone();
    token_auth.push("none");
    // openid, collections, and every purpose of the catalog a module may be given.
    let snapshot = state.oauth.policies.current();
    let scopes: Vec<String> = [crate::oauth::OPENID_SCOPE, crate::oauth::COLLECTIONS_SCOPE]
        .into_iter()
        .map(str::to_owned)
        .chain(
            snapshot
                .catalog
                .purposes()
                .filter(|p| !p.modules.is_empty())
                .map(|p| p.id.clone()),
        )
        .collect();
    json!({
        "issuer": issuer.url,
        "jwks_uri": issuer.endpoint(JWKS),
        "token_endpoint": issuer.endpoint(TOKEN),
        "introspection_endpoint": issuer.endpoint(INTROSPECT),
        "revocation_endpoint": issuer.endpoint(REVOKE),
        "authorization_endpoint": issuer.endpoint(AUTHORIZE),
        "pushed_authorization_request_endpoint": issuer.endpoint(PAR),
        "require_pushed_authorization_requests": true,
        "userinfo_endpoint": issuer.userinfo(),
        "end_session_endpoint": issuer.endpoint(LOGOUT),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": [crate::oauth::id_token::ACR_PASSKEY],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "name", "nik", "kk", "birth_place", "birthdate", "gender", "address", "phone_number", "email"],
        "token_endpoint_auth_methods_supported": token_auth,
        "token_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "revocation_endpoint_auth_methods_supported": token_auth,
        "revocation_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "dpop_signing_alg_values_supported": Alg::SUPPORTED,
        "tls_client_certificate_bound_access_tokens": mtls,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": scopes,
        "ui_locales_supported": ["id", "en"],
        "service_documentation": issuer.endpoint("/docs"),
    })
}

fn cached(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// OpenID provider metadata
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "OpenID Connect Discovery 1.0 metadata", body = Object)))]
pub(in crate::http) async fn openid_configuration(State(state): State<AppState>) -> Response {
    cached(document(&state))
}

/// Authorization server metadata
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "RFC 8414 metadata (the same document)", body = Object)))]
pub(in crate::http) async fn authorization_server(State(state): State<AppState>) -> Response {
    cached(document(&state))
}

/// The provider's public signing keys
///
/// Every key in the key file: the one signing now, the next one (published
/// before it signs) and the previous ones until their tokens have expired.
#[utoipa::path(get, path = "/oauth/jwks", tag = "oauth",
    responses((status = 200, description = "JWK Set (RFC 7517)", content_type = "application/jwk-set+json", body = Object)))]
pub(in crate::http) async fn jwks(State(state): State<AppState>) -> Response {
    let keys: Vec<Value> = state.oauth.keys.oauth.all().iter().map(|k| k.jwk().clone()).collect();
    let mut response = cached(json!({ "keys": keys }));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    response
}
