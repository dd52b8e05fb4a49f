//! The right to data portability (UU PDP Art. 13): a citizen downloads
//! everything held about them, with the purposes each field serves and
//! their consent history, signed; the signature verifies offline with the
//! published key and fails when one byte changes; the export is audited
//! and only ever the signed-in citizen's own; the consent page lists their
//! choices.

use reqwest::Method;

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets, open_case};
use crate::support::{BIN, Lib, Sandbox};

backend_test! {
    async fn a_citizen_downloads_everything_signed_and_it_verifies_offline(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["antrian.priority"], "grant").await;
        let (_budi, budi_browser) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &[], "grant").await;
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("queue_number", Some("A-017")), ("health_note", Some("kursi roda"))]).await.0, 204);
        open_case(&app, &antrian, &siti).await;

        let got = browser.send(Method::GET, "/api/profile/export", None).await;
        assert_eq!(got.status, 200, "{:?}", got.body);
        let data = &got.body["data"];
        assert_eq!(data["format"], "jaga-export/1");
        assert_eq!(data["sub"], siti.as_str());
        assert_eq!(data["profile"]["full_name"], "Siti Aminah");
        assert_eq!(data["profile"]["nik"], "1971015507900002");
        assert_eq!(data["records"][0]["values"]["health_note"], "kursi roda");
        assert_eq!(data["consents"][0]["purpose"], "antrian.priority");
        assert_eq!(data["consents"][0]["decision"], "grant");
        let serves = |field: &str| data["purposes"][field].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(serves("antrian.ticket.health_note"), ["antrian.priority"]);
        assert!(serves("antrian.ticket.queue_number").contains(&"antrian.call".to_owned()));
        assert!(serves("profile.full_name").contains(&"loket.bantuan".to_owned()), "{:?}", data["purposes"]);
        // Budi's export holds nothing of Siti's.
        let budi = budi_browser.send(Method::GET, "/api/profile/export", None).await;
        assert_eq!(budi.status, 200);
        assert!(!budi.body.to_string().contains("Siti Aminah") && !budi.body.to_string().contains(&siti));

        // Verified offline with nothing but the published key.
        let jwks = app.get("/.well-known/jaga-consent-keys").await.text().await.unwrap();
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("jwks.json"), &jwks).unwrap();
        std::fs::write(work.path().join("export.json"), got.body.to_string()).unwrap();
        let verify = |name: &str| {
            std::process::Command::new(BIN)
                .args(["consent", "verify-receipt"])
                .arg(work.path().join(name))
                .arg("--jwks")
                .arg(work.path().join("jwks.json"))
                .env_clear()
                .output()
                .unwrap()
        };
        let out = verify("export.json");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains(&format!("export 1: valid — everything held about {siti}")), "{said}");
        assert!(said.contains("1 records, 1 consent decisions"), "{said}");
        let jws = got.body["export"].as_str().unwrap();
        let middle = jws.find('.').unwrap() + 12;
        let mut bytes = jws.as_bytes().to_vec();
        bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
        std::fs::write(work.path().join("changed.jws"), &bytes).unwrap();
        assert_eq!(verify("changed.jws").status.code(), Some(3));

        // Audited with every field opened.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let export = rows.iter().find(|r| r.action == "data.export" && r.actor_id == siti).unwrap();
        assert!(export.target_fields.contains("profile.nik") && export.target_fields.contains("antrian.ticket.health_note"));

        // The consent page lists the citizen's choices, in Bahasa first.
        let page = browser.page("/account/consents").await;
        assert!(page.contains("<h1>Persetujuan</h1>"), "{page}");
        assert!(page.contains("id=\"consent-antrian.priority\"") && page.contains("Tarik persetujuan"), "{page}");
        assert!(page.contains("id=\"consent-notifikasi.status\"") && page.contains("Batasi pemrosesan"), "{page}");
        assert!(!page.contains("id=\"consent-antrian.call\""), "not a choice");
        drop(app);
        sandbox.drop_database().await;
    }
}
