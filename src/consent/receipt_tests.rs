use super::*;

fn key() -> std::sync::Arc<ReceiptKey> {
    let (ring, _) = crate::keys::KeyRing::generate().unwrap();
    ring.consent.unwrap()
}

fn row() -> ConsentRow {
    ConsentRow {
        account_id: "acc_1".into(),
        purpose_id: "survei.kepuasan".into(),
        seq: 2,
        decision: "withdraw".into(),
        notice_version: "2026-12-01".into(),
        method: "portal".into(),
        recorded_by: "acc_1".into(),
        decided_at: 1_796_000_000,
    }
}

#[test]
fn a_receipt_verifies_with_the_published_key_and_says_what_was_decided() {
    let key = key();
    let payload = payload("jaga.test/audit", &row(), None, "ctz_siti", "ctz_siti");
    let jws = sign(&key, &payload);
    let got = verify(&jws, &jwks(&key)).unwrap();
    assert_eq!(got, payload);
    assert_eq!(got["iso27560"]["state"], "withdrawn");
    assert_eq!(got["iso27560"]["event"]["sequence"], 2);
    assert_eq!(got["piiPrincipalId"], "ctz_siti");
    assert_eq!(
        sign(&key, &payload),
        jws,
        "deterministic: the same decision gives the same receipt"
    );
}

#[test]
fn any_changed_byte_or_another_key_fails() {
    let key = key();
    let jws = sign(&key, &payload("jaga.test/audit", &row(), None, "ctz_siti", "ctz_siti"));
    let published = jwks(&key);
    for i in 0..jws.len() {
        let mut bytes = jws.clone().into_bytes();
        let Some(b) = bytes.get_mut(i) else { continue };
        if *b == b'.' {
            continue;
        }
        *b = if *b == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        if changed != jws {
            assert!(
                verify(&changed, &published).is_err(),
                "byte {i} changed and still verified"
            );
        }
    }
    let other = key_pair_other();
    assert!(matches!(verify(&jws, &jwks(&other)), Err(ReceiptError::UnknownKey(_))));
    assert_eq!(verify("a.b", &published), Err(ReceiptError::Shape));
}

fn key_pair_other() -> std::sync::Arc<ReceiptKey> {
    key()
}
