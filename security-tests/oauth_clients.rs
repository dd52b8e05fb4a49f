//! Modules registered as OAuth clients from the command line: keys are
//! checked, client_secret_basic only when asked for, secrets rotate, and a
//! module without keys gets tokens once it has some.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::oauth::{TOKEN_URL, oauth_sandbox_env};
use crate::support::Sandbox;
use crate::support::backend_test;
use crate::support::oauth::{Key, OauthClient, token_request};

backend_test! {
    /// Registration from the command line: keys are checked (a private key
    /// is refused), client_secret_basic only when asked for and then shown
    /// once, a rotated secret replaces the old one, every change audited;
    /// a module registered without keys gets tokens once it has some.
    async fn registration_checks_keys_and_secrets_rotate(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let key = Key::new();
        let mut private = key.public_jwk();
        private["d"] = json!("c2VjcmV0LXNjYWxhci1ub3QtdG8tYmUtc2hhcmVkLTMy");
        let bad = sandbox.dir.path().join("private.jwks.json");
        std::fs::write(&bad, json!({ "keys": [private] }).to_string()).unwrap();
        let refused = sandbox.cli(&["modules", "add", "--name", "antrian", "--jwks", bad.to_str().unwrap()]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("private member"), "{}", String::from_utf8_lossy(&refused.stderr));
        let bad_uri = sandbox.cli(&["modules", "add", "--name", "antrian", "--auth", "client_secret_basic",
            "--redirect-uri", "http://evil.example/cb"]);
        assert!(String::from_utf8_lossy(&bad_uri.stderr).contains("plain http is allowed only for localhost"));

        // Registered without keys (as the migration leaves older modules).
        let plain = sandbox.cli(&["modules", "add", "--name", "antrian"]);
        assert!(plain.status.success());
        assert!(String::from_utf8_lossy(&plain.stdout).contains("jaga modules set-jwks"));
        // A client_secret_basic module, explicitly.
        let secret_out = sandbox.cli(&["modules", "add", "--name", "survei", "--auth", "client_secret_basic"]);
        assert!(secret_out.status.success(), "{}", String::from_utf8_lossy(&secret_out.stderr));
        let secret_of = |out: &std::process::Output| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .find(|w| w.starts_with("jaga_cs_"))
                .unwrap()
                .to_owned()
        };
        let secret = secret_of(&secret_out);
        let listed = String::from_utf8_lossy(&sandbox.cli(&["modules", "list"]).stdout).to_string();
        assert!(listed.contains("antrian") && listed.contains("private_key_jwt (no keys)"), "{listed}");
        assert!(listed.contains("client_secret_basic"), "{listed}");
        assert!(!listed.contains(&secret), "a secret is shown once");

        let app = sandbox.serve();
        let basic = |id: &str, secret: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")));
        let dpop = OauthClient { id: "survei".into(), key: Key::new(), dpop: Key::new() };
        let grant = |auth: String, proof: String| {
            let app = &app;
            async move {
                let resp = app.client.post(app.url("/oauth/token"))
                    .header("Authorization", auth)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("DPoP", proof)
                    .body("grant_type=client_credentials")
                    .send().await.unwrap();
                let status = resp.status().as_u16();
                let nonce = resp.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
                (status, resp.json::<Value>().await.unwrap(), nonce)
            }
        };
        let (_, first, nonce) = grant(basic("survei", &secret), dpop.proof("POST", TOKEN_URL, None, None)).await;
        assert_eq!(first["error"], "use_dpop_nonce");
        let nonce = nonce.unwrap();
        let (status, body, _) = grant(basic("survei", &secret), dpop.proof("POST", TOKEN_URL, Some(&nonce), None)).await;
        assert_eq!(status, 200, "{body}");
        let (status, body, _) = grant(basic("survei", "jaga_cs_wrong"), dpop.proof("POST", TOKEN_URL, Some(&nonce), None)).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
        // Basic for a private_key_jwt client is refused.
        let (status, _, _) = grant(basic("antrian", &secret), dpop.proof("POST", TOKEN_URL, Some(&nonce), None)).await;
        assert_eq!(status, 401);

        let rotated = sandbox.cli(&["modules", "rotate-secret", "--name", "survei"]);
        assert!(rotated.status.success());
        let new_secret = secret_of(&rotated);
        let (status, _, _) = grant(basic("survei", &secret), dpop.proof("POST", TOKEN_URL, Some(&nonce), None)).await;
        assert_eq!(status, 401, "the old secret stops working");
        let (status, _, _) = grant(basic("survei", &new_secret), dpop.proof("POST", TOKEN_URL, Some(&nonce), None)).await;
        assert_eq!(status, 200);
        assert!(!sandbox.cli(&["modules", "rotate-secret", "--name", "antrian"]).status.success());

        // antrian gets keys, then tokens.
        let client = OauthClient { id: "antrian".into(), key: Key::new(), dpop: Key::new() };
        let mut jwk = client.key.public_jwk();
        jwk["kid"] = json!("k1");
        let file = sandbox.dir.path().join("antrian.jwks.json");
        std::fs::write(&file, json!({ "keys": [jwk] }).to_string()).unwrap();
        let proof = client.proof("POST", TOKEN_URL, Some(&nonce), None);
        assert_eq!(token_request(&app, &client, &client.assertion(), Some(&proof), None).await.body["error"], "invalid_client");
        assert!(sandbox.cli(&["modules", "set-jwks", "--name", "antrian", "--jwks", file.to_str().unwrap()]).status.success());
        let proof = client.proof("POST", TOKEN_URL, Some(&nonce), None);
        assert_eq!(token_request(&app, &client, &client.assertion(), Some(&proof), None).await.status, 200);
        assert_eq!(
            sandbox.sql_count("select count(*) from audit_event where action in ('module.update', 'module.rotate_secret')").await,
            2
        );
    }
}

/// A module's published JWKS, which the test changes as the module rotates.
async fn published_keys(keys: std::sync::Arc<std::sync::Mutex<Value>>) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let keys = keys.clone();
            async move { axum::Json(keys.lock().unwrap().clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}/jwks.json")
}

fn with_kid(key: &Key, kid: &str) -> Value {
    let mut jwk = key.public_jwk();
    jwk["kid"] = json!(kid);
    jwk
}

backend_test! {
    /// A module that publishes its keys at a jwks_uri rotates them by
    /// itself: a new key id is fetched, and a key it stopped publishing
    /// stops working.
    async fn a_jwks_uri_is_fetched_and_follows_the_modules_rotation(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let first = Key::new();
        let published = std::sync::Arc::new(std::sync::Mutex::new(json!({ "keys": [with_kid(&first, "k1")] })));
        let uri = published_keys(published.clone()).await;
        let out = sandbox.cli(&["modules", "add", "--name", "antrian", "--jwks-uri", &uri]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let app = sandbox.serve();
        let client = OauthClient { id: "antrian".into(), key: first, dpop: Key::new() };
        let nonce = crate::support::oauth::nonce(&app, &client).await;
        let proof = || client.proof("POST", TOKEN_URL, Some(&nonce), None);
        let ok = token_request(&app, &client, &client.assertion(), Some(&proof()), None).await;
        assert_eq!(ok.status, 200, "{ok:?}");

        // The module rotates: it publishes k2 only and signs with it.
        let second = Key::new();
        *published.lock().unwrap() = json!({ "keys": [with_kid(&second, "k2")] });
        let assertion = second.sign(&json!({ "alg": "ES256", "kid": "k2" }), &client.assertion_claims());
        let rotated = token_request(&app, &client, &assertion, Some(&proof()), None).await;
        assert_eq!(rotated.status, 200, "{rotated:?}");
        // The key it no longer publishes is refused (the fetched set is k2 only).
        let old = token_request(&app, &client, &client.assertion(), Some(&proof()), None).await;
        assert_eq!((old.status, old.body["error"].as_str()), (401, Some("invalid_client")), "{old:?}");
        // Inline keys and a jwks_uri together are refused.
        let both = sandbox.cli(&["modules", "update", "--name", "antrian", "--jwks-uri", &uri, "--jwks", "/dev/null"]);
        assert!(!both.status.success());
    }
}
