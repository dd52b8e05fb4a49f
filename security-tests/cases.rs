//! The lawful basis of a contract or a public task: a module reads a
//! citizen's data for such a purpose only while the citizen has an open
//! case with that module; closing the case stops the next read, and
//! another module's case does not count.

use reqwest::Method;
use serde_json::json;

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, call, citizen_deciding, define_tickets};
use crate::support::{Lib, Sandbox};

backend_test! {
    async fn a_public_task_reads_only_while_the_case_is_open(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let notifikasi = add_module(&sandbox, "notifikasi");
        define_tickets(&app, &antrian).await;
        let (siti, browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        assert_eq!(api.write_at(&path, &[("queue_number", Some("A-017"))]).await.0, 204);
        let case = format!("/api/cases/{siti}/tiket-17");

        // No case yet: refused, and the reason is the basis.
        let (status, body) = api.read_at(&path, Some("antrian.call"), None).await;
        assert_eq!(status, 403, "{body:?}");
        assert!(body["message"].as_str().unwrap().contains("no_open_case"), "{body:?}");
        // Another module's case does not count for this module.
        assert_eq!(call(&app, &notifikasi, Method::PUT, &case, Some(json!({ "state": "open" }))).await.0, 204);
        assert_eq!(api.read_at(&path, Some("antrian.call"), None).await.0, 403);

        assert_eq!(call(&app, &antrian, Method::PUT, &case, Some(json!({ "state": "open" }))).await.0, 204);
        assert_eq!(call(&app, &antrian, Method::PUT, &case, Some(json!({ "state": "open" }))).await.0, 204, "opening twice is harmless");
        let (status, body) = api.read_at(&path, Some("antrian.call"), None).await;
        assert_eq!((status.as_u16(), &body["values"]["queue_number"]), (200, &json!("A-017")), "{body:?}");

        // Closed: the very next read is refused (in a batch, per record).
        assert_eq!(call(&app, &antrian, Method::PUT, &case, Some(json!({ "state": "closed", "event": "ticket_closed" }))).await.0, 204);
        let (status, body) = api.read_batch("antrian.ticket", Some("antrian.call"), &[(siti.as_str(), "t1")]).await;
        assert_eq!(status, 200);
        assert_eq!(body["records"][0]["refused"], "no_open_case", "{body:?}");
        assert!(body["records"][0]["values"].is_null());

        // Bad input is a clear 4xx.
        for (case_path, body, want) in [
            (format!("/api/cases/{siti}/bad%20id"), json!({ "state": "open" }), 400),
            (case.clone(), json!({ "state": "closed", "event": "Not An Event" }), 400),
            (case.clone(), json!({ "state": "open", "event": "x" }), 400),
            (case.clone(), json!({ "state": "ajar" }), 422),
            ("/api/cases/ctz_nobody/c1".to_owned(), json!({ "state": "open" }), 404),
        ] {
            let (status, answer) = call(&app, &antrian, Method::PUT, &case_path, Some(body)).await;
            assert_eq!(status.as_u16(), want, "{case_path}: {answer:?}");
        }

        // On the record, and told to the citizen.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let case_events: Vec<_> = rows
            .iter()
            .filter(|r| r.action.starts_with("case.") && r.actor_id == "antrian")
            .map(|r| (r.action.as_str(), r.reason.as_deref()))
            .collect();
        assert_eq!(case_events, [("case.open", None), ("case.close", Some("ticket_closed"))]);
        assert!(rows.iter().any(|r| r.action == "record.read" && r.reason.as_deref() == Some("no_open_case")));
        let history = browser.page("/account/activity").await;
        assert!(history.contains("Layanan Antrian membuka berkas layanan untuk Anda."), "{history}");
        assert!(history.contains("Anda tidak sedang memiliki berkas yang terbuka pada layanan ini"), "{history}");
        drop(app);
        sandbox.drop_database().await;
    }
}
