//! The body of `POST /api/signin/finish`: `passkeys::parse_assertion`, its
//! credential id and user handle (the `"userHandle": null` panic), then
//! `finish_sign_in` against a sign-in ceremony started once: with dummy
//! stored credential bytes and with the stored ceremony it must fail; with
//! a real stored credential (from `fixtures/registration.json`) and the
//! response's own challenge, the signature and the rest are checked and any
//! outcome but a panic is fine.

#![no_main]

use std::sync::OnceLock;

use jaga::passkeys::{NewPasskey, RelyingParty, Started, finish_sign_in, parse_assertion};
use jaga_fuzz::webauthn::{relying_party, sign_in_ceremony, stored_credential, with_challenge};
use libfuzzer_sys::fuzz_target;

struct Setup {
    rp: RelyingParty,
    started: Started,
    credential: NewPasskey,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rp = relying_party();
        let started = sign_in_ceremony(&rp);
        let credential = stored_credential(&rp);
        Setup { rp, started, credential }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let parsed = parse_assertion(data);
    if jaga_fuzz::debug() {
        eprintln!("parse_assertion: {:?}", parsed.as_ref().map(|_| ()));
    }
    let Ok(assertion) = parsed else {
        return;
    };
    let _ = assertion.credential_id();
    assert_eq!(assertion.user_handle().len(), 64);

    let c = &s.credential;
    // Dummy stored credential bytes.
    assert!(finish_sign_in(&s.rp, &assertion, &s.started.state, &[0; 64], &[0; 8], &[0; 7]).is_err());
    assert!(finish_sign_in(&s.rp, &assertion, &s.started.state, &[0; 64], &c.static_state, &c.dynamic_state).is_err());
    // The real credential, but the stored ceremony's challenge.
    assert!(
        finish_sign_in(&s.rp, &assertion, &s.started.state, &c.user_handle, &c.static_state, &c.dynamic_state).is_err(),
        "an assertion for another challenge was accepted"
    );
    let state = with_challenge(&s.started, assertion.challenge);
    let finished = finish_sign_in(&s.rp, &assertion, &state, &c.user_handle, &c.static_state, &c.dynamic_state);
    if jaga_fuzz::debug() {
        eprintln!("finish_sign_in: {:?}", finished.map(|_| ()));
    }
});
