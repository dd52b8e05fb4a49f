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

async fn erase(browser: &Browser<'_>, confirm: bool) -> Answer {
    let body = serde_json::to_vec(&json!({ "confirm": confirm })).unwrap();
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

        // It takes a confirmation.
        let unconfirmed = erase(&siti_browser, false).await;
        assert_eq!((unconfirmed.status.as_u16(), &unconfirmed.body["error"]), (400, &json!("confirmation_required")));
        assert_eq!(siti_browser.send(Method::GET, "/api/profile", None).await.status, 200, "nothing happened");

        let done = erase(&siti_browser, true).await;
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
