//! A module's collection definition, `PUT /api/collections/{name}` with
//! `{"fields": […]}`: the body is deserialized as the HTTP layer does and
//! checked with `collection::check_definition` for a fixed module.
//!
//! Input: an optional first line holding the collection name from the URL
//! (`antrian.tiket` when the input starts with `{`), then the JSON body.

#![no_main]

use jaga::modules::collection::{FieldDef, MAX_FIELDS, check_definition};
use libfuzzer_sys::fuzz_target;

/// The body, as `http::modules::Definition` reads it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    fields: Vec<FieldDef>,
}

fuzz_target!(|data: &[u8]| {
    let (name, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) if data.first() != Some(&b'{') => (
            String::from_utf8_lossy(data.get(..at).unwrap_or_default()).into_owned(),
            data.get(at + 1..).unwrap_or_default(),
        ),
        _ => ("antrian.tiket".to_owned(), data),
    };
    let Ok(def) = serde_json::from_slice::<Definition>(body) else {
        return;
    };
    if check_definition("antrian", &name, &def.fields).is_ok() {
        assert!((1..=MAX_FIELDS).contains(&def.fields.len()));
        assert!(name.starts_with("antrian."));
        // What `define` stores must read back the same.
        let json = serde_json::to_string(&def.fields).unwrap_or_default();
        let stored: Vec<FieldDef> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(stored, def.fields);
    }
});
