//! One JSON error shape that never leaks internals.

use crate::support::backend_test;
use crate::support::{Backend, Sandbox, TestApp, leaks_internals};

async fn error_body(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status(), status, "{}", resp.url());
    assert_eq!(resp.headers()["content-type"], "application/json");
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let text = resp.text().await.unwrap();
    if let Some(marker) = leaks_internals(&text) {
        panic!("error body leaks {marker:?}: {text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "message", "request_id"], "{text}");
    assert_eq!(v["request_id"], request_id.as_str());
    assert!(!v["message"].as_str().unwrap().is_empty());
    v
}

backend_test! {
    async fn unknown_routes_give_json_404(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        for path in [
            "/nope",
            "/api/v1/../../etc/passwd",
            "/%00",
            "/healthz/extra",
            "/nope?q=' or 1=1 --",
        ] {
            let v = error_body(app.get(path).await, 404).await;
            assert_eq!(v["error"], "not_found");
        }
    }
}

backend_test! {
    async fn wrong_method_gives_json_405(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let resp = app.client.delete(app.url("/healthz")).send().await.unwrap();
        let v = error_body(resp, 405).await;
        assert_eq!(v["error"], "method_not_allowed");
    }
}

backend_test! {
    async fn oversize_bodies_give_json_413(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        // Declared length over the limit: refused before the body is read.
        let resp = app
            .client
            .post(app.url("/healthz"))
            .body(vec![b'a'; (1 << 20) + 1])
            .send()
            .await
            .unwrap();
        let v = error_body(resp, 413).await;
        assert_eq!(v["error"], "payload_too_large");
        // Also on unknown routes, and answered from the declared length alone,
        // without waiting for (or reading) the body.
        let addr = app.base.trim_start_matches("http://").to_owned();
        let raw = raw_request(
            &addr,
            "PUT /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n",
        )
        .await;
        assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
        assert!(raw.contains("\"error\":\"payload_too_large\""), "{raw}");
    }
}

/// Sends raw bytes and returns what the server answers within two seconds.
async fn raw_request(addr: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::new();
    let deadline = std::time::Duration::from_secs(2);
    while let Ok(Ok(n)) = tokio::time::timeout(deadline, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

backend_test! {
    async fn hostile_requests_get_clean_errors(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let long_path = format!("/{}", "a".repeat(8000));
        for path in [
            long_path.as_str(),
            "/openapi.json/%ff%fe",
            "/readyz;drop table audit_event",
        ] {
            let resp = app.get(path).await;
            assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
            let text = resp.text().await.unwrap();
            assert!(leaks_internals(&text).is_none(), "{text}");
        }
        let resp = app
            .client
            .post(app.url("/healthz"))
            .header("content-type", "application/json")
            .body("{\"a\": [[[[[[[[")
            .send()
            .await
            .unwrap();
        error_body(resp, 405).await;
    }
}

backend_test! {
    /// What hyper refuses before any request reaches the router still gets
    /// the one JSON error shape, a request id and the security headers.
    async fn protocol_errors_get_the_json_shape_request_id_and_headers(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let addr = app.base.trim_start_matches("http://").to_owned();
        let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70 * 1024));
        let cases = [
            (long_uri.as_str(), 414, "uri_too_long"),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
                400,
                "bad_request",
            ),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-\u{1}: y\r\n\r\n", 400, "bad_request"),
            ("NOT-HTTP\r\n\r\n", 400, "bad_request"),
        ];
        for (request, status, code) in cases {
            let answer = raw_request(&addr, request).await;
            let (head, body) = answer
                .split_once("\r\n\r\n")
                .unwrap_or_else(|| panic!("no head: {answer:?}"));
            let head_lower = head.to_ascii_lowercase();
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
            assert!(head_lower.contains("content-type: application/json"), "{head}");
            assert!(head_lower.contains("x-request-id: "), "{head}");
            assert!(head_lower.contains("content-security-policy: "), "{head}");
            assert!(head_lower.contains("x-content-type-options: nosniff"), "{head}");
            let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body:?}"));
            assert_eq!(json["error"], code);
            assert_eq!(json["request_id"].as_str().unwrap().len(), 32);
            assert!(leaks_internals(body).is_none(), "{body}");
        }
        // Ordinary traffic on the same server is untouched.
        let ok = app.get("/healthz").await;
        assert_eq!(ok.status(), 200);
        let (_, logs) = app.stop();
        assert!(logs.contains("request refused before routing"), "{logs}");
    }
}

async fn assert_ready(app: &TestApp) {
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

backend_test! {
    async fn readyz_fails_when_the_database_is_unreachable(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        assert_ready(&app).await;
        assert_eq!(app.get("/healthz").await.status(), 200);
        match backend {
            Backend::Sqlite => std::fs::remove_file(sandbox.dir.path().join("jaga.db")).unwrap(),
            Backend::Postgres => sandbox.pg().unwrap().cut_off().await,
        }
        let v = error_body(app.get("/readyz").await, 503).await;
        assert_eq!(v["error"], "not_ready", "{backend:?}");
        assert!(!v["message"].as_str().unwrap().contains("database"), "{v}");
        app.wait_for_log("\"readiness.failing\":\"database").await;
        // The process itself is still up.
        assert_eq!(app.get("/healthz").await.status(), 200);
        drop(app);
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn malformed_json_gets_a_4xx_that_names_the_problem(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let post = |body: &'static str, content_type: Option<&'static str>| {
            let mut req = app
                .client
                .post(app.url("/api/enrol/start"))
                .header("origin", crate::support::WEB_ORIGIN)
                .body(body);
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            req.send()
        };
        let v = error_body(
            post("{\"nik\": 1, \"name\": \"x\"}", Some("application/json"))
                .await
                .unwrap(),
            422,
        )
        .await;
        assert!(v["message"].as_str().unwrap().contains("nik"), "{v}");
        let v = error_body(
            post(
                "{\"nik\": \"1\", \"name\": \"x\", \"extra\": 1}",
                Some("application/json"),
            )
            .await
            .unwrap(),
            422,
        )
        .await;
        assert!(v["message"].as_str().unwrap().contains("extra"), "{v}");
        let v = error_body(post("{not json", Some("application/json")).await.unwrap(), 400).await;
        assert_eq!(v["error"], "bad_request");
        let v = error_body(post("{}", None).await.unwrap(), 415).await;
        assert!(v["message"].as_str().unwrap().contains("application/json"), "{v}");
    }
}

backend_test! {
    /// A browser opening a page it may not see, or one that does not exist,
    /// gets a portal page with a way back; the API keeps its JSON.
    async fn browser_routes_answer_in_html_and_the_api_in_json(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut citizen = crate::support::browser::Browser::new(&app);
        assert_eq!(citizen.enrol("3171015207990007", "Siti Aminah").await.status, 201);
        let page = |path: &'static str, accept: &'static str| {
            let mut req = app.client.get(app.url(path)).header("accept", accept);
            if let Some(token) = &citizen.session {
                req = req.header("cookie", format!("{}={token}", crate::support::browser::COOKIE));
            }
            req.send()
        };
        let html = "text/html,application/xhtml+xml,*/*;q=0.8";
        for (path, status, words) in [
            ("/counter", 403, "Anda tidak dapat membuka halaman ini"),
            ("/no/such/page", 404, "Halaman tidak ditemukan"),
        ] {
            let resp = page(path, html).await.unwrap();
            assert_eq!(resp.status(), status, "{path}");
            assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
            assert!(resp.headers().contains_key("content-security-policy"));
            assert!(resp.headers().contains_key("x-request-id"));
            let body = resp.text().await.unwrap();
            assert!(body.contains(words) && body.contains("href=\"/\""), "{path}: {body}");
            assert!(body.contains("<html lang=\"id\">"));
        }
        // The API, and a client that does not ask for HTML, keep the JSON shape.
        for (path, accept) in [("/api/no/such", html), ("/counter", "application/json")] {
            let resp = page(path, accept).await.unwrap();
            assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
            let body: serde_json::Value = resp.json().await.unwrap();
            assert!(body["request_id"].is_string(), "{path}");
        }
    }
}
