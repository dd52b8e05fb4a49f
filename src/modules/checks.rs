//! Checks of a module request that need no database: record ids, batch
//! sizes, and the values a write sets.

use super::collection::Collection;
use super::records::{MAX_VALUE, RecordWrite};
use super::{MAX_BATCH, ModuleError};

pub(super) fn check_record_id(record: &str) -> Result<(), ModuleError> {
    let ok = (1..=64).contains(&record.len())
        && record
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(())
        .ok_or_else(|| ModuleError::Invalid("record must be 1 to 64 letters, digits, - or _".into()))
}

pub(super) fn check_batch(len: usize) -> Result<(), ModuleError> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(ModuleError::Batch)
    }
}

/// Checks record `index` of a write batch without touching the database:
/// its record id, and that it sets at least one known field, none too long.
pub fn check_write(collection: &Collection, index: usize, w: &RecordWrite) -> Result<(), ModuleError> {
    check_record_id(&w.record)?;
    if w.values.is_empty() {
        return Err(ModuleError::Invalid(format!("records[{index}].values is empty")));
    }
    for (name, value) in &w.values {
        let Some(field) = collection.field(name) else {
            return Err(ModuleError::Invalid(format!(
                "records[{index}].values: {} has no field {}",
                collection.name,
                name.chars().take(48).collect::<String>()
            )));
        };
        let Some(value) = value else {
            continue;
        };
        if value.len() > MAX_VALUE {
            return Err(ModuleError::Invalid(format!(
                "records[{index}].values.{name} is longer than {MAX_VALUE} bytes"
            )));
        }
        let allowed = |c: char| field.multiline && matches!(c, '\n' | '\r' | '\t');
        if let Some(bad) = value
            .chars()
            .find(|c| crate::vault::profile::is_unsafe_char(*c) && !allowed(*c))
        {
            return Err(ModuleError::Invalid(format!(
                "records[{index}].values.{name} contains a control or bidirectional-override character (U+{:04X})",
                u32::from(bad)
            )));
        }
    }
    Ok(())
}
