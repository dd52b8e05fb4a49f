//! NIK (Nomor Induk Kependudukan), the 16-digit national identity number:
//! `PP RR SS DDMMYY NNNN` — province, regency or city, district, birth date
//! (day + 40 for women), serial. It has no check digit, so validation is
//! structural: 16 digits, a known province, a regency or city code other
//! than 00, a real birth date, and a serial other than 0000.

use std::fmt;

use time::{Date, Month};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Province codes in use (Kemendagri), including the Papua provinces of 2022.
const PROVINCES: [u8; 38] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65, 71, 72, 73, 74, 75,
    76, 81, 82, 91, 92, 93, 94, 95, 96,
];

/// A structurally valid NIK. Personal data: no `Display`, a redacting
/// `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Nik([u8; 16]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// Why a NIK was refused; each says exactly what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK must be exactly 16 digits")]
    Length,
    #[error("NIK may contain digits only")]
    NotDigits,
    #[error("the first two digits of the NIK are not a known province code")]
    UnknownProvince,
    #[error("digits 3 and 4 of the NIK (regency or city) cannot be 00")]
    Regency,
    #[error("digits 7 to 12 of the NIK are not a real birth date (DDMMYY, day + 40 for women)")]
    BirthDate,
    #[error("the last four digits of the NIK (serial) cannot be 0000")]
    Serial,
}

impl NikError {
    /// The same message in Bahasa Indonesia, for citizens and officers.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::Length => "NIK harus tepat 16 angka",
            Self::NotDigits => "NIK hanya boleh berisi angka",
            Self::UnknownProvince => "Dua angka pertama NIK bukan kode provinsi yang dikenal",
            Self::Regency => "Angka ke-3 dan ke-4 NIK (kabupaten/kota) tidak boleh 00",
            Self::BirthDate => {
                "Angka ke-7 sampai ke-12 NIK bukan tanggal lahir yang benar (TTBBTT, tanggal + 40 untuk perempuan)"
            }
            Self::Serial => "Empat angka terakhir NIK (nomor urut) tidak boleh 0000",
        }
    }
}

fn two(d: &[u8; 16], at: usize) -> u8 {
    d.get(at).copied().unwrap_or(0) * 10 + d.get(at + 1).copied().unwrap_or(0)
}

impl Nik {
    /// Parses a NIK, ignoring spaces, dots and dashes people type between groups.
    /// `today` decides the century of the two-digit birth year.
    pub fn parse_on(input: &str, today: Date) -> Result<Nik, NikError> {
        let mut digits = [0u8; 16];
        let mut n = 0usize;
        for c in input.trim().chars().filter(|c| !matches!(c, ' ' | '.' | '-')) {
            let d = c.to_digit(10).ok_or(NikError::NotDigits)?;
            let slot = digits.get_mut(n).ok_or(NikError::Length)?;
            *slot = u8::try_from(d).map_err(|_| NikError::NotDigits)?;
            n += 1;
        }
        if n != 16 {
            return Err(NikError::Length);
        }
        if !PROVINCES.contains(&two(&digits, 0)) {
            return Err(NikError::UnknownProvince);
        }
        if two(&digits, 2) == 0 {
            return Err(NikError::Regency);
        }
        let nik = Nik(digits);
        nik.birth_date_on(today).ok_or(NikError::BirthDate)?;
        if two(&digits, 12) == 0 && two(&digits, 14) == 0 {
            return Err(NikError::Serial);
        }
        Ok(nik)
    }

    pub fn parse(input: &str) -> Result<Nik, NikError> {
        Self::parse_on(input, time::OffsetDateTime::now_utc().date())
    }

    /// Whether the holder is under 18 on `today`, by the NIK's birth date
    /// (true when no birth date can be read: the safer answer).
    pub fn is_minor_on(&self, today: Date) -> bool {
        let Some(born) = self.birth_date_on(today) else {
            return true;
        };
        let mut age = today.year() - born.year();
        if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
            age -= 1;
        }
        age < 18
    }

    pub fn sex(&self) -> Sex {
        if two(&self.0, 6) > 40 { Sex::Female } else { Sex::Male }
    }

    fn birth_date_on(&self, today: Date) -> Option<Date> {
        let raw_day = two(&self.0, 6);
        let day = if raw_day > 40 { raw_day - 40 } else { raw_day };
        let month = Month::try_from(two(&self.0, 8)).ok()?;
        let yy = i32::from(two(&self.0, 10));
        let this_century = today.year() - today.year() % 100;
        let year = if this_century + yy <= today.year() {
            this_century + yy
        } else {
            this_century - 100 + yy
        };
        Date::from_calendar_date(year, month, day).ok()
    }

    /// The birth date the NIK encodes (century chosen so it is not in the future).
    pub fn birth_date(&self) -> Option<Date> {
        self.birth_date_on(time::OffsetDateTime::now_utc().date())
    }

    /// The 16 digits, for the vault and the blind index only.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// `3171********0001`: region and serial, the rest hidden.
    pub fn masked(&self) -> String {
        let d = self.digits();
        format!("{}********{}", d.get(..4).unwrap_or(""), d.get(12..).unwrap_or(""))
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nik(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn parse(s: &str) -> Result<Nik, NikError> {
        Nik::parse_on(s, TODAY)
    }

    #[test]
    fn valid_niks_parse_with_sex_and_birth_date() {
        let man = parse("1971011203850001").unwrap();
        assert_eq!(man.sex(), Sex::Male);
        assert_eq!(man.birth_date_on(TODAY), Some(date!(1985 - 03 - 12)));
        let woman = parse("1971 01 52 03 05 0002").unwrap();
        assert_eq!(woman.sex(), Sex::Female);
        assert_eq!(woman.birth_date_on(TODAY), Some(date!(2005 - 03 - 12)));
        assert_eq!(woman.digits(), "1971015203050002");
    }

    #[test]
    fn each_rule_has_its_own_error() {
        assert_eq!(parse("197101120385000").unwrap_err(), NikError::Length);
        assert_eq!(parse("19710112038500011").unwrap_err(), NikError::Length);
        assert_eq!(parse("19710112038500O1").unwrap_err(), NikError::NotDigits);
        assert_eq!(parse("2071011203850001").unwrap_err(), NikError::UnknownProvince);
        assert_eq!(parse("1900011203850001").unwrap_err(), NikError::Regency);
        assert_eq!(parse("1971013203850001").unwrap_err(), NikError::BirthDate); // day 32
        assert_eq!(parse("1971017203850001").unwrap_err(), NikError::BirthDate); // day 72-40=32
        assert_eq!(parse("1971011213850001").unwrap_err(), NikError::BirthDate); // month 13
        assert_eq!(parse("1971012902230001").unwrap_err(), NikError::BirthDate); // 29 Feb 2023
        assert!(parse("1971012902240001").is_ok()); // 29 Feb 2024
        assert_eq!(parse("1971011203850000").unwrap_err(), NikError::Serial);
        assert_eq!(parse("1971014003850001").unwrap_err(), NikError::BirthDate); // day 40
    }

    #[test]
    fn two_digit_year_never_lands_in_the_future() {
        let nik = parse("1971011212270001").unwrap(); // 12 Dec 27
        assert_eq!(nik.birth_date_on(TODAY), Some(date!(1927 - 12 - 12)));
        let nik = parse("1971011211260001").unwrap(); // 12 Nov 26
        assert_eq!(nik.birth_date_on(TODAY), Some(date!(2026 - 11 - 12)));
    }

    #[test]
    fn nik_is_masked_and_never_printed() {
        let nik = parse("1971011203850001").unwrap();
        assert_eq!(nik.masked(), "1971********0001");
        assert_eq!(format!("{nik:?}"), "Nik(<redacted>)");
    }

    #[test]
    fn every_error_has_an_indonesian_message() {
        for e in [
            NikError::Length,
            NikError::NotDigits,
            NikError::UnknownProvince,
            NikError::Regency,
            NikError::BirthDate,
            NikError::Serial,
        ] {
            assert!(!e.message_id().is_empty());
            assert_ne!(e.message_id(), e.to_string());
        }
    }
}
