//! The Cedar policies (`policies/*.cedar`) decide every module read and
//! write after the purpose catalog: they set the reveal level, their ids
//! are in every decision's audit event, a policy change is put in force by
//! SIGHUP or `jaga policy reload` only when the new set validates (the old
//! set stays otherwise, logged and audited), and a bad policy stops
//! start-up naming the file and line.

use std::time::{Duration, Instant};

use crate::purposes::serve_refused;
use crate::support::backend_test;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets};
use crate::support::{Lib, Sandbox};

async fn audit_rows(sandbox: &Sandbox) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 100_000).await.unwrap();
    lib.close().await;
    rows
}

/// The newest `record.read` row about `pseudonym`.
async fn last_read(sandbox: &Sandbox, pseudonym: &str) -> jaga::store::audit::EventRow {
    audit_rows(sandbox)
        .await
        .into_iter()
        .rev()
        .find(|r| r.action == "record.read" && r.target_id.as_deref() == Some(pseudonym))
        .unwrap()
}

/// Reads the health note until it shows `expected` (a reload is applied
/// within about a second), or fails after 10 s.
async fn health_note_becomes(api: &ModuleApi<'_>, path: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = api.read_at(path, Some("antrian.priority"), Some("health_note")).await;
        if status == 200 && body["values"]["health_note"] == expected {
            return;
        }
        assert!(Instant::now() < deadline, "still {status} {body:?}, want {expected}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn reload_events(sandbox: &Sandbox) -> Vec<(String, String)> {
    audit_rows(sandbox)
        .await
        .into_iter()
        .filter(|r| r.action == "policy.reload")
        .map(|r| (r.outcome, r.reason.unwrap_or_default()))
        .collect()
}

const STRICTER: &str = "unless { resource.specific };";
const SHIPPED_UNLESS: &str = "unless { resource.specific && context.basis == \"legitimate_interest\" };";

backend_test! {
    async fn reveal_levels_come_from_the_policies_and_reloads_keep_a_bad_set_out(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, _browser) =
            citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["antrian.priority"], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        let values = [("queue_number", Some("A-017")), ("health_note", Some("kursi roda"))];
        assert_eq!(api.write_at(&path, &values).await.0, 204);
        let write = audit_rows(&sandbox).await.into_iter().rev().find(|r| r.action == "record.write").unwrap();
        // Both permits allow writing the health note; every one that did is named.
        assert_eq!(write.policies, "module-own-data,module-own-specific-data-legitimate-interest");

        // Shipped: on consent, specific data is plain (the most generous
        // permit wins), and the event names the permits that allowed it.
        health_note_becomes(&api, &path, "kursi roda").await;
        assert_eq!(
            last_read(&sandbox, &siti).await.policies,
            "module-own-data,module-own-specific-data-legitimate-interest"
        );

        // A stricter policy, put in force by `jaga policy reload`: specific
        // data masked on every basis.
        let file = sandbox.dir.path().join("policies/modules.cedar");
        let shipped = std::fs::read_to_string(&file).unwrap();
        assert!(shipped.contains(SHIPPED_UNLESS));
        std::fs::write(&file, shipped.replace(SHIPPED_UNLESS, STRICTER)).unwrap();
        let out = sandbox.cli(&["policy", "reload"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        health_note_becomes(&api, &path, "k•••••••da").await;
        let read = last_read(&sandbox, &siti).await;
        assert_eq!(read.policies, "module-own-specific-data-legitimate-interest");
        assert_eq!(read.outcome, "success");

        // A broken file: the command refuses to announce it, and SIGHUP
        // leaves the set in force, logged and audited.
        std::fs::write(&file, "@id(\"half\")\npermit (principal, action, resource\n").unwrap();
        let out = sandbox.cli(&["policy", "reload"]);
        assert_eq!(out.status.code(), Some(1));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("modules.cedar:"), "{said}");
        assert!(said.contains("nothing announced"), "{said}");
        let before = reload_events(&sandbox).await.len();
        app.signal("HUP");
        reloaded(&sandbox, before, "failure").await;
        app.wait_for_log("the new policies do not check").await;
        health_note_becomes(&api, &path, "k•••••••da").await;

        // A forbid, by SIGHUP: the read is refused, and the denial names it.
        let forbid = "\n@id(\"no-health-notes\")\nforbid (principal is Jaga::Module, action == Jaga::Action::\"read_field\", resource is Jaga::Field)\nwhen { resource.classification == \"health\" };\n";
        std::fs::write(&file, format!("{shipped}{forbid}")).unwrap();
        let before = reload_events(&sandbox).await.len();
        app.signal("HUP");
        reloaded(&sandbox, before, "success").await;
        let (status, body) = api.read_at(&path, Some("antrian.priority"), Some("health_note")).await;
        assert_eq!(status, 403, "{body:?}");
        assert_eq!(body["error"], "purpose_not_allowed");
        let denied = last_read(&sandbox, &siti).await;
        assert_eq!((denied.outcome.as_str(), denied.reason.as_deref()), ("denied", Some("policy_denied")));
        assert_eq!(denied.policies, "no-health-notes");
        // Fields the forbid does not touch are still read.
        let (status, body) = api.read_at(&path, Some("antrian.priority"), Some("queue_number")).await;
        assert_eq!((status.as_u16(), &body["values"]["queue_number"]), (200, &serde_json::json!("A-017")));

        let reloads = reload_events(&sandbox).await;
        assert!(reloads.contains(&("success".into(), "announced".into())), "{reloads:?}");
        assert!(reloads.contains(&("failure".into(), "invalid_policy".into())), "{reloads:?}");
        assert!(reloads.contains(&("success".into(), "sighup".into())), "{reloads:?}");
        let out = sandbox.cli(&["audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        drop(app);
        sandbox.drop_database().await;
    }
}

/// Waits for a `policy.reload` event after the first `before`, with `outcome`.
async fn reloaded(sandbox: &Sandbox, before: usize, outcome: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = reload_events(sandbox).await;
        if events
            .get(before..)
            .is_some_and(|new| new.iter().any(|(o, _)| o == outcome))
        {
            return;
        }
        assert!(Instant::now() < deadline, "no new policy.reload {outcome}: {events:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_bad_policy_stops_start_up_naming_file_line_and_reason() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let file = sandbox.dir.path().join("policies/modules.cedar");
    let shipped = std::fs::read_to_string(&file).unwrap();
    let line = shipped
        .lines()
        .position(|l| l.starts_with("when { resource.module == principal.name }"))
        .unwrap()
        + 1;
    std::fs::write(
        &file,
        shipped.replacen(
            "when { resource.module == principal.name }",
            "when { resource.modul == principal.name }",
            1,
        ),
    )
    .unwrap();
    let err = serve_refused(&sandbox);
    assert!(err.contains(&format!("modules.cedar:{line}:")), "{err}");
    assert!(err.contains("modul"), "{err}");
    let out = sandbox.cli(&["policy", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("modules.cedar:{line}:")));

    std::fs::write(&file, &shipped).unwrap();
    let out = sandbox.cli(&["policy", "check"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("module-never-another-modules-data"), "{said}");
    std::fs::remove_file(sandbox.dir.path().join("policies/jaga.cedarschema")).unwrap();
    let err = serve_refused(&sandbox);
    assert!(err.contains("cannot read the policy schema"), "{err}");
}

backend_test! {
    async fn officer_actions_follow_the_policies_and_denials_name_them(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (siti, _browser) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (officer, _) = crate::counter_recovery::officer_of_unit(&sandbox, &app).await;
        let identity = format!("/api/counter/citizens/{siti}/identity");
        let change = |name: &str| serde_json::to_vec(&serde_json::json!({ "full_name": name })).unwrap();
        let allowed = officer.send(reqwest::Method::PUT, &identity, Some(change("Siti Aminah Putri"))).await;
        assert_eq!(allowed.status, 200, "{:?}", allowed.body);

        // A forbid, put in force by SIGHUP: identity changes stop, lookups go on.
        std::fs::write(
            sandbox.dir.path().join("policies/zz-local.cedar"),
            "@id(\"no-identity-changes\")\nforbid (principal, action == Jaga::Action::\"change_identity\", resource);\n",
        )
        .unwrap();
        let before = reload_events(&sandbox).await.len();
        app.signal("HUP");
        reloaded(&sandbox, before, "success").await;
        let denied = officer.send(reqwest::Method::PUT, &identity, Some(change("Siti A."))).await;
        assert_eq!((denied.status.as_u16(), &denied.body["error"]), (403, &serde_json::json!("policy_denied")), "{:?}", denied.body);
        let find = serde_json::to_vec(&serde_json::json!({ "nik": "1971015507900002" })).unwrap();
        assert_eq!(officer.send(reqwest::Method::POST, "/api/counter/citizens/find", Some(find)).await.status, 200);
        let row = audit_rows(&sandbox)
            .await
            .into_iter()
            .rev()
            .find(|r| r.action == "profile.identity_change" && r.outcome == "denied")
            .unwrap();
        assert_eq!((row.reason.as_deref(), row.policies.as_str()), (Some("policy_denied"), "no-identity-changes"));
        assert_eq!(row.target_id.as_deref(), Some(siti.as_str()));
        drop(app);
        sandbox.drop_database().await;
    }
}
