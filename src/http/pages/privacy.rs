//! The privacy notice ("Pemberitahuan privasi"), generated from the purpose
//! catalog: who processes what, why, on which lawful basis, for how long,
//! and whether the citizen may refuse. Public: no sign-in.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{LangQuery, Page, page, render};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::policy::labels::{Labels, Lang};
use crate::policy::{LawfulBasis, PurposeDef, Retention};

/// The notice's own words, in each language.
pub(super) struct Words {
    pub(super) title: &'static str,
    pub(super) intro: &'static str,
    pub(super) controller: &'static str,
    pub(super) basis: &'static str,
    pub(super) data: &'static str,
    pub(super) kept: &'static str,
    pub(super) choice: &'static str,
    pub(super) may_refuse: &'static str,
    pub(super) may_not_refuse: &'static str,
    pub(super) notice_version: &'static str,
    pub(super) bases: [&'static str; 6],
    pub(super) days: &'static str,
    pub(super) years: &'static str,
    pub(super) until: &'static str,
    pub(super) modules: &'static str,
    pub(super) officers: &'static str,
}

pub(super) static ID: Words = Words {
    title: "Pemberitahuan privasi",
    intro: "Jaga menyimpan data pribadi Anda terenkripsi dan hanya membukanya untuk tujuan di bawah ini. Setiap \
            pembacaan dicatat dan dapat Anda lihat di Aktivitas.",
    controller: "Penanggung jawab",
    basis: "Dasar hukum (UU PDP Pasal 20)",
    data: "Data yang dipakai",
    kept: "Disimpan",
    choice: "Pilihan Anda",
    may_refuse: "Anda boleh menolak atau menarik kembali kapan saja, di halaman Persetujuan.",
    may_not_refuse: "Tidak bergantung pada persetujuan Anda.",
    notice_version: "Versi pemberitahuan",
    bases: [
        "persetujuan Anda",
        "perjanjian dengan Anda",
        "kewajiban hukum",
        "kepentingan vital Anda",
        "tugas pelayanan publik",
        "kepentingan yang sah",
    ],
    days: "hari",
    years: "tahun",
    until: "sampai",
    modules: "Layanan",
    officers: "Petugas",
};

pub(super) static EN: Words = Words {
    title: "Privacy notice",
    intro: "Jaga keeps your personal data encrypted and opens it only for the purposes below. Every read is \
            recorded and visible to you under Activity.",
    controller: "Controller",
    basis: "Lawful basis (UU PDP Art. 20)",
    data: "Data used",
    kept: "Kept",
    choice: "Your choice",
    may_refuse: "You may refuse or withdraw at any time, on the Consents page.",
    may_not_refuse: "Does not depend on your consent.",
    notice_version: "Notice version",
    bases: [
        "your consent",
        "a contract with you",
        "a legal obligation",
        "your vital interest",
        "a public service task",
        "a legitimate interest",
    ],
    days: "days",
    years: "years",
    until: "until",
    modules: "Services",
    officers: "Officers",
};

/// One purpose as the notice shows it.
pub(super) struct Shown {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) controller: String,
    pub(super) users: String,
    pub(super) basis: &'static str,
    pub(super) data: Vec<String>,
    pub(super) kept: String,
    pub(super) withdrawable: bool,
    pub(super) notice_version: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy {
    page: Page,
    w: &'static Words,
    purposes: Vec<Shown>,
}

fn basis_index(basis: LawfulBasis) -> usize {
    match basis {
        LawfulBasis::Consent => 0,
        LawfulBasis::Contract => 1,
        LawfulBasis::LegalObligation => 2,
        LawfulBasis::VitalInterest => 3,
        LawfulBasis::PublicTask => 4,
        LawfulBasis::LegitimateInterest => 5,
    }
}

pub(super) fn shown(p: &PurposeDef, labels: &Labels, w: &'static Words, english: bool) -> Shown {
    let lang = if english { Lang::En } else { Lang::Id };
    let pick = |b: &crate::policy::catalog::Bilingual| if english { b.en.clone() } else { b.id.clone() };
    let kept = match &p.retention {
        Retention::Days(d) if d % 365 == 0 => format!("{} {}", d / 365, w.years),
        Retention::Days(d) => format!("{d} {}", w.days),
        Retention::UntilEvent(event) => format!("{} {}", w.until, event.replace('_', " ")),
    };
    let mut users = Vec::new();
    if !p.modules.is_empty() {
        let names: Vec<String> = p.modules.iter().map(|m| labels.module(m, lang)).collect();
        users.push(format!("{}: {}", w.modules, names.join(", ")));
    }
    if !p.officer_roles.is_empty() {
        users.push(format!("{}: {}", w.officers, p.officer_roles.join(", ")));
    }
    Shown {
        id: p.id.clone(),
        name: pick(&p.name),
        description: pick(&p.description),
        controller: p.controller.clone(),
        users: users.join(" · "),
        basis: w.bases.get(basis_index(p.lawful_basis)).copied().unwrap_or_default(),
        data: p
            .fields
            .keys()
            .map(|f| labels.field(f, lang).unwrap_or_else(|| f.clone()))
            .collect(),
        kept,
        withdrawable: p.withdrawable,
        notice_version: p.notice_version.clone(),
    }
}

pub(super) async fn privacy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, _) = page(&state, &headers, &q).await?;
    let english = page.t.lang == "en";
    let w = if english { &EN } else { &ID };
    let policies = state.consent.policies.current();
    let catalog = &policies.catalog;
    let purposes = catalog
        .purposes()
        .map(|p| shown(p, catalog.labels(), w, english))
        .collect();
    let lang = page.set_lang;
    render(lang, &Privacy { page, w, purposes })
}
