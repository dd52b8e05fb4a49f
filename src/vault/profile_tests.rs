//! Unit tests, compiled only under #[cfg(test)] through a `#[path]` module.
use time::macros::date;

use super::*;

#[test]
fn phone_numbers_are_normalised_to_plus_62() {
    for input in [
        "0812-3456-5678",
        "+62 812 3456 5678",
        "6281234565678",
        "812 3456 5678",
        "(0812) 3456.5678",
    ] {
        assert_eq!(Phone::parse(input).unwrap().as_str(), "+6281234565678", "{input}");
    }
    for bad in ["12345", "+1 202 555 0100", "0812-ABCD-5678", "+62 0812 3456 5678", ""] {
        assert_eq!(Phone::parse(bad).unwrap_err().field, "phone", "{bad}");
    }
    assert_eq!(Phone::parse("081234565678").unwrap().masked(), "+62812****5678");
}

#[test]
fn emails_are_checked_and_masked() {
    let e = Email::parse("  Andi.Wijaya@Example.GO.ID ").unwrap();
    assert_eq!(e.as_str(), "Andi.Wijaya@example.go.id");
    assert_eq!(e.masked(), "A***@example.go.id");
    for bad in [
        "andi",
        "andi@",
        "@example.go.id",
        "andi@localhost",
        "an di@example.go.id",
        "andi@exa_mple.id",
    ] {
        assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad}");
    }
}

#[test]
fn names_allow_indonesian_spellings_and_mask_to_initials() {
    let n = FullName::parse("  Siti   Nur'aini  ").unwrap();
    assert_eq!(n.as_str(), "Siti Nur'aini");
    assert_eq!(n.initials(), "S. N.");
    assert_eq!(FullName::parse("I Gusti Ngurah Rai").unwrap().initials(), "I. G. N. R.");
    assert_eq!(FullName::parse("Robert <script>").unwrap_err().field, "full_name");
    assert_eq!(FullName::parse("   ").unwrap_err().reason, "is empty");
}

#[test]
fn family_card_numbers_follow_the_region_and_date_rules() {
    assert_eq!(
        KkNumber::parse("1971 0112 0385 0001").unwrap().as_str(),
        "1971011203850001"
    );
    assert_eq!(
        KkNumber::parse("197101120385000").unwrap_err().reason,
        "must be exactly 16 digits"
    );
    assert!(
        KkNumber::parse("2071011203850001")
            .unwrap_err()
            .reason
            .contains("province")
    );
    assert!(
        KkNumber::parse("1971013203850001")
            .unwrap_err()
            .reason
            .contains("issue date")
    );
    assert!(
        KkNumber::parse("1971015203850001")
            .unwrap_err()
            .reason
            .contains("issue date")
    );
    assert!(
        KkNumber::parse("1971011203850000")
            .unwrap_err()
            .reason
            .contains("serial")
    );
}

#[test]
fn birth_dates_and_genders() {
    let today = date!(2026 - 11 - 28);
    assert_eq!(
        BirthDate::parse_on("1985-03-12", today).unwrap().date(),
        date!(1985 - 03 - 12)
    );
    assert_eq!(
        BirthDate::parse_on("2027-01-01", today).unwrap_err().reason,
        "is in the future"
    );
    assert_eq!(
        BirthDate::parse_on("12-03-1985", today).unwrap_err().field,
        "birth_date"
    );
    assert_eq!(Gender::parse("Perempuan").unwrap(), Gender::Female);
    assert_eq!(Gender::parse("x").unwrap_err().field, "gender");
}

#[test]
fn addresses_name_the_bad_part() {
    let input = AddressInput {
        street: "Jl. Sudirman No. 10".into(),
        rt_rw: "3/5".into(),
        kelurahan: "Rangkui".into(),
        kecamatan: "Rangkui".into(),
        kabupaten_kota: "Kota Pangkalpinang".into(),
        province: "Kepulauan Bangka Belitung".into(),
        postal_code: "33134".into(),
    };
    let a = Address::parse(&input).unwrap();
    assert_eq!(a.rt_rw, "003/005");
    assert_eq!(a.masked(), "Kota Pangkalpinang, Kepulauan Bangka Belitung");
    let bad = AddressInput {
        postal_code: "3313".into(),
        ..input.clone()
    };
    assert_eq!(Address::parse(&bad).unwrap_err().field, "address.postal_code");
    let bad = AddressInput {
        rt_rw: "3-5".into(),
        ..input
    };
    assert_eq!(Address::parse(&bad).unwrap_err().field, "address.rt_rw");
}

#[test]
fn reveal_levels() {
    let phone = Phone::parse("081234565678").unwrap();
    assert_eq!(
        reveal(Reveal::Plain, || phone.as_str().to_owned(), || phone.masked()).as_deref(),
        Some("+6281234565678")
    );
    assert_eq!(
        reveal(Reveal::Masked, || phone.as_str().to_owned(), || phone.masked()).as_deref(),
        Some("+62812****5678")
    );
    assert_eq!(
        reveal(Reveal::Redacted, || phone.as_str().to_owned(), || phone.masked()),
        None
    );
}

#[test]
fn debug_never_shows_personal_data() {
    let shown = format!(
        "{:?} {:?}",
        Phone::parse("081234565678").unwrap(),
        FullName::parse("Siti Aminah").unwrap()
    );
    assert!(!shown.contains("5678") && !shown.contains("Siti"), "{shown}");
}
