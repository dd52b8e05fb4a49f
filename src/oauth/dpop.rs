//! DPoP proofs (RFC 9449): a client proves, per request, that it holds the
//! private key its tokens are bound to.
//!
//! A proof is accepted when: `typ` is `dpop+jwt`; the header's `jwk` is a
//! public key of an allowed type that verifies the signature; `htm` and
//! `htu` name this request (the URL without query or fragment, on the
//! issuer's public origin); `iat` is within a minute of now; `jti` has not
//! been seen in the last two minutes; `ath` is the hash of the access
//! token presented with it (at a resource); and `nonce` is a fresh server
//! nonce. A missing or stale nonce is `use_dpop_nonce`, so the client
//! retries with the one in the `DPoP-Nonce` header.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use super::error::{Code, OauthError};
use super::jwk::PublicJwk;
use super::jws::{Unverified, claims};
use super::replay::Replay;
use crate::keys::IndexKey;

/// How far a proof's `iat` may be from now.
pub const IAT_SKEW_SECS: i64 = 60;
const MAX_JTI: usize = 256;

/// What the request the proof must match is.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub method: &'a str,
    /// Absolute URL without query or fragment.
    pub url: &'a str,
    /// The access token sent with the proof (resource requests).
    pub access_token: Option<&'a str>,
}

/// A checked proof: the thumbprint of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
}

fn invalid(msg: impl Into<String>) -> OauthError {
    OauthError::new(Code::InvalidDpopProof, msg)
}

/// `htu` compared as RFC 9449 §4.3 says: without query and fragment, and
/// with the scheme and host in lower case.
fn same_url(htu: &str, expected: &str) -> bool {
    let base = htu.split(['?', '#']).next().unwrap_or("");
    let split = |u: &str| -> Option<(String, String)> {
        let (scheme, rest) = u.split_once("://")?;
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        Some((
            format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()),
            path.to_owned(),
        ))
    };
    matches!((split(base), split(expected)), (Some(a), Some(b)) if a == b)
}

pub async fn check(
    proof: &str,
    expected: Expected<'_>,
    nonce_key: &IndexKey,
    replay: &Replay,
    now: i64,
) -> Result<Proof, OauthError> {
    let jws = Unverified::parse(proof).map_err(|e| invalid(format!("the DPoP proof is malformed: {e}")))?;
    if jws.typ.as_deref() != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    let jwk = jws
        .jwk
        .as_ref()
        .ok_or_else(|| invalid("the DPoP proof's header has no jwk"))
        .and_then(|j| PublicJwk::parse(j).map_err(|e| invalid(format!("the DPoP proof's jwk: {e}"))))?;
    let claims = jws
        .verify(&jwk)
        .map_err(|_| invalid("the DPoP proof's signature does not verify with its jwk"))?;
    let text = |name: &str| claims::string(&claims, name).map_err(|e| invalid(e.0));
    let jti = text("jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Err(invalid("the DPoP proof's jti must be 1 to 256 characters"));
    }
    if text("htm")? != expected.method {
        return Err(invalid("the DPoP proof's htm does not match the request method"));
    }
    if !same_url(text("htu")?, expected.url) {
        return Err(invalid("the DPoP proof's htu does not match the request URL"));
    }
    let iat = claims::int(&claims, "iat").map_err(|e| invalid(e.0))?;
    if iat.abs_diff(now) > IAT_SKEW_SECS.unsigned_abs() {
        return Err(invalid("the DPoP proof's iat is not within a minute of now"));
    }
    match (
        expected.access_token,
        claims.get("ath").and_then(serde_json::Value::as_str),
    ) {
        (Some(token), Some(ath)) => {
            let expected_ath = B64URL.encode(crate::ids::sha256(token.as_bytes()));
            if ath != expected_ath {
                return Err(invalid("the DPoP proof's ath is not the hash of the access token sent"));
            }
        }
        (Some(_), None) => return Err(invalid("the DPoP proof has no ath for the access token sent")),
        (None, _) => {}
    }
    let nonce_ok = claims
        .get("nonce")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|n| super::nonce::is_fresh(nonce_key, n, now));
    if !nonce_ok {
        return Err(OauthError::new(Code::UseDpopNonce, "a fresh DPoP nonce is required"));
    }
    let seen = replay
        .first_use(&format!("dpop:{}:{jti}", jwk.thumbprint()), now + 2 * IAT_SKEW_SECS)
        .await
        .map_err(|e| OauthError::server(&e))?;
    if !seen {
        return Err(invalid("this DPoP proof was used before"));
    }
    Ok(Proof {
        jkt: jwk.thumbprint().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::same_url;

    #[test]
    fn htu_ignores_query_fragment_and_case_of_the_origin() {
        assert!(same_url(
            "https://Jaga.example/oauth/token?x=1#f",
            "https://jaga.example/oauth/token"
        ));
        assert!(!same_url(
            "https://jaga.example/oauth/Token",
            "https://jaga.example/oauth/token"
        ));
        assert!(!same_url(
            "https://evil.example/oauth/token",
            "https://jaga.example/oauth/token"
        ));
        assert!(!same_url(
            "http://jaga.example/oauth/token",
            "https://jaga.example/oauth/token"
        ));
        assert!(!same_url("not a url", "https://jaga.example/oauth/token"));
    }
}
