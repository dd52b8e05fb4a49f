//! Service modules: API keys, collections with UU PDP classifications,
//! records sealed under the citizen's data key, purpose-bound reads, module
//! isolation, batch limits, and what the audit log keeps.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::browser::Browser;
use crate::support::{Lib, Sandbox, TestApp, backends};

/// `jaga modules add`; returns the API key it printed once.
pub fn add_module(sandbox: &Sandbox, name: &str) -> String {
    let out = sandbox.cli(&["modules", "add", "--name", name]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("jaga_mk_")))
        .unwrap()
        .to_owned()
}

pub async fn call(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn citizen(app: &TestApp, nik: &str, name: &str) -> String {
    let mut b = Browser::new(app);
    let enrolled = b.enrol(nik, name).await;
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    enrolled.body["account"].as_str().unwrap().to_owned()
}

pub fn ticket_definition() -> Value {
    json!({ "fields": [
        { "name": "queue_number", "classification": "personal" },
        { "name": "service", "classification": "personal" },
        { "name": "health_note", "classification": "health" }
    ]})
}

/// Defines `antrian.ticket` ([`ticket_definition`]) for the `antrian` module.
pub async fn define_tickets(app: &TestApp, key: &str) {
    let (status, body) = call(
        app,
        key,
        Method::PUT,
        "/api/collections/antrian.ticket",
        Some(ticket_definition()),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
}

/// Writes one record and expects 204.
pub async fn put(app: &TestApp, key: &str, path: &str, body: Value) {
    let (status, answer) = call(app, key, Method::PUT, path, Some(body)).await;
    assert_eq!(status, 204, "{answer:?}");
}

/// A portal page as the signed-in browser sees it.
pub async fn portal_page(app: &TestApp, browser: &Browser<'_>, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(
            "cookie",
            format!(
                "{}={}",
                crate::support::browser::COOKIE,
                browser.session.clone().unwrap()
            ),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_module_keeps_sealed_records_and_reads_them_only_with_a_purpose() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;

        // No key, a wrong key: 401 with the error shape.
        let (status, body) = call(
            &app,
            "jaga_mk_wrong",
            Method::GET,
            "/api/collections/antrian.ticket",
            None,
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "unauthorized");

        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/antrian.ticket",
            Some(ticket_definition()),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["fields"][2]["classification"], "health");
        // A module names its collections after itself; classifications are fixed.
        let (status, _) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/perizinan.x",
            Some(ticket_definition()),
        )
        .await;
        assert_eq!(status, 400);
        // Names that would not fit an audit event's field name are refused up front.
        let long_module = "m".repeat(32);
        let long_key = add_module(&sandbox, &long_module);
        let long = json!({ "fields": [{ "name": "f".repeat(48), "classification": "personal" }] });
        let (status, body) = call(
            &app,
            &long_key,
            Method::PUT,
            &format!("/api/collections/{long_module}.{}", "c".repeat(32)),
            Some(long),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_collection"))
        );
        let mut reclassified = ticket_definition();
        reclassified["fields"][2]["classification"] = json!("personal");
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/antrian.ticket",
            Some(reclassified),
        )
        .await;
        assert_eq!(status, 409, "{body:?}");
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/antrian.ticket",
            Some(json!({ "fields": [{ "name": "queue_number", "classification": "secret" }] })),
        )
        .await;
        assert!(status.is_client_error(), "{status} {body:?}");

        let path = format!("/api/collections/antrian.ticket/records/{siti}/A-017");
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            &path,
            Some(json!({ "values": { "queue_number": "A-017", "service": "KTP", "health_note": "kursi roda" } })),
        )
        .await;
        assert_eq!(status, 204, "{body:?}");

        // Reading needs a purpose.
        let (status, body) = call(&app, &antrian, Method::GET, &path, None).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "purpose_required");
        let (status, _) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=Call%20Siti"),
            None,
        )
        .await;
        assert_eq!(status, 400, "free text is not a purpose");
        let (status, body) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"]["queue_number"], "A-017");
        assert_eq!(body["values"]["health_note"], "kursi roda");
        let (status, body) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call&fields=service"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["values"], json!({ "service": "KTP" }));

        // Unknown fields, bad record ids and unknown citizens are refused.
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            &path,
            Some(json!({ "values": { "nama": "x" } })),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_record"))
        );
        let (status, _) = call(
            &app,
            &antrian,
            Method::PUT,
            &format!("/api/collections/antrian.ticket/records/{siti}/a%20b"),
            Some(json!({ "values": { "service": "x" } })),
        )
        .await;
        assert_eq!(status, 400);
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/antrian.ticket/records/ctz_nobody/1",
            Some(json!({ "values": { "service": "x" } })),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("no_citizen"))
        );

        // Null removes one field; delete removes the record.
        put(&app, &antrian, &path, json!({ "values": { "health_note": null } })).await;
        let (_, body) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call"),
            None,
        )
        .await;
        assert_eq!(body["values"], json!({ "queue_number": "A-017", "service": "KTP" }));
        let (status, _) = call(&app, &antrian, Method::DELETE, &path, None).await;
        assert_eq!(status, 204);
        let (status, _) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call"),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = call(&app, &antrian, Method::DELETE, &path, None).await;
        assert_eq!(status, 404);
        drop(app);

        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let reads: Vec<_> = rows.iter().filter(|r| r.action == "record.read").collect();
        assert_eq!(reads.len(), 4, "{reads:?}");
        assert!(reads.iter().all(|r| r.actor_kind == "module"
            && r.actor_id == "antrian"
            && r.purpose.as_deref() == Some("antrian.call")
            && r.target_id.as_deref() == Some(siti.as_str())));
        assert_eq!(
            reads[0].target_fields,
            "antrian.ticket.health_note,antrian.ticket.queue_number,antrian.ticket.service"
        );
        assert_eq!(reads[0].reason.as_deref(), Some("specific_personal_data"));
        assert_eq!(reads[1].target_fields, "antrian.ticket.service");
        assert_eq!(reads[1].reason, None);
        assert_eq!(reads[3].reason.as_deref(), Some("not_found"));
        assert_eq!(rows.iter().filter(|r| r.action == "record.write").count(), 2);
        assert!(
            rows.iter()
                .any(|r| r.action == "record.delete" && r.outcome == "success")
        );
        for r in &rows {
            let text = format!("{r:?}");
            assert!(!text.contains("kursi roda") && !text.contains("A-017"), "{text}");
        }
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn a_module_cannot_reach_another_modules_collection() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let perizinan = add_module(&sandbox, "perizinan");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;
        define_tickets(&app, &antrian).await;
        let path = format!("/api/collections/antrian.ticket/records/{siti}/1");
        put(&app, &antrian, &path, json!({ "values": { "service": "KTP" } })).await;

        let attempts = [
            (Method::GET, "/api/collections/antrian.ticket".to_owned(), None),
            (
                Method::PUT,
                "/api/collections/antrian.ticket".to_owned(),
                Some(ticket_definition()),
            ),
            (Method::GET, format!("{path}?purpose=perizinan.check"), None),
            (Method::PUT, path.clone(), Some(json!({ "values": { "service": "x" } }))),
            (Method::DELETE, path.clone(), None),
            (
                Method::POST,
                "/api/collections/antrian.ticket/records/read".to_owned(),
                Some(json!({ "purpose": "perizinan.check", "records": [{ "citizen": siti, "record": "1" }] })),
            ),
        ];
        for (method, p, body) in attempts {
            let (status, answer) = call(&app, &perizinan, method.clone(), &p, body).await;
            assert_eq!(status, 403, "{method} {p}: {answer:?}");
            assert_eq!(answer["error"], "forbidden");
        }
        // A revoked key no longer works.
        let out = sandbox.cli(&["modules", "revoke", "--name", "antrian"]);
        assert!(out.status.success());
        let (status, _) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call"),
            None,
        )
        .await;
        assert_eq!(status, 401);
        drop(app);

        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let denied = rows
            .iter()
            .filter(|r| r.action == "collection.access" && r.outcome == "denied" && r.actor_id == "perizinan")
            .count();
        assert_eq!(denied, 6, "every attempt on an existing collection is audited");
        assert!(
            !rows
                .iter()
                .any(|r| r.action == "record.read" && r.actor_id == "perizinan")
        );
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn batches_are_all_or_nothing_and_limited_to_one_hundred() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;
        let budi = citizen(&app, "1971011203850001", "Budi Santoso").await;
        define_tickets(&app, &antrian).await;
        let records = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| {
                    let who = if i % 2 == 0 { &siti } else { &budi };
                    json!({ "citizen": who, "record": format!("r{i}"), "values": { "queue_number": format!("Q{i}") } })
                })
                .collect()
        };
        let batch = "/api/collections/antrian.ticket/records";
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            batch,
            Some(json!({ "records": records(101) })),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("batch_size"))
        );
        let (status, _) = call(&app, &antrian, Method::PUT, batch, Some(json!({ "records": [] }))).await;
        assert_eq!(status, 400);
        // One bad record refuses the whole batch: nothing is written.
        let mut mixed = records(10);
        mixed[7]["values"] = json!({ "unknown": "x" });
        let (status, _) = call(&app, &antrian, Method::PUT, batch, Some(json!({ "records": mixed }))).await;
        assert_eq!(status, 400);
        let refs = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({ "citizen": if i % 2 == 0 { &siti } else { &budi }, "record": format!("r{i}") }))
                .collect()
        };
        let read = |n: usize| json!({ "purpose": "antrian.display", "records": refs(n) });
        let (_, body) = call(&app, &antrian, Method::POST, &format!("{batch}/read"), Some(read(10))).await;
        assert!(
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["values"].is_null()),
            "{body:?}"
        );

        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            batch,
            Some(json!({ "records": records(100) })),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["written"], 100);
        let (status, body) = call(&app, &antrian, Method::POST, &format!("{batch}/read"), Some(read(100))).await;
        assert_eq!(status, 200);
        let got = body["records"].as_array().unwrap();
        assert_eq!(got.len(), 100);
        assert_eq!(got[42]["values"]["queue_number"], "Q42");
        assert_eq!(got[43]["citizen"], budi.as_str());
        let (status, _) = call(&app, &antrian, Method::POST, &format!("{batch}/read"), Some(read(101))).await;
        assert_eq!(status, 400);
        let (status, body) = call(
            &app,
            &antrian,
            Method::POST,
            &format!("{batch}/read"),
            Some(json!({ "records": refs(3) })),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("purpose_required"))
        );
        let (status, body) = call(
            &app,
            &antrian,
            Method::POST,
            &format!("{batch}/delete"),
            Some(json!({ "records": refs(100) })),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["deleted"], 100);
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn a_record_copied_to_another_citizen_record_or_field_does_not_open() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;
        define_tickets(&app, &antrian).await;
        let base = format!("/api/collections/antrian.ticket/records/{siti}");
        for record in ["1", "2"] {
            let (status, _) = call(
                &app,
                &antrian,
                Method::PUT,
                &format!("{base}/{record}"),
                Some(json!({ "values": { "queue_number": format!("Q{record}"), "service": "KTP" } })),
            )
            .await;
            assert_eq!(status, 204);
        }
        // A database administrator moves record 1's ciphertext into record 2,
        // and the service field's into queue_number.
        let sql = [
            "update record_field set sealed = (select sealed from record_field where record_id = '1' and field = 'queue_number') where record_id = '2' and field = 'queue_number'",
            "update record_field set sealed = (select sealed from record_field where record_id = '1' and field = 'service'), record_version = 1 where record_id = '1' and field = 'queue_number'",
        ];
        for statement in sql {
            jaga_sql(&sandbox, statement).await;
        }
        for record in ["1", "2"] {
            let (status, body) = call(
                &app,
                &antrian,
                Method::GET,
                &format!("{base}/{record}?purpose=antrian.call"),
                None,
            )
            .await;
            assert_eq!(status, 500, "{body:?}");
            assert_eq!(body["error"], "internal");
            assert!(!body.to_string().contains("KTP"));
        }
        drop(app);
        // Each failed opening is on the record: evidence for the security officer.
        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let failed = rows
            .iter()
            .filter(|r| {
                r.action == "record.read" && r.outcome == "failure" && r.reason.as_deref() == Some("undecryptable")
            })
            .count();
        assert_eq!(failed, 2);
        sandbox.drop_database().await;
    }
}

/// Runs one SQL statement on the sandbox's database, as an attacker with
/// database access would.
pub async fn jaga_sql(sandbox: &Sandbox, statement: &str) {
    use sqlx::Connection as _;
    match sandbox.backend {
        crate::support::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&sandbox.db_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        }
        crate::support::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_citizen_sees_which_module_read_which_fields_and_why() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let mut siti = Browser::new(&app);
        let pseudonym = siti.enrol("1971015507900002", "Siti Aminah").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        define_tickets(&app, &antrian).await;
        let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/1");
        put(&app, &antrian, &path, json!({ "values": { "service": "KTP" } })).await;
        let (status, _) = call(
            &app,
            &antrian,
            Method::GET,
            &format!("{path}?purpose=antrian.call"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let activity = siti.send(Method::GET, "/api/activity", None).await;
        assert_eq!(activity.status, 200);
        let read = activity
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "record.read")
            .unwrap();
        assert_eq!(read["actor"], "module antrian");
        assert_eq!(read["fields"], json!(["antrian.ticket.service"]));
        assert_eq!(read["purpose"], "antrian.call");
        let page = portal_page(&app, &siti, "/account/activity")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("module antrian") && page.contains("antrian.ticket.service · antrian.call"),
            "{page}"
        );

        // And sees what the module keeps about them (right of access), audited.
        let own = siti.send(Method::GET, "/api/profile/records", None).await;
        assert_eq!(own.status, 200, "{:?}", own.body);
        assert_eq!(
            own.body,
            json!([{ "collection": "antrian.ticket", "record": "1", "values": { "service": "KTP" } }])
        );
        let data = portal_page(&app, &siti, "/account/data").await.text().await.unwrap();
        assert!(data.contains("Data yang disimpan layanan") && data.contains("antrian.ticket") && data.contains("KTP"));
        let activity = siti.send(Method::GET, "/api/activity", None).await;
        assert!(
            activity
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "record.read"
                    && e["actor"] == "you"
                    && e["purpose"] == "own_data"
                    && e["fields"] == json!(["antrian.ticket.service"]))
        );
        sandbox.drop_database().await;
    }
}
