//! Rate limits: 429 with the IETF headers, keyed by address and by
//! account, X-Forwarded-For believed only from trusted proxies.

use serde_json::json;

use crate::passkeys::audit_actions;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::{Backend, Sandbox};

/// Valid NIKs that differ in their serial.
fn nik(i: u32) -> String {
    format!("197101120385{:04}", i + 1)
}

backend_test! {
    async fn too_many_attempts_get_429_with_retry_after_and_ratelimit_headers(backend) {
        let sandbox = Sandbox::new(backend).await;
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
}

backend_test! {
    async fn forged_x_forwarded_for_is_ignored(backend) {
        let sandbox = Sandbox::new(backend).await;
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
}

backend_test! {
    async fn behind_a_trusted_proxy_limits_follow_the_client_and_the_account(backend) {
        let mut sandbox = Sandbox::new(backend).await;
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
}

/// A sandbox whose service believes X-Forwarded-For from the test client,
/// so that attacker and victim come from different addresses.
async fn behind_proxy(backend: Backend) -> Sandbox {
    let mut sandbox = Sandbox::new(backend).await;
    sandbox.extra_env = vec![("JAGA_SERVER_TRUSTED_PROXIES".into(), "127.0.0.1/32, ::1".into())];
    sandbox
}

/// Statuses of `n` failed sign-ins naming the victim's credential: each a
/// fresh ceremony, with the captured `assertion`'s client data pointed at
/// the new challenge (so it reaches signature verification, and fails
/// there), each from its own address.
async fn failed_sign_ins(
    attacker: &mut Browser<'_>,
    assertion: &[u8],
    n: u32,
    net: &str,
) -> Vec<(u16, serde_json::Value)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    let mut out = Vec::new();
    for i in 0..n {
        attacker.forwarded_for = Some(format!("{net}.{i}"));
        let options = attacker.sign_in_options().await;
        let mut forged: serde_json::Value = serde_json::from_slice(assertion).unwrap();
        let client_data = B64URL
            .decode(forged["response"]["clientDataJSON"].as_str().unwrap())
            .unwrap();
        let mut client_data: serde_json::Value = serde_json::from_slice(&client_data).unwrap();
        client_data["challenge"] = options["publicKey"]["challenge"].clone();
        forged["response"]["clientDataJSON"] = B64URL.encode(serde_json::to_vec(&client_data).unwrap()).into();
        let a = attacker.finish_sign_in(serde_json::to_vec(&forged).unwrap()).await;
        let mut body = a.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        out.push((a.status.as_u16(), body));
    }
    out
}

backend_test! {
    async fn strangers_with_a_credential_id_cannot_keep_its_owner_from_signing_in(backend) {
        let sandbox = behind_proxy(backend).await;
        let app = sandbox.serve();
        let mut alice = Browser::new(&app);
        alice.forwarded_for = Some("192.0.2.10".into());
        assert_eq!(alice.enrol(&nik(0), "Alice").await.status, 201);
        // Alice signs in; the attacker captured her assertion (and so her
        // credential id) and replays it from rotating addresses: after ten
        // failures they get 429…
        let options = alice.sign_in_options().await;
        let captured = alice.get(&options).await;
        assert_eq!(alice.finish_sign_in(captured.clone()).await.status, 200);
        let mut attacker = Browser::new(&app);
        let statuses: Vec<u16> = failed_sign_ins(&mut attacker, &captured, 12, "203.0.113")
            .await
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(&statuses[..10], &[401; 10], "{backend:?}");
        assert_eq!(&statuses[10..], &[429, 429], "{backend:?}");
        // …and Alice, with her passkey, signs in at once, again and again.
        for _ in 0..3 {
            assert_eq!(alice.sign_in().await.status, 200, "{backend:?}");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn refusals_do_not_tell_registered_from_unknown_credentials(backend) {
        let sandbox = behind_proxy(backend).await;
        let app = sandbox.serve();
        let mut alice = Browser::new(&app);
        assert_eq!(alice.enrol(&nik(0), "Alice").await.status, 201);
        // A credential nobody registered here (enrolled on another service).
        let other = Sandbox::new(Backend::Sqlite).await;
        let other_app = other.serve();
        let mut elsewhere = Browser::new(&other_app);
        assert_eq!(elsewhere.enrol(&nik(1), "Elsewhere").await.status, 201);
        let mut stranger = Browser::new(&app);
        stranger.passkeys = elsewhere.passkeys;
        // Fresh assertions with a wrong signature: a registered credential goes
        // all the way to signature verification, an unknown one does not exist.
        let tampered = |mut assertion: Vec<u8>| {
            let mut json: serde_json::Value = serde_json::from_slice(&assertion).unwrap();
            json["response"]["signature"] =
                "MEUCIQDtampered0000000000000000000000000000000000000AiAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into();
            assertion = serde_json::to_vec(&json).unwrap();
            assertion
        };
        let mut registered = Vec::new();
        let mut unknown = Vec::new();
        for i in 0..12 {
            alice.forwarded_for = Some(format!("198.51.100.{i}"));
            stranger.forwarded_for = Some(format!("198.51.100.{}", 100 + i));
            let options = alice.sign_in_options().await;
            let a = tampered(alice.get(&options).await);
            let options = stranger.sign_in_options().await;
            let b = tampered(stranger.get(&options).await);
            for (list, answer) in [
                (&mut registered, alice.finish_sign_in(a).await),
                (&mut unknown, stranger.finish_sign_in(b).await),
            ] {
                let mut body = answer.body.clone();
                body.as_object_mut().unwrap().remove("request_id");
                let retry = body["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .count()
                    > 0;
                list.push((answer.status.as_u16(), body["error"].clone(), retry));
            }
        }
        assert_eq!(registered, unknown, "the answers differ");
        assert_eq!(registered[0].0, 401);
        assert_eq!(registered[11].0, 429);
        // The real reasons are in the audit log.
        drop((alice, stranger));
        drop(app);
        let actions = audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .any(|(a, _, r)| a == "session.signin" && r.as_deref() == Some("rejected"))
        );
        assert!(
            actions
                .iter()
                .any(|(a, _, r)| a == "session.signin" && r.as_deref() == Some("unknown_credential"))
        );
    }
}

backend_test! {
    async fn strangers_with_a_nik_cannot_keep_its_holder_from_recovering(backend) {
        let sandbox = behind_proxy(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        phone.forwarded_for = Some("192.0.2.10".into());
        let enrolled = phone.enrol(&nik(0), "Siti").await;
        let code = enrolled.body["recovery_codes"][0].as_str().unwrap().to_owned();
        // One wrong code a request, from rotating addresses, keeps going.
        let mut statuses = Vec::new();
        for i in 0..8u32 {
            let mut thief = Browser::new(&app);
            thief.forwarded_for = Some(format!("203.0.113.{i}"));
            statuses.push(thief.recover(&nik(0), "aaaa-bbbb-cccc").await.status.as_u16());
        }
        assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429, 429, 429], "{backend:?}");
        // The holder's correct code works meanwhile.
        let mut new_phone = Browser::new(&app);
        new_phone.forwarded_for = Some("192.0.2.11".into());
        let recovered = new_phone.recover(&nik(0), &code).await;
        assert_eq!(recovered.status, 201, "{backend:?}: {:?}", recovered.body);
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn verification_codes_are_limited_per_account(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(&nik(0), "Siti").await.status, 201);
        phone.me().await;
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(
                phone
                    .verification_code()
                    .await
                    .status
                    .as_u16(),
            );
        }
        assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429], "{backend:?}");
        sandbox.drop_database().await;
    }
}

/// Every policy trips with its own name in `RateLimit-Policy`, and every
/// bucket fills again: nothing locks anyone out for good. The policies are
/// shortened by configuration (`ratelimit.policies`), not by code.
mod each_policy {
    use super::*;

    const SHORT: &str = "signin-ip=3/2, enrol-ip=3/2, code-ip=3/2, recovery-ip=3/2, signin-account=2/2, \
                         recovery-account=2/2, verify-account=2/2, verification-code-account=2/2, \
                         account-ip=3/2, counter-ip=30/2";

    /// The policy named in a 429's headers, or `None` when not refused.
    async fn refused_by(resp: reqwest::Response) -> Option<String> {
        (resp.status() == 429).then(|| {
            let policy = resp.headers()["ratelimit-policy"].to_str().unwrap().to_owned();
            assert!(resp.headers().contains_key("retry-after"), "{policy}");
            policy.split('"').nth(1).unwrap().to_owned()
        })
    }

    fn post(app: &crate::support::TestApp, path: &str, body: serde_json::Value, xff: &str) -> reqwest::RequestBuilder {
        app.client
            .post(app.url(path))
            .header("origin", crate::support::WEB_ORIGIN)
            .header("content-type", "application/json")
            .header("x-forwarded-for", xff)
            .body(body.to_string())
    }

    /// Sends `request()` until refused; returns the policy that refused it.
    async fn until_refused(mut request: impl FnMut(u32) -> reqwest::RequestBuilder) -> String {
        for i in 0..10 {
            if let Some(policy) = refused_by(request(i).send().await.unwrap()).await {
                return policy;
            }
        }
        panic!("never refused");
    }

    /// Waits out the bucket, then the same request passes again.
    async fn refills(mut request: impl FnMut(u32) -> reqwest::RequestBuilder) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let resp = request(1000).send().await.unwrap();
            if resp.status() != 429 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the bucket never refilled");
            let wait: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 100)).await;
        }
    }

    crate::support::backend_test! {
        async fn every_policy_trips_under_its_own_name_and_refills(backend) {
            let mut sandbox = Sandbox::new(backend).await;
            sandbox.extra_env = vec![
                ("JAGA_SERVER_TRUSTED_PROXIES".into(), "127.0.0.1/32, ::1".into()),
                ("JAGA_RATELIMIT_POLICIES".into(), SHORT.into()),
            ];
            let app = sandbox.serve();
            // Per address.
            for (path, body, policy) in [
                ("/api/signin/start", json!({}), "signin-ip"),
                ("/api/enrol/start", json!({ "nik": "1", "name": "x" }), "enrol-ip"),
                ("/api/enrol/code/start", json!({ "code": "x" }), "code-ip"),
                ("/api/recover/start", json!({ "nik": "1", "code": "x" }), "recovery-ip"),
            ] {
                let request = |_| post(&app, path, body.clone(), "198.51.100.1");
                assert_eq!(until_refused(request).await, policy);
                refills(request).await;
            }
            // Per account, failures only, from rotating addresses.
            let mut siti = Browser::new(&app);
            siti.forwarded_for = Some("192.0.2.1".into());
            assert_eq!(siti.enrol(&nik(0), "Siti").await.status, 201);
            let options = siti.sign_in_options().await;
            let captured = siti.get(&options).await;
            assert_eq!(siti.finish_sign_in(captured.clone()).await.status, 200);
            let replay = |i: u32| {
                app.client
                    .post(app.url("/api/signin/finish"))
                    .header("origin", crate::support::WEB_ORIGIN)
                    .header("content-type", "application/json")
                    .header("x-forwarded-for", format!("203.0.113.{}", i % 250))
                    .body(captured.clone())
            };
            assert_eq!(until_refused(replay).await, "signin-account");
            refills(replay).await;
            let recover = |i: u32| {
                post(&app, "/api/recover/start", json!({ "nik": nik(0), "code": "aaaa-bbbb-cccc" }), &format!("203.0.114.{}", i % 250))
            };
            assert_eq!(until_refused(recover).await, "recovery-account");
            refills(recover).await;
            // A counter officer checking wrong verification codes for one NIK.
            let officer = crate::accounts::counter_officer(&sandbox, &app).await;
            let csrf = officer.csrf.clone().unwrap();
            let session = officer.session.clone().unwrap();
            let verify = |i: u32| {
                post(&app, "/api/counter/verify", json!({ "nik": nik(0), "code": "00000000" }), &format!("203.0.115.{}", i % 250))
                    .header("cookie", format!("{}={session}", crate::support::browser::COOKIE))
                    .header("x-csrf-token", &csrf)
            };
            assert_eq!(until_refused(verify).await, "verify-account");
            refills(verify).await;
            // A citizen asking for verification codes.
            siti.me().await;
            let (csrf, session) = (siti.csrf.clone().unwrap(), siti.session.clone().unwrap());
            let codes = |i: u32| {
                post(&app, "/api/verification-code", json!({}), &format!("203.0.116.{}", i % 250))
                    .header("cookie", format!("{}={session}", crate::support::browser::COOKIE))
                    .header("x-csrf-token", &csrf)
            };
            assert_eq!(until_refused(codes).await, "verification-code-account");
            refills(codes).await;
            // A citizen's own changes, from one address.
            let edits = |_| {
                app.client
                    .patch(app.url("/api/profile"))
                    .header("origin", crate::support::WEB_ORIGIN)
                    .header("content-type", "application/json")
                    .header("x-forwarded-for", "203.0.117.1")
                    .header("cookie", format!("{}={session}", crate::support::browser::COOKIE))
                    .header("x-csrf-token", &csrf)
                    .body(json!({ "phone": "081299887766" }).to_string())
            };
            assert_eq!(until_refused(edits).await, "account-ip");
            refills(edits).await;
            drop((siti, officer));
        }
    }
}
