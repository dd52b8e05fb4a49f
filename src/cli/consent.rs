//! `jaga consent verify-receipt`: checks consent receipts offline.

use anyhow::Context as _;
use serde_json::Value;

use super::{EXIT_TAMPERED, say};
use crate::config::Config;
use crate::consent::receipt;
use crate::keys::KeyRing;

/// The receipts in `text`: a compact JWS, a downloaded receipt (`{"receipt": …}`),
/// a data export (`{"export": …}`) or a list of them.
fn receipts_in(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    let Ok(json) = serde_json::from_str::<Value>(trimmed) else {
        return vec![trimmed.to_owned()];
    };
    let one = |v: &Value| {
        v.get("receipt")
            .or_else(|| v.get("export"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match &json {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        Value::String(s) => vec![s.clone()],
        other => one(other).into_iter().collect(),
    }
}

/// Verifies every receipt in `file` with the JWK Set in `jwks` (as
/// published at `/.well-known/jaga-consent-keys`), or with this
/// installation's key. Exits 3 if any fails.
/// With `--jwks`, no configuration is read: a receipt verifies on any
/// machine with nothing but the published keys.
pub fn verify_receipt(
    config: Option<&Config>,
    file: &std::path::Path,
    jwks: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let keys: Value = match jwks {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a JWK Set", path.display()))?,
        None => {
            let config = config.context("no --jwks and no configuration")?;
            let ring = KeyRing::load(&config.keys)?;
            let key = ring.consent.context("the key file has no consent receipt key")?;
            receipt::jwks(&key)
        }
    };
    let found = receipts_in(&text);
    if found.is_empty() {
        anyhow::bail!("{} holds no receipt", file.display());
    }
    let mut failed = 0;
    for (i, jws) in found.iter().enumerate() {
        match receipt::verify_typed(jws, &keys, &[receipt::TYP, crate::rights::EXPORT_TYP]) {
            Ok(p) if p.get("format").and_then(Value::as_str) == Some(crate::rights::FORMAT) => {
                let count = |name: &str| p.get(name).and_then(Value::as_array).map_or(0, Vec::len);
                say(&format!(
                    "export {}: valid — everything held about {} at {}: {} records, {} consent decisions",
                    i + 1,
                    p.get("sub").and_then(Value::as_str).unwrap_or("?"),
                    p.get("iat").and_then(Value::as_i64).unwrap_or_default(),
                    count("records"),
                    count("consents"),
                ))?;
            }
            Ok(p) => {
                let at = |pointer: &str| match p.pointer(pointer) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "?".to_owned(),
                };
                say(&format!(
                    "receipt {}: valid — {} {} (seq {}) by {} at {}, notice {}",
                    i + 1,
                    at("/iso27560/purpose/id"),
                    at("/iso27560/event/type"),
                    at("/iso27560/event/sequence"),
                    at("/piiPrincipalId"),
                    at("/iso27560/event/time"),
                    at("/iso27560/notice/version"),
                ))?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("jaga: receipt {}: INVALID: {e}", i + 1);
            }
        }
    }
    Ok(if failed == 0 { 0 } else { EXIT_TAMPERED })
}
