//! Passkey enrolment and sign-in through the HTTP API with 1Password's
//! software authenticator.

use reqwest::Method;

use crate::support::Sandbox;
use crate::support::backend_test;
use crate::support::browser::Browser;

const NIK: &str = "1971011203850001";

pub async fn audit_actions(sandbox: &Sandbox) -> Vec<(String, String, Option<String>)> {
    let lib = crate::support::Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows.into_iter().map(|r| (r.action, r.outcome, r.reason)).collect()
}

backend_test! {
    async fn citizen_enrols_then_signs_in_with_a_passkey(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let enrolled = phone.enrol(NIK, "Siti Aminah").await;
        assert_eq!(enrolled.status, 201, "{backend:?} {:?}", enrolled.body);
        let pseudonym = enrolled.body["account"].as_str().unwrap().to_owned();
        assert!(pseudonym.starts_with("ctz_"));
        assert_eq!(enrolled.body["verified"], false);
        let cookie = enrolled.set_cookie.unwrap();
        for attribute in ["__Host-jaga_session=", "Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let me = phone.me().await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body["account"], pseudonym.as_str());

        // A new browser on the same phone signs in without a user name.
        let mut again = Browser::new(&app);
        again.passkeys = phone.passkeys;
        let signed_in = again.sign_in().await;
        assert_eq!(signed_in.status, 200, "{:?}", signed_in.body);
        let me = again.me().await;
        assert_eq!(me.body["account"], pseudonym.as_str());
        // A new token at every sign-in.
        assert_ne!(again.session, phone.session);

        drop(app);
        let actions = audit_actions(&sandbox).await;
        for expected in ["account.enrol.self", "passkey.register", "session.start"] {
            assert!(
                actions.iter().any(|(a, o, _)| a == expected && o == "success"),
                "{expected}: {actions:?}"
            );
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn personal_data_never_reaches_the_logs_or_the_audit_log(backend) {
    let sandbox = Sandbox::new(backend).await;
    let app = sandbox.serve();
    let mut phone = Browser::new(&app);
    assert_eq!(
        phone.enrol("3171015207990007", "Kanari Canarysdottir").await.status,
        201
    );
    drop(phone);
    // The logs are read once the service has stopped and flushed them.
    let (status, logs) = app.stop();
    assert!(status.success());
    assert!(logs.contains("jaga stopped"), "the log is complete");
    for canary in ["3171015207990007", "Kanari", "Canarysdottir"] {
        assert!(!logs.contains(canary), "{canary} in logs");
    }
    let lib = crate::support::Lib::open(&sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 1000).await.unwrap();
    lib.close().await;
    let dump = format!("{rows:?}");
    assert!(!dump.contains("3171015207990007") && !dump.contains("Kanari"));
    }
}

/// (Validation before any database access: SQLite only.)
#[tokio::test]
async fn malformed_and_invalid_niks_get_precise_messages() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let app = sandbox.serve();
    let phone = Browser::new(&app);
    for (nik, code, words) in [
        ("12345", "invalid_nik", "16 angka"),
        ("2071011203850001", "invalid_nik", "provinsi"),
        ("1971013203850001", "invalid_nik", "tanggal lahir"),
        ("1971011203850000", "invalid_nik", "nomor urut"),
    ] {
        let answer = phone.enrol_start(nik, "Budi").await;
        assert_eq!(answer.status, 400, "{nik}");
        assert_eq!(answer.body["error"], code);
        assert!(
            answer.body["message"].as_str().unwrap().contains(words),
            "{nik}: {:?}",
            answer.body
        );
    }
    let answer = phone.enrol_start(NIK, "   ").await;
    assert_eq!(answer.body["error"], "invalid_name");
}

backend_test! {
    async fn an_enrolled_nik_is_refused_without_saying_whose_it_is(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut first = Browser::new(&app);
        let enrolled = first.enrol(NIK, "Siti Aminah").await;
        let pseudonym = enrolled.body["account"].as_str().unwrap().to_owned();
        let second = Browser::new(&app);
        // Spaces and dots typed between groups do not make a new NIK.
        let answer = second.enrol_start("1971 0112.0385-0001", "Someone Else").await;
        assert_eq!(answer.status, 409);
        assert_eq!(answer.body["error"], "nik_taken");
        let text = answer.body.to_string();
        assert!(!text.contains(&pseudonym) && !text.contains("Siti"), "{text}");
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn replayed_assertion_is_rejected(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        phone.enrol(NIK, "Siti Aminah").await;
        let options = phone.sign_in_options().await;
        let assertion = phone.get(&options).await;
        assert_eq!(phone.finish_sign_in(assertion.clone()).await.status, 200);
        let replay = phone.finish_sign_in(assertion).await;
        assert_eq!(replay.status, 401, "{backend:?}");
        assert_eq!(replay.body["error"], "signin_failed");
        let actions = audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .any(|(a, _, r)| a == "session.signin" && r.as_deref() == Some("unknown_ceremony"))
        );
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn replayed_registration_is_rejected(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let start = phone.enrol_start(NIK, "Siti Aminah").await;
        let response = phone.create(&start.body).await;
        let first = phone
            .send(Method::POST, "/api/enrol/finish", Some(response.clone()))
            .await;
        assert_eq!(first.status, 201);
        let again = phone.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        assert_eq!(again.status, 400);
        assert_eq!(again.body["error"], "ceremony_expired");
    }
}

backend_test! {
    /// Two finishes of one ceremony sent at the same moment: exactly one wins.
    async fn a_ceremony_finished_twice_at_once_is_used_once(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let start = phone.enrol_start(NIK, "Siti Aminah").await;
        let response = phone.create(&start.body).await;
        let (a, b) = tokio::join!(
            phone.send(Method::POST, "/api/enrol/finish", Some(response.clone())),
            phone.send(Method::POST, "/api/enrol/finish", Some(response)),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 400], "{backend:?}: registration");
        assert_eq!(sandbox.sql_count("select count(*) from account").await, 1);
        assert_eq!(sandbox.sql_count("select count(*) from passkey").await, 1);
        // The same for a sign-in: one session, not two.
        let options = phone.sign_in_options().await;
        let assertion = phone.get(&options).await;
        let sessions_before = sandbox.sql_count("select count(*) from session").await;
        let (a, b) = tokio::join!(
            phone.send(Method::POST, "/api/signin/finish", Some(assertion.clone())),
            phone.send(Method::POST, "/api/signin/finish", Some(assertion)),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "{backend:?}: sign-in");
        assert_eq!(sandbox.sql_count("select count(*) from session").await, sessions_before + 1);
    }
}
