//! Consent receipts: one per consent decision, a JWS (compact, EdDSA with
//! Ed25519) over the decision's record, carrying the ISO/IEC TS 27560
//! consent-record fields and the Kantara Consent Receipt v1.1 fields they
//! map to. Ed25519 signatures are deterministic: a receipt made again from
//! the stored decision is the same receipt, so receipts are not stored.
//! Anyone can verify one with the published key (`/.well-known/jaga-consent-keys`)
//! or `jaga consent verify-receipt FILE`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use crate::keys::ReceiptKey;
use crate::policy::{LawfulBasis, PurposeDef, Retention};
use crate::store::consent::ConsentRow;

/// The JWS header's `typ`.
pub const TYP: &str = "consent-receipt+jwt";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a compact JWS (header.payload.signature)")]
    Shape,
    #[error("the header is not an EdDSA consent receipt header")]
    Header,
    #[error("no published key has the receipt's key id {0}")]
    UnknownKey(String),
    #[error("the signature does not verify: the receipt was changed or not signed by this key")]
    Signature,
    #[error("the payload is not JSON")]
    Payload,
}

/// UU PDP Art. 20(2) letter of a lawful basis.
fn article(basis: LawfulBasis) -> &'static str {
    match basis {
        LawfulBasis::Consent => "UU 27/2022 Pasal 20 ayat (2) huruf a",
        LawfulBasis::Contract => "UU 27/2022 Pasal 20 ayat (2) huruf b",
        LawfulBasis::LegalObligation => "UU 27/2022 Pasal 20 ayat (2) huruf c",
        LawfulBasis::VitalInterest => "UU 27/2022 Pasal 20 ayat (2) huruf d",
        LawfulBasis::PublicTask => "UU 27/2022 Pasal 20 ayat (2) huruf e",
        LawfulBasis::LegitimateInterest => "UU 27/2022 Pasal 20 ayat (2) huruf f",
    }
}

fn state(decision: &str) -> &'static str {
    match decision {
        "grant" => "given",
        "refuse" => "refused",
        _ => "withdrawn",
    }
}

/// The receipt's id: the same for the same decision, never the same for two.
fn receipt_id(row: &ConsentRow) -> String {
    let digest = crate::ids::sha256(format!("{}\n{}\n{}", row.account_id, row.purpose_id, row.seq).as_bytes());
    B64URL.encode(digest.get(..18).unwrap_or_default())
}

/// What a receipt says about one decision. `subject` and `recorder` are
/// pseudonyms; `issuer` names this Jaga (its audit origin).
pub fn payload(issuer: &str, row: &ConsentRow, def: Option<&PurposeDef>, subject: &str, recorder: &str) -> Value {
    let time = time::OffsetDateTime::from_unix_timestamp(row.decided_at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let id = receipt_id(row);
    let fields: Vec<&String> = def.map(|d| d.fields.keys().collect()).unwrap_or_default();
    let retention = def.map(|d| match &d.retention {
        Retention::Days(n) => format!("{n} days"),
        Retention::UntilEvent(e) => format!("until {e}"),
    });
    json!({
        // Kantara Consent Receipt Specification v1.1 (a JWT's claims).
        "version": "KI-CR-v1.1.0",
        "iss": issuer,
        "iat": row.decided_at,
        "jti": id,
        "consentReceiptID": id,
        "jurisdiction": "ID",
        "consentTimestamp": row.decided_at,
        "collectionMethod": row.method,
        "language": "id",
        "piiPrincipalId": subject,
        "piiControllers": [{ "piiController": def.map(|d| d.controller.clone()), "onBehalf": false }],
        "policyUrl": format!("/privasi#{}", row.purpose_id),
        "services": [{
            "service": def.map(|d| d.name.id.clone()),
            "purposes": [{
                "purpose": row.purpose_id,
                "consentType": "EXPLICIT",
                "piiCategory": fields,
                "primaryPurpose": true,
                "termination": retention,
                "thirdPartyDisclosure": false
            }]
        }],
        // ISO/IEC TS 27560:2023 consent record.
        "iso27560": {
            "schema_version": "ISO/IEC TS 27560:2023",
            "record_id": id,
            "data_subject": subject,
            "controller": def.map(|d| d.controller.clone()),
            "purpose": {
                "id": row.purpose_id,
                "name": def.map(|d| json!({ "id": d.name.id, "en": d.name.en })),
                "lawful_basis": def.map(|d| d.lawful_basis.as_str()),
                "legal_basis": def.map(|d| article(d.lawful_basis)),
            },
            "personal_data": fields,
            "retention": retention,
            "notice": { "version": row.notice_version, "url": format!("/privasi#{}", row.purpose_id) },
            "event": {
                "type": row.decision,
                "sequence": row.seq,
                "time": time,
                "method": row.method,
                "recorded_by": recorder,
            },
            "state": state(&row.decision),
        }
    })
}

/// The compact JWS of a receipt `payload`, signed with `key`.
pub fn sign(key: &ReceiptKey, payload: &Value) -> String {
    sign_typed(key, TYP, payload)
}

/// The compact JWS of `payload` with JOSE type `typ`, signed with `key`.
pub fn sign_typed(key: &ReceiptKey, typ: &str, payload: &Value) -> String {
    let header = json!({ "alg": "EdDSA", "typ": typ, "kid": key.kid() });
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(payload.to_string())
    );
    let signature = B64URL.encode(key.sign(input.as_bytes()));
    format!("{input}.{signature}")
}

/// The published verification key as a JWK Set.
pub fn jwks(key: &ReceiptKey) -> Value {
    json!({ "keys": [{
        "kty": "OKP",
        "crv": "Ed25519",
        "x": B64URL.encode(key.public_key()),
        "kid": key.kid(),
        "use": "sig",
        "alg": "EdDSA"
    }]})
}

/// Verifies a compact JWS receipt against a JWK Set; returns its payload.
pub fn verify(jws: &str, keys: &Value) -> Result<Value, ReceiptError> {
    verify_typed(jws, keys, &[TYP])
}

/// Verifies a compact JWS of one of the JOSE types `types`.
pub fn verify_typed(jws: &str, keys: &Value, types: &[&str]) -> Result<Value, ReceiptError> {
    let mut parts = jws.trim().split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ReceiptError::Shape);
    };
    let decode = |part: &str| B64URL.decode(part).map_err(|_| ReceiptError::Shape);
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| ReceiptError::Header)?;
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    if text(&header, "alg").as_deref() != Some("EdDSA")
        || !text(&header, "typ").is_some_and(|t| types.contains(&t.as_str()))
    {
        return Err(ReceiptError::Header);
    }
    let kid = text(&header, "kid").ok_or(ReceiptError::Header)?;
    let jwk = keys
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|k| {
            text(k, "kid").as_deref() == Some(kid.as_str())
                && text(k, "kty").as_deref() == Some("OKP")
                && text(k, "crv").as_deref() == Some("Ed25519")
        })
        .ok_or_else(|| ReceiptError::UnknownKey(kid.chars().take(64).collect()))?;
    let x = decode(&text(jwk, "x").unwrap_or_default())?;
    let signature = decode(s)?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
        .verify(format!("{h}.{p}").as_bytes(), &signature)
        .map_err(|_| ReceiptError::Signature)?;
    serde_json::from_slice(&decode(p)?).map_err(|_| ReceiptError::Payload)
}

#[cfg(test)]
#[path = "receipt_tests.rs"]
mod tests;
