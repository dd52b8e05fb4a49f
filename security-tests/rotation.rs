//! Key rotation and erasure through the real commands: a KEK rotated and
//! every data key re-wrapped while the service runs, retirement only of
//! unused versions, the blind-index key replaced, and a citizen erased so
//! that nothing left can be opened, root keys or not.

use reqwest::Method;
use serde_json::json;

use crate::accounts::counter_officer;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::modules::ModuleApi;
use crate::support::modules::add_module;
use crate::support::{Lib, Sandbox};

fn run(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const NIKS: [&str; 3] = ["1971015507900002", "1971011203850001", "1971014101000003"];

backend_test! {
    async fn data_written_before_a_kek_rotation_reads_after_rotate_and_rewrap_while_serving(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        crate::support::modules::define_tickets(&app, &antrian).await;
        let mut people = Vec::new();
        for (i, nik) in NIKS.iter().enumerate() {
            let mut b = Browser::new(&app);
            let pseudonym = b
                .enrol(nik, &format!("Warga Nomor {}", ["Satu", "Dua", "Tiga"][i]))
                .await
                .body["account"]
                .as_str()
                .unwrap()
                .to_owned();
            b.me().await;
            let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/t{i}");
            let (status, _) = ModuleApi::new(&app, &antrian).write_at(&path, &[("queue_number", Some(format!("B-{i}").as_str()))]).await;
            assert_eq!(status, 204);
            crate::support::modules::open_case(&app, &antrian, &pseudonym).await;
            people.push((b, pseudonym, path));
        }
        assert!(run(&sandbox, &["keys", "status"]).contains("1\t3\tactive"));

        let rotated = run(&sandbox, &["keys", "rotate"]);
        assert!(rotated.contains("KEK version 2 is now active"), "{rotated}");
        // Version 1 still wraps every key: it cannot be retired yet.
        let refused = sandbox.cli(&["keys", "retire", "--kek-version", "1"]);
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("still wraps 3 data keys"), "{said}");

        let rewrapped = run(&sandbox, &["keys", "rewrap"]);
        assert!(
            rewrapped.contains("3 data keys re-wrapped under KEK version 2"),
            "{rewrapped}"
        );
        let status = run(&sandbox, &["keys", "status"]);
        assert!(
            status.contains("1\t0\tretirable") && status.contains("2\t3\tactive"),
            "{status}"
        );
        // Resumable and idempotent: nothing left to do.
        assert!(run(&sandbox, &["keys", "rewrap"]).contains("0 data keys re-wrapped"));

        // The running service, which started with version 1 only, reads
        // everything (it adopts version 2 when it first meets it).
        for (b, _, path) in &people {
            let own = b.send(Method::GET, "/api/profile", None).await;
            assert_eq!(own.status, 200, "{:?}", own.body);
            assert!(own.body["full_name"].as_str().unwrap().starts_with("Warga Nomor"));
            let (status, body) = ModuleApi::new(&app, &antrian).read_at(path, Some("antrian.call"), None).await;
            assert_eq!(status, 200, "{body:?}");
        }
        assert!(
            sandbox.cli(&["keys", "retire", "--kek-version", "2"]).status.code() != Some(0),
            "active"
        );
        assert!(run(&sandbox, &["keys", "retire", "--kek-version", "1"]).contains("retired"));
        let text = std::fs::read_to_string(sandbox.keys_path()).unwrap();
        assert_eq!(
            text.matches("[[vault.kek]]").count(),
            1,
            "{}",
            text.lines()
                .filter(|l| l.contains("kek"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        // A new citizen after all this, and a restart: still readable.
        let mut newcomer = Browser::new(&app);
        assert_eq!(newcomer.enrol("1971016602950004", "Warga Baru").await.status, 201);
        let paths: Vec<String> = people.into_iter().map(|(_, _, path)| path).collect();
        drop(newcomer);
        drop(app);
        let app = sandbox.serve();
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&paths[2], Some("antrian.call"), None).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"]["queue_number"], "B-2");
        let out = run(&sandbox, &["citizens", "find", "--nik", "1971016602950004"]);
        assert!(out.contains("W. B."), "{out}");
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn an_erased_citizen_cannot_be_read_by_anyone_with_any_key(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        crate::support::modules::define_tickets(&app, &antrian).await;
        let mut siti = Browser::new(&app);
        let pseudonym = siti.enrol(NIKS[0], "Siti Aminah").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        siti.me().await;
        let contact = json!({ "phone": "081234565678", "email": "siti@example.go.id" });
        let patched = siti
            .send(
                Method::PATCH,
                "/api/profile",
                Some(serde_json::to_vec(&contact).unwrap()),
            )
            .await;
        assert_eq!(patched.status, 204);
        let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("health_note", Some("diabetes"))]).await.0, 204);

        // A backup taken before the erasure: every sealed value.
        let lib = Lib::open(&sandbox).await;
        let account = jaga::store::identity::account_by_pseudonym(&lib.db, &pseudonym)
            .await
            .unwrap()
            .unwrap();
        let id = account.account_id.clone();
        let backup = jaga::store::vault::read_fields(&lib.db, &id, "").await.unwrap();
        let records = jaga::store::modules::record(&lib.db, "antrian.ticket", &id, "1")
            .await
            .unwrap();
        assert_eq!(backup.len(), 4, "nik, name, phone, email");
        assert_eq!(records.len(), 1);
        lib.close().await;

        let out = run(
            &sandbox,
            &[
                "citizens",
                "erase",
                "--citizen",
                &pseudonym,
                "--reason",
                "citizen_request",
            ],
        );
        assert!(out.contains("erased"), "{out}");
        // Erasing twice is refused; an unknown pseudonym too.
        assert!(
            !sandbox
                .cli(&["citizens", "erase", "--citizen", &pseudonym])
                .status
                .success()
        );
        assert!(
            !sandbox
                .cli(&["citizens", "erase", "--citizen", "ctz_nobody"])
                .status
                .success()
        );

        // Their session ended, their passkey no longer signs in, modules
        // and officers no longer find them.
        assert_eq!(siti.send(Method::GET, "/api/profile", None).await.status, 401);
        assert_eq!(siti.sign_in().await.status, 401);
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.call"), None).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (404, Some("no_citizen")));
        let officer = counter_officer(&sandbox, &app).await;
        let found = officer
            .counter_find(NIKS[0])
            .await;
        assert_eq!(found.status, 404);
        // The NIK is free again: the person may enrol anew.
        let mut again = Browser::new(&app);
        assert_eq!(again.enrol(NIKS[0], "Siti Aminah").await.status, 201);
        drop(app);

        // With every root key, nothing in the database opens the backup:
        // the data key is gone, and no other citizen's key fits.
        let lib = Lib::open(&sandbox).await;
        assert!(jaga::store::vault::read_key(&lib.db, &id).await.unwrap().is_none());
        assert!(
            jaga::store::vault::read_fields(&lib.db, &id, "")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            jaga::store::modules::record(&lib.db, "antrian.ticket", &id, "1")
                .await
                .unwrap()
                .is_empty()
        );
        let others = jaga::store::vault::accounts_with_keys(&lib.db, "", 1000).await.unwrap();
        assert!(!others.is_empty());
        for other in &others {
            let key = jaga::store::vault::read_key(&lib.db, other).await.unwrap().unwrap();
            let (dek, _) = jaga::vault::citizen::unwrap_row(&key, &lib.keys.vault).unwrap();
            for row in &backup {
                for claimed in [id.as_str(), other.as_str()] {
                    let opened =
                        jaga::vault::citizen::open_with(&dek, claimed, &row.field, row.record_version, &row.sealed);
                    assert!(opened.is_err(), "{} opened with {other}'s key", row.field);
                }
            }
        }
        let erased = jaga::store::identity::account_by_id(&lib.db, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(erased.status, jaga::account::Status::Erased);
        assert!(erased.nik_index.is_none());
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        let event = rows.iter().find(|r| r.action == "citizen.erase").unwrap();
        assert_eq!(event.target_id.as_deref(), Some(pseudonym.as_str()));
        assert_eq!(event.actor_kind, "operator");
        assert_eq!(event.reason.as_deref(), Some("citizen_request"));
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_new_blind_index_key_rebuilds_every_index(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut siti = Browser::new(&app);
        assert_eq!(siti.enrol(NIKS[0], "Siti Aminah").await.status, 201);
        siti.me().await;
        let contact = json!({ "phone": "081234565678", "email": "siti@example.go.id" });
        let patched = siti
            .send(
                Method::PATCH,
                "/api/profile",
                Some(serde_json::to_vec(&contact).unwrap()),
            )
            .await;
        assert_eq!(patched.status, 204);
        let before = std::fs::read_to_string(sandbox.keys_path()).unwrap();
        drop(app);

        let out = run(&sandbox, &["keys", "rotate-index"]);
        assert!(out.contains("1 accounts re-indexed"), "{out}");
        let after = std::fs::read_to_string(sandbox.keys_path()).unwrap();
        assert_ne!(before, after);
        assert!(!after.contains("pending_hmac_key"));

        let app = sandbox.serve();
        // Uniqueness and lookups work under the new key.
        let twice = Browser::new(&app).enrol_start(NIKS[0], "Not Siti").await;
        assert_eq!(twice.body["error"], "nik_taken");
        let officer = counter_officer(&sandbox, &app).await;
        let found = officer
            .counter_find(NIKS[0])
            .await;
        assert_eq!(found.status, 200, "{:?}", found.body);
        drop(app);
        let lib = Lib::open(&sandbox).await;
        for (domain, value) in [("phone", "+6281234565678"), ("email", "siti@example.go.id")] {
            let digest = jaga::profile::index::digest(&lib.keys.index, domain, value);
            assert_eq!(
                jaga::store::vault::read_accounts_by_index(&lib.db, domain, &digest)
                    .await
                    .unwrap()
                    .len(),
                1
            );
            let old = jaga::keys::KeyRing::parse(&before).unwrap();
            let stale = jaga::profile::index::digest(&old.index, domain, value);
            assert!(
                jaga::store::vault::read_accounts_by_index(&lib.db, domain, &stale)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        lib.close().await;

        // An unfinished rotation keeps the service from starting.
        jaga::keys::edit::begin_index_rotation(&sandbox.keys_path()).unwrap();
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("rotate-index"), "{said}");
        sandbox.drop_database().await;
    }
}
