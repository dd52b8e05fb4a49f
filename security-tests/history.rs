//! The access history a citizen understands: plain sentences from the
//! catalog's module names, field labels and purpose names, in Bahasa
//! Indonesia (English on request), times in WIB, denials with their
//! reason, no pseudonym of the citizen's own; the greeting uses the
//! citizen's name, read as an audited own-data read.

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets};
use crate::support::{Lib, Sandbox};

backend_test! {
    async fn the_history_speaks_plainly_and_the_greeting_uses_the_name(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        assert_eq!(api.write_at(&path, &[("queue_number", Some("A-017")), ("service", Some("KTP"))]).await.0, 204);
        crate::support::modules::open_case(&app, &antrian, &siti).await;
        assert_eq!(api.read_at(&path, Some("antrian.call"), None).await.0, 200);
        // No consent to the priority purpose: refused, and told so.
        let (status, body) = api.read_at(&path, Some("antrian.priority"), Some("queue_number")).await;
        assert_eq!((status.as_u16(), &body["error"]), (403, &serde_json::json!("purpose_not_allowed")), "{body:?}");

        let page = browser.page("/account/activity").await;
        assert!(
            page.contains("Layanan Antrian membaca nomor antrean dan jenis layanan Anda untuk memanggil nomor antrean."),
            "{page}"
        );
        assert!(
            page.contains("Layanan Antrian meminta data Anda untuk layanan prioritas antrean, tetapi ditolak: Anda belum memberi persetujuan."),
            "{page}"
        );
        assert!(page.contains("Anda masuk dengan passkey.") || page.contains("Anda menambahkan passkey."), "{page}");
        assert!(page.contains(" WIB</time>"), "{page}");
        for identifier in ["record.read", "antrian.ticket.queue_number", "antrian.call", siti.as_str()] {
            assert!(!page.contains(identifier), "{identifier} shown to the citizen");
        }
        let english = browser.page("/account/activity?lang=en").await;
        assert!(
            english.contains("Queue service read your queue number and service chosen for calling a queue ticket."),
            "{english}"
        );
        let api_items = browser.send(reqwest::Method::GET, "/api/activity", None).await;
        let first_read = api_items.body.as_array().unwrap().iter().find(|i| i["action"] == "record.read" && i["outcome"] == "success").unwrap();
        assert!(first_read["summary_id"].as_str().unwrap().starts_with("Layanan Antrian membaca"));
        assert!(first_read["summary_en"].as_str().unwrap().starts_with("Queue service read"));

        // The greeting: the name, not the pseudonym, and the read is audited.
        let home = browser.page("/").await;
        assert!(home.contains("Halo, <strong>Siti Aminah</strong>"), "{home}");
        assert!(!home.contains(&siti), "the pseudonym is not the greeting");
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        assert!(rows.iter().any(|r| r.action == "profile.read"
            && r.actor_id == siti
            && r.target_fields == "profile.full_name"
            && r.purpose.as_deref() == Some("own_data")
            && r.reason.as_deref() == Some("greeting")));
        let page = browser.page("/account/activity").await;
        assert!(page.contains("Anda membuka data Anda sendiri: nama lengkap."), "{page}");
        drop(app);
        sandbox.drop_database().await;
    }
}
