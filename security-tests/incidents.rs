//! Incidents (UU PDP Art. 46): for a window and the officers and modules
//! involved, exactly the citizens whose data they touched in it, with the
//! data categories; the deadline for notices; notices recorded once; the
//! list exported as CSV; security officers only; every step audited.

use jaga::audit::{Actor, ActorKind, Event, Outcome, Target};
use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_with_role;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{citizen_deciding, portal_page};
use crate::support::{Lib, Sandbox, backend_test};

async fn send(who: &Browser<'_>, method: Method, path: &str, body: Option<Value>) -> Answer {
    who.send(method, path, body.map(|b| serde_json::to_vec(&b).unwrap()))
        .await
}

fn read(kind: ActorKind, actor: &str, citizen: &str, fields: &[&str]) -> Event {
    Event::new(
        Actor::new(kind, actor),
        "profile.read",
        Target::new("citizen", Some(citizen.to_owned())).with_fields(fields.iter().copied()),
        Outcome::Success,
    )
}

backend_test! {
    async fn an_incident_lists_exactly_the_citizens_touched_and_records_notices(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        lib.record(read(ActorKind::Officer, "ofc_rogue", "ctz_before", &["nik"])).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let now_us = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000).unwrap();
        let from = jaga::audit::export::time_text(now_us);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        lib.record(read(ActorKind::Officer, "ofc_rogue", "ctz_1", &["nik", "full_name"])).await;
        lib.record(read(ActorKind::Officer, "ofc_rogue", "ctz_1", &["phone"])).await;
        lib.record(read(ActorKind::Module, "antrian", "ctz_2", &["antrian.ticket.health_note"])).await;
        lib.record(read(ActorKind::Officer, "ofc_other", "ctz_3", &["nik"])).await;
        let mut refused = read(ActorKind::Officer, "ofc_rogue", "ctz_4", &["nik"]);
        refused.outcome = Outcome::Denied;
        lib.record(refused).await;
        lib.close().await;

        let app = sandbox.serve();
        let (security, security_id) = officer_with_role(&sandbox, &app, "security").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let to = "2100-01-01T00:00:00Z";
        let opening = json!({ "title": "Akun petugas disalahgunakan", "from": from, "to": to,
            "officers": ["ofc_rogue"], "modules": ["antrian"] });

        for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("administrator", &admin)] {
            for (method, path, body) in [
                (Method::GET, "/api/security/incidents", None),
                (Method::POST, "/api/security/incidents", Some(opening.clone())),
            ] {
                let answer = send(browser, method.clone(), path, body).await;
                assert_eq!(answer.status, 403, "{who} {method} {path}");
            }
            assert_eq!(portal_page(&app, browser, "/security/incidents").await.status(), 403, "{who}");
        }
        assert_eq!(app.get("/api/security/incidents").await.status(), 401);

        for bad in [
            json!({ "title": "x", "from": to, "to": from, "officers": ["ofc_rogue"] }),
            json!({ "title": "x", "from": from, "to": to }),
            json!({ "title": "x", "from": from, "to": to, "officers": ["ctz_1"] }),
            json!({ "title": "", "from": from, "to": to, "modules": ["antrian"] }),
            json!({ "title": "x", "from": "yesterday", "to": to, "modules": ["antrian"] }),
        ] {
            let answer = send(&security, Method::POST, "/api/security/incidents", Some(bad.clone())).await;
            assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (400, Some("invalid_query")), "{bad}");
        }

        let opened = send(&security, Method::POST, "/api/security/incidents", Some(opening)).await;
        assert_eq!(opened.status, 201, "{:?}", opened.body);
        assert_eq!(opened.body["affected"], 2);
        let id = opened.body["id"].as_str().unwrap().to_owned();
        let detail = send(&security, Method::GET, &format!("/api/security/incidents/{id}"), None).await;
        assert_eq!(detail.status, 200);
        let incident = &detail.body["incident"];
        assert_eq!(incident["notice_due_at"].as_i64().unwrap() - incident["discovered_at"].as_i64().unwrap(), 72 * 3600);
        assert_eq!(incident["opened_by"], security_id.as_str());
        let affected = detail.body["affected"].as_array().unwrap();
        let who: Vec<&str> = affected.iter().map(|a| a["citizen"].as_str().unwrap()).collect();
        assert_eq!(who, ["ctz_1", "ctz_2"], "only the named actors, in the window, successful");
        assert_eq!(affected[0]["categories"], json!(["full_name", "nik", "phone"]));
        assert_eq!(affected[0]["accesses"], 2);
        assert_eq!(affected[1]["categories"], json!(["antrian.ticket.health_note"]));
        assert!(affected.iter().all(|a| a["notified_at"].is_null()));
        let missing = send(&security, Method::GET, "/api/security/incidents/inc_nope", None).await;
        assert_eq!((missing.status.as_u16(), missing.body["error"].as_str()), (404, Some("no_incident")));

        // Notices: each recorded once.
        let notices = format!("/api/security/incidents/{id}/notices");
        let one = send(&security, Method::POST, &notices, Some(json!({ "citizens": ["ctz_1"] }))).await;
        assert_eq!((one.body["citizens"].as_u64(), one.body["authority"].as_bool()), (Some(1), Some(false)));
        let again = send(&security, Method::POST, &notices, Some(json!({ "citizens": ["ctz_1"] }))).await;
        assert_eq!(again.body["citizens"], 0);
        let rest = send(&security, Method::POST, &notices, Some(json!({ "all": true, "authority": true }))).await;
        assert_eq!((rest.body["citizens"].as_u64(), rest.body["authority"].as_bool()), (Some(1), Some(true)));
        let twice = send(&security, Method::POST, &notices, Some(json!({ "authority": true }))).await;
        assert_eq!(twice.body["authority"], false, "the authority's notice keeps its first time");

        // The CSV for the notices.
        let csv = security.get_raw(&format!("/api/security/incidents/{id}/export")).await;
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "citizen,categories,accesses,notified_at");
        assert!(lines[1].starts_with("ctz_1,full_name nik phone,2,1") && lines[2].starts_with("ctz_2,"), "{text}");
        assert_eq!(lines.len(), 3);

        // The pages.
        let list = portal_page(&app, &security, "/security/incidents").await.text().await.unwrap();
        assert!(list.contains("Akun petugas disalahgunakan") && list.contains(&id), "{list}");
        let page = portal_page(&app, &security, &format!("/security/incidents/{id}")).await.text().await.unwrap();
        assert!(page.contains("ctz_1") && page.contains("Batas pemberitahuan") && page.contains("Diberi tahu"), "{page}");
        assert_eq!(portal_page(&app, &counter, &format!("/security/incidents/{id}")).await.status(), 403);

        for action in ["incident.open", "incident.read", "incident.notice", "incident.export"] {
            let n = sandbox.sql_count(&format!(
                "select count(*) from audit_event where action = '{action}' and actor_id = '{security_id}'")).await;
            assert!(n >= 1, "{action} is audited");
        }
    }
}
