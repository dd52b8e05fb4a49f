//! Public JSON Web Keys (RFC 7517) a client or a DPoP proof presents, their
//! RFC 7638 thumbprints, and signature verification with ring.
//!
//! Only the key types FAPI 2.0 allows are understood: EC P-256 (ES256),
//! OKP Ed25519 (EdDSA) and RSA of at least 2048 bits (PS256). A key that
//! carries private members is refused, so a client that pastes its private
//! key into its registration learns it at once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

/// Signature algorithms accepted from clients (FAPI 2.0 §5.4: PS256, ES256, EdDSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Ps256,
    EdDsa,
}

impl Alg {
    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "ES256" => Some(Alg::Es256),
            "PS256" => Some(Alg::Ps256),
            // RFC 9864's fully specified name for the same algorithm.
            "EdDSA" | "Ed25519" => Some(Alg::EdDsa),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Ps256 => "PS256",
            Alg::EdDsa => "EdDSA",
        }
    }

    pub const SUPPORTED: &'static [&'static str] = &["ES256", "PS256", "EdDSA", "Ed25519"];
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwkError(pub String);

fn bad(msg: impl Into<String>) -> JwkError {
    JwkError(msg.into())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// Uncompressed SEC1 point: 0x04 ‖ x ‖ y.
    P256(Vec<u8>),
    Ed25519(Vec<u8>),
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

/// A public key, checked when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    material: Material,
    kid: Option<String>,
    /// The `alg` the key is registered for, if it says.
    alg: Option<Alg>,
    thumbprint: String,
}

const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, JwkError> {
    obj.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("the key has no {name:?} member")))
}

fn bytes(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, JwkError> {
    B64URL
        .decode(member(obj, name)?)
        .map_err(|_| bad(format!("the key's {name:?} is not base64url")))
}

impl PublicJwk {
    pub fn parse(value: &Value) -> Result<PublicJwk, JwkError> {
        let obj = value.as_object().ok_or_else(|| bad("a key is a JSON object"))?;
        if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(bad(format!(
                "the key holds the private member {private:?}: register only the public key"
            )));
        }
        if obj.get("use").is_some_and(|u| u != "sig") {
            return Err(bad("the key's \"use\" must be \"sig\""));
        }
        let kty = member(obj, "kty")?;
        let (material, thumb_input) = match kty {
            "EC" => {
                let crv = member(obj, "crv")?;
                if crv != "P-256" {
                    return Err(bad(format!("the EC curve {crv:?} is not supported (P-256 only)")));
                }
                let (x, y) = (bytes(obj, "x")?, bytes(obj, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad("a P-256 key's x and y are 32 bytes each"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let input = format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    member(obj, "x")?,
                    member(obj, "y")?
                );
                (Material::P256(point), input)
            }
            "OKP" => {
                let crv = member(obj, "crv")?;
                if crv != "Ed25519" {
                    return Err(bad(format!("the OKP curve {crv:?} is not supported (Ed25519 only)")));
                }
                let x = bytes(obj, "x")?;
                if x.len() != 32 {
                    return Err(bad("an Ed25519 key's x is 32 bytes"));
                }
                let input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, member(obj, "x")?);
                (Material::Ed25519(x), input)
            }
            "RSA" => {
                let (n, e) = (bytes(obj, "n")?, bytes(obj, "e")?);
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err(bad("an RSA key must have at least 2048 bits"));
                }
                let input = format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    member(obj, "e")?,
                    member(obj, "n")?
                );
                (Material::Rsa { n, e }, input)
            }
            other => return Err(bad(format!("the key type {other:?} is not supported (EC, OKP, RSA)"))),
        };
        let alg = match obj.get("alg").and_then(Value::as_str) {
            None => None,
            Some(name) => {
                let alg = Alg::parse(name).ok_or_else(|| bad(format!("the key's alg {name:?} is not allowed")))?;
                if !alg.fits(&material) {
                    return Err(bad(format!("the key's alg {name} does not fit its type {kty}")));
                }
                Some(alg)
            }
        };
        Ok(PublicJwk {
            material,
            kid: obj.get("kid").and_then(Value::as_str).map(str::to_owned),
            alg,
            thumbprint: B64URL.encode(crate::ids::sha256(thumb_input.as_bytes())),
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// RFC 7638 SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Whether this key may verify a signature made with `alg`.
    pub fn accepts(&self, alg: Alg) -> bool {
        alg.fits(&self.material) && self.alg.is_none_or(|a| a == alg)
    }

    /// Verifies `signature` over `message`; the JWS signature format (raw
    /// r ‖ s for ES256).
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        match &self.material {
            Material::P256(point) => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok(),
            Material::Ed25519(x) => UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            Material::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

impl Alg {
    fn fits(self, material: &Material) -> bool {
        matches!(
            (self, material),
            (Alg::Es256, Material::P256(_)) | (Alg::EdDsa, Material::Ed25519(_)) | (Alg::Ps256, Material::Rsa { .. })
        )
    }
}

/// A client's registered key set (`{"keys": [...]}`), every key checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet(Vec<PublicJwk>);

/// Most keys one client may register.
pub const MAX_KEYS: usize = 10;

impl KeySet {
    pub fn parse(value: &Value) -> Result<KeySet, JwkError> {
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a JWKS is an object with a \"keys\" array"))?;
        if keys.is_empty() || keys.len() > MAX_KEYS {
            return Err(bad(format!("a JWKS holds 1 to {MAX_KEYS} keys")));
        }
        let parsed = keys
            .iter()
            .enumerate()
            .map(|(i, k)| PublicJwk::parse(k).map_err(|e| bad(format!("key {}: {e}", i + 1))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeySet(parsed))
    }

    /// The keys that may have made a signature with `alg` and `kid`: the
    /// one named by `kid` when it is given, else every key of that type.
    pub fn candidates(&self, alg: Alg, kid: Option<&str>) -> impl Iterator<Item = &PublicJwk> {
        self.0
            .iter()
            .filter(move |k| k.accepts(alg) && kid.is_none_or(|kid| k.kid() == Some(kid)))
    }
}

#[cfg(test)]
#[path = "jwk_tests.rs"]
mod tests;
