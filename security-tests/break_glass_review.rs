//! The break-glass review queue: every grant waits, showing its age and
//! justification to security officers only, until an officer other than
//! the one who used it accepts or escalates it with a note (sealed);
//! a grant is reviewed once; every step is audited.

use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_with_role;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{citizen_deciding, jaga_sql};
use crate::support::{Lib, Sandbox, backend_test};

const WHY: &str = "Laporan kepolisian no. 17/XII/2026: dugaan pemalsuan identitas pemohon";
const QUEUE: &str = "/api/security/break-glass";

async fn send(who: &Browser<'_>, method: Method, path: &str, body: Option<Value>) -> Answer {
    who.send(method, path, body.map(|b| serde_json::to_vec(&b).unwrap()))
        .await
}

async fn review(who: &Browser<'_>, grant: &str, decision: &str, note: &str) -> Answer {
    let body = json!({ "decision": decision, "note": note });
    send(who, Method::POST, &format!("{QUEUE}/{grant}/review"), Some(body)).await
}

backend_test! {
    async fn another_security_officer_reviews_each_break_glass_once(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (siti, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (opener, _) = officer_with_role(&sandbox, &app, "security").await;
        let (reviewer, reviewer_id) = officer_with_role(&sandbox, &app, "security").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let opened = send(&opener, Method::POST, "/api/break-glass",
            Some(json!({ "citizen": siti, "justification": WHY, "minutes": 30 }))).await;
        assert_eq!(opened.status, 201, "{:?}", opened.body);
        let grant = opened.body["grant"].as_str().unwrap().to_owned();
        // It has waited two hours.
        jaga_sql(&sandbox, &format!("update break_glass set opened_at = opened_at - 7200 where grant_id = '{grant}'")).await;

        // Only security officers see the queue or review.
        for (who, browser) in [("citizen", &citizen), ("counter officer", &counter)] {
            assert_eq!(send(browser, Method::GET, QUEUE, None).await.status, 403, "{who}");
            assert_eq!(review(browser, &grant, "accepted", "Sudah diperiksa, sesuai laporan.").await.status, 403, "{who}");
        }
        assert_eq!(app.get(QUEUE).await.status(), 401);

        // The queue: age, justification, and whose it is.
        let seen = send(&reviewer, Method::GET, QUEUE, None).await;
        assert_eq!(seen.status, 200, "{:?}", seen.body);
        let item = &seen.body.as_array().unwrap()[0];
        assert_eq!((item["grant"].as_str(), item["citizen"].as_str()), (Some(grant.as_str()), Some(siti.as_str())));
        assert_eq!(item["justification"], WHY);
        assert!(item["waiting_secs"].as_i64().unwrap() >= 7200, "{item}");
        assert_eq!(item["own"], false);
        let own = send(&opener, Method::GET, QUEUE, None).await;
        assert_eq!(own.body[0]["own"], true);

        // Not by the officer who used it; a note is required; then once.
        let selfish = review(&opener, &grant, "accepted", "Saya sendiri yang membukanya, sudah benar.").await;
        assert_eq!((selfish.status.as_u16(), selfish.body["error"].as_str()), (403, Some("self_review")));
        assert_eq!(review(&reviewer, &grant, "accepted", "ok").await.status, 422);
        assert_eq!(review(&reviewer, &grant, "approved", "Sudah diperiksa, sesuai laporan.").await.status, 422);
        assert_eq!(review(&reviewer, "bg_nothing", "accepted", "Sudah diperiksa, sesuai laporan.").await.status, 404);
        let note = "Sesuai laporan polisi; jendela 30 menit wajar.";
        let done = review(&reviewer, &grant, "escalated", note).await;
        assert_eq!(done.status, 204, "{:?}", done.body);
        assert_eq!(review(&reviewer, &grant, "accepted", note).await.status, 409);
        let after = send(&reviewer, Method::GET, QUEUE, None).await;
        assert_eq!(after.body, json!([]), "reviewed grants leave the queue");

        // Stored: who, when, the outcome; the note sealed.
        let lib = Lib::open(&sandbox).await;
        let row = jaga::store::break_glass::get(&lib.db, &grant).await.unwrap().unwrap();
        let events = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        assert_eq!(row.review.as_deref(), Some("escalated"));
        assert!(row.reviewed_at.is_some() && row.reviewed_by.is_some());
        let sealed = sandbox.sql_count(&format!(
            "select count(*) from break_glass where grant_id = '{grant}' and review_note is not null")).await;
        assert_eq!(sealed, 1);
        let as_text = if sandbox.pg().is_some() { "encode(review_note, 'escape')" } else { "cast(review_note as text)" };
        let plain = sandbox.sql_count(&format!(
            "select count(*) from break_glass where grant_id = '{grant}' and {as_text} like '%polisi%'")).await;
        assert_eq!(plain, 0, "the note is sealed");

        // Audited: each justification shown, the refused self-review, the review.
        let of = |action: &str, outcome: &str| events.iter().filter(|e| e.action == action && e.outcome == outcome).count();
        assert_eq!(of("breakglass.queue", "success"), 2, "the reviewer's and the opener's look");
        assert_eq!(of("breakglass.review", "denied"), 1);
        let reviewed: Vec<_> = events.iter().filter(|e| e.action == "breakglass.review" && e.outcome == "success").collect();
        assert_eq!(reviewed.len(), 1);
        assert_eq!(reviewed[0].actor_id, reviewer_id);
        assert_eq!(reviewed[0].reason.as_deref(), Some("escalated"));
        assert_eq!(reviewed[0].target_id.as_deref(), Some(grant.as_str()));
    }
}
