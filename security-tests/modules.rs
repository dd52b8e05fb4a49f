//! Service modules: API keys, collections with UU PDP classifications,
//! records sealed under the citizen's data key, purpose-bound reads, module
//! isolation, batch limits, and what the audit log keeps.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::backend_test;
use crate::support::modules::{ModuleApi, Write};
use crate::support::modules::{
    add_module, call, citizen, citizen_deciding, define_tickets, jaga_sql, ticket_definition,
};
use crate::support::{Lib, Sandbox};

backend_test! {
    async fn a_module_keeps_sealed_records_and_reads_them_only_with_a_purpose(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let (siti, _browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["antrian.priority"], "grant").await;

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

        let (status, body) = ModuleApi::new(&app, &antrian).define("antrian.ticket", ticket_definition()).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["fields"][2]["classification"], "health");
        // A module names its collections after itself; classifications are fixed.
        let (status, _) = ModuleApi::new(&app, &antrian).define("perizinan.x", ticket_definition()).await;
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
        let (status, body) = ModuleApi::new(&app, &antrian).define("antrian.ticket", reclassified).await;
        assert_eq!(status, 409, "{body:?}");
        let (status, body) = ModuleApi::new(&app, &antrian).define("antrian.ticket", json!({ "fields": [{ "name": "queue_number", "classification": "secret" }] })).await;
        assert!(status.is_client_error(), "{status} {body:?}");

        let path = format!("/api/collections/antrian.ticket/records/{siti}/A-017");
        let (status, body) = ModuleApi::new(&app, &antrian).write_at(&path, &[("queue_number", Some("A-017")), ("service", Some("KTP")), ("health_note", Some("kursi roda"))]).await;
        assert_eq!(status, 204, "{body:?}");

        // Reading needs a purpose.
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&path, None, None).await;
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
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.priority"), None).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["values"]["queue_number"], "A-017");
        assert_eq!(body["values"]["health_note"], "kursi roda");
        let (status, body) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.priority"), Some("service")).await;
        assert_eq!(status, 200);
        assert_eq!(body["values"], json!({ "service": "KTP" }));

        // Unknown fields, bad record ids and unknown citizens are refused.
        let (status, body) = ModuleApi::new(&app, &antrian).write_at(&path, &[("nama", Some("x"))]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_record"))
        );
        let (status, _) = call(
            &app,
            &antrian,
            Method::PUT,
            &format!("/api/collections/antrian.ticket/records/{siti}/a%20b"),
            Some(json!({ "purpose": "antrian.call", "values": { "service": "x" } })),
        )
        .await;
        assert_eq!(status, 400);
        let (status, body) = call(
            &app,
            &antrian,
            Method::PUT,
            "/api/collections/antrian.ticket/records/ctz_nobody/1",
            Some(json!({ "purpose": "antrian.call", "values": { "service": "x" } })),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("no_citizen"))
        );

        // Null removes one field; delete removes the record.
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("health_note", None)]).await.0, 204);
        let (_, body) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.priority"), None).await;
        assert_eq!(body["values"], json!({ "queue_number": "A-017", "service": "KTP" }));
        let (status, _) = ModuleApi::new(&app, &antrian).delete_at(&path).await;
        assert_eq!(status, 204);
        let (status, _) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.priority"), None).await;
        assert_eq!(status, 404);
        let (status, _) = ModuleApi::new(&app, &antrian).delete_at(&path).await;
        assert_eq!(status, 404);
        drop(app);

        let lib = Lib::open(&sandbox).await;
        let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
        lib.close().await;
        let reads: Vec<_> = rows.iter().filter(|r| r.action == "record.read").collect();
        assert_eq!(reads.len(), 4, "{reads:?}");
        assert!(reads.iter().all(|r| r.actor_kind == "module"
            && r.actor_id == "antrian"
            && r.purpose.as_deref() == Some("antrian.priority")
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

backend_test! {
    async fn a_module_cannot_reach_another_modules_collection(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let perizinan = add_module(&sandbox, "perizinan");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;
        define_tickets(&app, &antrian).await;
        let path = format!("/api/collections/antrian.ticket/records/{siti}/1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("service", Some("KTP"))]).await.0, 204);

        let attempts = [
            (Method::GET, "/api/collections/antrian.ticket".to_owned(), None),
            (
                Method::PUT,
                "/api/collections/antrian.ticket".to_owned(),
                Some(ticket_definition()),
            ),
            (Method::GET, format!("{path}?purpose=perizinan.check"), None),
            (Method::PUT, path.clone(), Some(json!({ "purpose": "antrian.call", "values": { "service": "x" } }))),
            (Method::DELETE, format!("{path}?purpose=antrian.call"), None),
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
        let (status, _) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.call"), None).await;
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

backend_test! {
    async fn batches_are_all_or_nothing_and_limited_to_one_hundred(backend) {
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
        let api = ModuleApi::new(&app, &antrian);
        let coll = "antrian.ticket";
        for who in [&siti, &budi] {
            crate::support::modules::open_case(&app, &antrian, who).await;
        }
        let names: Vec<(String, String)> = (0..101).map(|i| (format!("r{i}"), format!("Q{i}"))).collect();
        let values: Vec<[(&str, Option<&str>); 1]> =
            names.iter().map(|(_, q)| [("queue_number", Some(q.as_str()))]).collect();
        let who = |i: usize| if i.is_multiple_of(2) { siti.as_str() } else { budi.as_str() };
        let writes: Vec<Write<'_>> = (0..101)
            .map(|i| Write {
                citizen: who(i),
                record: &names[i].0,
                values: &values[i],
            })
            .collect();
        let refs: Vec<(&str, &str)> = (0..101).map(|i| (who(i), names[i].0.as_str())).collect();
        let (status, body) = api.write_batch(coll, &writes[..101]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("batch_size"))
        );
        let (status, _) = api.write_batch(coll, &[]).await;
        assert_eq!(status, 400);
        // One bad record refuses the whole batch: nothing is written.
        let mut mixed = records(10);
        mixed[7]["values"] = json!({ "unknown": "x" });
        let body = json!({ "purpose": "antrian.call", "records": mixed });
        let (status, answer) = call(&app, &antrian, Method::PUT, batch, Some(body)).await;
        assert_eq!((status, answer["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_record")));
        let (_, body) = api.read_batch(coll, Some("antrian.call"), &refs[..10]).await;
        assert!(
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["values"].is_null()),
            "{body:?}"
        );

        let (status, body) = api.write_batch(coll, &writes[..100]).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["written"], 100);
        let (status, body) = api.read_batch(coll, Some("antrian.call"), &refs[..100]).await;
        assert_eq!(status, 200);
        let got = body["records"].as_array().unwrap();
        assert_eq!(got.len(), 100);
        assert_eq!(got[42]["values"]["queue_number"], "Q42");
        assert_eq!(got[43]["citizen"], budi.as_str());
        let (status, _) = api.read_batch(coll, Some("antrian.call"), &refs[..101]).await;
        assert_eq!(status, 400);
        let (status, body) = api.read_batch(coll, None, &refs[..3]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("purpose_required"))
        );
        let (status, body) = api.delete_batch(coll, &refs[..100]).await;
        assert_eq!(status, 200);
        assert_eq!(body["deleted"], 100);
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_record_copied_to_another_citizen_record_or_field_does_not_open(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let siti = citizen(&app, "1971015507900002", "Siti Aminah").await;
        let budi = citizen(&app, "1971011203850001", "Budi Santoso").await;
        define_tickets(&app, &antrian).await;
        let base = format!("/api/collections/antrian.ticket/records/{siti}");
        let budi_record = format!("/api/collections/antrian.ticket/records/{budi}/1");
        for who in [&siti, &budi] {
            crate::support::modules::open_case(&app, &antrian, who).await;
        }
        let (status, _) = ModuleApi::new(&app, &antrian).write_at(&budi_record, &[("service", Some("KK"))]).await;
        assert_eq!(status, 204);
        for record in ["1", "2"] {
            let (status, _) = call(
                &app,
                &antrian,
                Method::PUT,
                &format!("{base}/{record}"),
                Some(json!({ "purpose": "antrian.call", "values": { "queue_number": format!("Q{record}"), "service": "KTP" } })),
            )
            .await;
            assert_eq!(status, 204);
        }
        // A database administrator moves record 1's ciphertext into record 2,
        // and the service field's into queue_number.
        // And Siti's service value into Budi's record (same collection,
        // record id, field and version).
        let of = |pseudonym: &str| format!("(select account_id from account where pseudonym = '{pseudonym}')");
        let sql = [
            format!("update record_field set sealed = (select sealed from record_field where record_id = '1' and field = 'queue_number' and account_id = {}) where record_id = '2' and field = 'queue_number' and account_id = {}", of(&siti), of(&siti)),
            format!("update record_field set sealed = (select sealed from record_field where record_id = '2' and field = 'service' and account_id = {}) where record_id = '1' and field = 'service' and account_id = {}", of(&siti), of(&budi)),
            format!("update record_field set sealed = (select sealed from record_field where record_id = '1' and field = 'service' and account_id = {}), record_version = 1 where record_id = '1' and field = 'queue_number' and account_id = {}", of(&siti), of(&siti)),
        ];
        for statement in &sql {
            jaga_sql(&sandbox, statement).await;
        }
        for path in [format!("{base}/1"), format!("{base}/2"), budi_record.clone()] {
            let (status, body) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.call"), None).await;
            assert_eq!(status, 500, "{path}: {body:?}");
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
        assert_eq!(failed, 3);
        sandbox.drop_database().await;
    }
}
