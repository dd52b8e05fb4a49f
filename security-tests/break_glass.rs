//! Break-glass: a security officer reads a citizen's data without consent
//! only with a written justification and for a bounded window, as the
//! Cedar policy decides; every attempt is audited with the deciding
//! policies, the citizen sees it in plain words, the justification is
//! sealed, the window closes, and nobody else can use the grant.

use reqwest::Method;
use serde_json::json;

use crate::counter_recovery::officer_with_role;
use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets};
use crate::support::{Lib, Sandbox};

const WHY: &str = "Laporan kepolisian no. 17/XII/2026: dugaan pemalsuan identitas pemohon";

async fn open(officer: &Browser<'_>, citizen: &str, justification: &str, minutes: u32) -> Answer {
    let body = json!({ "citizen": citizen, "justification": justification, "minutes": minutes });
    officer
        .send(
            Method::POST,
            "/api/break-glass",
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await
}

async fn break_glass_events(sandbox: &Sandbox) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows.into_iter()
        .filter(|r| r.action.starts_with("breakglass."))
        .collect()
}

backend_test! {
    async fn break_glass_needs_the_role_a_reason_and_a_short_window_and_is_seen(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("queue_number", Some("A-017"))]).await.0, 204);
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let (other_security, _) = officer_with_role(&sandbox, &app, "security").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;

        // The policy decides: role, length of the reason, length of the window.
        for (who, reason, minutes) in [(&counter, WHY, 30), (&security, "darurat", 30), (&security, WHY, 120)] {
            let refused = open(who, &siti, reason, minutes).await;
            assert_eq!((refused.status.as_u16(), &refused.body["error"]), (403, &json!("break_glass_refused")), "{:?}", refused.body);
        }
        let refused = open(&citizen, &siti, WHY, 30).await;
        assert_eq!(refused.status, 403, "a citizen cannot break the glass");
        assert_eq!(open(&security, "ctz_nobody", WHY, 30).await.status, 404);
        assert_eq!(open(&security, &siti, "", 30).await.status, 422);

        let opened = open(&security, &siti, WHY, 30).await;
        assert_eq!(opened.status, 201, "{:?}", opened.body);
        let grant = opened.body["grant"].as_str().unwrap().to_owned();
        let url = format!("/api/break-glass/{grant}");

        // Nobody but the officer who opened it can use the grant.
        for other in [&other_security, &counter, &citizen] {
            let answer = other.send(Method::GET, &url, None).await;
            assert_eq!(answer.status, 404, "{:?}", answer.body);
        }
        let probes = break_glass_events(&sandbox).await;
        assert_eq!(
            probes.iter().filter(|e| e.reason.as_deref() == Some("not_the_grant_holder")).count(),
            3,
            "each try at another's grant is on the record"
        );
        let read = security.send(Method::GET, &url, None).await;
        assert_eq!(read.status, 200, "{:?}", read.body);
        assert_eq!(read.body["profile"]["full_name"], "Siti Aminah");
        assert_eq!(read.body["profile"]["nik"], "1971015507900002");
        assert!(read.body.get("records").is_none(), "module records stay behind their modules' purposes");

        // On the record: the refusals, the opening (for review) and the read,
        // each naming the policies that decided.
        let events = break_glass_events(&sandbox).await;
        let opens: Vec<_> = events.iter().filter(|e| e.action == "breakglass.open").collect();
        assert_eq!(opens.iter().filter(|e| e.outcome == "denied").count(), 4, "{opens:?}");
        let granted = opens.iter().find(|e| e.outcome == "success").unwrap();
        assert_eq!(granted.reason.as_deref(), Some("review_required"));
        assert_eq!(granted.policies, "security-break-glass");
        assert_eq!(granted.target_id.as_deref(), Some(siti.as_str()));
        let reads: Vec<_> = events.iter().filter(|e| e.action == "breakglass.read" && e.outcome == "success").collect();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].reason.as_deref(), Some("break_glass"));
        assert!(reads[0].target_fields.contains("profile.nik"), "{}", reads[0].target_fields);
        assert!(!reads[0].target_fields.contains("antrian."), "{}", reads[0].target_fields);
        assert_eq!(reads[0].purpose.as_deref(), Some("keamanan.darurat"));

        // The justification is sealed, and the grant waits for review.
        let lib = Lib::open(&sandbox).await;
        let row = jaga::store::break_glass::get(&lib.db, &grant).await.unwrap().unwrap();
        let queue = jaga::store::break_glass::unreviewed(&lib.db, 10).await.unwrap();
        lib.close().await;
        assert!(!row.justification.windows(WHY.len()).any(|w| w == WHY.as_bytes()), "justification in plaintext");
        assert_eq!(queue.iter().map(|r| r.grant_id.as_str()).collect::<Vec<_>>(), [grant.as_str()]);

        // The citizen is told, in plain words.
        let history = citizen.page("/account/activity").await;
        assert!(history.contains("membuka akses darurat ke data Anda tanpa persetujuan Anda"), "{history}");
        assert!(history.contains("nama lengkap"), "{history}");
        assert!(history.contains("dengan akses darurat."), "{history}");

        // The window closes (time passing, stood in for).
        assert_eq!(sandbox.sql_exec(&format!("update break_glass set expires_at = 0 where grant_id = '{grant}'")).await, 1);
        let late = security.send(Method::GET, &url, None).await;
        assert_eq!((late.status.as_u16(), &late.body["error"]), (403, &json!("break_glass_expired")), "{:?}", late.body);
        let events = break_glass_events(&sandbox).await;
        assert!(events.iter().any(|e| e.action == "breakglass.read" && e.reason.as_deref() == Some("expired")));
        let out = sandbox.cli(&["audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        drop(app);
        sandbox.drop_database().await;
    }
}
