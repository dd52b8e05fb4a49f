//! Every parser of a citizen profile field (`jaga::vault::profile`) on any
//! text, the address from JSON, and the masks on what they accept. An
//! accepted value is normalised: parsing it again gives the same value.

#![no_main]

use jaga::vault::profile::{
    Address, AddressInput, BirthDate, Email, FullName, Gender, KkNumber, Phone, mask_email, mask_phone,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    if let Ok(kk) = KkNumber::parse(text) {
        assert!(KkNumber::parse(kk.as_str()).is_ok_and(|again| again == kk));
    }
    if let Ok(name) = FullName::parse(text) {
        let _ = name.initials();
        assert!(FullName::parse(name.as_str()).is_ok_and(|again| again == name));
    }
    let _ = FullName::initials_of(text);
    if let Ok(date) = BirthDate::parse(text) {
        assert!(date.date().year() >= 1900);
    }
    if let Ok(gender) = Gender::parse(text) {
        assert_eq!(Gender::parse(gender.as_str()).ok(), Some(gender));
    }
    if let Ok(phone) = Phone::parse(text) {
        assert!(phone.as_str().starts_with("+62"));
        let _ = (phone.masked(), mask_phone(phone.as_str()));
        assert!(Phone::parse(phone.as_str()).is_ok_and(|again| again == phone));
    }
    if let Ok(email) = Email::parse(text) {
        let _ = (email.masked(), mask_email(email.as_str()));
        assert!(Email::parse(email.as_str()).is_ok_and(|again| again == email));
    }
    // Stored values are masked; the masks must not panic on anything.
    let _ = (mask_phone(text), mask_email(text));

    if let Ok(input) = serde_json::from_slice::<AddressInput>(data)
        && let Ok(address) = Address::parse(&input)
    {
        let _ = address.masked();
        let again = AddressInput {
            street: address.street.clone(),
            rt_rw: address.rt_rw.clone(),
            kelurahan: address.kelurahan.clone(),
            kecamatan: address.kecamatan.clone(),
            kabupaten_kota: address.kabupaten_kota.clone(),
            province: address.province.clone(),
            postal_code: address.postal_code.clone(),
        };
        assert!(Address::parse(&again).is_ok_and(|a| a == address));
    }
});
