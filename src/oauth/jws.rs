//! Compact JWS (RFC 7515) as Jaga reads it: a strict header, an allow-list
//! of algorithms (never `none`, never an HMAC), and no key the token brings
//! itself except where a profile asks for one (DPoP's `jwk`). The JWT BCP
//! (RFC 8725) is the checklist: explicit `typ`, no `jku`/`x5u`/`x5c`,
//! no `crit` extension Jaga does not understand (it understands none).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};

use super::jwk::{Alg, PublicJwk};

/// Longest compact JWS accepted (a client assertion or DPoP proof with an
/// RSA key fits comfortably).
pub const MAX_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwsError(pub String);

fn bad(msg: impl Into<String>) -> JwsError {
    JwsError(msg.into())
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug)]
pub struct Unverified<'a> {
    pub alg: Alg,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// The header's `jwk`, kept raw: only DPoP may use it.
    pub jwk: Option<Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

/// Header members that would let a token choose where its key comes from.
const FORBIDDEN_HEADERS: &[&str] = &["jku", "x5u", "x5c", "crit", "b64"];

impl<'a> Unverified<'a> {
    pub fn parse(token: &'a str) -> Result<Unverified<'a>, JwsError> {
        if token.len() > MAX_LEN {
            return Err(bad("the JWT is too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad("a JWT has three dot-separated parts"));
        };
        let header: Map<String, Value> = decode_json(h, "header")?;
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let alg = Alg::parse(alg_name).ok_or_else(|| {
            bad(format!(
                "the JWT algorithm {alg_name:?} is not accepted (only {})",
                Alg::SUPPORTED.join(", ")
            ))
        })?;
        if let Some(h) = FORBIDDEN_HEADERS.iter().find(|m| header.contains_key(**m)) {
            return Err(bad(format!("the JWT header member {h:?} is not accepted")));
        }
        let text = |name: &str| -> Result<Option<String>, JwsError> {
            match header.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("the JWT header's {name:?} is not a string"))),
            }
        };
        let signature = B64URL
            .decode(s)
            .map_err(|_| bad("the JWT signature is not base64url"))?;
        let claims: Map<String, Value> = decode_json(p, "payload")?;
        let signing_input = token.get(..h.len() + 1 + p.len()).ok_or_else(|| bad("malformed JWT"))?;
        Ok(Unverified {
            alg,
            typ: text("typ")?,
            kid: text("kid")?,
            jwk: header.get("jwk").cloned(),
            signing_input,
            signature,
            claims,
        })
    }

    /// The signing input and the signature, for a key that is not a JWK.
    pub fn signed_parts(&self) -> (&[u8], &[u8]) {
        (self.signing_input.as_bytes(), &self.signature)
    }

    /// The claims before verification: only to find which key to verify
    /// with (a client assertion's `sub`), never to decide anything.
    pub fn claims_unverified(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The claims, once `key` has verified the signature.
    pub fn verify(self, key: &PublicJwk) -> Result<Map<String, Value>, JwsError> {
        if key.verify(self.alg, self.signing_input.as_bytes(), &self.signature) {
            Ok(self.claims)
        } else {
            Err(bad("the JWT signature does not verify"))
        }
    }

    /// The claims, if one of `keys` verifies the signature.
    pub fn verify_any<'k>(self, keys: impl IntoIterator<Item = &'k PublicJwk>) -> Result<Map<String, Value>, JwsError> {
        let input = self.signing_input.as_bytes();
        if keys.into_iter().any(|k| k.verify(self.alg, input, &self.signature)) {
            Ok(self.claims)
        } else {
            Err(bad("the JWT signature does not verify with any registered key"))
        }
    }
}

fn decode_json(part: &str, what: &str) -> Result<Map<String, Value>, JwsError> {
    let raw = B64URL
        .decode(part)
        .map_err(|_| bad(format!("the JWT {what} is not base64url")))?;
    serde_json::from_slice(&raw).map_err(|_| bad(format!("the JWT {what} is not a JSON object")))
}

/// Claim readers that name the claim in their error.
pub mod claims {
    use serde_json::{Map, Value};

    use super::{JwsError, bad};

    pub fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, JwsError> {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("the JWT has no {name:?} claim")))
    }

    pub fn int(claims: &Map<String, Value>, name: &str) -> Result<i64, JwsError> {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad(format!("the JWT has no numeric {name:?} claim")))
    }

    pub fn opt_string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, JwsError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| bad(format!("the JWT's {name:?} claim is not text"))),
        }
    }

    pub fn opt_int(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, JwsError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(format!("the JWT's {name:?} claim is not a number"))),
        }
    }

    /// `aud` holds exactly `expected`: the string, or an array of that one string.
    pub fn audience_is(claims: &Map<String, Value>, expected: &str) -> Result<(), JwsError> {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == expected,
            Some(Value::Array(a)) => a.len() == 1 && a.first().and_then(Value::as_str) == Some(expected),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(bad(format!("the JWT's audience must be {expected}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use serde_json::json;

    use super::Unverified;

    fn jwt(header: &serde_json::Value) -> String {
        format!(
            "{}.{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(json!({ "sub": "x" }).to_string()),
            B64URL.encode([0u8; 64])
        )
    }

    #[test]
    fn headers_that_choose_their_own_key_or_algorithm_are_refused() {
        for header in [
            json!({ "alg": "none" }),
            json!({ "alg": "HS256" }),
            json!({ "alg": "ES256", "jku": "https://evil.example" }),
            json!({ "alg": "ES256", "x5u": "https://evil.example" }),
            json!({ "alg": "ES256", "x5c": ["MII"] }),
            json!({ "alg": "ES256", "crit": ["exp"] }),
            json!({ "alg": "ES256", "typ": 7 }),
        ] {
            assert!(Unverified::parse(&jwt(&header)).is_err(), "{header}");
        }
        assert!(Unverified::parse(&jwt(&json!({ "alg": "ES256", "kid": "k" }))).is_ok());
        assert!(Unverified::parse("a.b").is_err());
        assert!(Unverified::parse("a.b.c.d").is_err());
        assert!(Unverified::parse(&"a".repeat(super::MAX_LEN + 1)).is_err());
    }
}
