//! Fail closed: when the audit event of a read cannot be written, no
//! plaintext leaves, on every read path; writes are refused and change nothing.

use crate::support::modules::ModuleApi;
use crate::support::{Backend, Sandbox, backend_test};

backend_test! {
    /// If the audit event of a read cannot be written, the read returns no
    /// plaintext: the citizen's own view and page, the right of access, the
    /// officer's masked view, the operator's command and a module's record
    /// reads all fail closed; writes are refused and change nothing.
    async fn no_plaintext_leaves_when_its_audit_event_cannot_be_written(backend) {
        use reqwest::Method;
        use serde_json::json;

        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut citizen = crate::support::browser::Browser::new(&app);
        let pseudonym = citizen.enrol("3171015207990007", "Kanari Canarysdottir").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        citizen.me().await;
        crate::support::modules::decide(&citizen, "antrian.priority", "grant").await;
        let key = crate::support::modules::add_module(&sandbox, "antrian");
        crate::support::modules::define_tickets(&app, &key).await;
        let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/k1");
        assert_eq!(ModuleApi::new(&app, &key).write_at(&path, &[("health_note", Some("Kanari-rahasia-medis"))]).await.0, 204);
        assert_eq!(citizen.send(Method::GET, "/api/profile", None).await.status, 200);
        let officer = crate::accounts::counter_officer(&sandbox, &app).await;

        // Someone with database access makes every audit insert fail.
        let block = match backend {
            Backend::Sqlite => {
                "create trigger block_audit before insert on audit_event begin select raise(abort, 'blocked'); end"
            }
            Backend::Postgres => {
                "create trigger block_audit before insert on audit_event for each row execute function audit_append_only()"
            }
        };
        crate::support::modules::jaga_sql(&sandbox, block).await;

        let own = citizen.send(Method::GET, "/api/profile", None).await;
        assert!(own.status.is_server_error(), "{:?}", own.status);
        assert!(!own.body.to_string().contains("Kanari"), "{:?}", own.body);
        let page = crate::support::modules::portal_page(&app, &citizen, "/account/data").await;
        assert!(page.status().is_server_error());
        assert!(!page.text().await.unwrap().contains("Kanari"));
        let (status, body) =
            ModuleApi::new(&app, &key).read_at(&path, Some("antrian.priority"), None).await;
        assert!(status.is_server_error(), "{status}");
        assert!(!body.to_string().contains("Kanari"), "{body:?}");
        let (status, body) = crate::support::modules::call(
            &app,
            &key,
            Method::POST,
            "/api/collections/antrian.ticket/records/read",
            Some(json!({ "purpose": "antrian.priority", "records": [{ "citizen": pseudonym, "record": "k1" }] })),
        )
        .await;
        assert!(status.is_server_error(), "{status}");
        assert!(!body.to_string().contains("Kanari"), "{body:?}");
        // The counter officer's masked view.
        let found = officer
            .counter_find("3171015207990007")
            .await;
        assert!(found.status.is_server_error(), "officer view: {:?}", found.status);
        assert!(!found.body.to_string().contains("K. C."), "{:?}", found.body);
        assert!(!found.body.to_string().contains(&pseudonym), "{:?}", found.body);
        // The right of access (what modules keep), as JSON and as the page.
        let own_records = citizen.send(Method::GET, "/api/profile/records", None).await;
        assert!(own_records.status.is_server_error(), "{:?}", own_records.status);
        assert!(!own_records.body.to_string().contains("Kanari"));
        // The operator's command.
        let out = sandbox.cli(&["citizens", "find", "--nik", "3171015207990007"]);
        assert!(
            !out.status.success(),
            "the operator lookup succeeded without its audit event"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("3171********0007"));
        // Writes: refused, and nothing changes.
        let patched = citizen
            .send(
                Method::PATCH,
                "/api/profile",
                Some(serde_json::to_vec(&json!({ "phone": "081299887766" })).unwrap()),
            )
            .await;
        assert!(patched.status.is_server_error(), "{:?}", patched.status);
        let (status, _) = ModuleApi::new(&app, &key).write_at(&path, &[("health_note", Some("ditimpa"))]).await;
        assert!(status.is_server_error(), "{status}");
        let unblock = match backend {
            Backend::Sqlite => "drop trigger block_audit",
            Backend::Postgres => "drop trigger block_audit on audit_event",
        };
        crate::support::modules::jaga_sql(&sandbox, unblock).await;
        let own = citizen.send(Method::GET, "/api/profile", None).await;
        assert_eq!(own.status, 200);
        assert!(
            own.body["phone"].is_null(),
            "a refused write changed the phone: {:?}",
            own.body
        );
        let (status, body) =
            ModuleApi::new(&app, &key).read_at(&path, Some("antrian.priority"), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["values"]["health_note"], "Kanari-rahasia-medis");
        drop((citizen, officer));
        drop(app);
        sandbox.drop_database().await;
    }
}
