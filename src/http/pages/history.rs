//! The access history in plain language: each audit event about a citizen
//! as a sentence they understand ("Layanan Antrian membaca nomor antrean
//! Anda untuk memanggil nomor antrean."), in Bahasa Indonesia or English,
//! from the catalog's module names, field labels and purpose names.

use crate::policy::Catalog;
use crate::policy::labels::{Lang, join};
use crate::store::audit::EventRow;

/// What the event did, for the sentence's verb.
enum Kind {
    Read,
    Write,
    Delete,
    Find,
}

fn kind(action: &str) -> Option<Kind> {
    Some(match action {
        "record.read" | "profile.read" | "vault.read" => Kind::Read,
        "record.write" | "profile.write" | "profile.update" | "profile.identity_change" => Kind::Write,
        "record.delete" => Kind::Delete,
        "profile.find" | "counter.lookup" | "account.lookup" | "operator.lookup" => Kind::Find,
        _ => return None,
    })
}

/// The event as one sentence; `actor` is already in `lang` ("Anda",
/// "Layanan Antrian", "petugas layanan (Kecamatan Rangkui)").
pub fn sentence(row: &EventRow, actor: &str, catalog: &Catalog, lang: Lang) -> String {
    let id = lang == Lang::Id;
    let text = match kind(&row.action) {
        Some(kind) => data_sentence(row, actor, &kind, catalog, lang),
        None if row.action.starts_with("breakglass.") => break_glass_sentence(row, actor, catalog, lang),
        None => other_sentence(row, actor, catalog, lang),
    };
    let text = match text {
        Some(t) => t,
        None if id => format!("{actor}: {} ({}).", row.action, outcome_id(&row.outcome)),
        None => format!("{actor}: {} ({}).", row.action, row.outcome),
    };
    upper_first(&text)
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn outcome_id(outcome: &str) -> &'static str {
    match outcome {
        "success" => "berhasil",
        "denied" => "ditolak",
        _ => "gagal",
    }
}

/// "nomor antrean dan jenis layanan" — labels of the fields named, or
/// "data" when none has a label.
fn fields(row: &EventRow, catalog: &Catalog, lang: Lang) -> String {
    let labels = catalog.labels();
    let mut shown: Vec<String> = Vec::new();
    for field in row.target_fields.split(',').filter(|f| !f.is_empty()) {
        // A whole collection (a refused request names only it): "data".
        let label = labels.field(field, lang).unwrap_or_else(|| "data".to_owned());
        if !shown.contains(&label) {
            shown.push(label);
        }
    }
    if shown.is_empty() {
        shown.push("data".to_owned());
    }
    join(&shown, lang)
}

/// "untuk memanggil nomor antrean" / "for calling a queue ticket".
fn purpose(row: &EventRow, catalog: &Catalog, lang: Lang) -> Option<String> {
    let id = row.purpose.as_deref()?;
    if id == "own_data" {
        return None;
    }
    let name = match catalog.get(id) {
        Some(def) => lower_first(match lang {
            Lang::Id => &def.name.id,
            Lang::En => &def.name.en,
        }),
        None => id.to_owned(),
    };
    Some(match lang {
        Lang::Id => format!(" untuk {name}"),
        Lang::En => format!(" for {name}"),
    })
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn refusal(reason: Option<&str>, lang: Lang) -> &'static str {
    let id = lang == Lang::Id;
    match (reason.unwrap_or_default(), id) {
        ("no_consent", true) => "Anda belum memberi persetujuan",
        ("no_consent", false) => "you have not given consent",
        ("restricted", true) => "Anda membatasi pemrosesan ini",
        ("restricted", false) => "you restricted this processing",
        ("policy_denied", true) => "kebijakan tidak mengizinkannya",
        ("policy_denied", false) => "the policies do not allow it",
        ("field_outside_purpose", true) => "data itu tidak termasuk tujuan tersebut",
        ("field_outside_purpose", false) => "that data is outside the purpose",
        ("no_open_case", true) => "Anda tidak sedang memiliki berkas yang terbuka pada layanan ini",
        ("no_open_case", false) => "you have no open case with this service",
        ("unknown_purpose" | "purpose_not_for_module", true) => "tujuan itu tidak berlaku untuk layanan ini",
        ("unknown_purpose" | "purpose_not_for_module", false) => "that purpose does not apply to this service",
        (_, true) => "permintaan itu tidak diizinkan",
        (_, false) => "the request was not allowed",
    }
}

fn data_sentence(row: &EventRow, actor: &str, kind: &Kind, catalog: &Catalog, lang: Lang) -> Option<String> {
    let what = fields(row, catalog, lang);
    let why = purpose(row, catalog, lang).unwrap_or_default();
    let own = row.purpose.as_deref() == Some("own_data");
    let id = lang == Lang::Id;
    let text = match (row.outcome.as_str(), kind, id) {
        ("success", Kind::Read, true) if own => format!("{actor} membuka data Anda sendiri: {what}."),
        ("success", Kind::Read, false) if own => format!("{actor} opened your own data: {what}."),
        ("success", Kind::Read, true) => format!("{actor} membaca {what} Anda{why}."),
        ("success", Kind::Read, false) => format!("{actor} read your {what}{why}."),
        ("success", Kind::Write, true) => format!("{actor} mencatat {what} Anda{why}."),
        ("success", Kind::Write, false) => format!("{actor} recorded your {what}{why}."),
        ("success", Kind::Delete, true) => format!("{actor} menghapus catatan Anda{why}."),
        ("success", Kind::Delete, false) => format!("{actor} deleted a record about you{why}."),
        ("success", Kind::Find, true) => format!("{actor} mencari akun Anda{why}."),
        ("success", Kind::Find, false) => format!("{actor} looked your account up{why}."),
        ("denied", _, true) => format!(
            "{actor} meminta {what} Anda{why}, tetapi ditolak: {}.",
            refusal(row.reason.as_deref(), lang)
        ),
        ("denied", _, false) => format!(
            "{actor} asked for your {what}{why}, and was refused: {}.",
            refusal(row.reason.as_deref(), lang)
        ),
        (_, _, true) => format!("{actor} mencoba memakai {what} Anda{why}, tetapi gagal."),
        (_, _, false) => format!("{actor} tried to use your {what}{why}, but it failed."),
    };
    Some(text)
}

/// Emergency access (break-glass), said plainly: without consent, with a
/// written reason, reviewed.
fn break_glass_sentence(row: &EventRow, actor: &str, catalog: &Catalog, lang: Lang) -> Option<String> {
    let ok = row.outcome == "success";
    Some(match (row.action.as_str(), ok, lang) {
        ("breakglass.open", true, Lang::Id) => format!(
            "{actor} membuka akses darurat ke data Anda tanpa persetujuan Anda, dengan alasan tertulis; \
             akses ini ditinjau oleh petugas keamanan lain."
        ),
        ("breakglass.open", true, Lang::En) => format!(
            "{actor} opened emergency access to your data without your consent, with a written reason; \
             another security officer reviews it."
        ),
        ("breakglass.read", true, Lang::Id) => {
            format!(
                "{actor} membaca {} Anda dengan akses darurat.",
                fields(row, catalog, lang)
            )
        }
        ("breakglass.read", true, Lang::En) => {
            format!(
                "{actor} read your {} under emergency access.",
                fields(row, catalog, lang)
            )
        }
        (_, false, Lang::Id) => format!("{actor} meminta akses darurat ke data Anda, tetapi ditolak."),
        (_, false, Lang::En) => format!("{actor} asked for emergency access to your data, and was refused."),
        _ => return None,
    })
}

fn other_sentence(row: &EventRow, actor: &str, catalog: &Catalog, lang: Lang) -> Option<String> {
    let id = lang == Lang::Id;
    let ok = row.outcome == "success";
    let on = |purpose_id: Option<&str>| {
        purpose_id
            .and_then(|p| catalog.get(p))
            .map(|d| match lang {
                Lang::Id => d.name.id.clone(),
                Lang::En => d.name.en.clone(),
            })
            .unwrap_or_default()
    };
    // On a purpose of another basis, a refusal or withdrawal restricts
    // processing (Art. 11) and a grant allows it again.
    let on_consent = row
        .purpose
        .as_deref()
        .and_then(|p| catalog.get(p))
        .is_none_or(|d| d.lawful_basis == crate::policy::LawfulBasis::Consent);
    let consent = |verb_id: &str, verb_en: &str| {
        let name = on(row.purpose.as_deref());
        let (verb_id, verb_en) = match (on_consent, row.action.as_str()) {
            (false, "consent.grant") => ("mengizinkan lagi pemrosesan", "allowed again processing for"),
            (false, _) => ("membatasi pemrosesan", "restricted processing for"),
            (true, _) => (verb_id, verb_en),
        };
        if id {
            format!("{actor} {verb_id} untuk \u{201c}{name}\u{201d}.")
        } else {
            format!("{actor} {verb_en} \u{201c}{name}\u{201d}.")
        }
    };
    let plain = |t_id: &str, t_en: &str| if id { t_id.to_owned() } else { t_en.to_owned() };
    Some(match (row.action.as_str(), ok) {
        ("correction.request", true) => plain(
            &format!(
                "{actor} meminta perbaikan {}; keputusan paling lambat 3 × 24 jam.",
                fields(row, catalog, lang)
            ),
            &format!(
                "{actor} asked for a correction of {}; decision due within 3 × 24 hours.",
                fields(row, catalog, lang)
            ),
        ),
        ("correction.read", true) => plain(
            &format!("{actor} membuka permintaan perbaikan Anda sendiri."),
            &format!("{actor} opened your own correction requests."),
        ),
        ("correction.open", true) => plain(
            &format!(
                "{actor} membuka permintaan perbaikan {} Anda untuk memeriksanya.",
                fields(row, catalog, lang)
            ),
            &format!(
                "{actor} opened your request to correct {} to check it.",
                fields(row, catalog, lang)
            ),
        ),
        ("correction.approve", true) => plain(
            &format!("{actor} menyetujui perbaikan {} Anda.", fields(row, catalog, lang)),
            &format!(
                "{actor} approved the correction of your {}.",
                fields(row, catalog, lang)
            ),
        ),
        ("correction.refuse", true) => plain(
            &format!(
                "{actor} menolak perbaikan {} Anda, dengan alasan.",
                fields(row, catalog, lang)
            ),
            &format!(
                "{actor} refused the correction of your {}, with a reason.",
                fields(row, catalog, lang)
            ),
        ),
        ("consent.grant", _) => consent("memberi persetujuan", "gave consent to"),
        ("consent.refuse", _) => consent("menolak memberi persetujuan", "refused consent to"),
        ("consent.withdraw", _) => consent("menarik persetujuan", "withdrew consent to"),
        ("session.start" | "session.signin", true) => plain(
            &format!("{actor} masuk dengan passkey."),
            &format!("{actor} signed in with a passkey."),
        ),
        ("session.start" | "session.signin", false) => plain(
            "Percobaan masuk ke akun Anda gagal.",
            "A sign-in to your account failed.",
        ),
        ("session.end", _) => plain(&format!("{actor} keluar."), &format!("{actor} signed out.")),
        ("session.revoke", _) => plain(
            &format!("{actor} mengakhiri sebuah sesi."),
            &format!("{actor} ended a session."),
        ),
        ("passkey.register" | "passkey.add", true) => plain(
            &format!("{actor} menambahkan passkey."),
            &format!("{actor} added a passkey."),
        ),
        ("passkey.remove" | "passkey.revoke_all", true) => plain(
            &format!("{actor} menghapus passkey."),
            &format!("{actor} removed a passkey."),
        ),
        ("passkey.rename", true) => plain(
            &format!("{actor} mengganti nama passkey."),
            &format!("{actor} renamed a passkey."),
        ),
        ("passkey.counter_regression", _) => plain(
            "Jaga mendeteksi kemungkinan salinan passkey Anda dan menolaknya.",
            "Jaga noticed a possible copy of your passkey and refused it.",
        ),
        ("account.verify", true) => plain(
            &format!("{actor} memverifikasi akun Anda di loket."),
            &format!("{actor} verified your account at the counter."),
        ),
        ("account.recover", true) => plain(
            &format!("{actor} memulihkan akses ke akun Anda."),
            &format!("{actor} restored access to your account."),
        ),
        ("account.suspend", true) => plain(
            &format!("{actor} menangguhkan akun Anda."),
            &format!("{actor} suspended your account."),
        ),
        ("enrolment_code.issue", true) => plain(
            &format!("{actor} membuat kode pendaftaran untuk Anda."),
            &format!("{actor} made an enrolment code for you."),
        ),
        ("enrolment_code.use", true) => plain(
            &format!("{actor} memakai kode pendaftaran."),
            &format!("{actor} used an enrolment code."),
        ),
        ("verification_code.issue", true) => plain(
            &format!("{actor} meminta kode verifikasi."),
            &format!("{actor} asked for a verification code."),
        ),
        ("record.expire", true) => plain(
            &format!(
                "{actor} menghapus {} Anda karena masa simpannya sudah habis.",
                fields(row, catalog, lang)
            ),
            &format!(
                "{actor} deleted your {} because its retention period ended.",
                fields(row, catalog, lang)
            ),
        ),
        ("guardian.link", true) => plain(
            &format!("{actor} mencatat perwalian anak setelah memeriksa Kartu Keluarga."),
            &format!("{actor} recorded a guardianship after checking the family card."),
        ),
        ("case.open", true) => plain(
            &format!("{actor} membuka berkas layanan untuk Anda."),
            &format!("{actor} opened a case for you."),
        ),
        ("case.close", true) => plain(
            &format!("{actor} menutup berkas layanan Anda."),
            &format!("{actor} closed your case."),
        ),
        ("ratelimit.trip", _) => plain(
            "Terlalu banyak percobaan; Jaga menahannya sebentar.",
            "Too many attempts; Jaga held them back for a while.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
