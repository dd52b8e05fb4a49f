//! The citizen's profile ("Data saya"): reveal levels, contact edits by the
//! citizen, identity edits only by a counter officer, blind-index lookups,
//! and the audit events each leaves.

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::counter_officer;
use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::{Lib, Sandbox};

const NIK: &str = "1971015507900002";

async fn patch(b: &Browser<'_>, body: &Value) -> Answer {
    b.send(Method::PATCH, "/api/profile", Some(serde_json::to_vec(body).unwrap()))
        .await
}

async fn events(sandbox: &Sandbox) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows
}

fn address() -> Value {
    json!({
        "street": "Jl. Merdeka No. 10",
        "rt_rw": "3/5",
        "kelurahan": "Rangkui",
        "kecamatan": "Rangkui",
        "kabupaten_kota": "Kota Pangkalpinang",
        "province": "Kepulauan Bangka Belitung",
        "postal_code": "33135"
    })
}

backend_test! {
    async fn a_citizen_sees_their_whole_profile_and_edits_contact_fields_only(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut siti = Browser::new(&app);
        assert_eq!(siti.enrol(NIK, "Siti Aminah").await.status, 201);
        siti.me().await;

        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.status, 200, "{:?}", own.body);
        assert_eq!(own.body["reveal"], "plain");
        assert_eq!(own.body["nik"], NIK);
        assert_eq!(own.body["full_name"], "Siti Aminah");
        assert_eq!(own.body["phone"], Value::Null);

        let changed = patch(
            &siti,
            &json!({ "phone": "0812-3456-5678", "email": "Siti@Example.GO.ID", "address": address() }),
        )
        .await;
        assert_eq!(changed.status, 204, "{:?}", changed.body);
        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.body["phone"], "+6281234565678");
        assert_eq!(own.body["email"], "Siti@example.go.id");
        assert_eq!(own.body["address"]["rt_rw"], "003/005");
        assert_eq!(own.body["address"]["postal_code"], "33135");

        // Invalid values are refused naming the field; nothing changes.
        let bad = patch(&siti, &json!({ "phone": "12345", "email": "x@y.id" })).await;
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["error"], "invalid_field");
        assert!(
            bad.body["message"].as_str().unwrap().contains("phone"),
            "{:?}",
            bad.body
        );
        let mut broken = address();
        broken["postal_code"] = json!("331");
        let bad = patch(&siti, &json!({ "address": broken })).await;
        assert!(
            bad.body["message"].as_str().unwrap().contains("address.postal_code"),
            "{:?}",
            bad.body
        );
        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.body["email"], "Siti@example.go.id");

        // Identity fields are not the citizen's to change.
        for field in ["nik", "full_name", "kk", "birth_date", "gender"] {
            let refused = patch(&siti, &json!({ field: "x" })).await;
            assert!(refused.status.is_client_error(), "{field}: {:?}", refused.status);
            assert_ne!(refused.status, 204);
        }
        // Null removes a contact field.
        assert_eq!(patch(&siti, &json!({ "email": null })).await.status, 204);
        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.body["email"], Value::Null);
        assert_eq!(own.body["phone"], "+6281234565678");

        // Without the session cookie, or from another origin, nothing.
        let mut stranger = Browser::new(&app);
        assert_eq!(stranger.send(Method::GET, "/api/profile", None).await.status, 401);
        stranger.origin = "https://evil.example".into();
        stranger.session.clone_from(&siti.session);
        stranger.csrf.clone_from(&siti.csrf);
        assert_eq!(patch(&stranger, &json!({ "phone": "081299998888" })).await.status, 403);

        // The "Data saya" page shows it too (an audited read).
        let page = crate::support::modules::portal_page(&app, &siti, "/account/data").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Data saya") && html.contains(NIK) && html.contains("Siti Aminah"));
        assert!(html.contains("+6281234565678"));
        drop(app);

        let rows = events(&sandbox).await;
        let reads: Vec<_> = rows.iter().filter(|r| r.action == "profile.read").collect();
        assert!(reads.len() >= 5, "{}", reads.len());
        assert!(reads.iter().all(|r| r.purpose.as_deref() == Some("own_data")));
        assert!(reads.iter().any(|r| r.target_fields.contains("profile.nik")));
        // Enrolment's own write of NIK and name is audited too.
        assert!(rows.iter().any(|r| r.action == "profile.write"
            && r.actor_kind == "citizen"
            && r.target_fields == "profile.nik,profile.full_name"));
        let updates: Vec<_> = rows.iter().filter(|r| r.action == "profile.update").collect();
        assert_eq!(updates.len(), 2, "only the two accepted changes");
        assert_eq!(updates[0].target_fields, "profile.phone,profile.email,profile.address");
        assert_eq!(updates[1].target_fields, "profile.email");
        for r in &rows {
            let text = format!("{r:?}");
            for secret in [NIK, "Siti", "81234565678", "Merdeka", "example.go.id"] {
                assert!(!text.contains(secret), "audit row holds {secret}: {text}");
            }
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_counter_officer_finds_by_nik_masked_and_sets_identity_fields(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut siti = Browser::new(&app);
        assert_eq!(siti.enrol(NIK, "Siti Aminah").await.status, 201);
        siti.me().await;
        assert_eq!(
            patch(
                &siti,
                &json!({ "phone": "081234565678", "email": "aminah@example.go.id" })
            )
            .await
            .status,
            204
        );
        let mut other = Browser::new(&app);
        assert_eq!(other.enrol("1971011203850001", "Budi Santoso").await.status, 201);
        other.me().await;

        let officer = counter_officer(&sandbox, &app).await;
        let found = officer
            .counter_find(NIK)
            .await;
        assert_eq!(found.status, 200, "{:?}", found.body);
        assert_eq!(found.body["reveal"], "masked");
        assert_eq!(found.body["nik"], "1971********0002");
        assert_eq!(found.body["full_name"], "S. A.");
        assert_eq!(found.body["phone"], "+62812****5678");
        assert_eq!(found.body["email"], "a***@example.go.id");
        let citizen = found.body["citizen"].as_str().unwrap().to_owned();
        assert!(citizen.starts_with("ctz_"));

        // Citizens cannot look others up, nor change identity fields.
        let refused = other
            .counter_find(NIK)
            .await;
        assert_eq!(refused.status, 403);
        let path = format!("/api/counter/citizens/{citizen}/identity");
        let body = serde_json::to_vec(&json!({ "full_name": "Budi" })).unwrap();
        assert_eq!(other.send(Method::PUT, &path, Some(body)).await.status, 403);
        // An unknown NIK is a 404 (and audited).
        let missing = officer
            .counter_find("1971014101000003")
            .await;
        assert_eq!(missing.status, 404);

        let set = json!({
            "kk": "1971010101200001",
            "full_name": "Siti Aminah Binti Ahmad",
            "birth_place": "Pangkalpinang",
            "birth_date": "1990-07-15",
            "gender": "perempuan"
        });
        let changed = officer
            .send(Method::PUT, &path, Some(serde_json::to_vec(&set).unwrap()))
            .await;
        assert_eq!(changed.status, 200, "{:?}", changed.body);
        assert_eq!(changed.body["changed"].as_array().unwrap().len(), 5);
        // The same values again change nothing (and say so).
        let again = officer
            .send(Method::PUT, &path, Some(serde_json::to_vec(&set).unwrap()))
            .await;
        assert_eq!(again.body["changed"], json!([]));
        // Bad values name the field.
        let bad = officer
            .send(
                Method::PUT,
                &path,
                Some(serde_json::to_vec(&json!({ "birth_date": "2999-01-01" })).unwrap()),
            )
            .await;
        assert_eq!(bad.status, 400);
        assert!(bad.body["message"].as_str().unwrap().contains("birth_date"));
        // A NIK held by another live account is refused.
        let taken = officer
            .send(
                Method::PUT,
                &path,
                Some(serde_json::to_vec(&json!({ "nik": "1971011203850001" })).unwrap()),
            )
            .await;
        assert_eq!(taken.status, 409);
        assert_eq!(taken.body["error"], "nik_taken");

        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.body["full_name"], "Siti Aminah Binti Ahmad");
        assert_eq!(own.body["kk"], "1971010101200001");
        assert_eq!(own.body["birth_date"], "1990-07-15");
        let found = officer
            .counter_find(NIK)
            .await;
        assert_eq!(found.body["full_name"], "S. A. B. A.");
        assert_eq!(found.body["kk"], "1971********0001");
        assert_eq!(found.body["birth_date"], "1990");
        assert_eq!(found.body["birth_place"], Value::Null);
        drop(app);

        let rows = events(&sandbox).await;
        let changes: Vec<_> = rows
            .iter()
            .filter(|r| r.action == "profile.identity_change" && r.outcome == "success")
            .collect();
        assert_eq!(changes.len(), 2);
        assert!(rows.iter().any(|r| r.action == "profile.identity_change"
            && r.outcome == "denied"
            && r.reason.as_deref() == Some("nik_taken")
            && r.target_fields == "profile.nik"));
        assert_eq!(
            changes[0].target_fields,
            "profile.kk,profile.full_name,profile.birth_place,profile.birth_date,profile.gender"
        );
        assert_eq!(changes[0].actor_kind, "officer");
        assert_eq!(changes[0].reason.as_deref(), Some("documents_checked"));
        assert_eq!(changes[1].target_fields, "");
        let lookups: Vec<_> = rows
            .iter()
            .filter(|r| r.purpose.as_deref() == Some("counter.lookup"))
            .collect();
        assert_eq!(lookups.len(), 3, "two hits and one miss");
        assert!(
            lookups
                .iter()
                .any(|r| r.action == "profile.find" && r.outcome == "failure")
        );
        for r in &rows {
            let text = format!("{r:?}");
            for secret in [NIK, "Siti", "Aminah", "Pangkalpinang", "1971010101200001", "1990-07-15"] {
                assert!(!text.contains(secret), "audit row holds {secret}: {text}");
            }
        }

        // The blind indexes hold digests for KK, phone and email; no plaintext.
        let lib = Lib::open(&sandbox).await;
        let siti_id = {
            let account = jaga::store::identity::account_by_pseudonym(&lib.db, &citizen)
                .await
                .unwrap()
                .unwrap();
            account.account_id
        };
        for (domain, value) in [
            ("kk", "1971010101200001"),
            ("phone", "+6281234565678"),
            ("email", "Aminah@Example.go.id"),
        ] {
            let digest = jaga::profile::index::digest(&lib.keys.index, domain, value);
            let holders = jaga::store::vault::read_accounts_by_index(&lib.db, domain, &digest)
                .await
                .unwrap();
            assert_eq!(holders, vec![siti_id.clone()], "{domain}");
        }
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn the_operator_finds_a_citizen_masked_from_the_command_line(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut siti = Browser::new(&app);
        let enrolled = siti.enrol(NIK, "Siti Aminah").await;
        siti.me().await;
        let pseudonym = enrolled.body["account"].as_str().unwrap().to_owned();
        assert_eq!(patch(&siti, &json!({ "phone": "081234565678" })).await.status, 204);
        drop(app);

        let out = sandbox.cli(&["citizens", "find", "--nik", NIK]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&pseudonym), "{text}");
        assert!(text.contains("1971********0002") && text.contains("S. A.") && text.contains("+62812****5678"));
        assert!(!text.contains(NIK) && !text.contains("Siti"), "{text}");
        let missing = sandbox.cli(&["citizens", "find", "--nik", "1971014101000003"]);
        assert_eq!(missing.status.code(), Some(1));

        let rows = events(&sandbox).await;
        assert!(rows.iter().any(|r| r.action == "profile.read"
            && r.actor_kind == "operator"
            && r.purpose.as_deref() == Some("operator.lookup")
            && r.target_id.as_deref() == Some(pseudonym.as_str())));
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_tampered_profile_value_fails_closed_and_is_audited(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut siti = Browser::new(&app);
        let pseudonym = siti.enrol(NIK, "Siti Aminah").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        siti.me().await;
        assert_eq!(patch(&siti, &json!({ "phone": "081234565678" })).await.status, 204);
        // Someone with database access puts the name's ciphertext in the phone field.
        crate::support::modules::jaga_sql(
            &sandbox,
            "update citizen_field set sealed = (select sealed from citizen_field where field = 'profile.full_name') \
             where field = 'profile.phone'",
        )
        .await;
        let own = siti.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.status, 500);
        assert_eq!(own.body["error"], "internal");
        assert!(!own.body.to_string().contains("Siti"));
        drop(siti);
        drop(app);
        let rows = events(&sandbox).await;
        assert!(rows.iter().any(|r| r.action == "profile.read"
            && r.outcome == "failure"
            && r.reason.as_deref() == Some("undecryptable")
            && r.target_id.as_deref() == Some(pseudonym.as_str())));
        sandbox.drop_database().await;
    }
}
