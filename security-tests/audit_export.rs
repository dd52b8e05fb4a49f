//! Audit exports: only security officers export; an export (JSON Lines or
//! CSV, from the API or `jaga audit export`) verifies offline with nothing
//! but the log's public key; an export altered after the fact, or cut from
//! a database whose history was rewritten, does not; every export is
//! audited.

use std::path::Path;

use jaga::store::audit::EventRow;
use reqwest::Method;

use crate::audit_tamper::{PG_DROP_TRIGGERS, SQLITE_DROP_TRIGGERS};
use crate::counter_recovery::officer_with_role;
use crate::support::modules::{add_module, citizen_deciding};
use crate::support::{Backend, Lib, Sandbox, backend_test};

const EXPORT: &str = "/api/security/audit/export";
const ALL: &str = "from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";

async fn log(sandbox: &Sandbox) -> Vec<EventRow> {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, 0, 1_000_000).await.unwrap();
    lib.close().await;
    rows
}

fn public_key(sandbox: &Sandbox) -> String {
    let out = sandbox.cli(&["audit", "public-key"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `jaga audit verify --export PATH --key KEY`: exit code and what it said.
fn verify(sandbox: &Sandbox, path: &Path, key: &str) -> (i32, String) {
    let out = sandbox.cli(&["audit", "verify", "--export", path.to_str().unwrap(), "--key", key]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), said)
}

fn rfc3339(us: i64) -> String {
    jaga::audit::export::time_text(us)
}

backend_test! {
    /// Only security officers export; a bad window or format is 400.
    async fn only_security_officers_export(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let path = format!("{EXPORT}?{ALL}");
        for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("administrator", &admin)] {
            let answer = browser.send(Method::GET, &path, None).await;
            assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (403, Some("forbidden")), "{who}");
        }
        assert_eq!(app.get(&path).await.status(), 401);
        let module = app.client.get(app.url(&path)).bearer_auth(&antrian).send().await.unwrap();
        assert_eq!(module.status(), 401, "a module has no session");
        for query in ["", "from=2020-01-01T00:00:00Z", "to=2020-01-01T00:00:00Z",
            "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from=yesterday&to=2100-01-01T00:00:00Z",
            &format!("{ALL}&format=xml")] {
            let answer = security.send(Method::GET, &format!("{EXPORT}?{query}"), None).await;
            assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (400, Some("invalid_query")), "{query}");
        }
        let unknown = security.send(Method::GET, &format!("{EXPORT}?{ALL}&colour=red"), None).await;
        assert_eq!(unknown.status, 400, "an unknown parameter: {:?}", unknown.body);
        assert!(!log(&sandbox).await.iter().any(|e| e.action == "audit.export"), "refusals export nothing");
        let allowed = security.get_raw(&path).await;
        assert_eq!(allowed.status(), 200);
        assert_eq!(allowed.headers()["content-type"], "application/x-ndjson");
    }
}

backend_test! {
    /// JSON Lines and CSV exports, from the API and the command line,
    /// verify offline; altered ones do not; a narrow window is one
    /// unbroken stretch tied to its checkpoint; exports are audited.
    async fn exports_verify_offline_and_alterations_do_not(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        add_module(&sandbox, "antrian");
        citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        citizen_deciding(&app, "1971011203850001", "Budi Santoso", &[], "grant").await;
        let (security, me) = officer_with_role(&sandbox, &app, "security").await;
        let key = public_key(&sandbox);
        let work = tempfile::tempdir().unwrap();

        // The whole log as JSON Lines: the manifest, then every event.
        let before = log(&sandbox).await;
        let answer = security.get_raw(&format!("{EXPORT}?{ALL}")).await;
        assert_eq!(answer.status(), 200);
        assert!(answer.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"jaga-audit-0-"));
        let text = answer.text().await.unwrap();
        let mut lines = text.lines();
        let manifest: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(manifest["format"], "jaga-audit-export/1");
        assert_eq!(manifest["first_seq"], 0);
        let events: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len() as u64, manifest["count"].as_u64().unwrap());
        assert!(events.len() >= before.len(), "everything logged before the export is in it");
        for (e, row) in events.iter().zip(&before) {
            assert_eq!((e["seq"].as_i64(), e["actor_id"].as_str(), e["action"].as_str()),
                (Some(row.seq), Some(row.actor_id.as_str()), Some(row.action.as_str())));
        }
        let file = work.path().join("all.jsonl");
        std::fs::write(&file, &text).unwrap();
        let (code, said) = verify(&sandbox, &file, &key);
        assert_eq!(code, 0, "{said}");
        assert!(said.contains("audit export intact"), "{said}");

        // Altered after the fact: a changed actor, a dropped event, a
        // reordered pair, another log's key, a wrong time text.
        let victim = &events[3];
        let changed = text.replacen(&format!("\"actor_id\":\"{}\"", victim["actor_id"].as_str().unwrap()),
            "\"actor_id\":\"someone_else\"", 1);
        assert_ne!(changed, text);
        let all: Vec<&str> = text.lines().collect();
        let dropped = [&all[..4], &all[5..]].concat().join("\n");
        let mut swapped = all.clone();
        swapped.swap(2, 3);
        let retimed = text.replacen(events[1]["time"].as_str().unwrap(), "2020-01-01T00:00:00Z", 1);
        for (what, altered) in [("changed", changed), ("dropped", dropped), ("swapped", swapped.join("\n")), ("retimed", retimed)] {
            std::fs::write(&file, altered).unwrap();
            let (code, said) = verify(&sandbox, &file, &key);
            assert_eq!(code, 3, "{what}: {said}");
        }
        std::fs::write(&file, &text).unwrap();
        let (name, _) = jaga::audit::checkpoint::parse_verifier_key(&key).unwrap();
        let stranger = jaga::audit::checkpoint::verifier_key(&name, &[7u8; 32]);
        assert_eq!(verify(&sandbox, &file, &stranger).0, 3, "another key did not sign it");

        // A narrow window: from the 3rd event's time to the 6th's; the
        // stretch sits inside the tree, with hashes on both sides.
        let (from, to) = (rfc3339(before[2].time_us), rfc3339(before[5].time_us));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("from", &from).append_pair("to", &to).append_pair("format", "csv").finish();
        let answer = security.get_raw(&format!("{EXPORT}?{query}")).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], "text/csv; charset=utf-8");
        let manifest = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD,
            answer.headers()["jaga-export-manifest"].as_bytes()).unwrap();
        let csv = answer.text().await.unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let expected: Vec<i64> = before.iter().filter(|e| e.time_us >= before[2].time_us && e.time_us < before[5].time_us)
            .map(|e| e.seq).collect();
        assert_eq!(parsed["first_seq"].as_i64(), expected.first().copied());
        assert_eq!(parsed["count"].as_u64(), Some(expected.len() as u64));
        assert!(!parsed["left"].as_array().unwrap().is_empty() && !parsed["right"].as_array().unwrap().is_empty());
        assert_eq!(csv.lines().count(), expected.len() + 1, "the header and the events");
        let dir = work.path().join("narrow");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
        std::fs::write(dir.join("events.csv"), &csv).unwrap();
        let (code, said) = verify(&sandbox, &dir, &key);
        assert_eq!(code, 0, "{said}");
        let outcome = csv.lines().nth(1).unwrap().split(',').nth(10).unwrap().to_owned();
        let flipped = if outcome == "success" { "denied" } else { "success" };
        let mut rows: Vec<String> = csv.lines().map(str::to_owned).collect();
        rows[1] = rows[1].replacen(&format!(",{outcome},"), &format!(",{flipped},"), 1);
        std::fs::write(dir.join("events.csv"), rows.join("\r\n")).unwrap();
        assert_eq!(verify(&sandbox, &dir, &key).0, 3, "a changed outcome in the CSV");

        // The command line: an export directory, with a progress bar on a
        // terminal and a line saying how to check it.
        let out_dir = work.path().join("cli-export");
        let out = sandbox.cli(&["audit", "export", "--from", "2020-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
            "--format", "csv", "--out", out_dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("jaga audit verify --export"));
        assert!(out_dir.join("manifest.json").exists() && out_dir.join("events.csv").exists());
        assert!(!work.path().join("cli-export.partial").exists());
        let (code, said) = verify(&sandbox, &out_dir, &key);
        assert_eq!(code, 0, "{said}");
        let again = sandbox.cli(&["audit", "export", "--from", "2020-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
            "--out", out_dir.to_str().unwrap()]);
        assert!(!again.status.success(), "an existing directory is not overwritten");

        // Each export is on the record: the officer's two, the operator's one.
        let after = log(&sandbox).await;
        let exports: Vec<_> = after.iter().filter(|e| e.action == "audit.export").collect();
        assert_eq!(exports.len(), 3);
        assert_eq!(exports.iter().filter(|e| e.actor_kind == "officer" && e.actor_id == me).count(), 2);
        assert_eq!(exports.iter().filter(|e| e.actor_kind == "operator").count(), 1);
        assert_eq!(exports.iter().map(|e| e.target_fields.as_str()).collect::<Vec<_>>(), ["jsonl", "csv", "csv"]);
    }
}

backend_test! {
    /// A database administrator rewrites an event: the export cut from the
    /// rewritten log no longer matches its signed checkpoint.
    async fn rewritten_history_does_not_verify(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let key = public_key(&sandbox);
        let rows = log(&sandbox).await;
        let victim = rows.iter().find(|e| e.actor_kind == "citizen").unwrap();
        // The administrator first removes the append-only triggers.
        let drop = match backend {
            Backend::Sqlite => SQLITE_DROP_TRIGGERS,
            Backend::Postgres => PG_DROP_TRIGGERS,
        };
        for statement in drop.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sandbox.sql_exec(statement).await;
        }
        let touched = sandbox.sql_exec(&format!(
            "update audit_event set actor_id = 'cit_someone_else' where seq = {}", victim.seq)).await;
        assert_eq!(touched, 1);
        let text = security.get_raw(&format!("{EXPORT}?{ALL}")).await.text().await.unwrap();
        let work = tempfile::tempdir().unwrap();
        let file = work.path().join("all.jsonl");
        std::fs::write(&file, &text).unwrap();
        let (code, said) = verify(&sandbox, &file, &key);
        assert_eq!(code, 3, "{said}");
        assert!(said.contains("do not match the signed checkpoint"), "{said}");
    }
}
