use super::*;

fn catalog() -> Catalog {
    Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
}

fn row(action: &str, fields: &str, purpose: Option<&str>, outcome: &str, reason: Option<&str>) -> EventRow {
    EventRow {
        seq: 1,
        time_us: 0,
        actor_kind: "module".into(),
        actor_id: "antrian".into(),
        action: action.into(),
        target_kind: "citizen".into(),
        target_id: Some("ctz_x".into()),
        target_fields: fields.into(),
        purpose: purpose.map(Into::into),
        outcome: outcome.into(),
        reason: reason.map(Into::into),
        request_id: None,
        source: None,
        policies: String::new(),
        mac: Vec::new(),
    }
}

#[test]
fn a_module_read_is_a_sentence_in_both_languages() {
    let c = catalog();
    let r = row(
        "record.read",
        "antrian.ticket.queue_number,antrian.ticket.service",
        Some("antrian.call"),
        "success",
        None,
    );
    assert_eq!(
        sentence(&r, "Layanan Antrian", &c, Lang::Id),
        "Layanan Antrian membaca nomor antrean dan jenis layanan Anda untuk memanggil nomor antrean."
    );
    assert_eq!(
        sentence(&r, "Queue service", &c, Lang::En),
        "Queue service read your queue number and service chosen for calling a queue ticket."
    );
}

#[test]
fn a_denial_says_why_in_plain_words() {
    let c = catalog();
    let r = row(
        "record.read",
        "antrian.ticket",
        Some("antrian.priority"),
        "denied",
        Some("no_consent"),
    );
    assert_eq!(
        sentence(&r, "Layanan Antrian", &c, Lang::Id),
        "Layanan Antrian meminta data Anda untuk layanan prioritas antrean, tetapi ditolak: Anda belum memberi persetujuan."
    );
    let policy = row(
        "record.read",
        "antrian.ticket.health_note",
        Some("antrian.priority"),
        "denied",
        Some("policy_denied"),
    );
    assert!(
        sentence(&policy, "Queue service", &c, Lang::En).ends_with("and was refused: the policies do not allow it.")
    );
}

#[test]
fn no_identifier_reaches_the_citizen_for_known_events() {
    let c = catalog();
    let mut own = row("profile.read", "profile.full_name", Some("own_data"), "success", None);
    own.actor_kind = "citizen".into();
    assert_eq!(
        sentence(&own, "Anda", &c, Lang::Id),
        "Anda membuka data Anda sendiri: nama lengkap."
    );
    let consent = row("consent.withdraw", "", Some("survei.kepuasan"), "success", None);
    let said = sentence(&consent, "You", &c, Lang::En);
    assert!(said.starts_with("You withdrew consent to"), "{said}");
    assert!(!said.contains("survei.kepuasan"), "{said}");
    let signin = row("session.start", "", None, "success", None);
    assert_eq!(sentence(&signin, "Anda", &c, Lang::Id), "Anda masuk dengan passkey.");
}

#[test]
fn an_unknown_event_still_says_something() {
    let said = sentence(
        &row("module.add", "", None, "success", None),
        "sistem",
        &catalog(),
        Lang::Id,
    );
    assert_eq!(said, "Sistem: module.add (berhasil).");
}
