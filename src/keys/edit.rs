//! Changes to an existing key file: a new KEK version, retiring one, and
//! the steps of a blind-index key rotation. Each change holds the edit
//! lock, is checked by parsing the result, and replaces the file
//! atomically. Every secret string parsed here is wiped afterwards.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use toml::{Table, Value};
use zeroize::{Zeroize as _, Zeroizing};

use super::{KeyError, KeyRing, file};
use crate::ids;

fn invalid(reason: &str) -> KeyError {
    KeyError::Invalid(reason.to_owned())
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Table(t) => t.iter_mut().for_each(|(_, v)| wipe(v)),
        _ => {}
    }
}

/// The parsed key file; every string in it is wiped when it is dropped.
struct Parsed(Table);

impl Drop for Parsed {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|(_, v)| wipe(v));
    }
}

fn load(path: &std::path::Path) -> Result<Parsed, KeyError> {
    let text = file::read(path)?;
    toml::from_str(&text)
        .map(Parsed)
        .map_err(|e| KeyError::Invalid(e.message().to_owned()))
}

fn store(path: &std::path::Path, table: &Table) -> Result<KeyRing, KeyError> {
    let body = Zeroizing::new(toml::to_string(table).map_err(|e| KeyError::Invalid(e.to_string()))?);
    let text = Zeroizing::new(format!(
        "# Jaga key file. Secret: keep it mode 0600 and back it up apart from the database.\n{}",
        body.as_str()
    ));
    let ring = KeyRing::parse(&text)?;
    file::replace(path, &text)?;
    Ok(ring)
}

/// 32 random bytes, base64, as a TOML string (wiped with the table).
fn fresh_key() -> Result<Value, KeyError> {
    let raw = Zeroizing::new(ids::bytes::<32>().map_err(|_| KeyError::Random)?);
    let mut encoded = B64.encode(raw.as_ref());
    let value = Value::String(encoded.clone());
    encoded.zeroize();
    Ok(value)
}

fn section<'t>(table: &'t mut Table, name: &str) -> Result<&'t mut Table, KeyError> {
    table
        .get_mut(name)
        .and_then(Value::as_table_mut)
        .ok_or_else(|| invalid(&format!("[{name}] is missing")))
}

fn keks(vault: &mut Table) -> Result<&mut Vec<Value>, KeyError> {
    vault
        .get_mut("kek")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("[[vault.kek]] is missing"))
}

fn version_of(entry: &Value) -> Option<i64> {
    entry.get("version").and_then(Value::as_integer)
}

/// Adds a new KEK version and makes it active; returns its number.
pub fn rotate_kek(path: &std::path::Path) -> Result<u32, KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    let vault = section(&mut parsed.0, "vault")?;
    let list = keks(vault)?;
    let next = list.iter().filter_map(version_of).max().unwrap_or(0) + 1;
    let mut entry = Table::new();
    entry.insert("version".into(), Value::Integer(next));
    entry.insert("key".into(), fresh_key()?);
    list.push(Value::Table(entry));
    vault.insert("active_kek".into(), Value::Integer(next));
    store(path, &parsed.0)?;
    u32::try_from(next).map_err(|_| invalid("KEK version out of range"))
}

/// Removes KEK `version` from the file. The caller has checked that no data
/// key is wrapped by it; the active version cannot be retired.
pub fn retire_kek(path: &std::path::Path, version: u32) -> Result<(), KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    let vault = section(&mut parsed.0, "vault")?;
    if vault.get("active_kek").and_then(Value::as_integer) == Some(i64::from(version)) {
        return Err(invalid(&format!("KEK version {version} is active; rotate first")));
    }
    let list = keks(vault)?;
    let before = list.len();
    for entry in list.iter_mut().filter(|e| version_of(e) == Some(i64::from(version))) {
        wipe(entry);
    }
    list.retain(|e| version_of(e) != Some(i64::from(version)));
    if list.len() == before {
        return Err(invalid(&format!("there is no KEK version {version}")));
    }
    store(path, &parsed.0).map(|_| ())
}

/// Starts (or continues) a blind-index key rotation: the next key is kept
/// as `index.pending_hmac_key` until every index has been rebuilt with it.
/// Adds the consent receipt signing key to a key file made before
/// receipts; returns false when it already has one.
pub fn add_consent_key(path: &std::path::Path) -> Result<bool, KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    if parsed.0.contains_key("consent") {
        return Ok(false);
    }
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
    let mut encoded = B64.encode(pkcs8.as_ref());
    let mut consent = Table::new();
    consent.insert("signing_key".into(), Value::String(encoded.clone()));
    encoded.zeroize();
    parsed.0.insert("consent".into(), Value::Table(consent));
    store(path, &parsed.0).map(|_| true)
}

/// How long a superseded token signing key stays published after its
/// successor starts signing: longer than any token it signed lives.
pub const SIGNING_KEY_KEPT_SECS: i64 = 24 * 3600;

/// What `rotate_signing` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRotation {
    /// The new key's id and when it starts signing.
    pub kid: String,
    pub not_before: i64,
    /// How many superseded keys were dropped.
    pub dropped: usize,
}

/// Adds a token signing key that signs from `now + lead_secs` (from now if
/// the file has none: no client has cached an older set), and drops keys
/// superseded more than [`SIGNING_KEY_KEPT_SECS`] ago.
pub fn rotate_signing(path: &std::path::Path, now: i64, lead_secs: i64) -> Result<SigningRotation, KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    if !parsed.0.contains_key("oauth") {
        parsed.0.insert("oauth".into(), Value::Table(Table::new()));
    }
    let oauth = section(&mut parsed.0, "oauth")?;
    if !oauth.contains_key("signing") {
        oauth.insert("signing".into(), Value::Array(Vec::new()));
    }
    let entries = oauth
        .get_mut("signing")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("oauth.signing must be an array of tables"))?;
    let starts: Vec<i64> = entries
        .iter()
        .filter_map(|e| e.get("not_before").and_then(Value::as_integer))
        .collect();
    let superseded_long_ago = |start: i64| {
        starts
            .iter()
            .any(|&later| later > start && later + SIGNING_KEY_KEPT_SECS <= now)
    };
    let before = entries.len();
    let mut kept = Vec::new();
    for mut entry in entries.drain(..) {
        let start = entry.get("not_before").and_then(Value::as_integer).unwrap_or(i64::MIN);
        if superseded_long_ago(start) {
            wipe(&mut entry);
        } else {
            kept.push(entry);
        }
    }
    let dropped = before - kept.len();
    let not_before = if kept.is_empty() { now } else { now + lead_secs.max(0) };
    let key = super::signing::generate()?;
    let mut entry = Table::new();
    entry.insert("key".into(), Value::String(key.to_string()));
    entry.insert("not_before".into(), Value::Integer(not_before));
    kept.push(Value::Table(entry));
    *entries = kept;
    let ring = store(path, &parsed.0)?;
    let all = ring.oauth.all();
    let kid = all
        .iter()
        .find(|k| k.not_before() == not_before)
        .map(|k| k.kid().to_owned())
        .unwrap_or_default();
    Ok(SigningRotation {
        kid,
        not_before,
        dropped,
    })
}

pub fn begin_index_rotation(path: &std::path::Path) -> Result<KeyRing, KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    let index = section(&mut parsed.0, "index")?;
    if index.get("pending_hmac_key").is_none() {
        index.insert("pending_hmac_key".into(), fresh_key()?);
        return store(path, &parsed.0);
    }
    KeyRing::load_file(path)
}

/// Ends a blind-index key rotation: the pending key becomes the key.
pub fn finish_index_rotation(path: &std::path::Path) -> Result<(), KeyError> {
    let _lock = file::lock(path)?;
    let mut parsed = load(path)?;
    let index = section(&mut parsed.0, "index")?;
    let pending = index
        .remove("pending_hmac_key")
        .ok_or_else(|| invalid("no index key rotation is in progress"))?;
    if let Some(mut old) = index.insert("hmac_key".into(), pending) {
        wipe(&mut old);
    }
    store(path, &parsed.0).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::KeyProvider as _;

    fn key_file() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let (_, text) = KeyRing::generate().unwrap();
        file::write_new(&path, &text).unwrap();
        (dir, path)
    }

    #[test]
    fn rotation_adds_an_active_version_and_keeps_the_old_ones() {
        let (_dir, path) = key_file();
        let before = KeyRing::load_file(&path).unwrap();
        let dek = crate::vault::DataKey::generate().unwrap();
        let wrapped = dek.wrap("ctz_a", &before.vault).unwrap();
        assert_eq!(rotate_kek(&path).unwrap(), 2);
        let after = KeyRing::load_file(&path).unwrap();
        assert_eq!(after.vault.active_version(), 2);
        assert_eq!(after.vault.versions(), vec![1, 2]);
        assert!(crate::vault::DataKey::unwrap(&wrapped, "ctz_a", &after.vault).is_ok());
        assert_eq!(after.audit.public_key(), before.audit.public_key());
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn concurrent_rotations_lose_no_version() {
        let (_dir, path) = key_file();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || rotate_kek(&path).unwrap())
            })
            .collect();
        let mut made: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        made.sort_unstable();
        assert_eq!(made, vec![2, 3, 4, 5]);
        let ring = KeyRing::load_file(&path).unwrap();
        assert_eq!(ring.vault.versions(), vec![1, 2, 3, 4, 5]);
        assert_eq!(ring.vault.active_version(), 5);
    }

    #[test]
    fn the_active_version_cannot_be_retired() {
        let (_dir, path) = key_file();
        assert!(retire_kek(&path, 1).is_err());
        rotate_kek(&path).unwrap();
        retire_kek(&path, 1).unwrap();
        assert_eq!(KeyRing::load_file(&path).unwrap().vault.versions(), vec![2]);
        assert!(retire_kek(&path, 1).is_err());
    }

    #[test]
    fn an_index_rotation_swaps_in_the_pending_key() {
        let (_dir, path) = key_file();
        let before = KeyRing::load_file(&path).unwrap();
        let started = begin_index_rotation(&path).unwrap();
        let pending = started.index_pending.as_ref().unwrap().blind_index("nik", b"1");
        assert_eq!(
            started.index.blind_index("nik", b"1"),
            before.index.blind_index("nik", b"1")
        );
        // Starting again continues with the same pending key.
        let again = begin_index_rotation(&path).unwrap();
        assert_eq!(again.index_pending.as_ref().unwrap().blind_index("nik", b"1"), pending);
        finish_index_rotation(&path).unwrap();
        let after = KeyRing::load_file(&path).unwrap();
        assert!(after.index_pending.is_none());
        assert_eq!(after.index.blind_index("nik", b"1"), pending);
    }

    #[test]
    fn a_new_signing_key_is_published_before_it_signs_and_old_ones_go_after_a_day() {
        let (_dir, path) = key_file();
        let first = KeyRing::load_file(&path).unwrap().oauth.all();
        assert_eq!(first.len(), 1, "keys init makes the first signing key");
        let created = first.first().unwrap().not_before();
        let now = created + 10;
        let rotated = rotate_signing(&path, now, 3600).unwrap();
        assert_eq!(rotated.not_before, now + 3600);
        let ring = KeyRing::load_file(&path).unwrap();
        assert_eq!(ring.oauth.all().len(), 2, "both published");
        let (keys, index) = ring.oauth.active(now).unwrap();
        assert_eq!(
            keys.get(index).unwrap().not_before(),
            created,
            "the old key signs until the lead has passed"
        );
        let (keys, index) = ring.oauth.active(now + 3600).unwrap();
        assert_eq!(keys.get(index).unwrap().kid(), rotated.kid);
        // A day after the new key started signing, the next rotation drops the old one.
        let later = now + 3600 + SIGNING_KEY_KEPT_SECS;
        let again = rotate_signing(&path, later, 3600).unwrap();
        assert_eq!(again.dropped, 1);
        let kids: Vec<String> = KeyRing::load_file(&path)
            .unwrap()
            .oauth
            .all()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(kids.len(), 2);
        assert!(kids.contains(&rotated.kid) && kids.contains(&again.kid));
    }
}
