//! Service-module helpers: a module's API key, calls with it, a citizen to
//! keep records about, the ticket collection, portal pages, and raw SQL as
//! an attacker with database access would run it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::browser::Browser;
use super::{Sandbox, TestApp};

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
