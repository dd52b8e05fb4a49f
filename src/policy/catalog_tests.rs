use super::*;

const GOOD: &str = r#"
[purposes."antrian.call"]
name = { id = "Memanggil nomor antrean", en = "Calling a queue ticket" }
description = { id = "Memanggil Anda ke loket.", en = "Calls you to the counter." }
controller = "Seksi Pelayanan Umum"
modules = ["antrian"]
lawful_basis = "public_task"
retention = "30d"
withdrawable = false
notice_version = "2026-12-01"

[purposes."antrian.call".fields]
"antrian.ticket.queue_number" = "plain"
"antrian.ticket.health_note" = "redacted"
"profile.phone" = "masked"

[modules.antrian]
name = { id = "Layanan Antrian", en = "Queue service" }

[labels]
"antrian.ticket.queue_number" = { id = "nomor antrean", en = "queue number" }
"antrian.ticket.health_note" = { id = "keterangan kesehatan", en = "health note" }
"#;

fn refused(text: &str) -> CatalogError {
    Catalog::parse("purposes.toml", text).unwrap_err()
}

#[test]
fn a_good_catalog_is_read_whole() {
    let catalog = Catalog::parse("purposes.toml", GOOD).unwrap();
    let call = catalog.get("antrian.call").unwrap();
    assert_eq!(call.lawful_basis, LawfulBasis::PublicTask);
    assert_eq!(call.retention, Retention::Days(30));
    assert_eq!(call.reveal("antrian.ticket.queue_number"), Some(Reveal::Plain));
    assert_eq!(call.reveal("antrian.ticket.health_note"), Some(Reveal::Redacted));
    assert_eq!(call.reveal("profile.phone"), Some(Reveal::Masked));
    assert_eq!(call.reveal("antrian.ticket.service"), None);
    assert!(call.allows_module("antrian") && !call.allows_module("perizinan"));
}

#[test]
fn the_shipped_catalog_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let catalog = Catalog::load(&dir).unwrap();
    assert!(catalog.len() >= 7, "the Rangkui catalog has at least seven purposes");
    assert!(catalog.purposes().any(|p| p.lawful_basis == LawfulBasis::Consent));
}

#[test]
fn every_refusal_names_file_line_and_reason() {
    let cases: [(&str, &str, usize, &str); 10] = [
        (
            "lawful_basis = \"public_task\"",
            "lawful_basis = \"marketing\"",
            7,
            "unknown variant `marketing`",
        ),
        (
            "retention = \"30d\"",
            "retention = \"forever\"",
            8,
            "retention \"forever\"",
        ),
        (
            "\"profile.phone\" = \"masked\"",
            "\"profile.salary\" = \"masked\"",
            15,
            "profile has no field",
        ),
        (
            "\"profile.phone\" = \"masked\"",
            "\"perizinan.app.phone\" = \"plain\"",
            15,
            "which this purpose does not list",
        ),
        (
            "\"profile.phone\" = \"masked\"",
            "\"profile.phone\" = \"visible\"",
            15,
            "is not one of plain, masked, redacted",
        ),
        ("modules = [\"antrian\"]", "modules = []", 6, "at least one module"),
        (
            "modules = [\"antrian\"]",
            "modules = [\"antrian\"]\nofficer_roles = [\"admin\"]",
            7,
            "officer role \"admin\"",
        ),
        (
            "withdrawable = false",
            "withdrawable = false\nshare_with = \"everyone\"",
            10,
            "unknown field `share_with`",
        ),
        (
            "name = { id = \"Memanggil nomor antrean\", en = \"Calling a queue ticket\" }",
            "name = { id = \"Memanggil\", en = \"\" }",
            3,
            "both `id`",
        ),
        (
            "lawful_basis = \"public_task\"",
            "lawful_basis = \"consent\"",
            9,
            "must let the citizen withdraw",
        ),
    ];
    for (from, to, line, reason) in cases {
        let text = GOOD.replacen(from, to, 1);
        assert_ne!(text, GOOD, "{from}");
        let e = refused(&text);
        assert_eq!(e.file, "purposes.toml");
        assert!(e.reason.contains(reason), "{to}: {e}");
        assert_eq!(e.line, line, "{to}: {e}");
        assert!(e.to_string().starts_with(&format!("purposes.toml:{line}:")), "{e}");
    }
}

#[test]
fn free_text_ids_and_syntax_errors_are_refused() {
    let e = refused(&GOOD.replace("antrian.call", "Antrian Call"));
    assert!(e.reason.contains("purpose id"), "{e}");
    let e = refused("[purposes.\"x.y\"\nname = 1");
    assert_eq!(e.line, 1, "{e}");
    let e = refused("# nothing here\n");
    assert!(e.reason.contains("no purpose"), "{e}");
}

#[test]
fn retention_forms() {
    let at = |r: &str| GOOD.replace("retention = \"30d\"", &format!("retention = \"{r}\""));
    let get = |r: &str| Catalog::parse("p", &at(r)).map(|c| c.get("antrian.call").unwrap().retention.clone());
    assert_eq!(get("5y"), Ok(Retention::Days(5 * 365)));
    assert_eq!(
        get("event:case_closed"),
        Ok(Retention::UntilEvent("case_closed".into()))
    );
    for bad in ["0d", "101y", "event:", "event:Case Closed", "30"] {
        assert!(get(bad).is_err(), "{bad}");
    }
}

#[test]
fn modules_need_names_and_module_fields_labels() {
    let e = refused(&GOOD.replace(
        "[modules.antrian]\nname = { id = \"Layanan Antrian\", en = \"Queue service\" }\n",
        "",
    ));
    assert_eq!(e.line, 2, "{e}");
    assert!(e.reason.contains("[modules.antrian]"), "{e}");
    let e = refused(&GOOD.replace(
        "\"antrian.ticket.health_note\" = { id",
        "\"antrian.ticket.other\" = { id",
    ));
    assert!(
        e.reason.contains("antrian.ticket.health_note, which has no label"),
        "{e}"
    );
    let e = refused(&GOOD.replace("\"antrian.ticket.queue_number\" = { id", "\"queue_number\" = { id"));
    assert!(e.reason.contains("<module>.<collection>.<field>"), "{e}");
    let catalog = Catalog::parse("purposes.toml", GOOD).unwrap();
    assert_eq!(
        catalog.labels().module("antrian", crate::policy::labels::Lang::Id),
        "Layanan Antrian"
    );
    assert_eq!(
        catalog
            .labels()
            .field("profile.phone", crate::policy::labels::Lang::En)
            .as_deref(),
        Some("phone number")
    );
}
