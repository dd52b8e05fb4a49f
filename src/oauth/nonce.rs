//! DPoP server nonces (RFC 9449 §8): stateless, so every instance that
//! holds the key file issues and accepts the same ones. A nonce names a
//! 60-second window and carries an HMAC of it; the current and previous
//! windows are accepted, so a nonce lives 60 to 120 seconds.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use crate::keys::IndexKey;

pub const WINDOW_SECS: i64 = 60;
const DOMAIN: &str = "jaga.oauth.dpop_nonce";

fn for_window(key: &IndexKey, window: i64) -> String {
    let tag = key.blind_index(DOMAIN, &window.to_be_bytes());
    let mut raw = Vec::with_capacity(24);
    raw.extend_from_slice(&window.to_be_bytes());
    raw.extend_from_slice(&tag);
    B64URL.encode(raw)
}

/// The nonce to hand out at `now`.
pub fn current(key: &IndexKey, now: i64) -> String {
    for_window(key, now.div_euclid(WINDOW_SECS))
}

/// Whether `nonce` is one of ours from this window or the one before.
pub fn is_fresh(key: &IndexKey, nonce: &str, now: i64) -> bool {
    let window = now.div_euclid(WINDOW_SECS);
    [window, window - 1].into_iter().any(|w| {
        let expected = for_window(key, w);
        bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), nonce.as_bytes()))
    })
}
