//! The body of `POST /api/enrol/finish`: `passkeys::parse_registration`,
//! then `finish_registration` against a ceremony started once. Against the
//! stored ceremony (another challenge) it must fail; against the same
//! ceremony with the response's own challenge, the origin, RP id, flags,
//! key and extension checks run, and any outcome but a panic is fine.

#![no_main]

use std::sync::OnceLock;

use jaga::passkeys::{RelyingParty, Started, finish_registration, parse_registration};
use jaga_fuzz::webauthn::{USER_HANDLE, registration_ceremony, relying_party, with_challenge};
use libfuzzer_sys::fuzz_target;

struct Setup {
    rp: RelyingParty,
    started: Started,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rp = relying_party();
        let started = registration_ceremony(&rp);
        Setup { rp, started }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let parsed = parse_registration(data);
    if jaga_fuzz::debug() {
        eprintln!("parse_registration: {:?}", parsed.as_ref().map(|_| ()));
    }
    let Ok((reg, challenge)) = parsed else {
        return;
    };
    assert!(
        finish_registration(&s.rp, &reg, &s.started.state).is_err(),
        "a registration for another challenge was accepted"
    );
    let finished = finish_registration(&s.rp, &reg, &with_challenge(&s.started, challenge));
    if jaga_fuzz::debug() {
        eprintln!("finish_registration: {:?}", finished.as_ref().map(|_| ()));
    }
    if let Ok(new) = finished {
        assert_eq!(new.user_handle, USER_HANDLE);
        assert!(!new.credential_id.is_empty());
    }
});
