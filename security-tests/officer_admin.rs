//! Officer and module administration: only administrators; officers are
//! listed without names, added with a one-time link to the officers' page,
//! their roles changed, suspended, and recovered (every old passkey and
//! session ends, a new link registers a new passkey); modules disabled;
//! nobody changes their own account; every change audited with the
//! administrator as its actor.

use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_with_role;
use crate::support::browser::{Answer, Browser};
use crate::support::modules::{add_module, citizen_deciding, portal_page};
use crate::support::{Sandbox, backend_test};

const NAME: &str = "Rahmat Hidayat";

async fn send(who: &Browser<'_>, method: Method, path: &str, body: Option<Value>) -> Answer {
    who.send(method, path, body.map(|b| serde_json::to_vec(&b).unwrap()))
        .await
}

fn code_of(link: &str) -> String {
    link.rsplit('#').next().unwrap().to_owned()
}

backend_test! {
    async fn administrators_manage_officers_and_modules(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let (admin, admin_id) = officer_with_role(&sandbox, &app, "admin").await;
        let (counter, counter_id) = officer_with_role(&sandbox, &app, "counter").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;

        // Only administrators, on every API and the page.
        let calls: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/api/admin/officers".into(), None),
            (Method::POST, "/api/admin/officers".into(), Some(json!({ "name": NAME, "unit": "Kecamatan Rangkui", "roles": ["counter"] }))),
            (Method::PUT, format!("/api/admin/officers/{counter_id}/roles"), Some(json!({ "roles": ["admin"] }))),
            (Method::POST, format!("/api/admin/officers/{counter_id}/suspend"), None),
            (Method::POST, format!("/api/admin/officers/{counter_id}/recover"), None),
            (Method::GET, "/api/admin/modules".into(), None),
            (Method::POST, "/api/admin/modules/antrian/disable".into(), None),
        ];
        for (method, path, body) in &calls {
            for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("security officer", &security)] {
                let answer = send(browser, method.clone(), path, body.clone()).await;
                assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (403, Some("forbidden")), "{who} {method} {path}");
            }
            let anonymous = app.client.request(method.clone(), app.url(path))
                .header("origin", crate::support::WEB_ORIGIN).send().await.unwrap();
            assert_eq!(anonymous.status(), 401, "{method} {path}");
            assert_eq!(portal_page(&app, &security, "/admin").await.status(), 403);
        }
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action like 'officer.%' and actor_kind = 'officer'").await, 0);

        // Add: a link to the officers' page, which enrols them.
        let added = send(&admin, Method::POST, "/api/admin/officers",
            Some(json!({ "name": NAME, "unit": "Kecamatan Rangkui", "roles": ["counter"] }))).await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        let link = added.body["link"].as_str().unwrap();
        assert!(link.starts_with("http://localhost:8080/officer/enrol#"), "{link}");
        let new_id = added.body["officer"].as_str().unwrap().to_owned();
        let mut budi = Browser::new(&app);
        assert_eq!(budi.enrol_with_code(&code_of(link), true).await.status, 201);
        budi.me().await;
        for (body, status) in [
            (json!({ "name": NAME, "unit": "Kecamatan Rangkui", "roles": [] }), 422),
            (json!({ "name": NAME, "unit": "Kecamatan Rangkui", "roles": ["root"] }), 422),
            (json!({ "name": "", "unit": "Kecamatan Rangkui", "roles": ["counter"] }), 400),
            (json!({ "name": NAME, "unit": "Kecamatan Rangkui", "roles": ["counter"], "nik": "1" }), 422),
        ] {
            let answer = send(&admin, Method::POST, "/api/admin/officers", Some(body.clone())).await;
            assert_eq!(answer.status.as_u16(), status, "{body}: {:?}", answer.body);
        }

        // The list: pseudonyms, status, roles and unit, never a name.
        let listed = send(&admin, Method::GET, "/api/admin/officers", None).await;
        let text = listed.body.to_string();
        assert!(!text.contains(NAME) && !text.contains("Petugas\""), "no names: {text}");
        let budi_row = listed.body.as_array().unwrap().iter().find(|o| o["officer"] == new_id.as_str()).unwrap();
        assert_eq!((budi_row["status"].as_str(), budi_row["roles"].clone()), (Some("active"), json!(["counter"])));
        let me = listed.body.as_array().unwrap().iter().find(|o| o["officer"] == admin_id.as_str()).unwrap();
        assert_eq!(me["you"], true);
        let page = portal_page(&app, &admin, "/admin").await.text().await.unwrap();
        assert!(page.contains(&new_id) && !page.contains(NAME), "{page}");

        // Roles: the counter officer becomes a security officer too.
        assert_eq!(send(&counter, Method::GET, "/api/security/audit", None).await.status, 403);
        let changed = send(&admin, Method::PUT, &format!("/api/admin/officers/{counter_id}/roles"),
            Some(json!({ "roles": ["counter", "security"] }))).await;
        assert_eq!(changed.status, 204, "{:?}", changed.body);
        assert_eq!(send(&counter, Method::GET, "/api/security/audit", None).await.status, 200);
        let bad = send(&admin, Method::PUT, &format!("/api/admin/officers/{counter_id}/roles"), Some(json!({ "roles": [] }))).await;
        assert_eq!(bad.status, 422);
        let missing = send(&admin, Method::PUT, "/api/admin/officers/ofc_nobody/roles", Some(json!({ "roles": ["counter"] }))).await;
        assert_eq!((missing.status.as_u16(), missing.body["error"].as_str()), (404, Some("no_officer")));

        // Not one's own account.
        for (method, path, body) in [
            (Method::PUT, format!("/api/admin/officers/{admin_id}/roles"), Some(json!({ "roles": ["counter"] }))),
            (Method::POST, format!("/api/admin/officers/{admin_id}/suspend"), None),
            (Method::POST, format!("/api/admin/officers/{admin_id}/recover"), None),
        ] {
            let answer = send(&admin, method, &path, body).await;
            assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (403, Some("own_account")), "{path}");
        }

        // Recover: Budi lost his phone. His old passkeys and sessions end now.
        let account = |p: &str| format!("(select account_id from account where pseudonym = '{p}')");
        assert_eq!(sandbox.sql_count(&format!("select count(*) from passkey where account_id = {}", account(&new_id))).await, 1);
        let recovered = send(&admin, Method::POST, &format!("/api/admin/officers/{new_id}/recover"), None).await;
        assert_eq!(recovered.status, 200, "{:?}", recovered.body);
        assert_eq!(budi.me().await.status, 401, "the old session ended");
        assert_eq!(sandbox.sql_count(&format!("select count(*) from passkey where account_id = {}", account(&new_id))).await, 0,
            "the old passkeys were revoked");
        let link = recovered.body["link"].as_str().unwrap();
        assert!(link.contains("/officer/enrol#"), "{link}");
        assert_eq!(budi.enrol_with_code(&code_of(added.body["link"].as_str().unwrap()), true).await.status.as_u16() / 100, 4,
            "the first link is spent");
        let mut new_phone = Browser::new(&app);
        assert_eq!(new_phone.enrol_with_code(&code_of(link), true).await.status, 201);
        assert_eq!(new_phone.me().await.status, 200);
        assert_eq!(sandbox.sql_count(&format!("select count(*) from passkey where account_id = {}", account(&new_id))).await, 1);

        // Suspend: the counter officer's session ends.
        assert_eq!(send(&admin, Method::POST, &format!("/api/admin/officers/{counter_id}/suspend"), None).await.status, 204);
        assert_eq!(send(&counter, Method::GET, "/api/me", None).await.status, 401);

        // Modules: listed, disabled (its key refused), not twice.
        let modules = send(&admin, Method::GET, "/api/admin/modules", None).await;
        assert!(modules.body.as_array().unwrap().iter().any(|m| m["name"] == "antrian" && m["disabled_at"].is_null()));
        let path = "/api/collections/antrian.ticket";
        let before = app.client.get(app.url(path)).bearer_auth(&antrian).send().await.unwrap().status();
        assert_ne!(before, 401, "the key works before");
        assert_eq!(send(&admin, Method::POST, "/api/admin/modules/antrian/disable", None).await.status, 204);
        assert_eq!(app.client.get(app.url(path)).bearer_auth(&antrian).send().await.unwrap().status(), 401);
        let again = send(&admin, Method::POST, "/api/admin/modules/antrian/disable", None).await;
        assert_eq!((again.status.as_u16(), again.body["error"].as_str()), (404, Some("no_module")));

        // Every change, with the administrator as its actor.
        for action in ["officer.add", "officer.set_roles", "passkey.revoke_all", "officer.recover", "account.suspend", "module.revoke"] {
            let n = sandbox.sql_count(&format!(
                "select count(*) from audit_event where action = '{action}' and actor_kind = 'officer' and actor_id = '{admin_id}'")).await;
            assert!(n >= 1, "{action} by the administrator is audited");
        }
    }
}
