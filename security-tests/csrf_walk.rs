//! Every state-changing route, taken from the router's own table (so a new
//! route cannot be forgotten), refuses a missing or foreign Origin and,
//! when a session authenticates it, a missing or wrong CSRF token. Module
//! routes take a bearer key and never a session cookie.

use reqwest::Method;
use serde_json::Value;

use crate::support::backend_test;
use crate::support::browser::{Browser, COOKIE};
use crate::support::{Sandbox, WEB_ORIGIN};

/// Routes anyone may call before signing in: Origin is checked, there is no
/// session whose CSRF token could be.
const PUBLIC: &[&str] = &[
    "/api/signin/start",
    "/api/signin/finish",
    "/api/enrol/start",
    "/api/enrol/finish",
    "/api/enrol/code/start",
    "/api/recover/start",
];
/// Routes of the module API (bearer key).
const MODULE_PREFIXES: [&str; 2] = ["/api/collections/", "/api/cases/"];
/// The OAuth endpoints: client-authenticated (a signed assertion or Basic),
/// never by a browser session, so cookies and Origin change nothing.
const OAUTH_PREFIX: &str = "/oauth/";

/// The (method, path) table of the router this sandbox's configuration builds.
pub(crate) async fn route_table(sandbox: &Sandbox) -> Vec<(axum::http::Method, &'static str)> {
    let layers = jaga::config::Layers::read(None, sandbox.env()).unwrap();
    let config = jaga::config::Config::from_layers(&layers, false).unwrap();
    let keys = jaga::keys::KeyRing::load(&config.keys).unwrap();
    let app = jaga::app::App::start(config, keys).await.unwrap();
    let table = jaga::http::route_table(&app.state);
    app.stop().await;
    table
}

async fn send(
    browser: &Browser<'_>,
    method: &Method,
    path: &str,
    origin: Option<&str>,
    csrf: Option<&str>,
) -> (u16, Value) {
    let mut req = browser
        .app
        .client
        .request(method.clone(), browser.app.url(path))
        .header("content-type", "application/json")
        .body("{}");
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    if let Some(token) = &browser.session {
        req = req.header("cookie", format!("{COOKIE}={token}"));
    }
    if let Some(csrf) = csrf {
        req = req.header("x-csrf-token", csrf);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

backend_test! {
    async fn every_state_changing_route_needs_our_origin_and_the_csrf_token(backend) {
        let sandbox = Sandbox::new(backend).await;
        let table = route_table(&sandbox).await;
        let unsafe_routes: Vec<(Method, String)> = table
            .iter()
            .filter(|(m, _)| !matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS"))
            .map(|(m, p)| {
                let path: String = p
                    .split('/')
                    .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                    .collect::<Vec<_>>()
                    .join("/");
                (Method::from_bytes(m.as_str().as_bytes()).unwrap(), path)
            })
            .collect();
        assert!(unsafe_routes.len() >= 20, "the table lists the router's routes: {unsafe_routes:?}");
        let app = sandbox.serve();
        let mut citizen = Browser::new(&app);
        assert_eq!(citizen.enrol("3171015207990007", "Siti Aminah").await.status, 201);
        citizen.me().await;
        let csrf = citizen.csrf.clone().unwrap();
        for (method, path) in &unsafe_routes {
            let what = format!("{backend:?} {method} {path}");
            if MODULE_PREFIXES.iter().any(|p| path.starts_with(p)) {
                // A browser session never authenticates the module API.
                let (status, body) = send(&citizen, method, path, Some(WEB_ORIGIN), Some(&csrf)).await;
                assert_eq!(status, 401, "{what}: {body:?}");
                continue;
            }
            if path.starts_with(OAUTH_PREFIX) {
                // The session's cookie, Origin and CSRF token authenticate nobody here.
                let (status, body) = send(&citizen, method, path, Some(WEB_ORIGIN), Some(&csrf)).await;
                assert!(matches!(status, 400 | 401), "{what}: {status} {body:?}");
                // Userinfo is a resource: without its token, invalid_token (RFC 6750 §3.1).
                let expected: &[&str] = if path == "/oauth/userinfo" { &["invalid_token"] } else { &["invalid_request", "invalid_client"] };
                assert!(body["error"].as_str().is_some_and(|e| expected.contains(&e)), "{what}: {body:?}");
                continue;
            }
            for origin in [None, Some("https://evil.example"), Some("null")] {
                let (status, body) = send(&citizen, method, path, origin, Some(&csrf)).await;
                assert_eq!((status, body["error"].as_str()), (403, Some("forbidden_origin")), "{what} origin {origin:?}");
            }
            if PUBLIC.contains(&path.as_str()) {
                continue;
            }
            for token in [None, Some("AAAA"), Some("")] {
                let (status, body) = send(&citizen, method, path, Some(WEB_ORIGIN), token).await;
                assert_eq!((status, body["error"].as_str()), (403, Some("csrf")), "{what} csrf {token:?}");
            }
        }
        // The session survived all of that.
        assert_eq!(citizen.send(Method::GET, "/api/me", None).await.status, 200);
    }
}
