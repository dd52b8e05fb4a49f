//! Erasure at the citizen's request (UU PDP Art. 8 and 43): everything is
//! crypto-shredded except what a legal obligation keeps, which the citizen
//! is told (what, why, until when) before and after; what is kept is
//! sealed under a new data key (the old one destroyed) and readable only
//! under that obligation; when its retention ends it goes too. The account
//! ends with the request.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets, open_case, portal_page};
use crate::support::{Lib, Sandbox};

const SITI_NIK: &str = "1971015507900002";
const BUDI_NIK: &str = "1971011203850001";
const TEN_YEARS: i64 = 3650 * 86_400;

/// Erases after reading the plan (as the page does); returns the answer.
async fn erase(browser: &Browser<'_>, confirm: bool) -> Answer {
    let plan = browser.send(Method::GET, "/api/erasure", None).await;
    let digest = plan.body["digest"].as_str().unwrap_or_default().to_owned();
    erase_as_read(browser, confirm, &digest).await
}

async fn erase_as_read(browser: &Browser<'_>, confirm: bool, digest: &str) -> Answer {
    let body = serde_json::to_vec(&json!({ "confirm": confirm, "plan": digest })).unwrap();
    browser.send(Method::POST, "/api/erasure", Some(body)).await
}

fn kept_fields(plan: &Value) -> Vec<String> {
    plan["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["field"].as_str().unwrap().to_owned())
        .collect()
}

backend_test! {
    async fn erasure_shreds_all_but_what_the_law_keeps_and_says_so(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let dokumen = add_module(&sandbox, "dokumen");
        define_tickets(&app, &antrian).await;
        let registration = json!({ "fields": [
            { "name": "document_type", "classification": "personal" },
            { "name": "document_number", "classification": "personal" }
        ]});
        assert_eq!(ModuleApi::new(&app, &dokumen).define("dokumen.registration", registration).await.0, 200);
        let (siti, siti_browser) = citizen_deciding(&app, SITI_NIK, "Siti Aminah", &["antrian.priority"], "grant").await;
        let (budi, budi_browser) = citizen_deciding(&app, BUDI_NIK, "Budi Santoso", &[], "grant").await;
        let phone = siti_browser.send(Method::PATCH, "/api/profile", Some(br#"{"phone":"081234567890"}"#.to_vec())).await;
        assert_eq!(phone.status, 204, "{:?}", phone.body);
        let ticket = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        let letter = format!("/api/collections/dokumen.registration/records/{siti}/d1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&ticket, &[("queue_number", Some("A-017"))]).await.0, 204);
        let wrote = ModuleApi::new(&app, &dokumen)
            .write_at(&letter, &[("document_type", Some("surat pindah")), ("document_number", Some("SKP-2026-0042"))])
            .await;
        assert_eq!(wrote.0, 204, "{:?}", wrote.1);
        open_case(&app, &antrian, &siti).await;
        open_case(&app, &dokumen, &siti).await;

        // Before: what goes and what the law keeps, until when.
        let plan = siti_browser.send(Method::GET, "/api/erasure", None).await;
        assert_eq!(plan.status, 200, "{:?}", plan.body);
        assert_eq!(
            kept_fields(&plan.body),
            ["dokumen.registration.document_number", "dokumen.registration.document_type", "profile.full_name", "profile.nik"]
        );
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let until = plan.body["kept_until"].as_i64().unwrap();
        assert!((until - now - TEN_YEARS).abs() < 120, "kept for the purpose's ten years");
        assert!(plan.body["kept"].as_array().unwrap().iter().all(|k| k["purpose"] == "dokumen.register"));
        let erased = plan.body["erased"].to_string();
        assert!(erased.contains("profile.phone") && erased.contains("antrian.ticket.queue_number"), "{erased}");
        let page = portal_page(&app, &siti_browser, "/account/erase").await.text().await.unwrap();
        assert!(page.contains("Registrasi dokumen kependudukan") && page.contains("disimpan sampai"), "the page says why and until when");
        assert!(page.contains("nomor HP") || page.contains("nomor telepon"), "and what goes");

        // It takes a confirmation, of what was read.
        let unconfirmed = erase(&siti_browser, false).await;
        assert_eq!((unconfirmed.status.as_u16(), &unconfirmed.body["error"]), (400, &json!("confirmation_required")));
        let digest = plan.body["digest"].as_str().unwrap().to_owned();
        let (status, _) = ModuleApi::new(&app, &dokumen)
            .write_at(&format!("/api/collections/dokumen.registration/records/{siti}/d2"), &[("document_type", Some("akta"))])
            .await;
        assert_eq!(status, 204);
        let stale = erase_as_read(&siti_browser, true, &digest).await;
        assert_eq!((stale.status.as_u16(), &stale.body["error"]), (409, &json!("plan_changed")), "the citizen decided on another plan");
        assert_eq!(siti_browser.send(Method::GET, "/api/profile", None).await.status, 200, "nothing happened");
        let (status, _) = ModuleApi::new(&app, &dokumen)
            .delete_at(&format!("/api/collections/dokumen.registration/records/{siti}/d2"))
            .await;
        assert_eq!(status, 204);

        let done = erase_as_read(&siti_browser, true, &digest).await;
        assert_eq!(done.status, 200, "{:?}", done.body);
        assert_eq!(done.body, plan.body, "it did what it said");
        // The account ended with it.
        assert_eq!(siti_browser.send(Method::GET, "/api/profile", None).await.status, 401);
        assert_eq!(erase(&siti_browser, true).await.status, 401);

        // Kept: readable under the legal obligation only, sealed under a new key.
        let (status, body) = ModuleApi::new(&app, &dokumen).read_at(&letter, Some("dokumen.register"), None).await;
        assert_eq!((status.as_u16(), &body["values"]["document_number"]), (200, &json!("SKP-2026-0042")), "{body:?}");
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&ticket, Some("antrian.call"), None).await;
        assert!(status == 404 || body["values"].is_null(), "the ticket is gone: {status} {body:?}");
        let account = format!("(select account_id from account where pseudonym = '{siti}')");
        assert_eq!(sandbox.sql_count(&format!("select dek_version from citizen_key where account_id = {account}")).await, 2, "a new key");
        assert_eq!(sandbox.sql_count(&format!("select count(*) from citizen_field where account_id = {account}")).await, 2, "NIK and name");
        assert_eq!(sandbox.sql_count(&format!("select count(*) from record_field where account_id = {account}")).await, 2);
        assert_eq!(sandbox.sql_count(&format!("select count(*) from blind_index where account_id = {account}")).await, 0);

        // Nothing kept: everything goes with the key.
        let budi_plan = erase(&budi_browser, true).await;
        assert_eq!((budi_plan.status.as_u16(), &budi_plan.body["kept"]), (200, &json!([])), "{:?}", budi_plan.body);
        let budi_account = format!("(select account_id from account where pseudonym = '{budi}')");
        assert_eq!(sandbox.sql_count(&format!("select count(*) from citizen_key where account_id = {budi_account}")).await, 0);

        // The module can no longer write or open a case for them, but may
        // end what it keeps.
        let (status, _) = ModuleApi::new(&app, &dokumen)
            .write_at(&format!("/api/collections/dokumen.registration/records/{siti}/d3"), &[("document_type", Some("akta"))])
            .await;
        assert_eq!(status, 404, "no new data about an erased citizen");
        let (status, _) = crate::support::modules::call(&app, &dokumen, Method::PUT, &format!("/api/cases/{siti}/c9"), Some(json!({ "state": "open" }))).await;
        assert_eq!(status, 404);
        let (status, body) = crate::support::modules::call(&app, &dokumen, Method::PUT, &format!("/api/cases/{siti}/c1"), Some(json!({ "state": "closed", "event": "case_closed" }))).await;
        assert_eq!(status, 204, "closing a case may end what was kept: {body:?}");

        // When the retention ends, the kept data goes too.
        sandbox.sql_exec(&format!("update erasure set kept_until = kept_until - {} where account_id = {account}", TEN_YEARS + 86_400)).await;
        let out = sandbox.cli(&["retention", "sweep"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 erased citizens' kept data ended"), "{}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(sandbox.sql_count(&format!("select count(*) from citizen_key where account_id = {account}")).await, 0);
        let (status, _) = ModuleApi::new(&app, &dokumen).read_at(&letter, Some("dokumen.register"), None).await;
        assert_ne!(status, 200, "nothing left to read");

        // Audited.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let erasures: Vec<_> = rows.iter().filter(|r| r.action == "citizen.erase").collect();
        assert_eq!(erasures.len(), 2);
        assert!(erasures.iter().any(|r| r.actor_id == siti && r.reason.as_deref() == Some("citizen_request_kept_by_law")));
        assert!(rows.iter().any(|r| r.action == "citizen.erase_finish" && r.target_id.as_deref() == Some(siti.as_str())));
    }
}

backend_test! {
    async fn what_an_erasure_kept_ends_when_its_module_ends_it(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let dokumen = add_module(&sandbox, "dokumen");
        let registration = json!({ "fields": [{ "name": "document_number", "classification": "personal" }] });
        assert_eq!(ModuleApi::new(&app, &dokumen).define("dokumen.registration", registration).await.0, 200);
        let (rina, browser) = citizen_deciding(&app, SITI_NIK, "Rina Wati", &[], "grant").await;
        let letter = format!("/api/collections/dokumen.registration/records/{rina}/d1");
        assert_eq!(ModuleApi::new(&app, &dokumen).write_at(&letter, &[("document_number", Some("SKP-1"))]).await.0, 204);
        let done = erase(&browser, true).await;
        assert_eq!(kept_fields(&done.body), ["dokumen.registration.document_number", "profile.full_name", "profile.nik"]);
        let account = format!("(select account_id from account where pseudonym = '{rina}')");
        let out = sandbox.cli(&["retention", "sweep"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 erased citizens' kept data ended"), "still kept");
        // The module ends the record: nothing is kept any more, the key goes.
        assert_eq!(ModuleApi::new(&app, &dokumen).delete_at(&letter).await.0, 204);
        let out = sandbox.cli(&["retention", "sweep"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 erased citizens' kept data ended"), "{}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(sandbox.sql_count(&format!("select count(*) from citizen_key where account_id = {account}")).await, 0);
        assert_eq!(sandbox.sql_count(&format!("select count(*) from citizen_field where account_id = {account}")).await, 0);
        let (status, _) = ModuleApi::new(&app, &dokumen).read_at(&letter, Some("dokumen.register"), None).await;
        assert_eq!(status, 404);
    }
}
