//! Passkey ceremonies with `webauthn_rp`: registration with resident keys
//! and user verification required, and username-less (discoverable)
//! sign-in. Ceremony state lives in the database, keyed by the challenge,
//! and is removed atomically on first use.

mod authenticate;
mod register;

use std::num::NonZeroU32;
use std::time::SystemTime;

use webauthn_rp::request::{AsciiDomain, RpId};

use crate::config::WebauthnConfig;

pub use authenticate::{Assertion, SignIn, decoy_verification, finish_sign_in, parse_assertion, start_sign_in};
pub use register::{NewPasskey, finish_registration, parse_registration, start_registration};
/// A browser's registration response, parsed.
pub use webauthn_rp::Registration;

/// The relying party: domain and allowed origins, checked at start.
#[derive(Debug)]
pub struct RelyingParty {
    rp_id: RpId,
    origins: Vec<String>,
    pub name: String,
    /// Ceremony lifetime in milliseconds.
    timeout_ms: NonZeroU32,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("invalid relying party id: {0}")]
    RpId(String),
    #[error("the passkey response is malformed")]
    Malformed,
    #[error("the ceremony expired")]
    Expired,
    #[error("the passkey did not verify: {0}")]
    Rejected(String),
    #[error("the signature counter went backwards (possible cloned authenticator)")]
    CounterRegression,
    #[error("internal error in the passkey ceremony: {0}")]
    Internal(String),
}

impl RelyingParty {
    pub fn new(config: &WebauthnConfig) -> Result<Self, PasskeyError> {
        let domain = AsciiDomain::try_from(config.rp_id.clone()).map_err(|e| PasskeyError::RpId(e.to_string()))?;
        Ok(Self {
            rp_id: RpId::Domain(domain),
            origins: config.origins.clone(),
            name: config.rp_name.clone(),
            timeout_ms: u32::try_from(config.ceremony_timeout.as_millis())
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or_else(|| PasskeyError::RpId("ceremony timeout out of range".into()))?,
        })
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Whether `origin` (an Origin header) is one of ours.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

/// A started ceremony: what to store and what to send to the browser.
#[derive(Debug)]
pub struct Started {
    /// The challenge, as the lookup key of the stored state.
    pub challenge: [u8; 16],
    /// webauthn_rp's server state (no MAC: server-side only).
    pub state: Vec<u8>,
    /// Unix seconds.
    pub expires_at: i64,
    /// `{"publicKey": …}` for the browser.
    pub options: serde_json::Value,
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn internal(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(e.to_string())
}
