//! Children and guardians (UU PDP Art. 25): a citizen under 18 by their
//! NIK cannot grant consent alone; a counter officer links a guardian
//! after checking the family card; the guardian decides for the child (and
//! nobody else can); at 18 the link lapses and the citizen is asked to
//! confirm or withdraw what the guardian gave.

use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_of_unit;
use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{ModuleApi, add_module, citizen_deciding};
use crate::support::{Lib, Sandbox};

/// Born 5 August 2016 (a girl): under 18 until 2034.
const CHILD_NIK: &str = "1971014508160003";
/// Born 5 August 2000: the same child's NIK, corrected at the counter.
const CORRECTED_NIK: &str = "1971014508000003";
const GUARDIAN_NIK: &str = "1971015507900002";
const STRANGER_NIK: &str = "1971011203850001";
/// The family card listing the child and the guardian.
const KK: &str = "1971012001150001";

async fn put(browser: &Browser<'_>, path: &str, body: Value) -> Answer {
    browser
        .send(Method::PUT, path, Some(serde_json::to_vec(&body).unwrap()))
        .await
}

async fn link(who: &Browser<'_>, child_nik: &str, guardian_nik: &str) -> Answer {
    let body = serde_json::to_vec(&json!({ "child_nik": child_nik, "guardian_nik": guardian_nik })).unwrap();
    who.send(Method::POST, "/api/counter/guardians", Some(body)).await
}

backend_test! {
    async fn a_child_consents_through_a_guardian_linked_at_the_counter(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let survei = add_module(&sandbox, "survei");
        let (child, child_browser) = citizen_deciding(&app, CHILD_NIK, "Ani Lestari", &[], "grant").await;
        let (guardian, guardian_browser) = citizen_deciding(&app, GUARDIAN_NIK, "Siti Aminah", &[], "grant").await;
        let (_stranger, stranger_browser) = citizen_deciding(&app, STRANGER_NIK, "Budi Santoso", &[], "grant").await;
        let (officer, _) = officer_of_unit(&sandbox, &app).await;

        // The child alone: a grant is refused, a refusal is theirs to make.
        let own = put(&child_browser, "/api/consents/survei.kepuasan", json!({ "decision": "grant" })).await;
        assert_eq!((own.status.as_u16(), &own.body["error"]), (403, &json!("guardian_required")), "{:?}", own.body);
        let refused = put(&child_browser, "/api/consents/survei.kepuasan", json!({ "decision": "refuse" })).await;
        assert_eq!(refused.status, 200, "{:?}", refused.body);

        // Linking is the counter's, after the family card is checked.
        assert_eq!(link(&guardian_browser, CHILD_NIK, GUARDIAN_NIK).await.status, 403, "only a counter officer links");
        assert_eq!(link(&officer, GUARDIAN_NIK, STRANGER_NIK).await.status, 409, "an adult is nobody's ward");
        assert_eq!(link(&officer, STRANGER_NIK, CHILD_NIK).await.status, 409, "a child is nobody's guardian");
        assert_eq!(link(&officer, "1971014508160099", GUARDIAN_NIK).await.status, 404);
        // The family card must be on record for both, and the same.
        let no_kk = link(&officer, CHILD_NIK, GUARDIAN_NIK).await;
        assert_eq!((no_kk.status.as_u16(), &no_kk.body["error"]), (409, &json!("kk_mismatch")), "{:?}", no_kk.body);
        for who in [&child, &guardian] {
            let set = put(&officer, &format!("/api/counter/citizens/{who}/identity"), json!({ "kk": KK })).await;
            assert_eq!(set.status, 200, "{:?}", set.body);
        }
        let linked = link(&officer, CHILD_NIK, GUARDIAN_NIK).await;
        assert_eq!(linked.status, 204, "{:?}", linked.body);
        // Every attempt is on the record; the link names both.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let links: Vec<_> = rows.iter().filter(|r| r.action == "guardian.link").collect();
        assert_eq!(links.iter().filter(|r| r.outcome == "denied").count(), 4, "{links:?}");
        let linked_ids: Vec<_> = links.iter().filter(|r| r.outcome == "success").filter_map(|r| r.target_id.clone()).collect();
        assert_eq!(linked_ids, [child.clone(), guardian.clone()]);

        // The guardian sees the ward and decides; a stranger cannot.
        let wards = guardian_browser.send(Method::GET, "/api/wards", None).await;
        assert_eq!(wards.body[0]["citizen"], child.as_str(), "{:?}", wards.body);
        let ward_path = format!("/api/wards/{child}/consents/survei.kepuasan");
        let stranger = put(&stranger_browser, &ward_path, json!({ "decision": "grant" })).await;
        assert_eq!(stranger.status, 404, "{:?}", stranger.body);
        assert_eq!(stranger_browser.send(Method::GET, "/api/wards", None).await.body, json!([]));
        let granted = put(&guardian_browser, &ward_path, json!({ "decision": "grant" })).await;
        assert_eq!((granted.status.as_u16(), &granted.body["in_force"]), (200, &json!(true)), "{:?}", granted.body);

        // The module may now process the child's survey answer.
        let api = ModuleApi::new(&app, &survei);
        let definition = json!({ "fields": [{ "name": "rating", "classification": "children" }] });
        assert_eq!(api.define("survei.response", definition).await.0, 200);
        let path = format!("/api/collections/survei.response/records/{child}/r1");
        assert_eq!(api.write_at(&path, &[("rating", Some("5"))]).await.0, 204);
        assert_eq!(api.read_at(&path, Some("survei.kepuasan"), None).await.0, 200);

        // Recorded as the guardian's, with its own receipt.
        let lib = Lib::open(&sandbox).await;
        let history = jaga::store::consent::history(&lib.db, &jaga::store::identity::accounts_by_pseudonyms(&lib.db, &[child.as_str()]).await.unwrap()[0].account_id).await.unwrap();
        lib.close().await;
        let last = history.last().unwrap();
        assert_eq!((last.decision.as_str(), last.method.as_str()), ("grant", "guardian"));
        assert_ne!(last.recorded_by, last.account_id);

        // At 18 (here: the NIK corrected at the counter) the link lapses,
        // and the citizen is asked to confirm or withdraw.
        let fixed = put(&officer, &format!("/api/counter/citizens/{child}/identity"), json!({ "nik": CORRECTED_NIK })).await;
        assert_eq!(fixed.status, 200, "{:?}", fixed.body);
        let lapsed = put(&guardian_browser, &ward_path, json!({ "decision": "withdraw" })).await;
        assert_eq!((lapsed.status.as_u16(), &lapsed.body["error"]), (403, &json!("link_lapsed")), "{:?}", lapsed.body);
        let page = child_browser.page("/account/consents").await;
        assert!(page.contains("Persetujuan ini diberikan oleh wali Anda"), "{page}");
        assert!(page.contains(">Konfirmasi<"), "{page}");
        let confirmed = put(&child_browser, "/api/consents/survei.kepuasan", json!({ "decision": "grant" })).await;
        assert_eq!(confirmed.status, 200, "an adult grants alone: {:?}", confirmed.body);
        assert!(!child_browser.page("/account/consents").await.contains("diberikan oleh wali Anda"));
        drop(app);
        sandbox.drop_database().await;
    }
}
