//! Unit tests, compiled only under #[cfg(test)] through a `#[path]` module.
use std::collections::{BTreeMap, HashSet};

use zeroize::Zeroizing;

use super::*;
use crate::vault::{DataKey, KeyProvider as _, LocalKeks, WrappedKey};

fn binding(citizen: &str, field: &str, version: u64) -> Binding<'static> {
    Binding {
        citizen_id: Box::leak(citizen.to_owned().into_boxed_str()),
        field: Box::leak(field.to_owned().into_boxed_str()),
        record_version: version,
    }
}

#[test]
fn round_trip() {
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "nik", 1);
    let sealed = seal(&dek, 1, &b, b"3171015207990007").unwrap();
    assert_eq!(sealed[0], FORMAT);
    assert_eq!(dek_version(&sealed), Ok(1));
    assert_eq!(&**open(&dek, &b, &sealed).unwrap(), b"3171015207990007");
}

#[test]
fn a_ciphertext_moved_to_another_citizen_field_or_version_does_not_open() {
    let dek = DataKey::generate().unwrap();
    let sealed = seal(&dek, 1, &binding("ctz_a", "nik", 3), b"secret").unwrap();
    for other in [
        binding("ctz_b", "nik", 3),
        binding("ctz_a", "name", 3),
        binding("ctz_a", "nik", 4),
    ] {
        assert_eq!(open(&dek, &other, &sealed), Err(Undecryptable));
    }
    // Length prefixes keep "ctz_a"+"nik" apart from "ctz_an"+"ik".
    assert_eq!(open(&dek, &binding("ctz_an", "ik", 3), &sealed), Err(Undecryptable));
}

#[test]
fn any_tampered_byte_gives_the_one_generic_error() {
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "phone", 1);
    let sealed = seal(&dek, 7, &b, b"+6281234565678").unwrap();
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 0x01;
        assert_eq!(open(&dek, &b, &t), Err(Undecryptable), "byte {i}");
    }
    assert_eq!(open(&dek, &b, &sealed[..sealed.len() - 1]), Err(Undecryptable));
    assert_eq!(open(&dek, &b, &[]), Err(Undecryptable));
    assert_eq!(open(&DataKey::generate().unwrap(), &b, &sealed), Err(Undecryptable));
}

#[test]
fn no_nonce_repeats_over_a_million_encryptions_under_one_key() {
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "email", 1);
    let mut nonces = HashSet::with_capacity(1_000_000);
    for _ in 0..1_000_000 {
        let sealed = seal(&dek, 1, &b, b"x").unwrap();
        let nonce: [u8; 12] = sealed[5..17].try_into().unwrap();
        assert!(nonces.insert(nonce), "nonce repeated");
    }
}

fn keks(versions: &[u32], active: u32) -> LocalKeks {
    let mut keys = BTreeMap::new();
    for v in versions {
        keys.insert(*v, Zeroizing::new(crate::ids::bytes::<32>().unwrap()));
    }
    LocalKeks::new(keys, active).unwrap()
}

#[test]
fn a_wrapped_data_key_is_bound_to_its_citizen_and_kek_version() {
    let keks = keks(&[1, 2], 1);
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "nik", 1);
    let sealed = seal(&dek, 1, &b, b"v").unwrap();
    let wrapped = dek.wrap("ctz_a", &keks).unwrap();
    assert_eq!(wrapped.kek_version, 1);
    let again = DataKey::unwrap(&wrapped, "ctz_a", &keks).unwrap();
    assert_eq!(&**open(&again, &b, &sealed).unwrap(), b"v");
    assert!(DataKey::unwrap(&wrapped, "ctz_b", &keks).is_err());
    let relabelled = WrappedKey {
        kek_version: 2,
        ..wrapped.clone()
    };
    assert!(DataKey::unwrap(&relabelled, "ctz_a", &keks).is_err());
    let mut flipped = wrapped.clone();
    flipped.bytes[20] ^= 1;
    assert!(DataKey::unwrap(&flipped, "ctz_a", &keks).is_err());
    assert!(!format!("{again:?} {keks:?}").contains(&hex::encode(*again.0)));
}

#[test]
fn data_written_before_rotation_reads_after_rewrap() {
    let before = keks(&[1], 1);
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "address.street", 2);
    let sealed = seal(&dek, 1, &b, b"Jl. Merdeka 1").unwrap();
    let wrapped = dek.wrap("ctz_a", &before).unwrap();
    // Rotation: version 2 joins and becomes active; old wraps still unwrap.
    let mut keys: BTreeMap<u32, Zeroizing<[u8; 32]>> = BTreeMap::new();
    keys.insert(1, Zeroizing::new(*before_key(&before, 1)));
    keys.insert(2, Zeroizing::new(crate::ids::bytes::<32>().unwrap()));
    let after = LocalKeks::new(keys, 2).unwrap();
    assert_eq!(after.versions(), vec![1, 2]);
    let rewrapped = DataKey::rewrap(&wrapped, "ctz_a", &after).unwrap();
    assert_eq!(rewrapped.kek_version, 2);
    let dek = DataKey::unwrap(&rewrapped, "ctz_a", &after).unwrap();
    assert_eq!(&**open(&dek, &b, &sealed).unwrap(), b"Jl. Merdeka 1");
}

/// Test helper: the raw key of a version (only tests can reach it).
fn before_key(k: &LocalKeks, version: u32) -> Zeroizing<[u8; 32]> {
    k.raw_for_tests(version)
}

#[test]
fn without_the_data_key_nothing_opens_even_with_every_root_key() {
    // Erasure destroys the wrapped DEK; the KEKs alone reach no field.
    let keks = keks(&[1, 2], 2);
    let dek = DataKey::generate().unwrap();
    let b = binding("ctz_a", "name", 1);
    let sealed = seal(&dek, 1, &b, b"Siti Aminah").unwrap();
    drop(dek);
    for v in keks.versions() {
        let as_dek = DataKey(before_key(&keks, v));
        assert_eq!(open(&as_dek, &b, &sealed), Err(Undecryptable));
    }
}
