use serde_json::json;

use super::*;

const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

#[test]
fn rfc7638_thumbprint_of_a_p256_key() {
    // The thumbprint is over the required members in lexical order only.
    let a = PublicJwk::parse(&json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "one" })).unwrap();
    let b = PublicJwk::parse(&json!({ "y": Y, "x": X, "crv": "P-256", "kty": "EC", "use": "sig" })).unwrap();
    assert_eq!(a.thumbprint(), b.thumbprint());
    assert_eq!(a.thumbprint().len(), 43);
    assert_eq!(a.kid(), Some("one"));
}

#[test]
fn private_or_unsupported_keys_are_refused() {
    let cases = [
        json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "d": "AAAA" }),
        json!({ "kty": "EC", "crv": "P-384", "x": X, "y": Y }),
        json!({ "kty": "oct", "k": "c2VjcmV0" }),
        json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" }),
        json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "use": "enc" }),
        json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "alg": "HS256" }),
        json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "alg": "EdDSA" }),
        json!({ "kty": "EC", "crv": "P-256", "x": "short", "y": Y }),
        json!("not an object"),
    ];
    for case in cases {
        assert!(PublicJwk::parse(&case).is_err(), "{case}");
    }
}

#[test]
fn only_the_allowed_algorithms_are_known() {
    for name in ["none", "HS256", "RS256", "ES384", ""] {
        assert!(Alg::parse(name).is_none(), "{name}");
    }
    assert_eq!(Alg::parse("Ed25519"), Some(Alg::EdDsa));
    let key = PublicJwk::parse(&json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "alg": "ES256" })).unwrap();
    assert!(key.accepts(Alg::Es256));
    assert!(!key.accepts(Alg::EdDsa));
    assert!(!key.verify(Alg::Es256, b"message", &[0u8; 64]));
}

#[test]
fn a_key_set_is_bounded_and_finds_keys_by_kid() {
    let key = json!({ "kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "k1" });
    let set = KeySet::parse(&json!({ "keys": [key] })).unwrap();
    assert_eq!(set.candidates(Alg::Es256, Some("k1")).count(), 1);
    assert_eq!(set.candidates(Alg::Es256, Some("k2")).count(), 0);
    assert_eq!(set.candidates(Alg::Es256, None).count(), 1);
    assert_eq!(set.candidates(Alg::EdDsa, None).count(), 0);
    assert!(KeySet::parse(&json!({ "keys": [] })).is_err());
    let many: Vec<_> = (0..=MAX_KEYS).map(|_| key.clone()).collect();
    assert!(KeySet::parse(&json!({ "keys": many })).is_err());
}
