//! What a reader is shown of a profile, by reveal level.
//!
//! Masked forms: NIK and KK `3171********0001`, phone `+62812****5678`,
//! email `a***@example.go.id`, name by initials, birth date by year, address
//! by kabupaten/kota and province; birth place is hidden and gender shown.

use serde::Serialize;

use super::Profile;
use crate::store::identity::AccountRow;
use crate::vault::profile::{FullName, Reveal, mask_email, mask_phone};

/// A profile as shown (JSON and pages). Absent or hidden fields are null.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfileView {
    /// The citizen's pseudonym.
    pub citizen: String,
    /// `plain`, `masked` or `redacted`.
    pub reveal: &'static str,
    /// Whether an officer has checked the citizen's KTP.
    pub verified: bool,
    pub nik: Option<String>,
    pub kk: Option<String>,
    pub full_name: Option<String>,
    pub birth_place: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub address: Option<AddressView>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AddressView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rt_rw: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kelurahan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kecamatan: Option<String>,
    pub kabupaten_kota: String,
    pub province: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

pub fn reveal_name(level: Reveal) -> &'static str {
    match level {
        Reveal::Plain => "plain",
        Reveal::Masked => "masked",
        Reveal::Redacted => "redacted",
    }
}

/// `3171********0001` for a NIK or family card number.
pub fn mask_number(digits: &str) -> String {
    format!(
        "{}********{}",
        digits.get(..4).unwrap_or(""),
        digits.get(12..).unwrap_or("")
    )
}

/// `S. A.` for `Siti Aminah`.
pub fn mask_name(name: &str) -> String {
    FullName::initials_of(name)
}

impl ProfileView {
    pub fn new(citizen: &AccountRow, profile: &Profile, level: Reveal) -> Self {
        let show = |value: &Option<String>, masked: fn(&str) -> Option<String>| match level {
            Reveal::Plain => value.clone(),
            Reveal::Masked => value.as_deref().and_then(masked),
            Reveal::Redacted => None,
        };
        let address = profile.address.as_ref().and_then(|a| match level {
            Reveal::Plain => Some(AddressView {
                street: Some(a.street.clone()),
                rt_rw: Some(a.rt_rw.clone()),
                kelurahan: Some(a.kelurahan.clone()),
                kecamatan: Some(a.kecamatan.clone()),
                kabupaten_kota: a.kabupaten_kota.clone(),
                province: a.province.clone(),
                postal_code: Some(a.postal_code.clone()),
            }),
            Reveal::Masked => Some(AddressView {
                street: None,
                rt_rw: None,
                kelurahan: None,
                kecamatan: None,
                kabupaten_kota: a.kabupaten_kota.clone(),
                province: a.province.clone(),
                postal_code: None,
            }),
            Reveal::Redacted => None,
        });
        Self {
            citizen: citizen.pseudonym.clone(),
            reveal: reveal_name(level),
            verified: citizen.verified,
            nik: show(&profile.nik, |v| Some(mask_number(v))),
            kk: show(&profile.kk, |v| Some(mask_number(v))),
            full_name: show(&profile.full_name, |v| Some(mask_name(v))),
            birth_place: show(&profile.birth_place, |_| None),
            birth_date: show(&profile.birth_date, |v| v.get(..4).map(str::to_owned)),
            gender: show(&profile.gender, |v| Some(v.to_owned())),
            address,
            phone: show(&profile.phone, |v| Some(mask_phone(v))),
            email: show(&profile.email, |v| Some(mask_email(v))),
        }
    }
}
