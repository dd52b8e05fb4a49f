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
