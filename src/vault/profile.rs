//! The citizen profile: typed, validated fields (each refused with a message
//! naming the field), and how each is shown at a reveal level.
//!
//! Every value here is personal data: the types have redacting `Debug`,
//! no `Display`, and reach storage only through [`super::field::seal`].

use time::Date;

use crate::account::{Nik, NikError};

/// How much of a value a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reveal {
    Redacted,
    Masked,
    Plain,
}

/// A refused value, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        }
    )*};
}

/// Characters no free-text value may hold: control characters (NUL, ESC,
/// BEL, line breaks…); format characters, among them the bidirectional
/// embeddings, overrides and isolates that make text display differently
/// from what is stored (U+202E) and invisible ones (soft hyphen,
/// zero-width space, word joiner, invisible operators, prepended marks,
/// tags, Hangul fillers); line and paragraph separators; private-use and
/// noncharacter code points. Joiners (U+200C, U+200D) stay: some scripts
/// need them.
pub fn is_unsafe_char(c: char) -> bool {
    let u = u32::from(c);
    c.is_control()
        || matches!(
            u,
            0x00AD
                | 0x034F
                | 0x061C
                | 0x0600..=0x0605
                | 0x06DD
                | 0x070F
                | 0x0890..=0x0891
                | 0x08E2
                | 0x115F..=0x1160
                | 0x17B4..=0x17B5
                | 0x180B..=0x180F
                | 0x200B
                | 0x200E..=0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x206F
                | 0x3164
                | 0xFEFF
                | 0xFFA0
                | 0xFFF0..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0000..=0xE0FFF
                | 0xE000..=0xF8FF
                | 0xF0000..=0xFFFFF
                | 0x100000..=0x10FFFF
        )
        || (u & 0xFFFE) == 0xFFFE
        || (0xFDD0..=0xFDEF).contains(&u)
}

/// Text of a bounded length with no unsafe characters ([`is_unsafe_char`]), spaces folded.
fn text(field: &'static str, input: &str, max: usize) -> Result<String, FieldError> {
    let folded = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(refuse(field, "is empty"));
    }
    if folded.chars().count() > max {
        return Err(refuse(field, format!("is longer than {max} characters")));
    }
    if folded.chars().any(is_unsafe_char) {
        return Err(refuse(field, "contains control or bidirectional-override characters"));
    }
    Ok(folded)
}

/// Family card number: 16 digits, known province, a real issue date, serial not 0000.
#[derive(Clone, PartialEq, Eq)]
pub struct KkNumber(String);

impl KkNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("kk", "must be exactly 16 digits"));
        }
        // Same region and date rules as a NIK, but an issue date has no +40.
        let day: u8 = digits.get(6..8).and_then(|d| d.parse().ok()).unwrap_or(0);
        if day > 31 {
            return Err(refuse("kk", "digits 7 to 12 are not a real issue date (DDMMYY)"));
        }
        match Nik::parse(&digits) {
            Ok(_) | Err(NikError::Serial) if digits.ends_with("0000") => Err(refuse("kk", "serial cannot be 0000")),
            Ok(_) => Ok(Self(digits)),
            Err(NikError::UnknownProvince) => Err(refuse("kk", "the first two digits are not a known province code")),
            Err(NikError::Regency) => Err(refuse("kk", "digits 3 and 4 (regency or city) cannot be 00")),
            Err(_) => Err(refuse("kk", "digits 7 to 12 are not a real issue date (DDMMYY)")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = text("full_name", input, 100)?;
        let ok = name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '.' | ',' | '-'));
        if !ok {
            return Err(refuse(
                "full_name",
                "may contain letters, spaces, apostrophes, periods, commas and hyphens only",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Initials: "Siti Aminah" → "S. A."
    pub fn initials(&self) -> String {
        Self::initials_of(&self.0)
    }

    /// Initials of any stored name.
    pub fn initials_of(name: &str) -> String {
        name.split([' ', '-'])
            .filter_map(|w| w.chars().find(|c| c.is_alphabetic()))
            .flat_map(char::to_uppercase)
            .map(|c| format!("{c}."))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(Date);

impl BirthDate {
    pub fn parse_on(input: &str, today: Date) -> Result<Self, FieldError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date =
            Date::parse(input.trim(), &format).map_err(|_| refuse("birth_date", "must be a date as YYYY-MM-DD"))?;
        if date > today {
            return Err(refuse("birth_date", "is in the future"));
        }
        if date.year() < 1900 {
            return Err(refuse("birth_date", "is before 1900"));
        }
        Ok(Self(date))
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_on(input, time::OffsetDateTime::now_utc().date())
    }

    pub fn date(&self) -> Date {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim().to_lowercase().as_str() {
            "laki-laki" | "male" | "l" => Ok(Gender::Male),
            "perempuan" | "female" | "p" => Ok(Gender::Female),
            _ => Err(refuse("gender", "must be laki-laki or perempuan")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "laki-laki",
            Gender::Female => "perempuan",
        }
    }
}

/// An Indonesian phone number normalised to `+62…`.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let national = if let Some(rest) = compact.strip_prefix("+62") {
            rest
        } else if let Some(rest) = compact.strip_prefix("62") {
            rest
        } else if let Some(rest) = compact.strip_prefix('0') {
            rest
        } else {
            compact.as_str()
        };
        let ok = (8..=12).contains(&national.len())
            && national.bytes().all(|b| b.is_ascii_digit())
            && !national.starts_with('0');
        if !ok {
            return Err(refuse(
                "phone",
                "must be an Indonesian number such as 0812 3456 5678 or +62 812 3456 5678",
            ));
        }
        Ok(Self(format!("+62{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "+62812****5678"
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or_else(|| refuse("email", "must contain @"))?;
        let domain = domain.to_ascii_lowercase();
        // Printable ASCII or letters and digits of any script: no spaces,
        // control or bidirectional-override characters.
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| (c.is_ascii_graphic() && c != '@') || (!c.is_ascii() && c.is_alphanumeric()));
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !local_ok || !domain_ok || trimmed.len() > 254 {
            return Err(refuse("email", "is not a valid address such as nama@contoh.go.id"));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "a***@example.go.id"
    pub fn masked(&self) -> String {
        mask_email(&self.0)
    }
}

/// A postal address; RT/RW normalised to `001/002`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub street: String,
    pub rt_rw: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub province: String,
    pub postal_code: String,
}

/// Address fields as submitted.
#[derive(Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub street: String,
    pub rt_rw: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub province: String,
    pub postal_code: String,
}

impl Address {
    pub fn parse(input: &AddressInput) -> Result<Self, FieldError> {
        let rt_rw = {
            let (rt, rw) = input
                .rt_rw
                .trim()
                .split_once('/')
                .ok_or_else(|| refuse("address.rt_rw", "must be RT/RW such as 003/005"))?;
            let part = |s: &str| s.trim().parse::<u16>().ok().filter(|n| (1..=999).contains(n));
            match (part(rt), part(rw)) {
                (Some(rt), Some(rw)) => format!("{rt:03}/{rw:03}"),
                _ => return Err(refuse("address.rt_rw", "must be RT/RW such as 003/005")),
            }
        };
        let postal = input.postal_code.trim();
        if postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("address.postal_code", "must be 5 digits"));
        }
        Ok(Self {
            street: text("address.street", &input.street, 200)?,
            rt_rw,
            kelurahan: text("address.kelurahan", &input.kelurahan, 60)?,
            kecamatan: text("address.kecamatan", &input.kecamatan, 60)?,
            kabupaten_kota: text("address.kabupaten_kota", &input.kabupaten_kota, 60)?,
            province: text("address.province", &input.province, 60)?,
            postal_code: postal.to_owned(),
        })
    }

    /// Masked: the region only (kabupaten/kota and province).
    pub fn masked(&self) -> String {
        format!("{}, {}", self.kabupaten_kota, self.province)
    }
}

/// `+62812****5678` for a stored (normalised) phone number.
pub fn mask_phone(phone: &str) -> String {
    format!(
        "{}****{}",
        phone.get(..6).unwrap_or(""),
        phone.get(phone.len().saturating_sub(4)..).unwrap_or("")
    )
}

/// `a***@example.go.id` for a stored email address.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or(("", ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

redacted_debug!(KkNumber, FullName, BirthDate, Phone, Email, Address, AddressInput);

/// Shows `plain` at Plain, `masked` at Masked, nothing at Redacted.
pub fn reveal(level: Reveal, plain: impl FnOnce() -> String, masked: impl FnOnce() -> String) -> Option<String> {
    match level {
        Reveal::Plain => Some(plain()),
        Reveal::Masked => Some(masked()),
        Reveal::Redacted => None,
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
