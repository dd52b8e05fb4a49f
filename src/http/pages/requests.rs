//! The data subject's requests on the portal: correction requests (on
//! "Data saya", and the counter's queue with its deadlines) and the
//! erasure page, which says in plain words what goes and what the law
//! keeps, and until when.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{LangQuery, Page, render, signed_in_page, to_sign_in, when};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::policy::labels::Lang;
use crate::policy::{Catalog, LawfulBasis};
use crate::rights::correction::{self, CorrectableField, Correction, Queued};
use crate::rights::erasure::{self, ErasurePlan};

/// The words of these sections, in each language.
pub(super) struct Words {
    pub corrections: &'static str,
    pub corrections_intro: &'static str,
    pub field: &'static str,
    pub value: &'static str,
    pub value_hint: &'static str,
    pub send: &'static str,
    pub requested: &'static str,
    pub due: &'static str,
    pub overdue: &'static str,
    pub open: &'static str,
    pub approved: &'static str,
    pub refused: &'static str,
    pub reason: &'static str,
    pub queue: &'static str,
    pub queue_intro: &'static str,
    pub queue_empty: &'static str,
    pub citizen: &'static str,
    pub open_button: &'static str,
    pub asked_value: &'static str,
    pub decision_reason: &'static str,
    pub approve: &'static str,
    pub refuse: &'static str,
    pub erase_link: &'static str,
    pub erase_link_hint: &'static str,
    pub erase_title: &'static str,
    pub erase_intro: &'static str,
    pub erase_goes: &'static str,
    pub erase_account: &'static str,
    pub erase_kept: &'static str,
    pub erase_kept_none: &'static str,
    pub erase_kept_why: &'static str,
    pub erase_until: &'static str,
    pub erase_until_case: &'static str,
    pub erase_audit: &'static str,
    pub erase_confirm: &'static str,
    pub erase_button: &'static str,
    pub erased: &'static str,
}

static ID: Words = Words {
    corrections: "Perbaikan data identitas",
    corrections_intro: "Jika data identitas Anda salah, mintalah perbaikan di sini. Petugas loket memeriksa KTP atau KK Anda lalu menyetujui atau menolak dengan alasan, paling lambat 3 × 24 jam setelah permintaan Anda.",
    field: "Data yang diperbaiki",
    value: "Isi yang benar",
    value_hint: "Tulis seperti di KTP atau KK. Tanggal lahir: TTTT-BB-HH. Jenis kelamin: laki-laki atau perempuan.",
    send: "Minta perbaikan",
    requested: "Diminta",
    due: "Batas waktu keputusan",
    overdue: "Lewat batas waktu",
    open: "Sedang diperiksa",
    approved: "Disetujui",
    refused: "Ditolak",
    reason: "Alasan petugas",
    queue: "Permintaan perbaikan data",
    queue_intro: "Putuskan setiap permintaan paling lambat 3 × 24 jam setelah diajukan (UU PDP Pasal 30). Periksa KTP atau KK warga sebelum menyetujui; tulis alasan bila menolak.",
    queue_empty: "Tidak ada permintaan yang menunggu.",
    citizen: "Warga",
    open_button: "Buka",
    asked_value: "Isi yang diminta",
    decision_reason: "Alasan (wajib bila menolak; dibaca warga)",
    approve: "Setujui perbaikan",
    refuse: "Tolak",
    erase_link: "Hapus data saya…",
    erase_link_hint: "Anda dapat meminta semua data Anda dihapus. Halaman berikutnya menjelaskan apa yang dihapus dan apa yang wajib disimpan menurut hukum, sebelum Anda memutuskan.",
    erase_title: "Hapus data saya",
    erase_intro: "Penghapusan tidak dapat dibatalkan. Jaga menghancurkan kunci enkripsi data Anda, sehingga data itu tidak dapat dibuka lagi oleh siapa pun. Cadangan basis data yang dibuat sebelumnya hanya berisi data terenkripsi, yang tidak dapat dibuka lagi setelah kunci induk dirotasi menurut jadwal. Akun, passkey, dan sesi Anda berakhir.",
    erase_goes: "Yang dihapus",
    erase_account: "akun, passkey, kode pemulihan, dan sesi masuk Anda",
    erase_kept: "Yang tetap disimpan karena kewajiban hukum",
    erase_kept_none: "Tidak ada data Anda yang wajib disimpan menurut hukum: semua data pribadi Anda dihapus.",
    erase_kept_why: "Data berikut wajib disimpan oleh undang-undang. Data ini disegel dengan kunci baru, hanya dapat dibaca untuk kewajiban itu, lalu dihapus otomatis ketika masa simpannya berakhir.",
    erase_until: "disimpan sampai",
    erase_until_case: "disimpan sampai layanan menutup perkara Anda",
    erase_audit: "Yang tetap ada, tanpa nama, NIK, atau data pribadi Anda yang lain: jejak audit (siapa membuka data Anda, kapan, dan untuk apa, dengan pseudonim Anda saja), riwayat keputusan persetujuan Anda sebagai bukti, dan nomor berkas Anda pada layanan. Hubungan perwalian berakhir.",
    erase_confirm: "Saya mengerti bahwa penghapusan ini tidak dapat dibatalkan.",
    erase_button: "Hapus data saya sekarang",
    erased: "Data Anda telah dihapus. Anda sudah keluar dari Jaga.",
};

static EN: Words = Words {
    corrections: "Correcting identity data",
    corrections_intro: "If your identity data is wrong, ask for a correction here. A counter officer checks your identity card or family card, then approves or refuses with a reason, at the latest 3 × 24 hours after your request.",
    field: "Data to correct",
    value: "The correct value",
    value_hint: "Write it as on your identity card or family card. Birth date: YYYY-MM-DD. Gender: laki-laki or perempuan.",
    send: "Ask for a correction",
    requested: "Asked",
    due: "Decision due by",
    overdue: "Past the deadline",
    open: "Being checked",
    approved: "Approved",
    refused: "Refused",
    reason: "Officer's reason",
    queue: "Correction requests",
    queue_intro: "Decide every request at the latest 3 × 24 hours after it was made (UU PDP Art. 30). Check the citizen's identity card or family card before approving; write a reason when refusing.",
    queue_empty: "No request is waiting.",
    citizen: "Citizen",
    open_button: "Open",
    asked_value: "Value asked for",
    decision_reason: "Reason (required to refuse; the citizen reads it)",
    approve: "Approve the correction",
    refuse: "Refuse",
    erase_link: "Erase my data…",
    erase_link_hint: "You may ask for all your data to be erased. The next page explains what goes and what the law obliges us to keep, before you decide.",
    erase_title: "Erase my data",
    erase_intro: "Erasure cannot be undone. Jaga destroys the encryption key of your data, so nobody can open it again. Database backups made earlier hold only encrypted data, which no longer opens once the root key is rotated on its schedule. Your account, passkeys and sessions end.",
    erase_goes: "What is erased",
    erase_account: "your account, passkeys, recovery codes and sign-in sessions",
    erase_kept: "What the law obliges us to keep",
    erase_kept_none: "None of your data must be kept by law: all your personal data is erased.",
    erase_kept_why: "The law obliges us to keep the following. It is sealed under a new key, readable only for that obligation, and erased automatically when its retention ends.",
    erase_until: "kept until",
    erase_until_case: "kept until the service closes your case",
    erase_audit: "What stays, without your name, NIK or other personal data: the audit trail (who opened your data, when and why, under your pseudonym only), the history of your consent decisions as proof, and your case numbers with the services. Guardian links end.",
    erase_confirm: "I understand that this erasure cannot be undone.",
    erase_button: "Erase my data now",
    erased: "Your data has been erased. You are signed out of Jaga.",
};

pub(super) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    }
}

/// The plain label of a field, in `lang`.
fn label(catalog: &Catalog, field: &str, lang: Lang) -> String {
    catalog.labels().field(field, lang).unwrap_or_else(|| field.to_owned())
}

/// A correction request as the pages show it.
pub(super) struct CorrectionRow {
    pub id: String,
    pub field: String,
    pub value: String,
    pub state: &'static str,
    pub requested: String,
    pub due: String,
    pub overdue: bool,
    pub reason: Option<String>,
}

pub(super) fn correction_rows(list: Vec<Correction>, catalog: &Catalog, lang: Lang) -> Vec<CorrectionRow> {
    let w = words(lang);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    list.into_iter()
        .map(|c| CorrectionRow {
            field: label(catalog, c.field.name(), lang),
            state: match c.state.as_str() {
                "approved" => w.approved,
                "refused" => w.refused,
                _ => w.open,
            },
            requested: when(c.requested_at),
            due: when(c.due_at),
            overdue: c.state == "open" && correction::overdue(c.due_at, now),
            id: c.id,
            value: c.value,
            reason: c.reason,
        })
        .collect()
}

/// The fields a citizen may ask to correct, as (value, label).
pub(super) fn correctable(catalog: &Catalog, lang: Lang) -> Vec<(String, String)> {
    CorrectableField::ALL
        .into_iter()
        .filter_map(|f| {
            let wire = serde_json::to_value(f).ok()?.as_str()?.to_owned();
            Some((wire, label(catalog, f.name(), lang)))
        })
        .collect()
}

/// An open request in the counter's queue, as the page shows it.
pub(super) struct QueueRow {
    pub id: String,
    pub citizen: String,
    pub field: String,
    pub requested: String,
    pub due: String,
    pub overdue: bool,
}

pub(super) fn queue_rows(list: Vec<Queued>, catalog: &Catalog, lang: Lang) -> Vec<QueueRow> {
    list.into_iter()
        .map(|q| QueueRow {
            field: label(catalog, q.field.name(), lang),
            requested: when(q.requested_at),
            due: when(q.due_at),
            overdue: q.overdue,
            id: q.id,
            citizen: q.citizen,
        })
        .collect()
}

struct KeptRow {
    field: String,
    purpose: String,
    until: String,
}

#[derive(Template)]
#[template(path = "erase.html")]
struct Erase {
    page: Page,
    w: &'static Words,
    erased: Vec<String>,
    kept: Vec<KeptRow>,
    digest: String,
}

fn kept_rows(plan: &ErasurePlan, catalog: &Catalog, lang: Lang) -> Vec<KeptRow> {
    let w = words(lang);
    plan.kept
        .iter()
        .map(|k| {
            let purpose = catalog
                .get(&k.purpose)
                .filter(|p| p.lawful_basis == LawfulBasis::LegalObligation);
            KeptRow {
                field: label(catalog, &k.field, lang),
                purpose: purpose.map_or_else(
                    || k.purpose.clone(),
                    |p| match lang {
                        Lang::Id => p.name.id.clone(),
                        Lang::En => p.name.en.clone(),
                    },
                ),
                until: k.until.map_or_else(
                    || w.erase_until_case.to_owned(),
                    |t| format!("{} {}", w.erase_until, when(t)),
                ),
            }
        })
        .collect()
}

/// "Hapus data saya": what goes, what the law keeps and until when, and
/// the confirmation.
pub(super) async fn erase_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let own = crate::http::profile::owner_only(&who)?;
    let plan = erasure::preview(&state.rights, &own).await?;
    let lang = crate::http::activity::lang_of(page.t);
    let policies = state.consent.policies.current();
    let catalog = &policies.catalog;
    let mut erased: Vec<String> = plan.erased.iter().map(|f| label(catalog, f, lang)).collect();
    erased.dedup();
    let kept = kept_rows(&plan, catalog, lang);
    let set_lang = page.set_lang;
    render(
        set_lang,
        &Erase {
            page,
            w: words(lang),
            erased,
            kept,
            digest: plan.digest,
        },
    )
}
