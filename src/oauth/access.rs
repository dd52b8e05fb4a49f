//! JWT access tokens (RFC 9068): ES256, `typ: at+jwt`, for one audience,
//! bound to a DPoP key (`cnf.jkt`). Jaga checks its own tokens the way a
//! strict resource server would, and keeps the ones it has verified until
//! they expire, so a token's signature is checked once per instance.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use super::Issuer;
use super::jws::claims;
use crate::keys::signing::SigningKeys;

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub jti: String,
    pub client_id: String,
    pub sub: String,
    pub aud: String,
    pub scope: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    /// The DPoP key thumbprint it is bound to.
    pub jkt: Option<String>,
    /// The TLS client certificate thumbprint it is bound to (RFC 8705).
    pub x5t: Option<String>,
    /// The signing key that signed it.
    pub kid: String,
    /// The person's grant it came from (none for client credentials).
    pub grant: Option<String>,
}

/// What an access token is bound to (its `cnf` claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// A DPoP key's thumbprint (`cnf.jkt`, RFC 9449); the token type is DPoP.
    Dpop(String),
    /// A TLS client certificate's thumbprint (`cnf.x5t#S256`, RFC 8705);
    /// the token is sent as Bearer on a connection with that certificate.
    Certificate(String),
}

impl Binding {
    fn from_parts(jkt: Option<&String>, x5t: Option<&String>) -> Option<Binding> {
        match (jkt, x5t) {
            (Some(jkt), _) => Some(Binding::Dpop(jkt.clone())),
            (None, Some(x5t)) => Some(Binding::Certificate(x5t.clone())),
            (None, None) => None,
        }
    }

    /// What a person's grant binds its tokens to.
    pub fn of_grant(g: &crate::store::oauth_flow::GrantRow) -> Option<Binding> {
        Binding::from_parts(g.jkt.as_ref(), g.x5t.as_ref())
    }

    pub fn jkt(&self) -> Option<&str> {
        match self {
            Binding::Dpop(jkt) => Some(jkt),
            Binding::Certificate(_) => None,
        }
    }

    pub fn x5t(&self) -> Option<&str> {
        match self {
            Binding::Certificate(x5t) => Some(x5t),
            Binding::Dpop(_) => None,
        }
    }

    pub fn token_type(&self) -> &'static str {
        match self {
            Binding::Dpop(_) => "DPoP",
            Binding::Certificate(_) => "Bearer",
        }
    }

    pub fn cnf(&self) -> Value {
        match self {
            Binding::Dpop(jkt) => json!({ "jkt": jkt }),
            Binding::Certificate(x5t) => json!({ "x5t#S256": x5t }),
        }
    }
}

impl AccessToken {
    /// What the token is bound to.
    pub fn binding(&self) -> Option<Binding> {
        Binding::from_parts(self.jkt.as_ref(), self.x5t.as_ref())
    }

    /// The `cnf` claim.
    pub fn cnf(&self) -> Option<Value> {
        self.binding().map(|b| b.cnf())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no token signing key is in force: run `jaga keys rotate-signing`")]
    NoKey,
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error(transparent)]
    Random(#[from] crate::ids::RandomError),
}

/// What to put in a new token.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub client_id: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub scope: &'a [String],
    pub jkt: Option<&'a str>,
    pub x5t: Option<&'a str>,
    pub lifetime_secs: i64,
    pub grant: Option<&'a str>,
}

/// Signs `body` with the signing key in force (ES256), with `typ` in the
/// header when given; returns the compact JWS and the key id.
pub fn sign(keys: &SigningKeys, typ: Option<&str>, body: &Value, now: i64) -> Result<(String, String), IssueError> {
    let (all, index) = keys.active(now).ok_or(IssueError::NoKey)?;
    let key = all.get(index).ok_or(IssueError::NoKey)?;
    let header = match typ {
        Some(typ) => json!({ "alg": "ES256", "typ": typ, "kid": key.kid() }),
        None => json!({ "alg": "ES256", "kid": key.kid() }),
    };
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(body.to_string())
    );
    let signature = key.sign(input.as_bytes())?;
    Ok((format!("{input}.{}", B64URL.encode(signature)), key.kid().to_owned()))
}

pub fn issue(
    keys: &SigningKeys,
    issuer: &Issuer,
    new: &NewToken<'_>,
    now: i64,
) -> Result<(String, AccessToken), IssueError> {
    let (all, index) = keys.active(now).ok_or(IssueError::NoKey)?;
    let key = all.get(index).ok_or(IssueError::NoKey)?;
    let jti = B64URL.encode(crate::ids::bytes::<16>()?);
    let token = AccessToken {
        jti,
        client_id: new.client_id.to_owned(),
        sub: new.sub.to_owned(),
        aud: new.aud.to_owned(),
        scope: new.scope.to_vec(),
        iat: now,
        exp: now + new.lifetime_secs,
        jkt: new.jkt.map(str::to_owned),
        x5t: new.x5t.map(str::to_owned),
        kid: key.kid().to_owned(),
        grant: new.grant.map(str::to_owned),
    };
    let mut body = json!({
        "iss": issuer.url,
        "sub": token.sub,
        "aud": token.aud,
        "client_id": token.client_id,
        "iat": token.iat,
        "exp": token.exp,
        "jti": token.jti,
        "scope": token.scope.join(" "),
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(cnf) = token.cnf() {
            obj.insert("cnf".into(), cnf);
        }
        if let Some(grant) = &token.grant {
            obj.insert("grant_id".into(), json!(grant));
        }
    }
    let (jws, kid) = sign(keys, Some("at+jwt"), &body, now)?;
    Ok((jws, AccessToken { kid, ..token }))
}

/// Why a presented token is not good (said to the client in general terms).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(m: impl Into<String>) -> Invalid {
    Invalid(m.into())
}

/// Verifies one of Jaga's access tokens for `audience`.
pub fn verify(
    keys: &SigningKeys,
    issuer: &Issuer,
    token: &str,
    audience: &str,
    now: i64,
) -> Result<AccessToken, Invalid> {
    let jws = super::jws::Unverified::parse(token).map_err(|e| invalid(e.0))?;
    if jws.alg != super::jwk::Alg::Es256 {
        return Err(invalid("the access token is not ES256"));
    }
    if !matches!(jws.typ.as_deref(), Some("at+jwt" | "application/at+jwt")) {
        return Err(invalid("the token is not an access token (typ at+jwt)"));
    }
    if jws.jwk.is_some() {
        return Err(invalid("an access token carries no key"));
    }
    let kid = jws
        .kid
        .clone()
        .ok_or_else(|| invalid("the access token names no key"))?;
    let all = keys.all();
    let key = all
        .iter()
        .find(|k| k.kid() == kid)
        .ok_or_else(|| invalid("the access token's key is not one of ours"))?;
    let (input, signature) = jws.signed_parts();
    if !key.verify(input, signature) {
        return Err(invalid("the access token's signature does not verify"));
    }
    let c = jws.claims_unverified();
    let text = |n: &str| claims::string(c, n).map(str::to_owned).map_err(|e| invalid(e.0));
    if text("iss")? != issuer.url {
        return Err(invalid("the access token was issued by someone else"));
    }
    claims::audience_is(c, audience).map_err(|e| invalid(e.0))?;
    let exp = claims::int(c, "exp").map_err(|e| invalid(e.0))?;
    if exp <= now {
        return Err(invalid("the access token has expired"));
    }
    let iat = claims::int(c, "iat").map_err(|e| invalid(e.0))?;
    if iat > now + super::client::SKEW_SECS {
        return Err(invalid("the access token was issued in the future"));
    }
    if claims::opt_int(c, "nbf")
        .map_err(|e| invalid(e.0))?
        .is_some_and(|nbf| nbf > now + super::client::SKEW_SECS)
    {
        return Err(invalid("the access token is not valid yet"));
    }
    let (jkt, x5t) = match c.get("cnf") {
        None => (None, None),
        Some(cnf) => {
            let member = |n: &str| cnf.get(n).and_then(Value::as_str).map(str::to_owned);
            match (member("jkt"), member("x5t#S256")) {
                (Some(jkt), None) => (Some(jkt), None),
                (None, Some(x5t)) => (None, Some(x5t)),
                _ => return Err(invalid("the access token's cnf must hold jkt or x5t#S256")),
            }
        }
    };
    Ok(AccessToken {
        jti: text("jti")?,
        client_id: text("client_id")?,
        sub: text("sub")?,
        aud: audience.to_owned(),
        scope: c
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        iat,
        exp,
        jkt,
        x5t,
        kid,
        grant: claims::opt_string(c, "grant_id")
            .map_err(|e| invalid(e.0))?
            .map(str::to_owned),
    })
}

/// Tokens this instance has verified, by SHA-256 of the token, until
/// they expire. Revocation is not decided here: it is looked up per use.
/// Expired entries are swept at most once a second; past the cap, tokens
/// are verified without being kept.
#[derive(Debug, Default)]
pub struct Verified(Mutex<(HashMap<[u8; 32], AccessToken>, i64)>);

const CACHE_CAP: usize = 100_000;

impl Verified {
    pub fn get_or_verify(
        &self,
        keys: &SigningKeys,
        issuer: &Issuer,
        token: &str,
        audience: &str,
        now: i64,
    ) -> Result<AccessToken, Invalid> {
        let hash = crate::ids::sha256(token.as_bytes());
        if let Ok(cache) = self.0.lock()
            && let Some(t) = cache.0.get(&hash)
            && t.exp > now
            && t.aud == audience
            && keys.all().iter().any(|k| k.kid() == t.kid)
        {
            return Ok(t.clone());
        }
        let verified = verify(keys, issuer, token, audience, now)?;
        if let Ok(mut guard) = self.0.lock() {
            let (cache, swept) = &mut *guard;
            if *swept < now {
                cache.retain(|_, t| t.exp > now);
                *swept = now;
            }
            if cache.len() < CACHE_CAP {
                cache.insert(hash, verified.clone());
            }
        }
        Ok(verified)
    }
}
