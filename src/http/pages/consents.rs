//! "Persetujuan": the citizen grants, refuses or withdraws consent, and
//! restricts processing (UU PDP Art. 9, 11, 40) for every purpose of the
//! catalog that lets them, and downloads the signed receipt of each
//! decision.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{LangQuery, Page, render, signed_in_page, to_sign_in, when};
use crate::app::AppState;
use crate::consent::{self, ConsentView, Decision, guardian};
use crate::http::error::ApiError;

/// The page's own words, in each language.
struct Words {
    title: &'static str,
    intro: &'static str,
    on_consent: &'static str,
    on_other: &'static str,
    in_force: &'static str,
    not_in_force: &'static str,
    undecided: &'static str,
    decided: &'static str,
    grant: &'static str,
    refuse: &'static str,
    withdraw: &'static str,
    restrict: &'static str,
    resume: &'static str,
    receipt: &'static str,
    notice: &'static str,
    from_guardian: &'static str,
    confirm: &'static str,
    wards: &'static str,
    wards_intro: &'static str,
    ward: &'static str,
}

static ID: Words = Words {
    title: "Persetujuan",
    intro: "Di sini Anda memberi, menolak atau menarik persetujuan, dan membatasi pemrosesan yang boleh Anda \
            batasi. Keputusan Anda berlaku sejak permintaan berikutnya, dan setiap keputusan punya tanda terima \
            bertanda tangan.",
    on_consent: "Hanya dengan persetujuan Anda.",
    on_other: "Berjalan tanpa persetujuan, tetapi Anda boleh membatasinya.",
    in_force: "Berjalan",
    not_in_force: "Tidak berjalan",
    undecided: "Anda belum memutuskan.",
    decided: "Keputusan terakhir",
    grant: "Setujui",
    refuse: "Tolak",
    withdraw: "Tarik persetujuan",
    restrict: "Batasi pemrosesan",
    resume: "Izinkan lagi",
    receipt: "Unduh tanda terima (JSON)",
    notice: "Pemberitahuan privasi lengkap",
    from_guardian: "Persetujuan ini diberikan oleh wali Anda ketika Anda belum berusia 18 tahun. Sekarang Anda \
                    yang memutuskan: konfirmasi atau tarik.",
    confirm: "Konfirmasi",
    wards: "Anak dalam perwalian Anda",
    wards_intro: "Sampai anak berusia 18 tahun, Anda memutuskan persetujuan untuknya. Setiap keputusan dicatat \
                  atas nama Anda sebagai wali.",
    ward: "Anak",
};

static EN: Words = Words {
    title: "Consents",
    intro: "Here you give, refuse or withdraw consent, and restrict processing where you may. Your decision \
            applies from the next request, and every decision has a signed receipt.",
    on_consent: "Only with your consent.",
    on_other: "Goes on without consent, but you may restrict it.",
    in_force: "Going on",
    not_in_force: "Stopped",
    undecided: "You have not decided yet.",
    decided: "Latest decision",
    grant: "Give consent",
    refuse: "Refuse",
    withdraw: "Withdraw consent",
    restrict: "Restrict processing",
    resume: "Allow again",
    receipt: "Download receipt (JSON)",
    notice: "Full privacy notice",
    from_guardian: "Your guardian gave this consent while you were under 18. You decide now: confirm or withdraw.",
    confirm: "Confirm",
    wards: "Children in your guardianship",
    wards_intro: "Until a child turns 18, you decide on consent for them. Each decision is recorded in your name \
                  as guardian.",
    ward: "Child",
};

/// A button: the decision it records and its label.
struct Choice {
    decision: &'static str,
    label: &'static str,
}

/// One purpose as the page shows it.
struct Shown {
    id: String,
    name: String,
    description: String,
    on_consent: bool,
    in_force: bool,
    decided: Option<String>,
    choices: Vec<Choice>,
    /// Granted by a guardian before the citizen turned 18: to confirm.
    from_guardian: bool,
}

/// A ward and their purposes, for the guardian.
struct WardShown {
    citizen: String,
    purposes: Vec<Shown>,
}

#[derive(Template)]
#[template(path = "consents.html")]
struct Consents {
    page: Page,
    w: &'static Words,
    purposes: Vec<Shown>,
    wards: Vec<WardShown>,
}

fn shown(v: ConsentView, w: &'static Words, english: bool, from_guardian: bool) -> Shown {
    let on_consent = v.lawful_basis == "consent";
    let choice = |decision: &'static str, label: &'static str| Choice { decision, label };
    let choices = match (on_consent, v.decision) {
        (true, Some(Decision::Grant)) if from_guardian => {
            vec![choice("grant", w.confirm), choice("withdraw", w.withdraw)]
        }
        (true, None) => vec![choice("grant", w.grant), choice("refuse", w.refuse)],
        (true, Some(Decision::Grant)) => vec![choice("withdraw", w.withdraw)],
        (true, Some(_)) => vec![choice("grant", w.grant)],
        (false, None | Some(Decision::Grant)) => vec![choice("withdraw", w.restrict)],
        (false, Some(_)) => vec![choice("grant", w.resume)],
    };
    let label = |d: Decision| match d {
        Decision::Grant if on_consent => w.grant,
        Decision::Grant => w.resume,
        Decision::Refuse => w.refuse,
        Decision::Withdraw if on_consent => w.withdraw,
        Decision::Withdraw => w.restrict,
    };
    Shown {
        decided: v
            .decision
            .map(|d| format!("{} · {}", label(d), when(v.decided_at.unwrap_or_default()))),
        id: v.purpose,
        name: if english { v.name_en } else { v.name_id },
        description: if english { v.description_en } else { v.description_id },
        on_consent,
        in_force: v.in_force,
        choices,
        from_guardian,
    }
}

pub(super) async fn consents(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let own = crate::http::profile::owner_only(&who)?;
    let english = page.t.lang == "en";
    let w = if english { &EN } else { &ID };
    let to_confirm = guardian::to_confirm(&state.consent, &own).await?;
    let purposes = consent::list(&state.consent, &own)
        .await?
        .into_iter()
        .map(|v| {
            let from_guardian = to_confirm.contains(&v.purpose);
            shown(v, w, english, from_guardian)
        })
        .collect();
    let wards = guardian::wards(&state.consent, &own)
        .await?
        .into_iter()
        .map(|ward| WardShown {
            citizen: ward.citizen,
            purposes: ward.consents.into_iter().map(|v| shown(v, w, english, false)).collect(),
        })
        .collect();
    let lang = page.set_lang;
    render(
        lang,
        &Consents {
            page,
            w,
            purposes,
            wards,
        },
    )
}
