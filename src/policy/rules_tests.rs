use std::path::Path;

use super::*;

fn shipped() -> Rules {
    Rules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap()
}

fn schema() -> Schema {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").join(SCHEMA_FILE)).unwrap();
    Schema::from_cedarschema_str(&text).unwrap().0
}

fn parse(text: &str) -> Result<Rules, CatalogError> {
    Rules::parse(&schema(), &[("policies/test.cedar".to_owned(), text.to_owned())])
}

fn field<'a>(module: &'a str, name: &'a str, classification: &'a str) -> FieldFacts<'a> {
    FieldFacts {
        module,
        collection: "antrian.ticket",
        name,
        classification,
        specific: classification != "personal",
    }
}

const ANTRIAN: Principal<'static> = Principal::Module { name: "antrian" };

#[test]
fn a_module_reads_its_own_personal_data_plain_and_names_the_policy() {
    let v = shipped().field(
        ANTRIAN,
        FieldAction::Read,
        field("antrian", "queue_number", "personal"),
        "antrian.call",
        "public_task",
    );
    assert!(v.allowed);
    assert_eq!(v.reveal, Reveal::Plain);
    assert_eq!(v.policies.into_iter().collect::<Vec<_>>(), ["module-own-data"]);
}

#[test]
fn specific_data_is_plain_on_consent_and_masked_on_a_legitimate_interest() {
    let rules = shipped();
    let health = field("antrian", "health_note", "health");
    let on_consent = rules.field(ANTRIAN, FieldAction::Read, health, "antrian.priority", "consent");
    assert_eq!((on_consent.allowed, on_consent.reveal), (true, Reveal::Plain));
    assert!(on_consent.policies.contains("module-own-data"));
    let weakest = rules.field(ANTRIAN, FieldAction::Read, health, "antrian.x", "legitimate_interest");
    assert_eq!((weakest.allowed, weakest.reveal), (true, Reveal::Masked));
    assert_eq!(
        weakest.policies.into_iter().collect::<Vec<_>>(),
        ["module-own-specific-data-legitimate-interest"]
    );
    let general = rules.field(
        ANTRIAN,
        FieldAction::Read,
        field("antrian", "service", "personal"),
        "antrian.x",
        "legitimate_interest",
    );
    assert_eq!((general.allowed, general.reveal), (true, Reveal::Plain));
}

#[test]
fn another_modules_field_is_denied_by_the_forbid_that_says_so() {
    let v = shipped().field(
        Principal::Module { name: "survei" },
        FieldAction::Read,
        field("antrian", "queue_number", "personal"),
        "antrian.call",
        "public_task",
    );
    assert!(!v.allowed);
    assert_eq!(v.reveal, Reveal::Redacted);
    assert_eq!(
        v.policies.into_iter().collect::<Vec<_>>(),
        ["module-never-another-modules-data"]
    );
}

#[test]
fn officers_are_decided_by_role() {
    let rules = shipped();
    let counter = rules.officer("ofc_a", &["counter"], OfficerAction::FindCitizen, "ctz_b");
    assert!(counter.allowed);
    assert!(
        !rules
            .officer("ofc_a", &["security"], OfficerAction::FindCitizen, "ctz_b")
            .allowed
    );
    let glass = |roles: &[&str], justification_length| {
        rules.officer(
            "ofc_a",
            roles,
            OfficerAction::BreakGlass {
                justification_length,
                window_minutes: 30,
            },
            "ctz_b",
        )
    };
    assert!(glass(&["security"], 40).allowed);
    assert!(!glass(&["security"], 10).allowed, "a justification too short");
    let admin = glass(&["admin"], 40);
    assert!(!admin.allowed);
    assert!(admin.policies.contains("admin-reads-no-personal-data"));
}

fn refused(text: &str) -> CatalogError {
    match parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn a_policy_without_an_id_is_refused_at_its_line() {
    let e = refused(
        "@id(\"a\")\npermit (principal, action == Jaga::Action::\"find_citizen\", resource);\n\n// no id\nforbid (principal, action, resource);\n",
    );
    assert_eq!((e.file.as_str(), e.line), ("policies/test.cedar", 5), "{e}");
    assert!(e.reason.contains("@id"), "{e}");
}

#[test]
fn reveal_levels_are_checked() {
    let e = refused(
        "@id(\"r\")\n@reveal(\"everything\")\npermit (principal, action == Jaga::Action::\"read_field\", resource);\n",
    );
    assert!(e.reason.contains("plain, masked or redacted"), "{e}");
    let e = refused("@id(\"r\")\npermit (principal, action in [Jaga::Action::\"read_field\"], resource);\n");
    assert!(e.reason.contains("needs @reveal"), "{e}");
    let e = refused("@id(\"f\")\n@reveal(\"plain\")\nforbid (principal, action, resource);\n");
    assert!(e.reason.contains("permit policies only"), "{e}");
    assert!(parse("@id(\"w\")\npermit (principal, action == Jaga::Action::\"write_field\", resource);\n").is_ok());
}

#[test]
fn ids_are_unique_and_plain() {
    let twice = "@id(\"same\")\npermit (principal, action == Jaga::Action::\"find_citizen\", resource);\n@id(\"same\")\npermit (principal, action == Jaga::Action::\"view_audit\", resource);\n";
    let e = refused(twice);
    assert_eq!(e.line, 3, "{e}");
    assert!(e.reason.contains("used twice"), "{e}");
    let e = refused("@id(\"Not Plain\")\npermit (principal, action == Jaga::Action::\"find_citizen\", resource);\n");
    assert!(e.reason.contains("lower-case"), "{e}");
}

#[test]
fn a_policy_the_schema_does_not_allow_is_refused_with_its_line() {
    let text = "// comment\n@id(\"typo\")\npermit (principal is Jaga::Module, action == Jaga::Action::\"write_field\", resource is Jaga::Field)\nwhen { resource.modul == principal.name };\n";
    let e = refused(text);
    assert_eq!((e.file.as_str(), e.line), ("policies/test.cedar", 4), "{e}");
    assert!(e.reason.contains("modul"), "{e}");
}

#[test]
fn a_syntax_error_names_its_line() {
    let e = refused("@id(\"x\")\npermit (principal, action, resource)\nwhen { true ;\n");
    assert_eq!(e.file, "policies/test.cedar");
    assert!(e.line >= 2, "{e}");
}

#[test]
fn a_cached_decision_is_the_decision() {
    let rules = shipped();
    let health = field("antrian", "health_note", "health");
    let first = rules.field(ANTRIAN, FieldAction::Read, health, "antrian.x", "legitimate_interest");
    let again = rules.field(ANTRIAN, FieldAction::Read, health, "antrian.x", "legitimate_interest");
    assert_eq!(first, again);
    // Another basis is another key, not the cached answer.
    let other = rules.field(ANTRIAN, FieldAction::Read, health, "antrian.x", "consent");
    assert_eq!(other.reveal, Reveal::Plain);
    assert_eq!(first.reveal, Reveal::Masked);
}
