//! Retention of module records: a field ends once every purpose that uses
//! it is past its retention (a duration since the last write, or the event
//! the module recorded when closing the citizen's case); the dry run lists
//! exactly what the sweep then ends, audited and told to the citizen.

use reqwest::Method;
use serde_json::json;

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, call, citizen_deciding, define_tickets, open_case};
use crate::support::{Lib, Sandbox};

const DAY: i64 = 86_400;

backend_test! {
    async fn the_sweep_ends_exactly_what_is_past_retention(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, siti_browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (budi, _budi_browser) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &[], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        let ticket = [("queue_number", Some("A-017")), ("service", Some("KTP")), ("health_note", Some("kursi roda"))];
        for (who, record) in [(&siti, "old"), (&siti, "new"), (&budi, "old")] {
            let path = format!("/api/collections/antrian.ticket/records/{who}/{record}");
            assert_eq!(api.write_at(&path, &ticket).await.0, 204);
        }
        // The "old" records were last written 40 days ago.
        let moved = sandbox
            .sql_exec(&format!("update record_field set updated_at = updated_at - {} where record_id = 'old'", 40 * DAY))
            .await;
        assert_eq!(moved, 6);
        // Siti's ticket is closed; Budi's case is still open.
        open_case(&app, &antrian, &siti).await;
        let closed = call(&app, &antrian, Method::PUT, &format!("/api/cases/{siti}/c1"), Some(json!({ "state": "closed", "event": "ticket_closed" }))).await;
        assert_eq!(closed.0, 204);
        open_case(&app, &antrian, &budi).await;

        // antrian.call keeps the number and service 30 days; antrian.priority
        // keeps all three until ticket_closed. So for Siti: all of "old", and
        // the health note of "new"; nothing of Budi's (his case is open).
        let expected = [
            format!("{siti}\tantrian.ticket\tnew\thealth_note\tantrian.priority"),
            format!("{siti}\tantrian.ticket\told\thealth_note\tantrian.priority"),
            format!("{siti}\tantrian.ticket\told\tqueue_number\tantrian.call,antrian.priority"),
            format!("{siti}\tantrian.ticket\told\tservice\tantrian.call,antrian.priority"),
        ];
        let before = sandbox.sql_count("select count(*) from record_field").await;
        let out = sandbox.cli(&["retention", "sweep", "--dry-run"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        let mut listed: Vec<&str> = said.lines().filter(|l| l.starts_with("ctz_")).collect();
        listed.sort_unstable();
        assert_eq!(listed, expected.iter().map(String::as_str).collect::<Vec<_>>(), "{said}");
        assert!(said.contains("4 record fields would end (dry run: nothing changed)"), "{said}");
        assert_eq!(sandbox.sql_count("select count(*) from record_field").await, before, "a dry run changes nothing");

        let out = sandbox.cli(&["retention", "sweep"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("4 record fields ended"));
        assert_eq!(sandbox.sql_count("select count(*) from record_field").await, before - 4);
        let (status, body) = api.read_at(&format!("/api/collections/antrian.ticket/records/{budi}/old"), Some("antrian.call"), None).await;
        assert_eq!((status.as_u16(), &body["values"]["queue_number"]), (200, &json!("A-017")), "Budi's record is kept: {body:?}");
        let again = sandbox.cli(&["retention", "sweep", "--dry-run"]);
        assert!(String::from_utf8_lossy(&again.stdout).contains("0 record fields would end"));

        // Audited per record, and told to the citizen.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let expired: Vec<_> = rows.iter().filter(|r| r.action == "record.expire").collect();
        assert_eq!(expired.len(), 2, "one event per record");
        assert!(expired.iter().all(|r| r.target_id.as_deref() == Some(siti.as_str()) && r.reason.as_deref() == Some("retention")));
        let history = siti_browser.page("/account/activity").await;
        assert!(history.contains("karena masa simpannya sudah habis."), "{history}");
        let out = sandbox.cli(&["audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        drop(app);
        sandbox.drop_database().await;
    }
}
