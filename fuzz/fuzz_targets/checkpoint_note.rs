//! Signed checkpoint notes (`audit::checkpoint::Checkpoint::open`), as read
//! back from the checkpoint file or given by an auditor, with a fixed
//! public key (`fixtures/keys.toml`, whose key signed the seeds).
//!
//! Also: a checkpoint Jaga could sign (an origin that `audit.origin`
//! accepts, any size, root and time from year 0 to 9999), built from the
//! input, must open again to the same value.

#![no_main]

use std::sync::OnceLock;

use jaga::audit::checkpoint::Checkpoint;
use jaga::keys::KeyRing;
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| KeyRing::parse(include_str!("../fixtures/keys.toml")).expect("fixtures/keys.toml"))
}

/// Seconds from 0000-01-01 to 9999-12-31T23:59:59, both UTC.
const FIRST: i64 = -62_167_219_200;
const LAST: i64 = 253_402_300_799;

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    let public = keys.audit.public_key();
    let text = String::from_utf8_lossy(data);
    if let Ok(opened) = Checkpoint::open(&text, &public) {
        // Anything that opens is something the key really signed.
        assert!(!opened.origin.is_empty());
        let _ = opened.sign(&keys.audit);
    }

    // Round trip of what `sign` can produce.
    let Some((head, origin)) = data.split_first_chunk::<48>() else {
        return;
    };
    let origin_ok = (1..=200).contains(&origin.len()) && origin.iter().all(|b| b.is_ascii_graphic() && *b != b'+');
    if !origin_ok {
        return;
    }
    let (size, rest) = head.split_first_chunk::<8>().expect("48 bytes");
    let (time, root) = rest.split_first_chunk::<8>().expect("40 bytes");
    let checkpoint = Checkpoint {
        origin: String::from_utf8_lossy(origin).into_owned(),
        size: u64::from_le_bytes(*size),
        root: root.try_into().expect("32 bytes"),
        time: FIRST + i64::from_le_bytes(*time).rem_euclid(LAST - FIRST + 1),
    };
    let note = checkpoint.sign(&keys.audit);
    assert_eq!(Checkpoint::open(&note, &public), Ok(checkpoint));
});
