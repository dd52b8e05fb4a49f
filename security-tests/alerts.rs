//! Alerts: every rule of policies/alerts.toml fires on its crafted
//! scenario and stays quiet on a benign one, an occurrence raises one
//! alert however often it is scanned, the webhook gets a signed body with
//! retries and backoff and keeps dead letters that can be sent again, and
//! only security officers see alerts.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jaga::alerts::{engine, webhook};
use jaga::audit::{Actor, ActorKind, Event, Outcome, Target};
use jaga::policy::alerts::AlertRules;
use reqwest::Method;
use serde_json::json;

use crate::counter_recovery::officer_with_role;
use crate::support::modules::{citizen_deciding, portal_page};
use crate::support::{Lib, Sandbox, backend_test};

const LOW: &str = r#"
[officer_reads]
citizens = 3
window_minutes = 60
[module_hours]
open = "00:00"
close = "24:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
[module_rate]
factor = 3
min_reads = 5
baseline_days = 7
[denial_burst]
denials = 3
window_minutes = 10
[rate_limit_storm]
trips = 3
window_minutes = 10
"#;

fn rules(text: &str) -> AlertRules {
    AlertRules::parse("alerts.toml", text).unwrap()
}

fn event(kind: ActorKind, actor: &str, action: &str, target: (&str, Option<&str>), outcome: Outcome) -> Event {
    Event::new(
        Actor::new(kind, actor),
        action,
        Target::new(target.0, target.1.map(str::to_owned)),
        outcome,
    )
}

async fn read_by_officer(lib: &Lib, officer: &str, citizen: &str) {
    lib.record(event(
        ActorKind::Officer,
        officer,
        "profile.read",
        ("citizen", Some(citizen)),
        Outcome::Success,
    ))
    .await;
}

async fn read_by_module(lib: &Lib, module: &str) {
    lib.record(event(
        ActorKind::Module,
        module,
        "record.read",
        ("citizen", Some("ctz_m")),
        Outcome::Success,
    ))
    .await;
}

/// The (rule, subject) of each new alert.
async fn scan(lib: &Lib, rules: &AlertRules, failure: Option<&str>) -> Vec<(String, String)> {
    let mut new: Vec<_> = engine::scan(&lib.db, &lib.writer, rules, failure, false)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rule, a.subject))
        .collect();
    new.sort();
    new
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    v.sort();
    v
}

backend_test! {
    async fn a_benign_log_raises_no_alert(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let low = rules(LOW);
        assert!(scan(&lib, &low, None).await.is_empty(), "the first scan starts at the end of the log");

        // Benign: everything just under its threshold.
        for c in ["ctz_1", "ctz_2", "ctz_3"] {
            read_by_officer(&lib, "off_a", c).await;
            read_by_officer(&lib, "off_a", c).await;
        }
        for _ in 0..4 {
            read_by_module(&lib, "antrian").await;
        }
        for _ in 0..3 {
            lib.record(event(ActorKind::Module, "dokumen", "record.write", ("citizen", Some("ctz_9")), Outcome::Denied)).await;
            lib.record(event(ActorKind::Anonymous, "203.0.113.7", "ratelimit.trip", ("ratelimit", Some("signin")), Outcome::Denied)).await;
        }
        lib.record(event(ActorKind::Officer, "off_b", "breakglass.read", ("citizen", Some("ctz_5")), Outcome::Success)).await;
        lib.record(event(ActorKind::Citizen, "ctz_6", "passkey.register", ("passkey", None), Outcome::Success)).await;
        assert_eq!(scan(&lib, &low, None).await, vec![], "nothing crosses a threshold");
    }
}

backend_test! {
    async fn each_crafted_scenario_raises_its_alert_once(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let low = rules(LOW);
        scan(&lib, &low, None).await;
        // Each scenario from just under its threshold to just over, alone.
        for c in ["ctz_1", "ctz_2", "ctz_3"] {
            read_by_officer(&lib, "off_a", c).await;
        }
        assert_eq!(scan(&lib, &low, None).await, vec![]);
        read_by_officer(&lib, "off_a", "ctz_4").await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("officer_reads", "off_a")]));
        read_by_officer(&lib, "off_a", "ctz_5").await;
        assert_eq!(scan(&lib, &low, None).await, vec![], "the same occurrence raises one alert");

        for _ in 0..4 {
            read_by_module(&lib, "antrian").await;
        }
        assert_eq!(scan(&lib, &low, None).await, vec![]);
        read_by_module(&lib, "antrian").await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("module_rate", "antrian")]));

        for _ in 0..3 {
            lib.record(event(ActorKind::Module, "dokumen", "record.write", ("citizen", Some("ctz_9")), Outcome::Denied)).await;
        }
        assert_eq!(scan(&lib, &low, None).await, vec![]);
        lib.record(event(ActorKind::Module, "dokumen", "record.write", ("citizen", Some("ctz_9")), Outcome::Denied)).await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("denial_burst", "log")]));

        let trip = || event(ActorKind::Anonymous, "-", "ratelimit.trip", ("ratelimit", Some("signin")), Outcome::Denied);
        for _ in 0..3 {
            lib.record(trip()).await;
        }
        assert_eq!(scan(&lib, &low, None).await, vec![], "trips are not denials of access");
        lib.record(trip()).await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("rate_limit_storm", "log")]));

        lib.record(event(ActorKind::Officer, "off_b", "breakglass.read", ("citizen", Some("ctz_5")), Outcome::Success)).await;
        assert_eq!(scan(&lib, &low, None).await, vec![]);
        lib.record(event(ActorKind::Officer, "off_b", "breakglass.open", ("citizen", Some("ctz_5")), Outcome::Success)).await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("break_glass", "off_b")]));

        lib.record(event(ActorKind::Citizen, "ctz_6", "passkey.register", ("passkey", None), Outcome::Success)).await;
        assert_eq!(scan(&lib, &low, None).await, vec![]);
        lib.record(event(ActorKind::Citizen, "ctz_6", "passkey.counter_regression", ("passkey", None), Outcome::Denied)).await;
        let found = scan(&lib, &low, None).await;
        assert!(found.contains(&("counter_regression".into(), "ctz_6".into())), "{found:?}");

        lib.record(event(ActorKind::System, "jaga", "audit.witness.refused", ("witness", Some("saksi.test/w1")), Outcome::Failure)).await;
        assert_eq!(scan(&lib, &low, None).await, pairs(&[("witness_refused", "saksi.test/w1")]));

        assert_eq!(scan(&lib, &low, Some("audit event 7 was altered")).await, pairs(&[("verification_failed", "log")]));
        assert_eq!(scan(&lib, &low, Some("audit event 7 was altered")).await, vec![], "once per failure");

        // Outside service hours: a window that does not hold now.
        let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7));
        let closed = if now.hour() < 12 { "[module_hours]\nopen = \"13:00\"\nclose = \"14:00\"\n" } else { "[module_hours]\nopen = \"01:00\"\nclose = \"02:00\"\n" };
        read_by_module(&lib, "survei").await;
        assert_eq!(scan(&lib, &rules(closed), None).await, pairs(&[("module_hours", "survei")]));
        read_by_module(&lib, "survei").await;
        assert_eq!(scan(&lib, &rules(closed), None).await, vec![], "once a day per module");
        // A rule turned off stays quiet.
        lib.record(event(ActorKind::Officer, "off_c", "breakglass.open", ("citizen", Some("ctz_7")), Outcome::Success)).await;
        assert_eq!(scan(&lib, &rules("[break_glass]\nenabled = false\n[module_hours]\nopen = \"00:00\"\nclose = \"24:00\"\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n"), None).await, vec![]);
        lib.close().await;
    }
}

/// A webhook receiver: answers each request with the next status of its
/// script (then 204), and keeps what it was sent.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<u16>>>,
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let next = {
        let mut script = r.script.lock().unwrap();
        if script.is_empty() { 204 } else { script.remove(0) }
    };
    StatusCode::from_u16(next).unwrap()
}

async fn start_receiver(script: Vec<u16>) -> (Receiver, String) {
    let r = Receiver {
        script: Arc::new(Mutex::new(script)),
        got: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

const SECRET: &str = "rahasia-bersama-webhook-0123456789abcdef";

fn webhook_to(url: &str, max_attempts: i32) -> webhook::Webhook {
    webhook::Webhook {
        url: url.to_owned(),
        secret: SECRET.to_owned().into(),
        retry_base_secs: 10,
        max_attempts,
        client: reqwest::Client::new(),
    }
}

/// The alert ids raised by a break-glass of `officer`.
async fn raise_one(lib: &Lib, officer: &str) -> String {
    lib.record(event(
        ActorKind::Officer,
        officer,
        "breakglass.open",
        ("citizen", Some("ctz_5")),
        Outcome::Success,
    ))
    .await;
    let new = engine::scan(&lib.db, &lib.writer, &AlertRules::default(), None, true)
        .await
        .unwrap();
    assert_eq!(new.len(), 1);
    new[0].alert_id.clone()
}

backend_test! {
    async fn the_webhook_gets_signed_alerts_with_retries_and_keeps_dead_letters(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        engine::scan(&lib.db, &lib.writer, &AlertRules::default(), None, true).await.unwrap();
        let id = raise_one(&lib, "off_a").await;
        let (receiver, url) = start_receiver(vec![500, 503]).await;
        let hook = webhook_to(&url, 5);
        let t0 = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0).await.unwrap(), 0);
        // Backoff: 10 s after the first failure, then 20 s.
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 9).await.unwrap(), 0);
        assert_eq!(receiver.got.lock().unwrap().len(), 1, "not due yet");
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 10).await.unwrap(), 0);
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 29).await.unwrap(), 0);
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 30).await.unwrap(), 1);
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 1000).await.unwrap(), 0, "delivered once");
        let got = receiver.got.lock().unwrap().clone();
        assert_eq!(got.len(), 3);
        for (headers, body) in &got {
            assert_eq!(headers["jaga-alert-id"], id.as_str());
            assert_eq!(headers["content-type"], "application/json");
            let sig = headers["jaga-signature"].to_str().unwrap();
            let t: i64 = sig.strip_prefix("t=").unwrap().split(',').next().unwrap().parse().unwrap();
            assert_eq!(sig, webhook::signature(SECRET.as_bytes(), t, body), "the signature covers the body");
            assert_ne!(sig, webhook::signature(b"another secret entirely, 32 chars+", t, body));
            let alert: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!((alert["rule"].as_str(), alert["subject"].as_str()), (Some("break_glass"), Some("off_a")));
            assert_eq!(alert["facts"], json!({ "citizen": "ctz_5" }));
        }

        // Always failing: a dead letter after the last attempt, sent again on request.
        let dead = raise_one(&lib, "off_b").await;
        let (receiver, url) = start_receiver(vec![500, 500, 500]).await;
        let hook = webhook_to(&url, 3);
        for at in [t0, t0 + 10, t0 + 30, t0 + 1000] {
            webhook::deliver_due(&lib.db, &lib.writer, &hook, at).await.unwrap();
        }
        assert_eq!(receiver.got.lock().unwrap().len(), 3, "three attempts, then no more");
        let listed = jaga::store::alerts::newest(&lib.db, 10).await.unwrap();
        let row = listed.iter().find(|a| a.alert_id == dead).unwrap();
        assert!(row.dead_at.is_some() && row.delivered_at.is_none(), "{row:?}");
        assert_eq!((row.attempts, row.last_error.as_deref()), (Some(3), Some("HTTP 500")));
        let again = dead.clone();
        let sent_again = lib.writer.write::<bool, jaga::store::StoreError, _>(move |tx| Box::pin(async move {
            jaga::store::alerts::redeliver(tx, &again, t0 + 2000).await
        })).await.unwrap();
        assert!(sent_again);
        assert_eq!(webhook::deliver_due(&lib.db, &lib.writer, &hook, t0 + 2000).await.unwrap(), 1);
        lib.close().await;
    }
}

backend_test! {
    async fn only_security_officers_see_alerts(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        std::fs::write(sandbox.dir.path().join("policies/alerts.toml"), LOW).unwrap();
        sandbox.extra_env.push(("JAGA_ALERTS_EVERY_SECS".into(), "1".into()));
        let app = sandbox.serve();
        let (siti, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (opener, _) = officer_with_role(&sandbox, &app, "security").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let opened = opener.send(Method::POST, "/api/break-glass", Some(serde_json::to_vec(&json!({
            "citizen": siti, "justification": "Laporan kepolisian no. 17/XII/2026 tentang pemalsuan", "minutes": 10
        })).unwrap())).await;
        assert_eq!(opened.status, 201);
        let mut alerts = serde_json::Value::Null;
        for _ in 0..100 {
            alerts = security.send(Method::GET, "/api/security/alerts", None).await.body;
            if alerts.as_array().is_some_and(|a| a.iter().any(|x| x["rule"] == "break_glass")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let alert = alerts.as_array().unwrap().iter().find(|x| x["rule"] == "break_glass").unwrap().clone();
        assert_eq!(alert["severity"], "high");
        assert_eq!(alert["delivery"], "none", "no webhook configured");
        for (who, browser) in [("citizen", &citizen), ("counter officer", &counter)] {
            let answer = browser.send(Method::GET, "/api/security/alerts", None).await;
            assert_eq!(answer.status, 403, "{who}");
            let page = portal_page(&app, browser, "/security/alerts").await;
            assert_eq!(page.status(), 403, "{who}");
        }
        assert_eq!(app.get("/api/security/alerts").await.status(), 401);
        let no = security.send(Method::POST, &format!("/api/security/alerts/{}/redeliver", alert["id"].as_str().unwrap()), None).await;
        assert_eq!((no.status.as_u16(), no.body["error"].as_str()), (404, Some("no_dead_letter")));
        let page = portal_page(&app, &security, "/security/alerts").await.text().await.unwrap();
        assert!(page.contains("Akses darurat ke data warga") && page.contains(alert["id"].as_str().unwrap()), "{page}");
        let looks = sandbox.sql_count("select count(*) from audit_event where action = 'alert.list'").await;
        assert!(looks >= 2, "looking at alerts is audited");
    }
}
