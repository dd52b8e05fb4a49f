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

/// A citizen who has decided `decision` on each of `purposes` in their
/// portal; returns their pseudonym and their signed-in browser.
pub async fn citizen_deciding<'a>(
    app: &'a TestApp,
    nik: &str,
    name: &str,
    purposes: &[&str],
    decision: &str,
) -> (String, Browser<'a>) {
    let mut b = Browser::new(app);
    let enrolled = b.enrol(nik, name).await;
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    let pseudonym = enrolled.body["account"].as_str().unwrap().to_owned();
    b.me().await;
    for p in purposes {
        decide(&b, p, decision).await;
    }
    (pseudonym, b)
}

/// The module opens a case with the citizen (`PUT /api/cases/{citizen}/c1`),
/// which a purpose based on a contract or a public task needs to read.
pub async fn open_case(app: &TestApp, key: &str, citizen: &str) {
    let (status, body) = call(
        app,
        key,
        Method::PUT,
        &format!("/api/cases/{citizen}/c1"),
        Some(json!({ "state": "open" })),
    )
    .await;
    assert_eq!(status, 204, "{body:?}");
}

/// `PUT /api/consents/{purpose}` in the citizen's browser; must succeed.
pub async fn decide(browser: &Browser<'_>, purpose: &str, decision: &str) -> Value {
    let body = serde_json::to_vec(&json!({ "decision": decision })).unwrap();
    let answer = browser
        .send(Method::PUT, &format!("/api/consents/{purpose}"), Some(body))
        .await;
    assert_eq!(answer.status, 200, "{purpose} {decision}: {:?}", answer.body);
    answer.body
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

/// A typed client of the module API, holding the module's key: the
/// well-formed calls the tests make, without hand-written JSON. Hostile
/// requests (wrong shapes, wrong keys) still go through [`call`].
#[derive(Debug, Clone, Copy)]
pub struct ModuleApi<'a> {
    pub app: &'a TestApp,
    pub key: &'a str,
}

/// A record to write: citizen pseudonym, record id, field values (`None`
/// removes a field).
#[derive(Debug, Clone)]
pub struct Write<'v> {
    pub citizen: &'v str,
    pub record: &'v str,
    pub values: &'v [(&'v str, Option<&'v str>)],
}

fn values_json(values: &[(&str, Option<&str>)]) -> Value {
    Value::Object(
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map_or(Value::Null, |v| Value::String(v.to_owned()))))
            .collect(),
    )
}

/// The shipped catalog's purpose that covers every field the tests write
/// in `collection` (or in the collection of a record path).
pub fn writing_purpose(collection_or_path: &str) -> &'static str {
    let collection = collection_or_path
        .trim_start_matches("/api/collections/")
        .split('/')
        .next()
        .unwrap();
    match collection.split('.').next().unwrap() {
        "antrian" => "antrian.priority",
        "survei" => "survei.kepuasan",
        "perizinan" => "perizinan.review",
        "dokumen" => "dokumen.register",
        other => panic!("no writing purpose for module {other}"),
    }
}

impl<'a> ModuleApi<'a> {
    pub fn new(app: &'a TestApp, key: &'a str) -> Self {
        Self { app, key }
    }

    /// `PUT /api/collections/{collection}` with `definition`.
    pub async fn define(&self, collection: &str, definition: Value) -> (StatusCode, Value) {
        let path = format!("/api/collections/{collection}");
        call(self.app, self.key, Method::PUT, &path, Some(definition)).await
    }

    /// `PUT` of the record at `path` (`…/records/{citizen}/{record}`).
    pub async fn write_at(&self, path: &str, values: &[(&str, Option<&str>)]) -> (StatusCode, Value) {
        call(
            self.app,
            self.key,
            Method::PUT,
            path,
            Some(json!({ "values": values_json(values), "purpose": writing_purpose(path) })),
        )
        .await
    }

    /// `GET` of the record at `path` for `purpose`, narrowed to `fields`.
    pub async fn read_at(&self, path: &str, purpose: Option<&str>, fields: Option<&str>) -> (StatusCode, Value) {
        let mut url = url::Url::parse(&self.app.url(path)).unwrap();
        for (name, value) in [("purpose", purpose), ("fields", fields)] {
            if let Some(v) = value {
                url.query_pairs_mut().append_pair(name, v);
            }
        }
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        call(self.app, self.key, Method::GET, &format!("{}{query}", url.path()), None).await
    }

    /// `DELETE` of the record at `path`.
    pub async fn delete_at(&self, path: &str) -> (StatusCode, Value) {
        let path = format!("{path}?purpose={}", writing_purpose(path));
        call(self.app, self.key, Method::DELETE, &path, None).await
    }

    /// `PUT …/records` with a batch.
    pub async fn write_batch(&self, collection: &str, writes: &[Write<'_>]) -> (StatusCode, Value) {
        let records: Vec<Value> = writes
            .iter()
            .map(|w| json!({ "citizen": w.citizen, "record": w.record, "values": values_json(w.values) }))
            .collect();
        let path = format!("/api/collections/{collection}/records");
        call(
            self.app,
            self.key,
            Method::PUT,
            &path,
            Some(json!({ "records": records, "purpose": writing_purpose(collection) })),
        )
        .await
    }

    /// `POST …/records/read` for `purpose` (left out when `None`).
    pub async fn read_batch(
        &self,
        collection: &str,
        purpose: Option<&str>,
        refs: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut body = json!({ "records": refs_json(refs) });
        if let Some(p) = purpose {
            body["purpose"] = json!(p);
        }
        let path = format!("/api/collections/{collection}/records/read");
        call(self.app, self.key, Method::POST, &path, Some(body)).await
    }

    /// `POST …/records/delete`.
    pub async fn delete_batch(&self, collection: &str, refs: &[(&str, &str)]) -> (StatusCode, Value) {
        let path = format!("/api/collections/{collection}/records/delete");
        call(
            self.app,
            self.key,
            Method::POST,
            &path,
            Some(json!({ "records": refs_json(refs), "purpose": writing_purpose(collection) })),
        )
        .await
    }
}

fn refs_json(refs: &[(&str, &str)]) -> Value {
    refs.iter()
        .map(|(citizen, record)| json!({ "citizen": citizen, "record": record }))
        .collect()
}
