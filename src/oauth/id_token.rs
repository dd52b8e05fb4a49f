//! ID tokens (OpenID Connect Core §2) and the pairwise subject (§8.1).
//!
//! A person's `sub` differs per module: the HMAC of the module and the
//! account under the key file's index key, so two modules cannot join
//! their data on a shared identifier, and no module learns the account id
//! or the pseudonym Jaga's own records use.

use serde_json::{Value, json};

use super::Issuer;
use super::access::{IssueError, sign};
use crate::keys::IndexKey;
use crate::keys::signing::SigningKeys;

/// The domain of the pairwise subject's HMAC (never reused elsewhere).
const PAIRWISE_DOMAIN: &str = "jaga oidc pairwise sub v1";

/// How long an ID token is good for (it is read once, at sign-in).
pub const ID_TOKEN_SECS: i64 = 300;

/// `acr` of a sign-in with a passkey and user verification.
pub const ACR_PASSKEY: &str = "urn:jaga:acr:passkey-uv";

/// The subject `client_id` knows `account_id` by.
pub fn pairwise_sub(index: &IndexKey, client_id: &str, account_id: &str) -> String {
    let input = format!("{client_id}\0{account_id}");
    crate::ids::base32(&index.blind_index(PAIRWISE_DOMAIN, input.as_bytes())).to_ascii_lowercase()
}

/// How a session was signed in (RFC 8176): a passkey with user
/// verification is possession of a key (`pop`) and something the person
/// is or knows on the device (`user`), together multi-factor (`mfa`). Every
/// session in Jaga starts from a passkey ceremony.
pub fn amr() -> Vec<&'static str> {
    vec!["pop", "user", "mfa"]
}

/// What goes into an ID token.
#[derive(Debug, Clone)]
pub struct NewIdToken<'a> {
    pub client_id: &'a str,
    pub sub: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub amr: &'a [String],
    /// The grant, as OIDC's session id (`sid`) for logout.
    pub sid: &'a str,
}

pub fn issue(keys: &SigningKeys, issuer: &Issuer, new: &NewIdToken<'_>, now: i64) -> Result<String, IssueError> {
    let mut body = json!({
        "iss": issuer.url,
        "sub": new.sub,
        "aud": new.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_SECS,
        "auth_time": new.auth_time,
        "acr": ACR_PASSKEY,
        "amr": new.amr,
        "sid": new.sid,
    });
    if let (Some(nonce), Some(obj)) = (new.nonce, body.as_object_mut()) {
        obj.insert("nonce".into(), Value::String(nonce.to_owned()));
    }
    sign(keys, Some("JWT"), &body, now).map(|(jws, _)| jws)
}

/// What an `id_token_hint` says, once its signature is checked: the
/// module it was issued to and the subject. Expiry is not checked (OpenID
/// Connect RP-Initiated Logout §2: an expired ID token is a good hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub client_id: String,
    pub sub: String,
}

pub fn verify_hint(keys: &SigningKeys, issuer: &Issuer, token: &str) -> Option<Hint> {
    let jws = super::jws::Unverified::parse(token).ok()?;
    if jws.alg != super::jwk::Alg::Es256 || jws.jwk.is_some() {
        return None;
    }
    let kid = jws.kid.clone()?;
    let all = keys.all();
    let key = all.iter().find(|k| k.kid() == kid)?;
    let (input, signature) = jws.signed_parts();
    if !key.verify(input, signature) {
        return None;
    }
    let claims = jws.claims_unverified();
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    if text("iss")? != issuer.url || claims.get("auth_time").is_none() {
        return None;
    }
    Some(Hint {
        client_id: text("aud")?,
        sub: text("sub")?,
    })
}
