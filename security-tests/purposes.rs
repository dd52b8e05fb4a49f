//! The purpose catalog decides every module read: a purpose must be in
//! `policies/purposes.toml`, list the module, and cover each field, which
//! is shown at most at the catalog's reveal level. Refusals are 403,
//! audited as denied and visible to the citizen; a bad catalog stops
//! start-up naming file and line.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, decide, define_tickets};
use crate::support::{Lib, Sandbox};

/// Audit rows of `action` with `outcome` about `pseudonym`.
async fn events(sandbox: &Sandbox, action: &str, outcome: &str, pseudonym: &str) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows.into_iter()
        .filter(|r| r.action == action && r.outcome == outcome && r.target_id.as_deref() == Some(pseudonym))
        .collect()
}

/// Every audit row of `action` for `purpose`.
async fn events_all(sandbox: &Sandbox, action: &str, purpose: &str) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows.into_iter()
        .filter(|r| r.action == action && r.purpose.as_deref() == Some(purpose))
        .collect()
}

backend_test! {
    async fn a_module_reads_only_what_its_purpose_covers_at_its_level(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let perizinan = add_module(&sandbox, "perizinan");
        define_tickets(&app, &antrian).await;
        let (siti, _browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["antrian.priority"], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        let values = [("queue_number", Some("A-017")), ("service", Some("KTP")), ("health_note", Some("kursi roda"))];
        crate::support::modules::open_case(&app, &antrian, &siti).await;
        assert_eq!(api.write_at(&path, &values).await.0, 204);

        // antrian.call covers the ticket but not the health note: a read
        // without named fields gets what the purpose covers, nothing more.
        let (status, body) = api.read_at(&path, Some("antrian.call"), None).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"], json!({ "queue_number": "A-017", "service": "KTP" }));
        // Naming the health note under that purpose is refused whole.
        let (status, body) = api.read_at(&path, Some("antrian.call"), Some("queue_number,health_note")).await;
        assert_eq!(status, 403, "{body:?}");
        assert_eq!(body["error"], "purpose_not_allowed");
        // The priority purpose (consent) covers it.
        let (status, body) = api.read_at(&path, Some("antrian.priority"), Some("health_note")).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"]["health_note"], "kursi roda");

        // No more free-form purposes, nor another module's purpose.
        for (purpose, reason) in [("marketing", "unknown_purpose"), ("perizinan.review", "purpose_not_for_module")] {
            let (status, body) = api.read_at(&path, Some(purpose), None).await;
            assert_eq!(status, 403, "{purpose}: {body:?}");
            assert_eq!(body["error"], "purpose_not_allowed");
            let (status, _) = api.read_batch("antrian.ticket", Some(purpose), &[(&siti, "t1")]).await;
            assert_eq!(status, 403, "{purpose}");
            let denied = events(&sandbox, "record.read", "denied", &siti).await;
            assert!(
                denied.iter().any(|r| r.purpose.as_deref() == Some(purpose) && r.reason.as_deref() == Some(reason)),
                "{purpose}: the refusal is on the record, about the citizen: {denied:?}"
            );
        }
        // A write naming a purpose that does not cover a field writes nothing.
        let (status, body) = app
            .client
            .put(app.url(&path))
            .bearer_auth(&antrian)
            .json(&json!({ "purpose": "antrian.call", "values": { "health_note": "tidak ada" } }))
            .send()
            .await
            .map(|r| (r.status(), r))
            .unwrap();
        assert_eq!(status, 403, "{:?}", body.text().await);
        let (_, body) = api.read_at(&path, Some("antrian.priority"), Some("health_note")).await;
        assert_eq!(body["values"]["health_note"], "kursi roda", "nothing was written");
        assert_eq!(events(&sandbox, "record.write", "denied", &siti).await.len(), 1);
        // Writes and deletes name their purpose too.
        let (status, body) = crate::support::modules::call(
            &app,
            &antrian,
            reqwest::Method::PUT,
            &path,
            Some(json!({ "values": { "service": "KK" } })),
        )
        .await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("purpose_required")));
        let (status, body) = crate::support::modules::call(&app, &antrian, reqwest::Method::DELETE, &path, None).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("purpose_required")));
        let (status, _) =
            crate::support::modules::call(&app, &antrian, reqwest::Method::DELETE, &format!("{path}?purpose=survei.kepuasan"), None).await;
        assert_eq!(status, 403, "another module's purpose cannot delete");

        // A masked field: perizinan.status shows the applicant's name masked.
        let permits = ModuleApi::new(&app, &perizinan);
        let definition = json!({ "fields": [
            { "name": "applicant_name", "classification": "personal" },
            { "name": "permit_type", "classification": "personal" },
            { "name": "tax_number", "classification": "financial" }
        ]});
        assert_eq!(permits.define("perizinan.application", definition).await.0, 200);
        crate::support::modules::open_case(&app, &perizinan, &siti).await;
        let permit = format!("/api/collections/perizinan.application/records/{siti}/p1");
        let values = [("applicant_name", Some("Siti Aminah")), ("permit_type", Some("NIB")), ("tax_number", Some("09.254.294.3-407.000"))];
        assert_eq!(permits.write_at(&permit, &values).await.0, 204);
        let (status, body) = permits.read_at(&permit, Some("perizinan.status"), None).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"], json!({ "applicant_name": "S••••••••ah", "permit_type": "NIB" }));
        let (_, body) = permits.read_at(&permit, Some("perizinan.review"), None).await;
        assert_eq!(body["values"]["applicant_name"], "Siti Aminah");
        assert_eq!(body["values"]["tax_number"], "09.254.294.3-407.000");
        drop(app);
        sandbox.drop_database().await;
    }
}

/// `jaga serve` with the sandbox's (changed) policies: it must stop by
/// itself; returns its stderr.
pub(crate) fn serve_refused(sandbox: &Sandbox) -> String {
    let mut child = sandbox
        .command(&["serve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("serve started with bad policies");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    err
}

#[tokio::test]
async fn a_bad_catalog_stops_start_up_naming_file_line_and_reason() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let file = sandbox.dir.path().join("policies/purposes.toml");
    let shipped = std::fs::read_to_string(&file).unwrap();
    let line = shipped
        .lines()
        .position(|l| l.starts_with("lawful_basis = \"public_task\""))
        .unwrap()
        + 1;
    std::fs::write(
        &file,
        shipped.replacen("lawful_basis = \"public_task\"", "lawful_basis = \"marketing\"", 1),
    )
    .unwrap();

    let err = serve_refused(&sandbox);
    assert!(err.contains(&format!("purposes.toml:{line}:")), "{err}");
    assert!(err.contains("marketing"), "{err}");
    let out = sandbox.cli(&["policy", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&format!("purposes.toml:{line}:")), "{said}");

    std::fs::write(&file, shipped).unwrap();
    let out = sandbox.cli(&["policy", "check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("purposes, valid"));
    std::fs::remove_file(&file).unwrap();
    let err = serve_refused(&sandbox);
    assert!(err.contains("cannot read the purpose catalog"), "{err}");
}

backend_test! {
    async fn a_withdrawal_stops_the_next_read_in_the_same_second(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let api = ModuleApi::new(&app, &antrian);
        // Siti has not decided; Budi grants.
        let (siti, siti_browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (budi, budi_browser) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &["antrian.priority"], "grant").await;
        for who in [&siti, &budi] {
            let path = format!("/api/collections/antrian.ticket/records/{who}/t1");
            assert_eq!(api.write_at(&path, &[("health_note", Some("kursi roda"))]).await.0, 204);
        }
        let siti_path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        let budi_path = format!("/api/collections/antrian.ticket/records/{budi}/t1");

        // No consent in force: refused, and the refusal is on the record.
        let (status, body) = api.read_at(&siti_path, Some("antrian.priority"), None).await;
        assert_eq!(status, 403, "{body:?}");
        assert!(body["message"].as_str().unwrap().contains("no_consent"), "{body:?}");
        // Purposes on another basis go on without consent, while the
        // citizen has an open case with the module.
        let (status, body) = api.read_at(&siti_path, Some("antrian.call"), None).await;
        assert_eq!(status, 403, "{body:?}");
        assert!(body["message"].as_str().unwrap().contains("no_open_case"), "{body:?}");
        crate::support::modules::open_case(&app, &antrian, &siti).await;
        assert_eq!(api.read_at(&siti_path, Some("antrian.call"), None).await.0, 200);
        // In a batch, each citizen's decision counts alone.
        let (status, body) = api
            .read_batch("antrian.ticket", Some("antrian.priority"), &[(&siti, "t1"), (&budi, "t1")])
            .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["records"][0]["refused"], "no_consent");
        assert!(body["records"][0]["values"].is_null());
        assert_eq!(body["records"][1]["values"]["health_note"], "kursi roda");
        assert!(body["records"][1].get("refused").is_none());

        // Budi withdraws; the very next read is refused (no waiting).
        let started = Instant::now();
        let withdrawn = decide(&budi_browser, "antrian.priority", "withdraw").await;
        assert_eq!(withdrawn["decision"], "withdraw");
        assert_eq!(withdrawn["in_force"], false);
        let (status, _) = api.read_at(&budi_path, Some("antrian.priority"), None).await;
        assert_eq!(status, 403);
        eprintln!("withdrawal to refused read: {} ms", started.elapsed().as_millis());
        // Nor is anything new collected about Budi for it (UU PDP Art. 9,
        // 40): the whole batch is refused, audited, nothing written.
        let (status, body) = api.write_at(&budi_path, &[("health_note", Some("tongkat"))]).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (403, Some("restricted")), "{body:?}");
        let (status, _) = api
            .write_batch("antrian.ticket", &[
                crate::support::modules::Write { citizen: &siti, record: "t2", values: &[("health_note", Some("kursi roda"))] },
                crate::support::modules::Write { citizen: &budi, record: "t2", values: &[("health_note", Some("tongkat"))] },
            ])
            .await;
        assert_eq!(status, 403, "all or nothing");
        assert_eq!(events(&sandbox, "record.write", "denied", &budi).await.len(), 2);
        assert!(events(&sandbox, "record.write", "denied", &siti).await.is_empty(), "only the citizen who withdrew is named");
        let stored = sandbox.sql_count("select count(*) from record_field where record_id = 't2'").await;
        assert_eq!(stored, 0);
        // Siti's grant is hers alone; Budi's withdrawal does not touch it.
        decide(&siti_browser, "antrian.priority", "grant").await;
        assert_eq!(api.read_at(&siti_path, Some("antrian.priority"), None).await.0, 200);
        assert_eq!(api.read_at(&budi_path, Some("antrian.priority"), None).await.0, 403);

        // What a citizen may decide on, and what they may not.
        let listed = budi_browser.send(reqwest::Method::GET, "/api/consents", None).await;
        assert_eq!(listed.status, 200);
        let purposes: Vec<&str> = listed.body.as_array().unwrap().iter().map(|p| p["purpose"].as_str().unwrap()).collect();
        assert!(purposes.contains(&"antrian.priority") && purposes.contains(&"survei.kepuasan"), "{purposes:?}");
        assert!(!purposes.contains(&"antrian.call"), "a public task is not listed as a choice");
        let body = serde_json::to_vec(&json!({ "decision": "withdraw" })).unwrap();
        let refused = budi_browser.send(reqwest::Method::PUT, "/api/consents/antrian.call", Some(body.clone())).await;
        assert_eq!((refused.status, refused.body["error"].as_str()), (reqwest::StatusCode::CONFLICT, Some("not_withdrawable")));
        let unknown = budi_browser.send(reqwest::Method::PUT, "/api/consents/marketing", Some(body)).await;
        assert_eq!(unknown.status, 404);
        let bad = serde_json::to_vec(&json!({ "decision": "maybe" })).unwrap();
        assert_eq!(budi_browser.send(reqwest::Method::PUT, "/api/consents/survei.kepuasan", Some(bad)).await.status, 422, "a decision is grant, refuse or withdraw");
        drop(app);

        // Every decision and every refusal is audited, about the citizen.
        assert_eq!(events(&sandbox, "consent.withdraw", "success", &budi).await.len(), 1);
        assert_eq!(events(&sandbox, "consent.grant", "success", &siti).await.len(), 1);
        let denied = events(&sandbox, "record.read", "denied", &budi).await;
        assert!(denied.iter().any(|r| r.reason.as_deref() == Some("no_consent") && r.purpose.as_deref() == Some("antrian.priority")), "{denied:?}");

        // The records of processing count it all, per purpose and module.
        let today = time::OffsetDateTime::now_utc()
            .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap())
            .date()
            .to_string();
        let out = sandbox.cli(&["report", "processing", "--from", &today, "--to", &today]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let priority = report["purposes"].as_array().unwrap().iter().find(|p| p["id"] == "antrian.priority").unwrap();
        assert_eq!(priority["lawful_basis"], "consent");
        let count = |outcome: &str| {
            priority["processing"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["actor"] == "antrian" && c["action"] == "record.read" && c["outcome"] == outcome)
                .map(|c| c["count"].as_i64().unwrap())
                .sum::<i64>()
        };
        let reads = events_all(&sandbox, "record.read", "antrian.priority").await;
        assert_eq!(count("success"), reads.iter().filter(|r| r.outcome == "success").count() as i64);
        assert_eq!(count("denied"), reads.iter().filter(|r| r.outcome == "denied").count() as i64);
        assert!(count("denied") >= 3);
        let grants = priority["processing"].as_array().unwrap().iter().find(|c| c["action"] == "consent.grant").unwrap();
        assert_eq!((grants["actor_kind"].as_str(), grants["actor"].as_str()), (Some("citizen"), Some("")), "citizens are not named");
        let out = sandbox.cli(&["report", "processing", "--from", &today, "--to", &today, "--format", "csv"]);
        let csv = String::from_utf8(out.stdout).unwrap();
        assert!(csv.starts_with("purpose,in_catalog,lawful_basis,"), "{csv}");
        assert!(csv.lines().any(|l| l.starts_with("antrian.priority,yes,consent,") && l.contains(",module,antrian,record.read,denied,")), "{csv}");
        assert!(!csv.contains(&budi) && !csv.contains(&siti), "no pseudonym of a citizen in the report");
        let out = sandbox.cli(&["report", "processing", "--from", &today, "--to", "2020-01-01"]);
        assert!(!out.status.success());
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn the_privacy_notice_is_generated_from_the_catalog_in_bahasa_first() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let app = sandbox.serve();
    let html = app.get("/privasi").await.text().await.unwrap();
    assert!(html.contains("<html lang=\"id\">"), "Bahasa Indonesia first");
    assert!(html.contains("<h1>Pemberitahuan privasi</h1>"));
    // Every purpose of the shipped catalog, with its basis, data and retention.
    let catalog = jaga::policy::Catalog::load(&sandbox.dir.path().join("policies")).unwrap();
    for p in catalog.purposes() {
        assert!(html.contains(&format!("id=\"{}\"", p.id)), "{}", p.id);
        assert!(html.contains(&p.name.id), "{}", p.id);
    }
    assert!(html.contains("persetujuan Anda") && html.contains("kewajiban hukum"));
    // Fields by their plain labels, never identifiers; modules by their names.
    assert!(
        html.contains("nomor telepon") && html.contains("keterangan kesehatan"),
        "{html}"
    );
    assert!(
        !html.contains("antrian.ticket.health_note") && html.contains("Layanan Antrian"),
        "{html}"
    );
    assert!(html.contains("30 hari") && html.contains("5 tahun"));
    assert!(html.contains("Anda boleh menolak atau menarik kembali"));
    let english = app.get("/privasi?lang=en").await.text().await.unwrap();
    assert!(english.contains("<h1>Privacy notice</h1>") && english.contains("Priority queue service"));
    assert!(english.contains("a public service task") && english.contains("30 days"));
    // Linked from every page.
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("href=\"/privasi\""));
}

backend_test! {
    async fn consent_receipts_verify_with_the_published_key_and_fail_when_changed(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (siti, browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["survei.kepuasan"], "grant").await;
        decide(&browser, "survei.kepuasan", "withdraw").await;
        let (budi, budi_browser) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &[], "grant").await;

        let got = browser.send(reqwest::Method::GET, "/api/consents/survei.kepuasan/receipts", None).await;
        assert_eq!(got.status, 200, "{:?}", got.body);
        let receipts = got.body.as_array().unwrap();
        assert_eq!(receipts.len(), 2);
        assert_eq!((receipts[0]["decision"].as_str(), receipts[1]["decision"].as_str()), (Some("grant"), Some("withdraw")));
        let payload = &receipts[1]["payload"];
        assert_eq!(payload["piiPrincipalId"], siti.as_str());
        assert_eq!(payload["iso27560"]["purpose"]["lawful_basis"], "consent");
        assert_eq!(payload["iso27560"]["notice"]["version"], "2026-12-01");
        assert_eq!(payload["iso27560"]["state"], "withdrawn");
        assert_eq!(payload["version"], "KI-CR-v1.1.0");
        // Budi has no receipts of Siti's, nor of his own yet.
        let none = budi_browser.send(reqwest::Method::GET, "/api/consents/survei.kepuasan/receipts", None).await;
        assert_eq!(none.status, 404);
        assert!(!none.body.to_string().contains(&siti));

        // Verified offline with nothing but the published key.
        let jwks = app.get("/.well-known/jaga-consent-keys").await.text().await.unwrap();
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("jwks.json"), &jwks).unwrap();
        std::fs::write(work.path().join("receipts.json"), got.body.to_string()).unwrap();
        let verify = |name: &str| {
            std::process::Command::new(crate::support::BIN)
                .args(["consent", "verify-receipt"])
                .arg(work.path().join(name))
                .arg("--jwks")
                .arg(work.path().join("jwks.json"))
                .env_clear()
                .output()
                .unwrap()
        };
        let out = verify("receipts.json");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("receipt 2: valid — survei.kepuasan withdraw (seq 2)"), "{said}");
        // One changed byte in the signed payload: refused, exit 3.
        let jws = receipts[1]["receipt"].as_str().unwrap();
        let middle = jws.find('.').unwrap() + 10;
        let mut bytes = jws.as_bytes().to_vec();
        bytes[middle] = if bytes[middle] == b'x' { b'y' } else { b'x' };
        std::fs::write(work.path().join("changed.jws"), &bytes).unwrap();
        let out = verify("changed.jws");
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stderr).contains("INVALID"));
        // The installation's own key verifies it too (no --jwks).
        std::fs::write(sandbox.dir.path().join("one.jws"), jws).unwrap();
        let out = sandbox.cli(&["consent", "verify-receipt", "one.jws"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        drop(budi);
        drop(app);
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn a_key_file_from_before_receipts_is_refused_until_the_key_is_added() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let path = sandbox.keys_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[consent]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap() + 2;
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let err = serve_refused(&sandbox);
    assert!(err.contains("jaga keys add-consent-key"), "{err}");
    let out = sandbox.cli(&["keys", "add-consent-key"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&path).unwrap().contains("[consent]"));
    let out = sandbox.cli(&["keys", "add-consent-key"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already holds"));
    let app = sandbox.serve();
    assert_eq!(app.get("/.well-known/jaga-consent-keys").await.status(), 200);
}
