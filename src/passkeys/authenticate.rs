//! Username-less (discoverable) sign-in ceremonies.

use webauthn_rp::bin::{Decode as _, Encode as _};
use webauthn_rp::request::TimedCeremony as _;
use webauthn_rp::request::auth::AuthenticationVerificationOptions;
use webauthn_rp::request::register::UserHandle64;
use webauthn_rp::response::Backup;
use webauthn_rp::response::auth::error::AuthCeremonyErr;
use webauthn_rp::response::register::{CompressedPubKey, DynamicState, StaticState};
use webauthn_rp::{
    AuthenticatedCredential, DiscoverableAuthentication64, DiscoverableAuthenticationServerState,
    DiscoverableCredentialRequestOptions,
};

use super::{PasskeyError, RelyingParty, Started, internal, unix};

type StoredPubKey = CompressedPubKey<[u8; 32], [u8; 32], [u8; 48], Vec<u8>>;

/// A parsed assertion, with what is needed to find its stored credential.
#[derive(Debug)]
pub struct Assertion {
    inner: DiscoverableAuthentication64,
    pub challenge: [u8; 16],
}

impl Assertion {
    pub fn credential_id(&self) -> &[u8] {
        self.inner.raw_id().into_inner()
    }

    pub fn user_handle(&self) -> &[u8] {
        self.inner.response().user_handle().as_ref()
    }
}

/// Just enough of an assertion to check the user handle before the full parse.
#[derive(serde::Deserialize)]
struct Probe {
    response: ProbeResponse,
}

#[derive(serde::Deserialize)]
struct ProbeResponse {
    #[serde(rename = "userHandle")]
    user_handle: Option<serde_json::Value>,
}

/// Outcome of a verified sign-in.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// New dynamic state to store, when it changed.
    pub dynamic_state: Option<Vec<u8>>,
    pub backed_up: bool,
    /// The backup state changed since the last use (audited).
    pub backup_changed: bool,
}

/// Starts a discoverable sign-in (empty allow list, user verification
/// required). With `conditional`, the options ask for autofill mediation.
pub fn start_sign_in(rp: &RelyingParty, conditional: bool) -> Result<Started, PasskeyError> {
    let mut request = DiscoverableCredentialRequestOptions::passkey(&rp.rp_id);
    request.0.timeout = rp.timeout_ms;
    let (server, client) = request.start_ceremony().map_err(internal)?;
    let public_key = serde_json::to_value(&client).map_err(internal)?;
    let options = if conditional {
        serde_json::json!({ "mediation": "conditional", "publicKey": public_key })
    } else {
        serde_json::json!({ "publicKey": public_key })
    };
    Ok(Started {
        challenge: server.sent_challenge().0.to_le_bytes(),
        expires_at: unix(server.expiration()),
        state: server.encode().map_err(internal)?,
        options,
    })
}

pub fn parse_assertion(body: &[u8]) -> Result<Assertion, PasskeyError> {
    // webauthn_rp accepts `"userHandle": null` for a discoverable assertion
    // and then panics in its accessor: a discoverable sign-in must name its
    // user, so anything but a string is malformed here.
    let probe: Probe = serde_json::from_slice(body).map_err(|_| PasskeyError::Malformed)?;
    if !probe.response.user_handle.is_some_and(|h| h.is_string()) {
        return Err(PasskeyError::Malformed);
    }
    let inner: DiscoverableAuthentication64 = serde_json::from_slice(body).map_err(|_| PasskeyError::Malformed)?;
    let challenge = inner.challenge().map_err(|_| PasskeyError::Malformed)?.0.to_le_bytes();
    Ok(Assertion { inner, challenge })
}

/// Verifies an assertion against the ceremony state and the stored
/// credential (user handle, static and dynamic state).
pub fn finish_sign_in(
    rp: &RelyingParty,
    assertion: &Assertion,
    state: &[u8],
    user_handle: &[u8; 64],
    static_state: &[u8],
    dynamic_state: &[u8],
) -> Result<SignIn, PasskeyError> {
    let user = UserHandle64::decode(*user_handle).map_err(internal)?;
    let static_state = StaticState::<StoredPubKey>::decode(static_state).map_err(internal)?;
    let before_bytes = <[u8; 7]>::try_from(dynamic_state).map_err(internal)?;
    let before = DynamicState::decode(before_bytes).map_err(internal)?;
    let mut credential = AuthenticatedCredential::new(assertion.inner.raw_id(), &user, static_state, before)
        .map_err(|e| PasskeyError::Rejected(format!("{e:?}")))?;
    let server = DiscoverableAuthenticationServerState::decode(state).map_err(internal)?;
    let options = AuthenticationVerificationOptions::<String, String> {
        allowed_origins: &rp.origins,
        ..Default::default()
    };
    let changed = server
        .verify(&rp.rp_id, &assertion.inner, &mut credential, &options)
        .map_err(|e| match e {
            AuthCeremonyErr::Timeout => PasskeyError::Expired,
            AuthCeremonyErr::SignatureCounter => PasskeyError::CounterRegression,
            other => PasskeyError::Rejected(format!("{other:?}")),
        })?;
    let after = credential.dynamic_state();
    Ok(SignIn {
        dynamic_state: if changed {
            Some(after.encode().map_err(internal)?.to_vec())
        } else {
            None
        },
        backed_up: matches!(after.backup, Backup::Exists),
        backup_changed: before.backup != after.backup,
    })
}

/// The generator of P-256 as a SEC1 compressed point: a valid public key
/// nobody holds the private key of.
const DECOY_KEY: [u8; 33] = [
    0x03, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03,
    0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];

/// Does the work of verifying a P-256 passkey signature (the most common
/// kind) over the assertion, against a key nobody holds: for unknown
/// credentials, so that refusing them takes as long as refusing a
/// registered one. The result is always a refusal and is not used.
pub fn decoy_verification(assertion: &Assertion) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::{Signature, VerifyingKey};
    let Ok(key) = VerifyingKey::from_sec1_bytes(&DECOY_KEY) else {
        return false;
    };
    let response = assertion.inner.response();
    let signature = Signature::from_der(response.signature())
        .ok()
        .or_else(|| Signature::from_slice(&[1; 64]).ok());
    let mut message = response.authenticator_data().to_vec();
    message.extend_from_slice(&crate::ids::sha256(response.client_data_json()));
    signature.is_some_and(|s| key.verify(&message, &s).is_ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoy_key_is_a_valid_p256_point() {
        assert!(p256::ecdsa::VerifyingKey::from_sec1_bytes(&super::DECOY_KEY).is_ok());
    }
}
