//! "Data saya": the citizen's whole profile, in plain, with a form for the
//! contact fields, their correction requests and the way to erasure.
//! Opening the page is an audited read of their own data.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{LangQuery, Page, render, signed_in_page, to_sign_in};
use crate::app::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::profile::{self, ProfileView, Reader};

/// Current contact values, to prefill the form.
#[derive(Debug, Default)]
struct Contact {
    phone: String,
    email: String,
    street: String,
    rt_rw: String,
    kelurahan: String,
    kecamatan: String,
    kabupaten_kota: String,
    province: String,
    postal_code: String,
}

#[derive(Template)]
#[template(path = "data.html")]
struct Data {
    page: Page,
    identity: Vec<(&'static str, String)>,
    records: Vec<crate::modules::access::OwnRecord>,
    contact: Contact,
    w: &'static super::requests::Words,
    correctable: Vec<(String, String)>,
    corrections: Vec<super::requests::CorrectionRow>,
}

fn identity_rows(page: &Page, view: &ProfileView) -> Vec<(&'static str, String)> {
    let t = page.t;
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let gender = view.gender.as_deref().map(|g| match g {
        "laki-laki" => t.gender_male.to_owned(),
        "perempuan" => t.gender_female.to_owned(),
        other => other.to_owned(),
    });
    vec![
        ("NIK", shown(&view.nik)),
        (t.f_kk, shown(&view.kk)),
        (t.f_full_name, shown(&view.full_name)),
        (t.f_birth_place, shown(&view.birth_place)),
        (t.f_birth_date, shown(&view.birth_date)),
        (t.f_gender, shown(&gender)),
    ]
}

fn contact(view: &ProfileView) -> Contact {
    let mut c = Contact {
        phone: view.phone.clone().unwrap_or_default(),
        email: view.email.clone().unwrap_or_default(),
        ..Contact::default()
    };
    if let Some(a) = &view.address {
        c.street = a.street.clone().unwrap_or_default();
        c.rt_rw = a.rt_rw.clone().unwrap_or_default();
        c.kelurahan = a.kelurahan.clone().unwrap_or_default();
        c.kecamatan = a.kecamatan.clone().unwrap_or_default();
        c.kabupaten_kota.clone_from(&a.kabupaten_kota);
        c.province.clone_from(&a.province);
        c.postal_code = a.postal_code.clone().unwrap_or_default();
    }
    c
}

pub(super) async fn data(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let own = crate::http::profile::owner_only(&who)?;
    let view = profile::read(
        &state.profile,
        &Reader::owner(&own),
        own.account(),
        crate::http::profile::OWN_DATA,
        &client.ctx,
    )
    .await?;
    let records = crate::modules::access::own_records(&state.modules, &own, &client.ctx).await?;
    let own_corrections = crate::rights::correction::own(&state.profile, &own, &client.ctx).await?;
    let words = crate::http::activity::lang_of(page.t);
    let policies = state.consent.policies.current();
    let lang = page.set_lang;
    let identity = identity_rows(&page, &view);
    let contact = contact(&view);
    render(
        lang,
        &Data {
            page,
            identity,
            records,
            contact,
            w: super::requests::words(words),
            correctable: super::requests::correctable(&policies.catalog, words),
            corrections: super::requests::correction_rows(own_corrections, &policies.catalog, words),
        },
    )
}
