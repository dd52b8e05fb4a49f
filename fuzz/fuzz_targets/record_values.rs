//! Module record writes: a batch body `{"records": […], "purpose": …}` (or
//! one `{"citizen", "record", "values"}`), deserialized as the HTTP layer
//! does, each record checked with `records::check_write` against a fixed
//! collection, and the purpose with `Purpose::required`.

#![no_main]

use jaga::modules::MAX_BATCH;
use jaga::modules::collection::{Classification, Collection, FieldDef};
use jaga::modules::purpose::Purpose;
use jaga::modules::records::{MAX_VALUE, RecordWrite, check_write};
use libfuzzer_sys::fuzz_target;

/// The body, as `http::modules::WriteBatch` reads it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteBatch {
    records: Vec<RecordWrite>,
    purpose: Option<String>,
}

fn collection() -> Collection {
    let field = |name: &str, classification| FieldDef {
        name: name.to_owned(),
        classification,
        multiline: name == "health_note",
    };
    Collection {
        name: "antrian.tiket".to_owned(),
        module: "antrian".to_owned(),
        fields: vec![
            field("queue_number", Classification::Personal),
            field("service", Classification::Personal),
            field("health_note", Classification::Health),
            field("child_name", Classification::Children),
        ],
    }
}

fuzz_target!(|data: &[u8]| {
    let records = if let Ok(batch) = serde_json::from_slice::<WriteBatch>(data) {
        if let Ok(p) = Purpose::required(batch.purpose.as_deref()) {
            assert!(!p.as_str().is_empty() && p.as_str().len() <= 100);
        }
        batch.records
    } else if let Ok(one) = serde_json::from_slice::<RecordWrite>(data) {
        vec![one]
    } else {
        return;
    };
    let collection = collection();
    for (i, w) in records.iter().enumerate().take(MAX_BATCH) {
        if check_write(&collection, i, w).is_ok() {
            assert!(!w.values.is_empty());
            assert!((1..=64).contains(&w.record.len()));
            for (name, value) in &w.values {
                assert!(collection.field(name).is_some());
                assert!(value.as_ref().is_none_or(|v| v.len() <= MAX_VALUE));
            }
        }
    }
});
