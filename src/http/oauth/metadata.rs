//! Discovery (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{INTROSPECT, JWKS, REVOKE, TOKEN};
use crate::app::AppState;
use crate::oauth::jwk::Alg;

fn document(state: &AppState) -> Value {
    let issuer = &state.oauth.issuer;
    let client_auth = ["private_key_jwt", "client_secret_basic"];
    json!({
        "issuer": issuer.url,
        "jwks_uri": issuer.endpoint(JWKS),
        "token_endpoint": issuer.endpoint(TOKEN),
        "introspection_endpoint": issuer.endpoint(INTROSPECT),
        "revocation_endpoint": issuer.endpoint(REVOKE),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": client_auth,
        "token_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_signing_alg_values_supported": Alg::SUPPORTED,
        "dpop_signing_alg_values_supported": Alg::SUPPORTED,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": [crate::oauth::COLLECTIONS_SCOPE],
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
