//! The OAuth 2.0 / OpenID Connect endpoints: metadata and JWKS, token,
//! introspection and revocation. Requests are form-encoded (RFC 6749
//! §3.2); errors are `{"error", "error_description"}` with the statuses
//! and headers the RFCs name, in the one error shape.

pub(super) mod authorize;
mod form;
pub(super) mod metadata;
pub(super) mod par;
pub(super) mod token;
pub(super) mod userinfo;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};

use super::error::ApiError;
use super::routes::Routes;
use crate::oauth::error::{Code, OauthError};
use crate::oauth::mtls::PeerCert;

pub const TOKEN: &str = "/oauth/token";
pub const INTROSPECT: &str = "/oauth/introspect";
pub const REVOKE: &str = "/oauth/revoke";
pub const JWKS: &str = "/oauth/jwks";
pub const PAR: &str = "/oauth/par";
pub const AUTHORIZE: &str = "/oauth/authorize";
pub const DECIDE: &str = "/api/oauth/decide";
pub const LOGOUT: &str = "/oauth/logout";

pub fn routes(state: &crate::app::AppState) -> Routes {
    let decide = Routes::new().post(DECIDE, authorize::decide);
    super::limits::limited(state, decide, crate::ratelimit::ACCOUNT_IP)
        .layered(|r| super::session::origin_checked(state, r))
        .merge(machine())
}

fn machine() -> Routes {
    Routes::new()
        .get("/.well-known/openid-configuration", metadata::openid_configuration)
        .get(
            "/.well-known/oauth-authorization-server",
            metadata::authorization_server,
        )
        .get(JWKS, metadata::jwks)
        .post(TOKEN, token::token)
        .post(INTROSPECT, token::introspect)
        .post(REVOKE, token::revoke)
        .post(PAR, par::par)
        .get(crate::oauth::USERINFO_PATH, userinfo::get)
        .post(crate::oauth::USERINFO_PATH, userinfo::post)
}

/// The one DPoP proof of a request, if any.
pub fn dpop_proof(headers: &axum::http::HeaderMap) -> Result<Option<&str>, OauthError> {
    let mut proofs = headers.get_all("dpop").iter();
    match (proofs.next(), proofs.next()) {
        (None, _) => Ok(None),
        (Some(p), None) => p
            .to_str()
            .map(Some)
            .map_err(|_| OauthError::new(Code::InvalidDpopProof, "the DPoP header is not text")),
        (Some(_), Some(_)) => Err(OauthError::new(Code::InvalidDpopProof, "send one DPoP header")),
    }
}

pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The TLS client certificate of the request's connection, if it brought
/// one (its chain was verified during the handshake against
/// `tls.client_ca_path`; without that setting no certificate is asked for).
#[derive(Debug, Clone, Default)]
pub struct ClientCert(pub Option<PeerCert>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientCert {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientCert(peer_cert(&parts.extensions)))
    }
}

/// The leaf certificate the TLS listener recorded for the connection.
pub fn peer_cert(extensions: &axum::http::Extensions) -> Option<PeerCert> {
    extensions
        .get::<std::sync::Arc<axum_server::tls::TlsInfo>>()
        .and_then(|info| info.peer_certificates.first())
        .map(|der| PeerCert(der.clone()))
}

/// An OAuth error as an HTTP answer.
pub fn error(e: &OauthError, nonce: &str) -> ApiError {
    let status = match e.code {
        Code::InvalidClient | Code::InvalidToken => StatusCode::UNAUTHORIZED,
        Code::InsufficientScope => StatusCode::FORBIDDEN,
        Code::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut api = ApiError::new(status, e.code.as_str(), e.description.clone()).described();
    if e.code == Code::InvalidClient {
        api = api.with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"jaga\", error=\"invalid_client\""),
        );
    }
    if matches!(e.code, Code::UseDpopNonce | Code::InvalidDpopProof)
        && let Ok(v) = HeaderValue::from_str(nonce)
    {
        api = api.with_header(DPOP_NONCE, v);
    }
    api.with_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}
