//! Attacks on the passkey ceremonies and sessions.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use reqwest::Method;
use serde_json::Value;

use crate::support::backend_test;
use crate::support::browser::{Answer, Browser};
use crate::support::{Backend, Sandbox};

const NIK_A: &str = "1971011203850001";
const NIK_B: &str = "1971015507900002";

fn without_uv(mut options: Value, pointer: &str) -> Value {
    *options.pointer_mut(pointer).unwrap() = "discouraged".into();
    options
}

/// The error part of an answer, minus the request id.
fn shape(a: &Answer) -> (u16, Value, Value) {
    (a.status.as_u16(), a.body["error"].clone(), a.body["message"].clone())
}

backend_test! {
    async fn every_failed_sign_in_looks_the_same(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut alice = Browser::new(&app);
        assert_eq!(alice.enrol(NIK_A, "Alice").await.status, 201);
        let mut failures = Vec::new();

        // Malformed assertion.
        failures.push(("malformed", alice.finish_sign_in(b"{\"id\":\"x\"}".to_vec()).await));

        // Replay.
        let options = alice.sign_in_options().await;
        let assertion = alice.get(&options).await;
        assert_eq!(alice.finish_sign_in(assertion.clone()).await.status, 200);
        failures.push(("replay", alice.finish_sign_in(assertion).await));

        // Signed for another origin (a phishing page relaying the assertion).
        let mut phished = Browser::new(&app);
        phished.passkeys = std::mem::replace(&mut alice.passkeys, crate::support::authenticator::new_client());
        phished.passkey_origin = "http://localhost:8081".into();
        let options = phished.sign_in_options().await;
        let assertion = phished.get(&options).await;
        failures.push(("other origin", phished.finish_sign_in(assertion).await));

        // Without user verification.
        phished.passkey_origin = crate::support::WEB_ORIGIN.into();
        let options = without_uv(phished.sign_in_options().await, "/publicKey/userVerification");
        let assertion = phished.get(&options).await;
        failures.push(("no user verification", phished.finish_sign_in(assertion).await));

        // A passkey nobody enrolled.
        let mut stranger = Browser::new(&app);
        let mut other = Sandbox::new(Backend::Sqlite).await;
        other.extra_env = Vec::new();
        let other_app = other.serve();
        let mut elsewhere = Browser::new(&other_app);
        assert_eq!(elsewhere.enrol(NIK_B, "Elsewhere").await.status, 201);
        stranger.passkeys = elsewhere.passkeys;
        let options = stranger.sign_in_options().await;
        let assertion = stranger.get(&options).await;
        failures.push(("unknown credential", stranger.finish_sign_in(assertion).await));

        let first = shape(&failures[0].1);
        assert_eq!(first.0, 401);
        assert_eq!(first.1, "signin_failed");
        for (why, answer) in &failures {
            assert_eq!(shape(answer), first, "{backend:?}: {why} differs");
            assert!(answer.set_cookie.is_none(), "{why} set a cookie");
        }
        drop(app);
        let actions = crate::passkeys::audit_actions(&sandbox).await;
        let reasons: Vec<String> = actions
            .iter()
            .filter(|(a, _, _)| a == "session.signin")
            .filter_map(|(_, _, r)| r.clone())
            .collect();
        for reason in ["malformed", "unknown_ceremony", "rejected", "unknown_credential"] {
            assert!(reasons.iter().any(|r| r == reason), "{reason} not audited: {reasons:?}");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// webauthn_rp accepts `"userHandle": null` in a discoverable assertion and
    /// then panics in its accessor: the refusal must be an ordinary one.
    async fn null_or_missing_user_handle_is_an_ordinary_audited_refusal(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut alice = Browser::new(&app);
        assert_eq!(alice.enrol(NIK_A, "Alice").await.status, 201);
        for edit in ["null", "missing", "number"] {
            let options = alice.sign_in_options().await;
            let assertion = alice.get(&options).await;
            let mut json: Value = serde_json::from_slice(&assertion).unwrap();
            let response = json["response"].as_object_mut().unwrap();
            match edit {
                "null" => {
                    response.insert("userHandle".into(), Value::Null);
                }
                "missing" => {
                    response.remove("userHandle");
                }
                _ => {
                    response.insert("userHandle".into(), 7.into());
                }
            }
            let answer = alice.finish_sign_in(serde_json::to_vec(&json).unwrap()).await;
            assert_eq!(answer.status, 401, "{backend:?} {edit}: {:?}", answer.body);
            assert_eq!(answer.body["error"], "signin_failed");
            assert!(answer.set_cookie.is_none());
        }
        // The service is still up and signs Alice in normally.
        assert_eq!(alice.sign_in().await.status, 200);
        drop(alice);
        let (_, logs) = app.stop();
        assert!(!logs.contains("panicked"), "a panic was logged:\n{logs}");
        let refused = crate::passkeys::audit_actions(&sandbox)
            .await
            .into_iter()
            .filter(|(a, _, r)| a == "session.signin" && r.as_deref() == Some("malformed"))
            .count();
        assert_eq!(refused, 3, "{backend:?}: each refusal is audited");
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn registration_without_user_verification_is_rejected(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let start = phone.enrol_start(NIK_A, "Alice").await;
        let options = without_uv(start.body, "/publicKey/authenticatorSelection/userVerification");
        let response = phone.create(&options).await;
        let finish = phone.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        assert_eq!(finish.status, 400);
        assert_eq!(finish.body["error"], "passkey_rejected");
        assert!(finish.set_cookie.is_none());
        // The NIK is still free: nothing was half-written.
        let mut retry = Browser::new(&app);
        assert_eq!(retry.enrol(NIK_A, "Alice").await.status, 201);
    }
}

backend_test! {
    async fn a_credential_presented_for_another_account_is_rejected(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut alice = Browser::new(&app);
        let mut bob = Browser::new(&app);
        assert_eq!(alice.enrol(NIK_A, "Alice").await.status, 201);
        assert_eq!(bob.enrol(NIK_B, "Bob").await.status, 201);
        let bob_handle = bob
            .passkeys
            .authenticator()
            .store()
            .by_rp
            .values()
            .flatten()
            .find_map(|p| p.user_handle.clone())
            .unwrap();
        // Alice's signature, but claiming Bob's user handle.
        let options = alice.sign_in_options().await;
        let assertion = alice.get(&options).await;
        let mut json: Value = serde_json::from_slice(&assertion).unwrap();
        json["response"]["userHandle"] = B64URL.encode(&*bob_handle).into();
        let answer = alice.finish_sign_in(serde_json::to_vec(&json).unwrap()).await;
        assert_eq!(answer.status, 401, "{backend:?}");
        assert!(answer.set_cookie.is_none());
        drop(app);
        let actions = crate::passkeys::audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .any(|(_, _, r)| r.as_deref() == Some("user_handle_mismatch"))
        );
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn expired_ceremonies_are_rejected(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_WEBAUTHN_CEREMONY_TIMEOUT_SECS".into(), "1".into())];
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let start = phone.enrol_start(NIK_A, "Alice").await;
        let response = phone.create(&start.body).await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let late = phone.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        assert_eq!(late.status, 400);
        assert_eq!(late.body["error"], "passkey_rejected");

        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        let options = phone.sign_in_options().await;
        let assertion = phone.get(&options).await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(phone.finish_sign_in(assertion).await.status, 401);
        drop(app);
        let actions = crate::passkeys::audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .filter(|(_, _, r)| r.as_deref() == Some("expired"))
                .count()
                >= 2,
            "{actions:?}"
        );
    }
}

backend_test! {
    async fn signature_counter_regression_is_refused_and_audited(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        assert_eq!(phone.sign_in().await.status, 200);
        assert_eq!(phone.sign_in().await.status, 200);
        // A cloned authenticator: its counter is behind.
        for pk in phone
            .passkeys
            .authenticator_mut()
            .store_mut()
            .by_rp
            .values_mut()
            .flatten()
        {
            pk.counter = Some(0);
        }
        let answer = phone.sign_in().await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body["error"], "signin_failed");
        drop(app);
        let actions = crate::passkeys::audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .any(|(a, o, _)| a == "passkey.counter_regression" && o == "denied"),
            "{actions:?}"
        );
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn state_changes_need_our_origin_and_the_csrf_token(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        // No CSRF token yet (not fetched from /api/me).
        let answer = phone.send(Method::POST, "/api/signout", None).await;
        assert_eq!(answer.status, 403);
        assert_eq!(answer.body["error"], "csrf");
        phone.me().await;
        // Wrong token.
        let real = phone.csrf.replace("AAAA".into());
        assert_eq!(phone.send(Method::POST, "/api/signout", None).await.status, 403);
        phone.csrf = real;
        // Another site's origin, even with the token.
        phone.origin = "https://evil.example".into();
        let answer = phone.send(Method::POST, "/api/signout", None).await;
        assert_eq!(answer.status, 403);
        assert_eq!(answer.body["error"], "forbidden_origin");
        // No Origin header at all.
        let no_origin = app
            .client
            .post(app.url("/api/signin/start"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(no_origin.status(), 403);
        // Still signed in; then a proper sign-out ends the session.
        phone.origin = crate::support::WEB_ORIGIN.into();
        assert_eq!(phone.me().await.status, 200);
        let out = phone.send(Method::POST, "/api/signout", None).await;
        assert_eq!(out.status, 204);
        assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
        assert_eq!(phone.send(Method::GET, "/api/me", None).await.status, 401);
    }
}

backend_test! {
    async fn sessions_are_listed_and_revocable(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        let mut laptop = Browser::new(&app);
        laptop.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0".into();
        laptop.passkeys = std::mem::replace(&mut phone.passkeys, crate::support::authenticator::new_client());
        assert_eq!(laptop.sign_in().await.status, 200);
        phone.me().await;
        let list = phone.send(Method::GET, "/api/sessions", None).await;
        let sessions = list.body.as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        let other = sessions.iter().find(|s| s["current"] == false).unwrap();
        assert_eq!(other["device"], "Firefox on Windows");
        assert_eq!(other["ip"], "127.0.0.1");
        let id = other["id"].as_str().unwrap();
        assert_eq!(
            phone
                .send(Method::DELETE, &format!("/api/sessions/{id}"), None)
                .await
                .status,
            204
        );
        assert_eq!(laptop.send(Method::GET, "/api/me", None).await.status, 401);
        // Someone else's session id cannot be revoked.
        assert_eq!(
            phone.send(Method::DELETE, "/api/sessions/ses_nope", None).await.status,
            404
        );
        sandbox.drop_database().await;
    }
}

/// Sleeps until `since + at`, so that a timeout is certainly crossed
/// however slow the machine was before.
async fn until(since: std::time::Instant, at: std::time::Duration) {
    if let Some(left) = (since + at).checked_duration_since(std::time::Instant::now()) {
        tokio::time::sleep(left).await;
    }
}

backend_test! {
    /// Timeouts are compared in whole seconds: each check waits until well
    /// past the limit (at least 1.5 s beyond), and the checks that a session
    /// is still alive are made with at least 3 s to spare; a slow machine
    /// cannot turn either into a false result (it can only wait longer).
    async fn sessions_end_after_idle_and_absolute_timeouts(backend) {
        use std::time::{Duration, Instant};
        const IDLE: u64 = 4;
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_SESSIONS_IDLE_TIMEOUT_SECS".into(), IDLE.to_string())];
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        let used = Instant::now();
        let alive = phone.me().await.status;
        if used.elapsed() < Duration::from_secs(IDLE - 1) {
            assert_eq!(alive, 200);
        }
        let last_use = Instant::now();
        until(last_use, Duration::from_millis(IDLE * 1000 + 1500)).await;
        assert_eq!(phone.me().await.status, 401, "idle session still alive");
        drop(phone);
        drop(app);

        const ABSOLUTE: u64 = 5;
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![
            ("JAGA_SESSIONS_IDLE_TIMEOUT_SECS".into(), "60".into()),
            ("JAGA_SESSIONS_ABSOLUTE_TIMEOUT_SECS".into(), ABSOLUTE.to_string()),
        ];
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let signed_in = Instant::now();
        assert_eq!(phone.enrol(NIK_A, "Alice").await.status, 201);
        // Kept busy, it is still alive well inside the absolute timeout…
        let status = phone.me().await.status;
        if signed_in.elapsed() < Duration::from_secs(ABSOLUTE - 3) {
            assert_eq!(status, 200);
        }
        // …and ends at it, however busy.
        until(signed_in, Duration::from_millis(ABSOLUTE * 1000 + 1500)).await;
        assert_eq!(phone.me().await.status, 401, "session outlived its absolute timeout");
    }
}
