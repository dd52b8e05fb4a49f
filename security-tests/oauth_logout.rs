//! Logout: a small test module hears, over the back channel, that a
//! citizen's sign-in ended (OpenID Connect Back-Channel Logout 1.0); and a
//! module sends the citizen to Jaga to sign out (RP-Initiated Logout 1.0),
//! who confirms and comes back only to a registered page.

use std::sync::{Arc, Mutex};

use reqwest::Method;

use crate::oauth::oauth_sandbox_env;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::oauth::{ISSUER, OauthClient};
use crate::support::sign_in::{claims, decide, exchange, open_authorize, push_usual, query_of, refresh, register_with};
use crate::support::{Sandbox, TestApp};

const AFTER_LOGOUT: &str = "https://antrian.example/sampai-jumpa";

/// A module's back-channel logout endpoint: records every logout token.
struct Receiver {
    url: String,
    tokens: Arc<Mutex<Vec<String>>>,
}

async fn receiver() -> Receiver {
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = tokens.clone();
    let app = axum::Router::new().route(
        "/logout",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let token = form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                kept.lock().unwrap().push(token);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://127.0.0.1:{port}/logout"),
        tokens,
    }
}

impl Receiver {
    /// Waits (up to 10 s: deliveries run every 2 s) for `n` logout tokens.
    async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let got = self.tokens.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("expected {n} logout tokens, got {:?}", self.tokens.lock().unwrap());
    }
}

fn register(sandbox: &Sandbox, logout_uri: &str) -> OauthClient {
    register_with(
        sandbox,
        "antrian",
        &[
            "--backchannel-logout-uri",
            logout_uri,
            "--post-logout-redirect-uri",
            AFTER_LOGOUT,
        ],
    )
}

/// Siti signs in to the module; returns the token response's body.
async fn signed_in_module(app: &TestApp, client: &OauthClient, browser: &Browser<'_>) -> serde_json::Value {
    let (request_uri, verifier) = push_usual(app, client, "openid", &[]).await;
    let page = open_authorize(app, Some(browser), &client.id, &request_uri).await;
    let location = match page.location {
        Some(l) => l,
        None => decide(browser, &client.id, &request_uri, "allow", &[]).await.body["redirect"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let code = query_of(&location)["code"].clone();
    let tokens = exchange(app, client, &code, &verifier, None).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    tokens.body
}

backend_test! {
    /// Signing out of Jaga ends the module's sign-in and the module is told
    /// with a signed logout token naming the session (sid) and the subject.
    async fn signing_out_sends_a_back_channel_logout(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let module = receiver().await;
        let client = register(&sandbox, &module.url);
        let app = sandbox.serve();
        let mut browser = Browser::new(&app);
        assert_eq!(browser.enrol("1971011203850001", "Siti Aminah").await.status, 201);
        browser.me().await;
        let tokens = signed_in_module(&app, &client, &browser).await;
        let id = claims(tokens["id_token"].as_str().unwrap());
        assert!(module.tokens.lock().unwrap().is_empty());

        assert_eq!(browser.send(Method::POST, "/api/signout", None).await.status, 204);
        let got = module.wait_for(1).await;
        let header: serde_json::Value = {
            use base64::Engine as _;
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(got[0].split('.').next().unwrap()).unwrap()).unwrap()
        };
        assert_eq!(header["typ"], "logout+jwt");
        assert_eq!(header["alg"], "ES256");
        let logout = claims(&got[0]);
        assert_eq!(logout["iss"], ISSUER);
        assert_eq!(logout["aud"], "antrian");
        assert_eq!(logout["sub"], id["sub"]);
        assert_eq!(logout["sid"], id["sid"]);
        assert!(logout.get("nonce").is_none());
        assert!(logout["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert_eq!(refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await.body["error"], "invalid_grant");
        // Delivered once, audited.
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(module.tokens.lock().unwrap().len(), 1);
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'oauth.backchannel_logout' and outcome = 'success' and reason = 'session_ended'").await, 1);
    }
}

backend_test! {
    /// A module sends the citizen to Jaga's end-session endpoint: she
    /// confirms there; only a registered page gets her back, with its state.
    async fn rp_initiated_logout_confirms_and_returns_only_to_registered_pages(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = register(&sandbox, "http://127.0.0.1:9/logout");
        let app = sandbox.serve();
        let mut browser = Browser::new(&app);
        assert_eq!(browser.enrol("1971011203850001", "Siti Aminah").await.status, 201);
        browser.me().await;
        let tokens = signed_in_module(&app, &client, &browser).await;
        let hint = tokens["id_token"].as_str().unwrap();
        let query = |uri: &str| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("id_token_hint", hint)
                .append_pair("post_logout_redirect_uri", uri)
                .append_pair("state", "s-1")
                .finish()
        };
        // Signed in: a confirmation, never a sign-out by a link alone.
        let page = browser.page(&format!("/oauth/logout?{}", query(AFTER_LOGOUT))).await;
        assert!(page.contains("Keluar dari Jaga"), "{page}");
        assert!(page.contains(&format!("data-then=\"{AFTER_LOGOUT}?state=s-1\"")), "{page}");
        assert_eq!(browser.me().await.status, 200);
        // An address the module did not register: shown, not followed.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let bad = http.get(app.url(&format!("/oauth/logout?{}", query("https://evil.example/")))).header("accept", "text/html").send().await.unwrap();
        assert_eq!(bad.status(), 400);
        assert!(bad.headers().get("location").is_none());
        assert!(bad.text().await.unwrap().contains("tidak terdaftar"));
        // Signed out already: straight back to the module, with the state.
        assert_eq!(browser.send(Method::POST, "/api/signout", None).await.status, 204);
        let back = http.get(app.url(&format!("/oauth/logout?{}", query(AFTER_LOGOUT)))).send().await.unwrap();
        assert_eq!(back.status(), 303);
        assert_eq!(back.headers()["location"], format!("{AFTER_LOGOUT}?state=s-1"));
    }
}
