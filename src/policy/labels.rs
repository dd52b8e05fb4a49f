//! What citizens read instead of identifiers: the service modules' names
//! (`[modules.antrian] name = { id = "Layanan Antrian", en = "Queue
//! service" }`) and the labels of module fields (`[labels]
//! "antrian.ticket.queue_number" = { id = "nomor antrean", en = "queue
//! number" }`), from the purpose catalog; profile fields have built-in
//! labels. Every module a purpose lists needs a name, every module field
//! it uses a label, so that the privacy notice and the access history
//! never show an identifier.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::catalog::Bilingual;

/// A service module as the catalog describes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModule {
    pub name: Spanned<Bilingual>,
}

/// Module names and field labels, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    modules: BTreeMap<String, Bilingual>,
    fields: BTreeMap<String, Bilingual>,
}

/// The language a label is wanted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

fn pick(b: &Bilingual, lang: Lang) -> &str {
    match lang {
        Lang::Id => &b.id,
        Lang::En => &b.en,
    }
}

/// Built-in labels of the profile's fields (and the address's parts).
const PROFILE: [(&str, &str, &str); 17] = [
    ("nik", "NIK", "NIK"),
    ("kk", "nomor KK", "family card number"),
    ("full_name", "nama lengkap", "full name"),
    ("birth_place", "tempat lahir", "place of birth"),
    ("birth_date", "tanggal lahir", "date of birth"),
    ("gender", "jenis kelamin", "gender"),
    ("address", "alamat", "address"),
    ("phone", "nomor telepon", "phone number"),
    ("email", "alamat email", "email address"),
    ("street", "alamat jalan", "street address"),
    ("rt_rw", "RT/RW", "RT/RW"),
    ("kelurahan", "kelurahan", "village"),
    ("kecamatan", "kecamatan", "district"),
    ("kabupaten_kota", "kabupaten/kota", "regency or city"),
    ("province", "provinsi", "province"),
    ("postal_code", "kode pos", "postal code"),
    ("identity_change", "data identitas", "identity data"),
];

impl Labels {
    pub(super) fn new(modules: BTreeMap<String, Bilingual>, fields: BTreeMap<String, Bilingual>) -> Self {
        Self { modules, fields }
    }

    /// "Layanan Antrian"; a module the catalog does not name is "Layanan <name>".
    pub fn module(&self, name: &str, lang: Lang) -> String {
        match self.modules.get(name) {
            Some(b) => pick(b, lang).to_owned(),
            None => match lang {
                Lang::Id => format!("Layanan {name}"),
                Lang::En => format!("{name} service"),
            },
        }
    }

    pub fn has_module(&self, name: &str) -> bool {
        self.modules.contains_key(name)
    }

    /// "nomor telepon" for `profile.phone`, `address.street` or
    /// `antrian.ticket.queue_number`'s label; `None` for a field no label
    /// names.
    pub fn field(&self, field: &str, lang: Lang) -> Option<String> {
        if let Some(b) = self.fields.get(field) {
            return Some(pick(b, lang).to_owned());
        }
        let last = field
            .strip_prefix("profile.")
            .or_else(|| field.strip_prefix("address."))
            .or_else(|| field.strip_prefix("ceremony."))?;
        PROFILE
            .iter()
            .find(|(f, _, _)| *f == last)
            .map(|(_, id, en)| match lang {
                Lang::Id => (*id).to_owned(),
                Lang::En => (*en).to_owned(),
            })
    }

    pub fn has_field(&self, field: &str) -> bool {
        self.field(field, Lang::Id).is_some()
    }
}

/// "a, b dan c" / "a, b and c".
pub fn join(items: &[String], lang: Lang) -> String {
    let and = match lang {
        Lang::Id => "dan",
        Lang::En => "and",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {and} {last}", rest.join(", ")),
    }
}
