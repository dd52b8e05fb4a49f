//! The public transparency report ("Laporan transparansi"), one month a
//! page: no sign-in, counts only ([`crate::transparency`]).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{LangQuery, Page, page, render};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::policy::labels::Lang;
use crate::transparency::{Month, Report};

/// The page's words, in each language.
struct Words {
    title: &'static str,
    intro: &'static str,
    provisional: &'static str,
    few: &'static str,
    previous: &'static str,
    next: &'static str,
    as_json: &'static str,
    accesses: &'static str,
    accesses_none: &'static str,
    purpose: &'static str,
    by: &'static str,
    count: &'static str,
    officers: &'static str,
    consents: &'static str,
    consents_none: &'static str,
    granted: &'static str,
    refused: &'static str,
    withdrawn: &'static str,
    break_glass: &'static str,
    break_glass_intro: &'static str,
    used: &'static str,
    accepted: &'static str,
    escalated: &'static str,
    not_reviewed: &'static str,
    requests: &'static str,
    corrections_received: &'static str,
    corrections_decided: &'static str,
    median: &'static str,
    longest: &'static str,
    hours: &'static str,
    too_few: &'static str,
    erasures: &'static str,
    months: [&'static str; 12],
}

static ID: Words = Words {
    title: "Laporan transparansi",
    intro: "Berapa kali data pribadi warga dibuka, untuk tujuan apa dan oleh siapa, serta bagaimana permintaan warga \
            ditangani. Hanya jumlah, tidak pernah nama.",
    provisional: "Bulan ini belum selesai; angkanya masih bertambah.",
    few: "Jumlah di bawah 10 ditampilkan sebagai \u{201c}< 10\u{201d}, agar tidak ada orang yang dapat dikenali.",
    previous: "Bulan sebelumnya",
    next: "Bulan berikutnya",
    as_json: "Data ini dalam JSON",
    accesses: "Pembukaan data pribadi menurut tujuan dan layanan",
    accesses_none: "Tidak ada data pribadi yang dibuka bulan ini.",
    purpose: "Tujuan",
    by: "Oleh",
    count: "Jumlah",
    officers: "Petugas",
    consents: "Persetujuan",
    consents_none: "Tidak ada keputusan persetujuan bulan ini.",
    granted: "Diberikan",
    refused: "Ditolak",
    withdrawn: "Ditarik",
    break_glass: "Akses darurat",
    break_glass_intro: "Petugas keamanan dapat membuka data dalam keadaan darurat dengan alasan tertulis; setiap \
                        penggunaan ditinjau oleh petugas keamanan lain.",
    used: "Digunakan",
    accepted: "Diterima setelah ditinjau",
    escalated: "Dieskalasi",
    not_reviewed: "Belum ditinjau",
    requests: "Permintaan warga atas datanya",
    corrections_received: "Permintaan koreksi diterima",
    corrections_decided: "Permintaan koreksi diputuskan",
    median: "Waktu tengah (median) sampai diputuskan",
    longest: "Waktu terlama sampai diputuskan",
    hours: "jam",
    too_few: "ditampilkan mulai 10 keputusan",
    erasures: "Penghapusan data dilaksanakan",
    months: [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ],
};

static EN: Words = Words {
    title: "Transparency report",
    intro: "How often citizens' personal data was opened, for which purpose and by whom, and how citizens' requests \
            were handled. Counts only, never names.",
    provisional: "This month is not over yet; the counts are still growing.",
    few: "Counts under 10 are shown as \u{201c}< 10\u{201d}, so that no one can be recognised.",
    previous: "Previous month",
    next: "Next month",
    as_json: "This data as JSON",
    accesses: "Personal data opened, by purpose and service",
    accesses_none: "No personal data was opened this month.",
    purpose: "Purpose",
    by: "By",
    count: "Count",
    officers: "Officers",
    consents: "Consents",
    consents_none: "No consent decisions this month.",
    granted: "Granted",
    refused: "Refused",
    withdrawn: "Withdrawn",
    break_glass: "Emergency access",
    break_glass_intro: "Security officers can open data in an emergency with a written justification; every use is \
                        reviewed by another security officer.",
    used: "Used",
    accepted: "Accepted on review",
    escalated: "Escalated",
    not_reviewed: "Not reviewed yet",
    requests: "Citizens' requests about their data",
    corrections_received: "Correction requests received",
    corrections_decided: "Correction requests decided",
    median: "Median time to a decision",
    longest: "Longest time to a decision",
    hours: "hours",
    too_few: "shown from 10 decisions",
    erasures: "Erasures carried out",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// One line of the accesses table, in the reader's language.
struct AccessRow {
    purpose: String,
    by: String,
    count: String,
}

/// One line of the consents table.
struct ConsentRow {
    purpose: String,
    granted: String,
    refused: String,
    withdrawn: String,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct Transparency {
    page: Page,
    w: &'static Words,
    month_name: String,
    month: String,
    previous: Option<String>,
    next: Option<String>,
    report: std::sync::Arc<Report>,
    accesses: Vec<AccessRow>,
    consents: Vec<ConsentRow>,
    median: String,
    longest: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct TransparencyQuery {
    lang: Option<String>,
    month: Option<String>,
}

fn month_name(w: &Words, m: Month) -> String {
    let name = usize::from(m.number())
        .checked_sub(1)
        .and_then(|i| w.months.get(i))
        .copied()
        .unwrap_or_default();
    format!("{name} {}", m.year())
}

fn hours(w: &Words, h: Option<f64>) -> String {
    h.map_or_else(|| w.too_few.to_owned(), |h| format!("{h} {}", w.hours))
}

pub(super) async fn transparency(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TransparencyQuery>,
) -> Result<Response, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    let month = match q.month.as_deref() {
        None => Month::of(now),
        Some(text) => Month::parse(text, now).map_err(crate::http::transparency::bad_month)?,
    };
    let (mut page, _) = page(&state, &headers, &LangQuery { lang: q.lang }).await?;
    page.keep = format!("month={month}&");
    let english = page.t.lang == "en";
    let (w, lang) = if english { (&EN, Lang::En) } else { (&ID, Lang::Id) };
    let report = state
        .transparency
        .get(&state.db, month)
        .await
        .map_err(ApiError::internal)?;
    let policies = state.consent.policies.current();
    let catalog = &policies.catalog;
    let purpose = |id: &str| {
        catalog.get(id).map_or_else(
            || id.to_owned(),
            |p| if english { p.name.en.clone() } else { p.name.id.clone() },
        )
    };
    let accesses = report
        .accesses
        .iter()
        .map(|a| AccessRow {
            purpose: purpose(&a.purpose),
            by: match &a.module {
                Some(m) => catalog.labels().module(m, lang),
                None => w.officers.to_owned(),
            },
            count: a.count.to_string(),
        })
        .collect();
    let consents = report
        .consents
        .iter()
        .map(|c| ConsentRow {
            purpose: purpose(&c.purpose),
            granted: c.granted.to_string(),
            refused: c.refused.to_string(),
            withdrawn: c.withdrawn.to_string(),
        })
        .collect();
    let corrections = &report.requests.corrections;
    let template = Transparency {
        w,
        month_name: month_name(w, month),
        month: month.to_string(),
        previous: month.previous().map(|m| m.to_string()),
        next: Some(month.next())
            .filter(|m| *m <= Month::of(now))
            .map(|m| m.to_string()),
        median: hours(w, corrections.median_hours),
        longest: hours(w, corrections.longest_hours),
        accesses,
        consents,
        report,
        page,
    };
    let set_lang = template.page.set_lang;
    render(set_lang, &template)
}
