//! `Nik::parse` on any text (what a citizen or officer types as a NIK).
//! Also checks that an accepted NIK re-parses from its own digits.

#![no_main]

use jaga::identity::Nik;
use libfuzzer_sys::fuzz_target;
use time::Date;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(nik) = Nik::parse(&text) {
        let _ = (nik.sex(), nik.birth_date());
        let digits = nik.digits();
        assert_eq!(digits.len(), 16);
        assert_eq!(nik.masked().chars().count(), 16);
        assert!(Nik::parse(&digits) == Ok(nik), "an accepted NIK re-parses from its digits");
    }
    // The century rule against any "today": the first four bytes pick a day.
    if let Some((day, rest)) = data.split_first_chunk::<4>() {
        let julian = i32::from_le_bytes(*day) % 4_000_000;
        if let Ok(today) = Date::from_julian_day(julian) {
            let text = String::from_utf8_lossy(rest);
            if let Ok(nik) = Nik::parse_on(&text, today) {
                assert!(Nik::parse_on(&nik.digits(), today) == Ok(nik));
            }
        }
    }
});
