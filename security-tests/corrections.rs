//! Correction requests (UU PDP Art. 6 and 30): a citizen asks for an
//! identity field to be corrected; only a counter officer decides, within
//! 3 x 24 hours, approving (the profile changes) or refusing with a
//! reason the citizen reads; both see the deadline; nobody else sees or
//! decides anyone's request; every step is audited and told in the
//! citizen's history.

use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_of_unit;
use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{citizen_deciding, portal_page};
use crate::support::{Backend, Lib, Sandbox};

const SITI_NIK: &str = "1971015507900002";
const BUDI_NIK: &str = "1971011203850001";

async fn post(browser: &Browser<'_>, path: &str, body: Value) -> Answer {
    browser
        .send(Method::POST, path, Some(serde_json::to_vec(&body).unwrap()))
        .await
}

async fn ask(browser: &Browser<'_>, field: &str, value: &str) -> Answer {
    post(browser, "/api/corrections", json!({ "field": field, "value": value })).await
}

async fn decide(officer: &Browser<'_>, id: &str, body: Value) -> Answer {
    post(officer, &format!("/api/counter/corrections/{id}/decision"), body).await
}

backend_test! {
    async fn a_counter_officer_decides_a_correction_within_the_deadline_both_can_see(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (siti, siti_browser) = citizen_deciding(&app, SITI_NIK, "Siti Aminah", &[], "grant").await;
        let (_budi, budi_browser) = citizen_deciding(&app, BUDI_NIK, "Budi Santoso", &[], "grant").await;
        let (officer, officer_id) = officer_of_unit(&sandbox, &app).await;

        // Asked, validated as the counter would, one open per field.
        let asked = ask(&siti_browser, "full_name", "Siti Aminah Putri").await;
        assert_eq!(asked.status, 201, "{:?}", asked.body);
        let id = asked.body["id"].as_str().unwrap().to_owned();
        assert_eq!(asked.body["state"], "open");
        let (requested, due) = (asked.body["requested_at"].as_i64().unwrap(), asked.body["due_at"].as_i64().unwrap());
        assert_eq!(due - requested, 72 * 3600, "3 x 24 hours to decide");
        let bad = ask(&siti_browser, "birth_date", "kemarin").await;
        assert_eq!((bad.status.as_u16(), &bad.body["error"]), (400, &json!("invalid_field")), "{:?}", bad.body);
        assert_eq!(ask(&siti_browser, "phone", "0812").await.status, 422, "contact fields are the citizen's own to change");
        let twice = ask(&siti_browser, "full_name", "Siti A. Putri").await;
        assert_eq!((twice.status.as_u16(), &twice.body["error"]), (409, &json!("correction_open")));

        // Nobody else sees or decides it.
        let others = budi_browser.send(Method::GET, "/api/corrections", None).await;
        assert_eq!(others.body, json!([]), "a citizen sees only their own requests");
        for (who, what) in [(&budi_browser, "another citizen"), (&siti_browser, "the citizen themself")] {
            assert_eq!(who.send(Method::GET, "/api/counter/corrections", None).await.status, 403, "{what}");
            assert_eq!(who.send(Method::GET, &format!("/api/counter/corrections/{id}"), None).await.status, 403, "{what}");
            assert_eq!(decide(who, &id, json!({ "decision": "approve" })).await.status, 403, "{what}");
        }

        // The counter's queue: the deadline, no values.
        let queue = officer.send(Method::GET, "/api/counter/corrections", None).await;
        assert_eq!(queue.status, 200, "{:?}", queue.body);
        let item = &queue.body[0];
        assert_eq!((&item["id"], &item["citizen"], &item["field"]), (&json!(id), &json!(siti), &json!("full_name")));
        assert_eq!((item["due_at"].as_i64(), &item["overdue"]), (Some(due), &json!(false)));
        assert!(!queue.body.to_string().contains("Putri"), "the queue shows no values");
        let opened = officer.send(Method::GET, &format!("/api/counter/corrections/{id}"), None).await;
        assert_eq!((opened.body["citizen"].as_str(), opened.body["request"]["value"].as_str()), (Some(siti.as_str()), Some("Siti Aminah Putri")));

        // A refusal needs a reason; an approval changes the profile, once.
        let hidden = decide(&officer, &id, json!({ "decision": "refuse", "reason": "ditolak\u{202e}kiranem" })).await;
        assert_eq!((hidden.status.as_u16(), &hidden.body["error"]), (400, &json!("invalid_reason")));
        let bare = decide(&officer, &id, json!({ "decision": "refuse" })).await;
        assert_eq!((bare.status.as_u16(), &bare.body["error"]), (400, &json!("reason_required")));
        let approved = decide(&officer, &id, json!({ "decision": "approve", "reason": "Sesuai KTP" })).await;
        assert_eq!((approved.status.as_u16(), &approved.body["state"]), (200, &json!("approved")), "{:?}", approved.body);
        let again = decide(&officer, &id, json!({ "decision": "refuse", "reason": "berubah pikiran" })).await;
        assert_eq!((again.status.as_u16(), &again.body["error"]), (409, &json!("already_decided")));
        let profile = siti_browser.send(Method::GET, "/api/profile", None).await;
        assert_eq!(profile.body["full_name"], "Siti Aminah Putri");

        // A refusal: the citizen reads the reason.
        let place = ask(&siti_browser, "birth_place", "Sungailiat").await;
        let place_id = place.body["id"].as_str().unwrap().to_owned();
        let refused = decide(&officer, &place_id, json!({ "decision": "refuse", "reason": "Tempat lahir di KK tetap Pangkalpinang." })).await;
        assert_eq!(refused.status, 200, "{:?}", refused.body);
        let mine = siti_browser.send(Method::GET, "/api/corrections", None).await;
        let find = |id: &str| mine.body.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
        assert_eq!(find(&place_id)["state"], "refused");
        assert_eq!(find(&place_id)["reason"], "Tempat lahir di KK tetap Pangkalpinang.");
        assert_eq!((find(&id)["state"].as_str(), find(&id)["reason"].as_str()), (Some("approved"), Some("Sesuai KTP")));

        // The deadline is on both pages; past it, both say so.
        let gender = ask(&siti_browser, "gender", "perempuan").await;
        let gender_due = gender.body["due_at"].as_i64().unwrap();
        let shown = wib(gender_due);
        let data = portal_page(&app, &siti_browser, "/account/data").await.text().await.unwrap();
        assert!(data.contains("Batas waktu keputusan") && data.contains(&shown), "the citizen sees the deadline {shown}");
        let counter = portal_page(&app, &officer, "/counter").await.text().await.unwrap();
        assert!(counter.contains(&shown) && !counter.contains("Lewat batas waktu"), "the officer sees the deadline {shown}");
        sandbox.sql_exec(&format!("update correction_request set due_at = due_at - {} where state = 'open'", 4 * 86_400)).await;
        let late = portal_page(&app, &officer, "/counter").await.text().await.unwrap();
        assert!(late.contains("Lewat batas waktu"), "an overdue request is marked for the officer");
        let late_own = portal_page(&app, &siti_browser, "/account/data").await.text().await.unwrap();
        assert!(late_own.contains("Lewat batas waktu"), "and for the citizen");
        let queue = officer.send(Method::GET, "/api/counter/corrections", None).await;
        assert_eq!(queue.body[0]["overdue"], true);

        // Audited, and told in the citizen's words.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let by = |action: &str| rows.iter().filter(|r| r.action == action).collect::<Vec<_>>();
        assert_eq!(by("correction.request").len(), 3);
        assert!(by("correction.open").iter().all(|r| r.actor_id == officer_id && r.purpose.as_deref() == Some("loket.bantuan")));
        assert_eq!(by("correction.approve").len(), 1);
        assert_eq!(by("correction.refuse").len(), 1);
        let change = by("profile.identity_change");
        assert!(change.iter().any(|r| r.reason.as_deref() == Some("correction_request") && r.target_fields.contains("profile.full_name")));
        let history = siti_browser.send(Method::GET, "/api/activity", None).await.body.to_string();
        assert!(history.contains("meminta perbaikan nama lengkap"), "{history}");
        assert!(history.contains("menyetujui perbaikan nama lengkap Anda"), "{history}");
        // The value asked for and the reason are sealed, never stored in the clear.
        assert_eq!(sandbox.sql_count("select count(*) from correction_request").await, 3);
        for plain in ["Putri", "Pangkalpinang"] {
            let sql = match sandbox.backend {
                Backend::Sqlite => format!(
                    "select count(*) from correction_request where hex(proposed) like '%' || hex('{plain}') || '%' \
                     or hex(coalesce(reason, x'')) like '%' || hex('{plain}') || '%'"
                ),
                Backend::Postgres => format!(
                    "select count(*) from correction_request where position(convert_to('{plain}', 'UTF8') in proposed) > 0 \
                     or position(convert_to('{plain}', 'UTF8') in coalesce(reason, ''::bytea)) > 0"
                ),
            };
            assert_eq!(sandbox.sql_count(&sql).await, 0, "{plain} in the clear");
        }
    }
}

/// `unix` as the pages show it (WIB).
fn wib(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .to_offset(time::macros::offset!(+7));
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] WIB"
    ))
    .unwrap()
}
