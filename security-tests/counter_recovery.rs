//! Recovery at the service counter cannot be a silent takeover: it ends the
//! old passkeys and sessions, cannot be redeemed in an officer's browser,
//! is shown to the citizen with the officer's role and unit, names the
//! officer in the audit log and waits for a security officer's review.

use reqwest::Method;
use serde_json::json;

use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::{Sandbox, TestApp};

const NIK: &str = "3171015207990007";
const UNIT: &str = "Kecamatan Rangkui";

/// A counter officer of `UNIT`, signed in.
pub(crate) async fn officer_of_unit<'a>(sandbox: &Sandbox, app: &'a TestApp) -> (Browser<'a>, String) {
    officer_with_role(sandbox, app, "counter").await
}

/// An officer of `UNIT` with `role`, signed in.
pub(crate) async fn officer_with_role<'a>(sandbox: &Sandbox, app: &'a TestApp, role: &str) -> (Browser<'a>, String) {
    let out = sandbox.cli(&["officers", "add", "--name", "Petugas", "--unit", UNIT, "--role", role]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let code = text
        .lines()
        .find_map(|l| l.split('#').nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let mut officer = Browser::new(app);
    let enrolled = officer.enrol_with_code(&code, true).await;
    assert_eq!(enrolled.status, 201, "{:?}", enrolled.body);
    let pseudonym = enrolled.body["account"].as_str().unwrap().to_owned();
    officer.me().await;
    (officer, pseudonym)
}

async fn recovery_code(officer: &Browser<'_>) -> String {
    let issued = officer.counter_recover(NIK).await;
    assert_eq!(issued.status, 200, "{:?}", issued.body);
    issued.body["code"].as_str().unwrap().to_owned()
}

/// (action, actor kind, actor id, outcome, reason) of every audit event.
async fn events(sandbox: &Sandbox) -> Vec<(String, String, String, String, Option<String>)> {
    let lib = crate::support::Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 10_000).await.unwrap();
    lib.close().await;
    rows.into_iter()
        .map(|r| (r.action, r.actor_kind, r.actor_id, r.outcome, r.reason))
        .collect()
}

backend_test! {
    async fn counter_recovery_always_ends_the_old_passkeys_and_sessions(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut old_phone = Browser::new(&app);
        assert_eq!(old_phone.enrol(NIK, "Siti Aminah").await.status, 201);
        let (officer, _) = officer_of_unit(&sandbox, &app).await;
        // Keeping the old passkeys is no longer something an officer can ask for.
        let keep = officer
            .post_json("/api/counter/recover", &json!({ "nik": NIK, "revoke_old": false }))
            .await;
        assert_eq!(keep.status, 422, "{:?}", keep.body);
        let code = recovery_code(&officer).await;
        let mut new_phone = Browser::new(&app);
        let recovered = new_phone.enrol_with_code(&code, true).await;
        assert_eq!(recovered.status, 201, "{:?}", recovered.body);
        assert_eq!(
            old_phone.send(Method::GET, "/api/me", None).await.status,
            401,
            "{backend:?}"
        );
        assert_eq!(old_phone.sign_in().await.status, 401, "{backend:?}");
        assert_eq!(new_phone.sign_in().await.status, 200);
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn an_officer_code_cannot_be_redeemed_in_a_browser_holding_an_officer_session(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK, "Siti Aminah").await.status, 201);
        let (mut officer, officer_pseudonym) = officer_of_unit(&sandbox, &app).await;
        let code = recovery_code(&officer).await;
        // Starting the ceremony in the officer's browser is refused.
        let refused = officer.enrol_with_code(&code, true).await;
        assert_eq!(refused.status, 403, "{backend:?}: {:?}", refused.body);
        assert_eq!(refused.body["error"], "officer_session");
        // So is finishing, in the officer's browser, a ceremony started elsewhere.
        let stranger = Browser::new(&app);
        let start = stranger
            .post_json("/api/enrol/code/start", &json!({ "code": code, "sign_in": true }))
            .await;
        assert_eq!(start.status, 200, "{:?}", start.body);
        let response = officer.create(&start.body).await;
        let finish = officer.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        assert_eq!(finish.status, 403, "{backend:?}: {:?}", finish.body);
        assert!(finish.set_cookie.is_none());
        // Nothing changed: the citizen's one passkey still works, and no
        // other was added to the account.
        assert_eq!(phone.sign_in().await.status, 200);
        phone.me().await;
        let keys = phone.send(Method::GET, "/api/passkeys", None).await;
        assert_eq!(keys.body.as_array().unwrap().len(), 1, "{backend:?}: {:?}", keys.body);
        // The code still works on the citizen's own device.
        let mut new_phone = Browser::new(&app);
        assert_eq!(new_phone.enrol_with_code(&code, true).await.status, 201);
        drop((phone, officer, stranger, new_phone));
        drop(app);
        let denials: Vec<_> = events(&sandbox)
            .await
            .into_iter()
            .filter(|(a, _, _, o, r)| {
                a == "enrolment_code.use" && o == "denied" && r.as_deref() == Some("officer_session")
            })
            .collect();
        assert_eq!(denials.len(), 2, "{backend:?}: {denials:?}");
        assert!(
            denials
                .iter()
                .all(|(_, kind, id, _, _)| kind == "officer" && *id == officer_pseudonym)
        );
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn the_citizen_is_told_who_recovered_the_account_and_the_recovery_awaits_review(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut old_phone = Browser::new(&app);
        assert_eq!(old_phone.enrol(NIK, "Siti Aminah").await.status, 201);
        let (officer, officer_pseudonym) = officer_of_unit(&sandbox, &app).await;
        let code = recovery_code(&officer).await;
        let mut new_phone = Browser::new(&app);
        assert_eq!(new_phone.enrol_with_code(&code, true).await.status, 201);
        new_phone.me().await;

        // Home page, in Bahasa Indonesia and in English.
        let home = new_phone.page("/").await;
        assert!(home.contains("dipulihkan di loket layanan"), "{home}");
        assert!(home.contains(&format!("petugas layanan ({UNIT})")), "{home}");
        assert!(
            !home.contains(&officer_pseudonym),
            "the officer's pseudonym is not shown"
        );
        let home_en = new_phone.page("/?lang=en").await;
        assert!(home_en.contains("recovered at a service counter"), "{home_en}");

        // Activity: the issuance by the officer (role and unit), the steps
        // by the holder of the counter code, not by "you".
        let activity = new_phone.send(Method::GET, "/api/activity", None).await;
        let items = activity.body.as_array().unwrap().clone();
        let actor_of = |action: &str| -> Vec<String> {
            items
                .iter()
                .filter(|e| e["action"] == action)
                .map(|e| e["actor"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            actor_of("enrolment_code.issue"),
            vec![format!("counter officer ({UNIT})")]
        );
        assert_eq!(actor_of("account.recover"), vec!["holder of a counter code".to_owned()]);
        assert_eq!(
            actor_of("passkey.revoke_all"),
            vec!["holder of a counter code".to_owned()]
        );
        let page = new_phone.page("/account/activity").await;
        assert!(
            page.contains(&format!("Petugas layanan ({UNIT}) membuat kode pendaftaran untuk Anda.")),
            "{page}"
        );

        // Audit: the officer is the actor of the issuance, and it is flagged.
        drop((old_phone, officer, new_phone));
        drop(app);
        let all = events(&sandbox).await;
        let issued = all.iter().find(|(a, ..)| a == "enrolment_code.issue").unwrap();
        assert_eq!(
            (issued.1.as_str(), issued.2.as_str()),
            ("officer", officer_pseudonym.as_str())
        );
        assert!(all.iter().any(|(a, k, id, _, r)| a == "review.flag"
            && k == "officer"
            && *id == officer_pseudonym
            && r.as_deref() == Some("counter_recovery")));
        let lib = crate::support::Lib::open(&sandbox).await;
        let queue = jaga::store::identity::unreviewed_counter_recoveries(&lib.db, 10)
            .await
            .unwrap();
        lib.close().await;
        assert_eq!(queue.len(), 1, "{backend:?}");
        assert!(queue[0].completed_at.is_some());
        assert_eq!(queue[0].officer_unit.as_deref(), Some(UNIT));
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// An officer whose unit was never recorded (created before units were)
    /// cannot start a counter recovery until an administrator records it.
    async fn an_officer_without_a_recorded_unit_cannot_start_a_counter_recovery(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        assert_eq!(phone.enrol(NIK, "Siti Aminah").await.status, 201);
        let (officer, pseudonym) = officer_of_unit(&sandbox, &app).await;
        crate::support::modules::jaga_sql(&sandbox, "update account set unit = null where kind = 'officer'").await;
        let refused = officer.counter_recover(NIK).await;
        assert_eq!(refused.status, 403, "{backend:?}: {:?}", refused.body);
        assert_eq!(refused.body["error"], "unit_missing");
        let out = sandbox.cli(&["officers", "set-unit", "--officer", &pseudonym, "--unit", UNIT]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(recovery_code(&officer).await.len(), 16);
        drop((phone, officer));
    }
}
