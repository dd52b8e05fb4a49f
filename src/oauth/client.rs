//! Client authentication at the token, introspection and revocation
//! endpoints: `private_key_jwt` (RFC 7523, as FAPI 2.0 profiles it),
//! `tls_client_auth` (RFC 8705: the TLS client certificate) or, where an
//! operator allowed it for one client, `client_secret_basic`.

use subtle::ConstantTimeEq as _;

use super::error::OauthError;
use super::jwk::KeySet;
use super::jws::{Unverified, claims};
use super::mtls::PeerCert;
use super::{Deps, Issuer};
use crate::store::clients::{self as stored, ClientRow};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest a client assertion may live (FAPI clients make one per request).
pub const MAX_ASSERTION_SECS: i64 = 300;
/// Clock skew allowed on `iat` and `nbf`.
pub const SKEW_SECS: i64 = 30;

/// How a client proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    PrivateKeyJwt,
    TlsClientAuth,
    ClientSecretBasic,
    /// A public client (PKCE and DPoP only).
    None,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            "tls_client_auth" => Some(AuthMethod::TlsClientAuth),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "none" => Some(AuthMethod::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::None => "none",
        }
    }
}

/// What the request brought to authenticate its client.
#[derive(Debug, Default, Clone)]
pub struct Presented {
    /// From `Authorization: Basic` (already percent-decoded).
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
    /// A secret in the form body: refused (client_secret_post is not offered).
    pub secret_in_body: bool,
    /// The certificate of the TLS connection, chain already verified.
    pub cert: Option<PeerCert>,
}

/// An authenticated client.
#[derive(Debug, Clone)]
pub struct Client {
    pub row: ClientRow,
    pub method: AuthMethod,
}

impl Client {
    pub fn id(&self) -> &str {
        &self.row.name
    }

    pub fn grants(&self) -> Vec<String> {
        serde_json::from_str(&self.row.grant_types).unwrap_or_default()
    }
}

fn unknown() -> OauthError {
    OauthError::client("client authentication failed")
}

pub async fn authenticate(deps: &Deps, presented: &Presented, now: i64) -> Result<Client, OauthError> {
    if presented.secret_in_body {
        return Err(OauthError::client(
            "client_secret_post is not supported: use private_key_jwt (or client_secret_basic where registered)",
        ));
    }
    let methods = usize::from(presented.basic.is_some()) + usize::from(presented.assertion.is_some());
    if methods > 1 {
        return Err(OauthError::request("use exactly one client authentication method"));
    }
    if let Some((id, secret)) = &presented.basic {
        if presented.client_id.as_deref().is_some_and(|c| c != id) {
            return Err(OauthError::request("client_id does not match the authenticated client"));
        }
        let row = live(deps, id).await?;
        if AuthMethod::parse(&row.client_auth) != Some(AuthMethod::ClientSecretBasic) {
            return Err(refused(id, "the client does not use a client secret"));
        }
        let expected = row.secret_hash.as_deref().ok_or_else(unknown)?;
        let presented_hash = crate::ids::sha256(secret.as_bytes());
        if !bool::from(expected.ct_eq(&presented_hash)) {
            return Err(unknown());
        }
        return Ok(Client {
            row,
            method: AuthMethod::ClientSecretBasic,
        });
    }
    if let Some(assertion) = &presented.assertion {
        if presented.assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Err(OauthError::request(format!(
                "client_assertion_type must be {ASSERTION_TYPE}"
            )));
        }
        return private_key_jwt(deps, presented.client_id.as_deref(), assertion, now).await;
    }
    // A public client names itself only; what binds its tokens is PKCE and
    // its DPoP key.
    if let Some(id) = &presented.client_id {
        let row = live(deps, id).await?;
        return match AuthMethod::parse(&row.client_auth) {
            Some(AuthMethod::None) => Ok(Client {
                row,
                method: AuthMethod::None,
            }),
            Some(AuthMethod::TlsClientAuth) => tls_client_auth(row, presented.cert.as_ref()),
            _ => Err(refused(id, "a confidential client sent no authentication")),
        };
    }
    Err(OauthError::client(
        "client authentication is required (private_key_jwt)",
    ))
}

/// The live client `client_id`. Whether it does not exist, is disabled or
/// authenticates another way is logged, never told: a caller who has not
/// proved who it is learns nothing about which modules exist.
async fn live(deps: &Deps, client_id: &str) -> Result<ClientRow, OauthError> {
    if !crate::modules::is_ident(client_id, 2, 32) {
        return Err(unknown());
    }
    let row = stored::client(&deps.db, client_id)
        .await
        .map_err(|e| OauthError::server(&e))?
        .ok_or_else(unknown)?;
    if row.revoked_at.is_some() {
        return Err(refused(client_id, "the client is disabled"));
    }
    Ok(row)
}

/// RFC 8705 §2.1: the connection's certificate (its chain verified by the
/// TLS listener against the client CA bundle) has the registered subject.
fn tls_client_auth(row: ClientRow, cert: Option<&PeerCert>) -> Result<Client, OauthError> {
    let Some(cert) = cert else {
        return Err(refused(&row.name, "no TLS client certificate was presented"));
    };
    let (Some(registered), Some(subject)) = (row.tls_subject.as_deref(), cert.subject()) else {
        return Err(refused(
            &row.name,
            "no subject is registered, or the certificate's is not text",
        ));
    };
    if registered != subject {
        tracing::info!(
            oauth.client = row.name,
            tls.subject = subject,
            "TLS client certificate of another subject"
        );
        return Err(refused(
            &row.name,
            "the certificate's subject is not the registered one",
        ));
    }
    Ok(Client {
        row,
        method: AuthMethod::TlsClientAuth,
    })
}

fn refused(client_id: &str, why: &str) -> OauthError {
    tracing::info!(
        oauth.client = client_id,
        oauth.refused = why,
        "client authentication refused"
    );
    unknown()
}

async fn private_key_jwt(
    deps: &Deps,
    client_id: Option<&str>,
    assertion: &str,
    now: i64,
) -> Result<Client, OauthError> {
    let jws = Unverified::parse(assertion).map_err(|e| OauthError::client(format!("client assertion: {e}")))?;
    if jws.jwk.is_some() {
        return Err(OauthError::client("client assertion: an embedded jwk is not accepted"));
    }
    if !matches!(jws.typ.as_deref(), None | Some("JWT" | "client-authentication+jwt")) {
        return Err(OauthError::client(
            "client assertion: typ must be absent, JWT or client-authentication+jwt",
        ));
    }
    // Who it claims to be, before anything is verified: only to find the key.
    let peek = jws.claims_unverified();
    let sub = peek
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_owned();
    if client_id.is_some_and(|c| c != sub) {
        return Err(OauthError::client(
            "client_id does not match the client assertion's sub",
        ));
    }
    let row = live(deps, &sub).await?;
    if AuthMethod::parse(&row.client_auth) != Some(AuthMethod::PrivateKeyJwt) {
        return Err(refused(&sub, "the client does not use private_key_jwt"));
    }
    let (alg, kid) = (jws.alg, jws.kid.clone());
    let keys = match (&row.jwks, &row.jwks_uri) {
        (Some(inline), _) => serde_json::from_str(inline)
            .ok()
            .and_then(|v| KeySet::parse(&v).ok())
            .ok_or_else(|| refused(&sub, "the client's registered JWKS does not parse"))?,
        (None, Some(uri)) => {
            let published = |fresh| deps.remote_keys.get(&sub, uri, now, fresh);
            let keys = published(false).await.map_err(|why| refused(&sub, &why))?;
            if keys.candidates(alg, kid.as_deref()).next().is_some() {
                keys
            } else {
                // A key id it did not publish before: the module rotated.
                published(true).await.map_err(|why| refused(&sub, &why))?
            }
        }
        (None, None) => {
            return Err(refused(
                &sub,
                "the client has no registered key (jaga modules set-jwks)",
            ));
        }
    };
    let claims = jws
        .verify_any(keys.candidates(alg, kid.as_deref()))
        .map_err(|e| OauthError::client(format!("client assertion: {e}")))?;
    check_assertion_claims(&deps.issuer, &claims, &sub, now)?;
    let jti = claims::string(&claims, "jti").map_err(|e| OauthError::client(e.0))?;
    let exp = claims::int(&claims, "exp").map_err(|e| OauthError::client(e.0))?;
    let first = deps
        .replay
        .first_use(&format!("assertion:{sub}:{jti}"), exp + SKEW_SECS)
        .await
        .map_err(|e| OauthError::server(&e))?;
    if !first {
        return Err(OauthError::client("client assertion: this jti was used before"));
    }
    Ok(Client {
        row,
        method: AuthMethod::PrivateKeyJwt,
    })
}

fn check_assertion_claims(
    issuer: &Issuer,
    claims: &serde_json::Map<String, serde_json::Value>,
    client_id: &str,
    now: i64,
) -> Result<(), OauthError> {
    let bad = |m: String| OauthError::client(format!("client assertion: {m}"));
    let iss = claims::string(claims, "iss").map_err(|e| bad(e.0))?;
    if iss != client_id {
        return Err(bad("iss and sub must both be the client_id".into()));
    }
    // FAPI 2.0 §5.3.2.1: the issuer identifier is the only audience accepted.
    claims::audience_is(claims, &issuer.url).map_err(|e| bad(e.0))?;
    let exp = claims::int(claims, "exp").map_err(|e| bad(e.0))?;
    if exp <= now {
        return Err(bad("it has expired".into()));
    }
    if exp > now + MAX_ASSERTION_SECS {
        return Err(bad(format!("exp may be at most {MAX_ASSERTION_SECS} s ahead")));
    }
    let iat = claims::opt_int(claims, "iat").map_err(|e| bad(e.0))?;
    if iat.is_some_and(|iat| iat > now + SKEW_SECS) {
        return Err(bad("iat is in the future".into()));
    }
    let nbf = claims::opt_int(claims, "nbf").map_err(|e| bad(e.0))?;
    if nbf.is_some_and(|nbf| nbf > now + SKEW_SECS) {
        return Err(bad("nbf is in the future".into()));
    }
    let jti = claims::string(claims, "jti").map_err(|e| bad(e.0))?;
    if jti.is_empty() || jti.len() > 256 {
        return Err(bad("jti must be 1 to 256 characters".into()));
    }
    Ok(())
}
