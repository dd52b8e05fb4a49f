//! What the fuzz targets share: the relying party, ceremonies whose
//! challenge can be set to the response's (so verification gets past the
//! challenge check), and a stored credential from a known-good registration.

/// With `JAGA_FUZZ_DEBUG` set, the WebAuthn targets print each outcome
/// (replaying a seed: `…/release/webauthn_assertion fuzz/seeds/webauthn_assertion -runs=0`).
pub fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("JAGA_FUZZ_DEBUG").is_some())
}

pub mod webauthn {
    use std::time::Duration;

    use jaga::config::WebauthnConfig;
    use jaga::identity::UserHandle;
    use jaga::passkeys::{
        NewPasskey, RelyingParty, Started, finish_registration, parse_registration, start_registration,
        start_sign_in,
    };

    pub const RP_ID: &str = "jaga.example.go.id";
    pub const ORIGIN: &str = "https://jaga.example.go.id";

    /// The account's user handle (`bytes(range(1, 65))` in `seeds/make.py`).
    pub const USER_HANDLE: [u8; 64] = {
        let mut h = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            h[i] = i as u8 + 1;
            i += 1;
        }
        h
    };

    /// A valid ES256 registration (attestation none) made by `seeds/make.py`;
    /// the same key signs the assertion seeds.
    pub const REGISTRATION: &[u8] = include_bytes!("../fixtures/registration.json");

    /// The relying party, with a week-long ceremony timeout so a state made
    /// at start outlives any run.
    pub fn relying_party() -> RelyingParty {
        RelyingParty::new(&WebauthnConfig {
            rp_id: RP_ID.to_owned(),
            origins: vec![ORIGIN.to_owned()],
            rp_name: "Jaga".to_owned(),
            ceremony_timeout: Duration::from_secs(7 * 24 * 3600),
        })
        .expect("relying party")
    }

    pub fn registration_ceremony(rp: &RelyingParty) -> Started {
        start_registration(rp, &UserHandle(USER_HANDLE), "ctz_fuzz", "Warga Uji", &[]).expect("start registration")
    }

    pub fn sign_in_ceremony(rp: &RelyingParty) -> Started {
        start_sign_in(rp, false).expect("start sign-in")
    }

    /// The stored ceremony state with its challenge replaced by `challenge`
    /// (webauthn_rp stores the challenge as 16 little-endian bytes).
    pub fn with_challenge(started: &Started, challenge: [u8; 16]) -> Vec<u8> {
        let mut state = started.state.clone();
        let at = state
            .windows(16)
            .position(|w| w == started.challenge)
            .expect("the challenge is in the ceremony state");
        state[at..at + 16].copy_from_slice(&challenge);
        state
    }

    /// The credential stored after the known-good registration.
    pub fn stored_credential(rp: &RelyingParty) -> NewPasskey {
        let (reg, challenge) = parse_registration(REGISTRATION).expect("fixtures/registration.json parses");
        let started = registration_ceremony(rp);
        finish_registration(rp, &reg, &with_challenge(&started, challenge))
            .expect("fixtures/registration.json verifies (run seeds/make.py again?)")
    }
}
