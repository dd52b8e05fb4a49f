use super::*;

fn catalog() -> Catalog {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    Catalog::load(&dir).unwrap()
}

fn profile(names: &[&str]) -> Vec<FieldRow> {
    names
        .iter()
        .map(|n| FieldRow {
            account_id: "a".into(),
            field: (*n).into(),
            record_version: 1,
            sealed: Vec::new(),
            updated_at: 0,
        })
        .collect()
}

fn record(collection: &str, record: &str, field: &str, at: i64) -> RecordFieldRow {
    RecordFieldRow {
        collection: collection.into(),
        account_id: "a".into(),
        record_id: record.into(),
        field: field.into(),
        record_version: 1,
        sealed: Vec::new(),
        updated_at: at,
    }
}

#[test]
fn nothing_is_kept_without_records_under_a_legal_obligation() {
    let held = profile(&["profile.nik", "profile.full_name", "profile.phone"]);
    let records = [record("antrian.ticket", "t1", "queue_number", 100)];
    let split = split(&catalog(), &held, &records);
    assert!(split.plan.kept.is_empty());
    assert_eq!(split.plan.kept_until, None);
    assert_eq!(
        split.plan.erased,
        [
            "antrian.ticket.queue_number",
            "profile.full_name",
            "profile.nik",
            "profile.phone"
        ]
    );
}

#[test]
fn a_registered_document_keeps_its_record_and_the_profile_fields_its_purpose_uses() {
    let held = profile(&["profile.nik", "profile.full_name", "profile.phone", "profile.email"]);
    let records = [
        record("dokumen.registration", "d1", "document_number", 1_000),
        record("dokumen.registration", "d1", "document_type", 2_000),
        record("survei.response", "s1", "rating", 50),
    ];
    let split = split(&catalog(), &held, &records);
    let ten_years = 3650 * DAY;
    let kept: Vec<(&str, &str, Option<i64>)> = split
        .plan
        .kept
        .iter()
        .map(|k| (k.field.as_str(), k.purpose.as_str(), k.until))
        .collect();
    assert_eq!(
        kept,
        [
            (
                "dokumen.registration.document_number",
                "dokumen.register",
                Some(1_000 + ten_years)
            ),
            (
                "dokumen.registration.document_type",
                "dokumen.register",
                Some(2_000 + ten_years)
            ),
            ("profile.full_name", "dokumen.register", Some(2_000 + ten_years)),
            ("profile.nik", "dokumen.register", Some(2_000 + ten_years)),
        ]
    );
    assert_eq!(split.plan.kept_until, Some(2_000 + ten_years));
    // Contact data and the survey go, whatever else the law keeps.
    assert_eq!(
        split.plan.erased,
        ["profile.email", "profile.phone", "survei.response.rating"]
    );
    assert_eq!(split.records.len(), 2);
}
