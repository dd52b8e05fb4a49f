//! Officers, assisted enrolment, verification, recovery and passkey
//! management.

use reqwest::Method;
use serde_json::{Value, json};

use crate::passkeys::audit_actions;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::{Backend, Sandbox, TestApp};

const NIK: &str = "1971011203850001";

/// `jaga officers add` and the officer's first passkey; returns the officer's browser.
pub(crate) async fn counter_officer<'a>(sandbox: &Sandbox, app: &'a TestApp) -> Browser<'a> {
    let out = sandbox.cli(&[
        "officers",
        "add",
        "--name",
        "Petugas Loket",
        "--unit",
        "Kecamatan Rangkui",
        "--role",
        "counter",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let link = text
        .lines()
        .find_map(|l| l.split(": ").nth(1).filter(|u| u.contains("/officer/enrol#")))
        .unwrap();
    // An officer's link leads to the officers' page, not the citizens' form.
    assert!(link.starts_with("http://localhost:8080/officer/enrol#"), "{link}");
    let code = link.rsplit('#').next().unwrap().to_owned();
    let mut officer = Browser::new(app);
    let enrolled = officer.enrol_with_code(&code, true).await;
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    assert!(enrolled.body["account"].as_str().unwrap().starts_with("ofc_"));
    // The link is single use.
    let mut again = Browser::new(app);
    assert_eq!(again.enrol_with_code(&code, true).await.body["error"], "code_invalid");
    officer.me().await;
    officer
}

async fn issue_code(officer: &Browser<'_>, nik: &str, name: &str) -> Value {
    let answer = officer.counter_enrol(nik, name).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

backend_test! {
    async fn counter_officer_enrols_a_citizen_by_code_and_qr(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let officer = counter_officer(&sandbox, &app).await;
        let issued = issue_code(&officer, NIK, "Siti Aminah").await;
        assert!(issued["qr_svg"].as_str().unwrap().starts_with("<?xml"));
        let code = issued["code"].as_str().unwrap();
        assert_eq!(issued["url"], format!("http://localhost:8080/enrol/code#{code}"));

        let mut phone = Browser::new(&app);
        let enrolled = phone.enrol_with_code(code, true).await;
        assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
        assert_eq!(enrolled.body["verified"], true);
        assert_eq!(enrolled.body["recovery_codes"].as_array().unwrap().len(), 10);
        assert_eq!(phone.me().await.body["verified"], true);
        assert_eq!(phone.me().await.body["status"], "active");

        // Citizens cannot use the counter.
        let answer = phone
            .counter_enrol("1971015507900002", "X")
            .await;
        assert_eq!(answer.status, 403);
        // A verified NIK is not enrolled twice.
        let twice = officer
            .counter_enrol(NIK, "Siti")
            .await;
        assert_eq!(twice.body["error"], "already_verified");
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_squatted_nik_goes_to_the_counter_verified_citizen(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut squatter = Browser::new(&app);
        assert_eq!(squatter.enrol(NIK, "Not Siti").await.status, 201);
        assert_eq!(squatter.me().await.status, 200);
        let officer = counter_officer(&sandbox, &app).await;
        // A mistyped NIK or an unused code suspends nobody: only using it does.
        let issued = issue_code(&officer, NIK, "Siti Aminah").await;
        assert_eq!(squatter.send(Method::GET, "/api/me", None).await.status, 200);
        let mut siti = Browser::new(&app);
        let enrolled = siti.enrol_with_code(issued["code"].as_str().unwrap(), true).await;
        assert_eq!(enrolled.status, 201);
        // Now the squatter's session ended and it can no longer sign in.
        assert_eq!(squatter.send(Method::GET, "/api/me", None).await.status, 401);
        assert_eq!(squatter.sign_in().await.status, 401);
        // The NIK belongs to Siti's verified account.
        let again = Browser::new(&app).enrol_start(NIK, "Not Siti").await;
        assert_eq!(again.body["error"], "nik_taken");
        drop(app);
        let actions = audit_actions(&sandbox).await;
        assert!(
            actions
                .iter()
                .any(|(a, _, r)| a == "account.suspend" && r.as_deref() == Some("nik_claimed_at_counter")),
            "{actions:?}"
        );
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn officer_verifies_a_self_enrolled_citizen_with_the_code_on_their_phone(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK, "Siti Aminah").await.status, 201);
        phone.me().await;
        let code = phone.verification_code().await;
        let code = code.body["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 8);
        let officer = counter_officer(&sandbox, &app).await;
        let wrong = officer
            .counter_verify(NIK, "00000000")
            .await;
        assert_eq!(wrong.body["error"], "verification_failed");
        let ok = officer
            .counter_verify(NIK, &code)
            .await;
        assert_eq!(ok.status, 200, "{:?}", ok.body);
        assert_eq!(phone.me().await.body["verified"], true);
        // The code was single use.
        let again = officer
            .counter_verify(NIK, &code)
            .await;
        assert_eq!(again.body["error"], "verification_failed");
    }
}

backend_test! {
    async fn recovery_codes_work_once_and_recovery_is_visible_to_the_citizen(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let enrolled = phone.enrol(NIK, "Siti Aminah").await;
        let codes: Vec<String> = enrolled.body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes.len(), 10);
        // Lost phone: a new one recovers with NIK and a code (typed loosely).
        let mut new_phone = Browser::new(&app);
        let typed = codes[0].to_uppercase().replace('-', " ");
        let recovered = new_phone.recover(NIK, &typed).await;
        assert_eq!(recovered.status, 201, "{:?}", recovered.body);
        assert_eq!(new_phone.me().await.status, 200);
        // The same code again, a wrong code and a wrong NIK: one answer.
        let mut thief = Browser::new(&app);
        let reuse = thief.recover(NIK, &codes[0]).await;
        let wrong_code = thief.recover(NIK, "aaaa-bbbb-cccc").await;
        let wrong_nik = thief.recover("1971015507900002", &codes[1]).await;
        for a in [&reuse, &wrong_code, &wrong_nik] {
            assert_eq!(a.status, 401);
            assert_eq!(a.body["error"], "recovery_failed");
            assert_eq!(a.body["message"], reuse.body["message"]);
        }
        // The citizen sees the recovery in their activity.
        new_phone.me().await;
        let activity = new_phone.send(Method::GET, "/api/activity", None).await;
        let actions: Vec<&str> = activity
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"account.recover"), "{actions:?}");
        assert!(actions.contains(&"recovery.code.use"), "{actions:?}");
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn officer_assisted_recovery_revokes_the_old_passkeys(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut old_phone = Browser::new(&app);
        assert_eq!(old_phone.enrol(NIK, "Siti Aminah").await.status, 201);
        let officer = counter_officer(&sandbox, &app).await;
        let issued = officer.counter_recover(NIK).await;
        assert_eq!(issued.status, 200, "{:?}", issued.body);
        let mut new_phone = Browser::new(&app);
        let recovered = new_phone
            .enrol_with_code(issued.body["code"].as_str().unwrap(), true)
            .await;
        assert_eq!(recovered.status, 201);
        assert_eq!(recovered.body["recovery_codes"].as_array().unwrap().len(), 10);
        // The stolen phone's session and passkey no longer work.
        assert_eq!(old_phone.send(Method::GET, "/api/me", None).await.status, 401);
        assert_eq!(old_phone.sign_in().await.status, 401);
        assert_eq!(new_phone.sign_in().await.status, 200);
    }
}

backend_test! {
    async fn a_security_key_enrolled_at_the_counter_opens_no_session_there(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let officer = counter_officer(&sandbox, &app).await;
        let issued = issue_code(&officer, NIK, "Pak Darto").await;
        let mut counter_pc = Browser::new(&app);
        let enrolled = counter_pc
            .enrol_with_code(issued["code"].as_str().unwrap(), false)
            .await;
        assert_eq!(enrolled.status, 201);
        assert_eq!(enrolled.body["signed_in"], false);
        assert!(enrolled.set_cookie.is_none());
        // The officer's screen never shows the citizen's recovery codes.
        assert!(enrolled.body.get("recovery_codes").is_none(), "{:?}", enrolled.body);
        // Later, the citizen signs in with that key anywhere.
        let mut kiosk = Browser::new(&app);
        kiosk.passkeys = counter_pc.passkeys;
        assert_eq!(kiosk.sign_in().await.status, 200);
    }
}

backend_test! {
    async fn owner_manages_passkeys(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK, "Siti Aminah").await.status, 201);
        phone.me().await;
        // Add a second passkey (a security key) from the signed-in phone.
        let start = phone.post_json("/api/passkeys/start", &json!({})).await;
        assert_eq!(start.status, 200);
        assert_eq!(
            start.body["publicKey"]["excludeCredentials"].as_array().unwrap().len(),
            1
        );
        let mut key = Browser::new(&app);
        let response = key.create(&start.body).await;
        let added = phone.send(Method::POST, "/api/passkeys/finish", Some(response)).await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        let list = phone.send(Method::GET, "/api/passkeys", None).await;
        let keys = list.body.as_array().unwrap().clone();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().any(|k| k["current"] == true));
        let key_id = keys.iter().find(|k| k["current"] == false).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Rename it.
        let renamed = phone
            .send(
                Method::PATCH,
                &format!("/api/passkeys/{key_id}"),
                Some(serde_json::to_vec(&json!({ "name": "Kunci biru" })).unwrap()),
            )
            .await;
        assert_eq!(renamed.status, 204);
        // Sign in with the key, then remove it from the phone: the key's session ends.
        assert_eq!(key.sign_in().await.status, 200);
        assert_eq!(key.me().await.status, 200);
        let removed = phone
            .send(Method::DELETE, &format!("/api/passkeys/{key_id}"), None)
            .await;
        assert_eq!(removed.status, 204);
        assert_eq!(key.send(Method::GET, "/api/me", None).await.status, 401);
        assert_eq!(key.sign_in().await.status, 401);
        assert_eq!(phone.me().await.status, 200);
        // With no recovery code left, the last passkey stays.
        spend_all_recovery_codes(&sandbox).await;
        let current = phone.send(Method::GET, "/api/passkeys", None).await.body[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = phone
            .send(Method::DELETE, &format!("/api/passkeys/{current}"), None)
            .await;
        assert_eq!(refused.status, 409);
        assert_eq!(refused.body["error"], "last_passkey");
        // New codes make it removable again.
        let codes = phone.new_recovery_codes().await;
        assert_eq!(codes.body["recovery_codes"].as_array().unwrap().len(), 10);
        let removed = phone
            .send(Method::DELETE, &format!("/api/passkeys/{current}"), None)
            .await;
        assert_eq!(removed.status, 204);
        assert_eq!(phone.send(Method::GET, "/api/me", None).await.status, 401);
        sandbox.drop_database().await;
    }
}

/// Test set-up only: mark every recovery code used, directly in the database.
async fn spend_all_recovery_codes(sandbox: &Sandbox) {
    use sqlx::Connection as _;
    const SQL: &str = "update recovery_code set used_at = 1";
    match sandbox.backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", sandbox.dir.path().join("jaga.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(SQL).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
            sqlx::raw_sql(SQL).execute(&mut c).await.unwrap();
        }
    }
}

backend_test! {
    async fn a_cancelled_passkey_dialog_does_not_burn_a_code_but_a_code_works_only_once(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let officer = counter_officer(&sandbox, &app).await;
        let issued = issue_code(&officer, NIK, "Siti Aminah").await;
        let code = issued["code"].as_str().unwrap();
        // Two starts (the first dialog was cancelled), both ceremonies live.
        let mut phone = Browser::new(&app);
        let first = phone.code_start(code).await;
        let second = phone.code_start(code).await;
        assert_eq!((first.status.as_u16(), second.status.as_u16()), (200, 200));
        let a = phone.create(&second.body).await;
        let mut other = Browser::new(&app);
        let b = other.create(&first.body).await;
        // Finishing both: the code is spent by the first to finish.
        let done = phone.send(Method::POST, "/api/enrol/finish", Some(a)).await;
        assert_eq!(done.status, 201, "{:?}", done.body);
        let late = other.send(Method::POST, "/api/enrol/finish", Some(b)).await;
        assert_eq!(late.body["error"], "code_invalid", "{backend:?}");
        // Recovery codes too: checked at start, spent at finish.
        let codes: Vec<String> = done.body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let mut new_phone = Browser::new(&app);
        let abandoned = new_phone
            .post_json("/api/recover/start", &json!({ "nik": NIK, "code": codes[0] }))
            .await;
        assert_eq!(abandoned.status, 200);
        assert_eq!(new_phone.recover(NIK, &codes[0]).await.status, 201);
        assert_eq!(new_phone.recover(NIK, &codes[0]).await.status, 401);
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_new_counter_code_replaces_the_unused_one(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let officer = counter_officer(&sandbox, &app).await;
        let old = issue_code(&officer, NIK, "Siti Aminah").await;
        let new = issue_code(&officer, NIK, "Siti Aminah").await;
        assert_eq!(old["account"], new["account"], "same pending account");
        let mut phone = Browser::new(&app);
        assert_eq!(
            phone.enrol_with_code(old["code"].as_str().unwrap(), true).await.body["error"],
            "code_invalid"
        );
        assert_eq!(
            phone.enrol_with_code(new["code"].as_str().unwrap(), true).await.status,
            201
        );
    }
}

backend_test! {
    async fn sensitive_changes_need_a_recent_sign_in(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_SESSIONS_REAUTH_WINDOW_SECS".into(), "1".into())];
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK, "Siti Aminah").await.status, 201);
        phone.me().await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        // A cookie alone (say, a session left open) is not enough any more.
        for (method, path) in [
            (Method::POST, "/api/recovery-codes"),
            (Method::POST, "/api/passkeys/start"),
        ] {
            let answer = phone.send(method, path, Some(b"{}".to_vec())).await;
            assert_eq!(answer.status, 403, "{path}");
            assert_eq!(answer.body["error"], "reauth_required");
        }
        let id = phone.send(Method::GET, "/api/passkeys", None).await.body[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            phone
                .send(Method::DELETE, &format!("/api/passkeys/{id}"), None)
                .await
                .body["error"],
            "reauth_required"
        );
        // A fresh sign-in allows them again.
        assert_eq!(phone.sign_in().await.status, 200);
        phone.me().await;
        assert_eq!(phone.new_recovery_codes().await.status, 200);
    }
}
