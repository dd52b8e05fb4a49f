//! Rate limits: 429 with the IETF headers, keyed by address and by
//! account, X-Forwarded-For believed only from trusted proxies.

use serde_json::json;

use crate::passkeys::audit_actions;
use crate::support::browser::Browser;
use crate::support::{Backend, Sandbox};

/// Valid NIKs that differ in their serial.
fn nik(i: u32) -> String {
    format!("197101120385{:04}", i + 1)
}

#[tokio::test]
async fn too_many_attempts_get_429_with_retry_after_and_ratelimit_headers() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let app = sandbox.serve();
    let thief = Browser::new(&app);
    for i in 0..10 {
        let a = thief
            .post_json(
                "/api/recover/start",
                &json!({ "nik": nik(i), "code": "aaaa-bbbb-cccc" }),
            )
            .await;
        assert_eq!(a.status, 401, "attempt {i}");
    }
    let resp = app
        .client
        .post(app.url("/api/recover/start"))
        .header("origin", crate::support::WEB_ORIGIN)
        .header("content-type", "application/json")
        .body(json!({ "nik": nik(11), "code": "aaaa-bbbb-cccc" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let h = resp.headers();
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(h["ratelimit-policy"], "\"recovery-ip\";q=10;w=300");
    assert!(h["ratelimit"].to_str().unwrap().starts_with("\"recovery-ip\";r=0;t="));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // Other endpoints and other limits are not affected.
    assert_eq!(thief.post_json("/api/signin/start", &json!({})).await.status, 200);
    drop(app);
    let actions = audit_actions(&sandbox).await;
    let trips = actions.iter().filter(|(a, _, _)| a == "ratelimit.trip").count();
    assert_eq!(trips, 1, "{actions:?}");
}

#[tokio::test]
async fn forged_x_forwarded_for_is_ignored() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let app = sandbox.serve();
    let mut statuses = Vec::new();
    for i in 0..12u32 {
        let resp = app
            .client
            .post(app.url("/api/recover/start"))
            .header("origin", crate::support::WEB_ORIGIN)
            .header("content-type", "application/json")
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .body(json!({ "nik": nik(i), "code": "x" }).to_string())
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    drop(app);
    // The audit log names the real peer, not the forged address.
    let lib = crate::support::Lib::open(&sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 1000).await.unwrap();
    lib.close().await;
    assert!(
        rows.iter()
            .all(|r| r.source.as_deref().is_none_or(|s| s == "127.0.0.1"))
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_limits_follow_the_client_and_the_account() {
    let mut sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.extra_env = vec![("JAGA_SERVER_TRUSTED_PROXIES".into(), "127.0.0.1/32, ::1".into())];
    let app = sandbox.serve();
    let mut phone = Browser::new(&app);
    assert_eq!(phone.enrol(&nik(0), "Siti").await.status, 201);
    // Five wrong recovery codes for one NIK, each from a different client.
    let mut statuses = Vec::new();
    for i in 0..7u32 {
        let resp = app
            .client
            .post(app.url("/api/recover/start"))
            .header("origin", crate::support::WEB_ORIGIN)
            .header("content-type", "application/json")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .body(json!({ "nik": nik(0), "code": "aaaa-bbbb-cccc" }).to_string())
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(
        statuses,
        vec![401, 401, 401, 401, 401, 429, 429],
        "the per-account limit"
    );
    drop(app);
    let lib = crate::support::Lib::open(&sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 1000).await.unwrap();
    lib.close().await;
    // Audit events carry the client address the proxy saw.
    assert!(rows.iter().any(|r| r.source.as_deref() == Some("198.51.100.3")));
    assert!(
        rows.iter()
            .any(|r| r.action == "ratelimit.trip" && r.target_id.as_deref() == Some("recovery-account"))
    );
}
