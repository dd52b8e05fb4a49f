//! Tampering with the stored audit log is caught by `jaga audit verify`,
//! which names the first bad sequence number.

use std::path::PathBuf;

use jaga::audit::checkpointer::Checkpointer;
use sqlx::Connection as _;

use crate::support::backend_test;
use crate::support::{Backend, Lib, Sandbox, postgres, sample_event};

/// 65 events, stored checkpoints after every 10 (at 10, 20, …, 60); every
/// event is also covered by the tip signed at each group commit (65), and
/// its copy outside the database.
async fn pristine(backend: Backend) -> (Sandbox, String) {
    let sandbox = Sandbox::new(backend).await;
    let lib = Lib::open(&sandbox).await;
    let mut cp = Checkpointer::resume(
        lib.db.clone(),
        lib.writer.clone(),
        lib.keys.audit.clone(),
        Lib::audit_config(&sandbox, 10),
        jaga::audit::checkpointer::AuditStatus::default(),
    )
    .await
    .unwrap();
    for i in 0..65 {
        lib.record(sample_event(i)).await;
        if (i + 1) % 10 == 0 {
            cp.step(false).await.unwrap();
        }
    }
    drop(cp);
    lib.close().await;
    let out = sandbox.cli(&["audit", "checkpoint"]);
    assert!(out.status.success());
    let note = String::from_utf8(out.stdout).unwrap();
    assert!(note.contains("\n60\n"), "{note}");
    let out = sandbox.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "pristine log fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (sandbox, note)
}

/// A copy of the pristine database with `sql` applied as someone with
/// direct database access would (triggers dropped first).
struct Copy {
    url: String,
    _dir: tempfile::TempDir,
    pg: Option<postgres::Database>,
}

pub(crate) const SQLITE_DROP_TRIGGERS: &str = "drop trigger audit_event_no_update; drop trigger audit_event_no_delete; \
     drop trigger audit_checkpoint_no_update; drop trigger audit_checkpoint_no_delete;";
pub(crate) const PG_DROP_TRIGGERS: &str = "drop trigger audit_event_append_only on audit_event; \
     drop trigger audit_checkpoint_append_only on audit_checkpoint;";

async fn tampered_copy(sandbox: &Sandbox, sql: &str) -> Copy {
    let dir = tempfile::tempdir().unwrap();
    match sandbox.backend {
        Backend::Sqlite => {
            let src = sandbox.dir.path().join("jaga.db");
            let dst: PathBuf = dir.path().join("copy.db");
            std::fs::copy(&src, &dst).unwrap();
            let url = format!("sqlite://{}", dst.display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let all = format!("{SQLITE_DROP_TRIGGERS} {sql}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(all))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            Copy {
                url,
                _dir: dir,
                pg: None,
            }
        }
        Backend::Postgres => {
            let template = &sandbox.pg().unwrap().name;
            let db = postgres::Database::create_from(Some(template)).await;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let all = format!("{PG_DROP_TRIGGERS} {sql}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(all))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            Copy {
                url: db.url.clone(),
                _dir: dir,
                pg: Some(db),
            }
        }
    }
}

/// Runs `jaga audit verify` on the copy with the database alone (no
/// checkpoint copy outside it) or with `external`; returns (exit code, stderr).
fn verify(sandbox: &Sandbox, copy: &Copy, external: Option<&std::path::Path>) -> (i32, String) {
    let mut args = vec!["audit", "verify"];
    let ext;
    if let Some(p) = external {
        ext = p.display().to_string();
        args.extend(["--checkpoint", ext.as_str()]);
    }
    let out = sandbox
        .command(&args)
        .env("JAGA_DATABASE_URL", &copy.url)
        .env(
            "JAGA_AUDIT_CHECKPOINT_FILE",
            sandbox.dir.path().join("no-copy-here.txt"),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mutations(backend: Backend) -> Vec<(&'static str, String, u64)> {
    let field = |name: &'static str, set: &str| (name, format!("update audit_event set {set} where seq = 17;"), 17);
    let new_mac = match backend {
        Backend::Sqlite => "mac = randomblob(32)",
        Backend::Postgres => "mac = decode(md5('a'), 'hex') || decode(md5('b'), 'hex')",
    };
    vec![
        field("time", "time_us = time_us + 1"),
        field("actor kind", "actor_kind = 'operator'"),
        field("actor id", "actor_id = actor_id || 'x'"),
        field("action", "action = 'vault.erase'"),
        field("target kind", "target_kind = 'account'"),
        field("target id", "target_id = 'ctz_other'"),
        field("target fields", "target_fields = 'nik'"),
        field("purpose", "purpose = null"),
        field("outcome", "outcome = 'denied'"),
        field("reason", "reason = 'other_reason'"),
        field("request id", "request_id = 'req-forged'"),
        field("source", "source = '10.9.9.9'"),
        field("mac", new_mac),
        ("deleted event", "delete from audit_event where seq = 17;".into(), 17),
        (
            "reordered events",
            "update audit_event set seq = -1 where seq = 17; update audit_event set seq = 17 where seq = 18; \
             update audit_event set seq = 18 where seq = -1;"
                .into(),
            17,
        ),
        (
            "truncated after a checkpoint",
            "delete from audit_event where seq >= 25;".into(),
            25,
        ),
        (
            "event after the last checkpoint",
            "update audit_event set outcome = 'failure' where seq = 62;".into(),
            62,
        ),
        // Covered by the tip signed at the last group commit.
        (
            "last event deleted",
            "delete from audit_event where seq = 64;".into(),
            64,
        ),
        (
            "tail cut and the tip deleted",
            "delete from audit_event where seq >= 62; delete from audit_tip;".into(),
            62,
        ),
    ]
}

backend_test! {
    async fn every_kind_of_tampering_is_detected_and_located(backend) {
        let (sandbox, _) = pristine(backend).await;
        for (name, sql, first_bad) in mutations(backend) {
            let copy = tampered_copy(&sandbox, &sql).await;
            // A tail cut together with the tip is invisible to the database
            // alone; the copy outside it (used by default) shows it.
            let external = (name == "tail cut and the tip deleted")
                .then(|| sandbox.keys_path().with_file_name("audit-checkpoint.txt"));
            let (code, err) = verify(&sandbox, &copy, external.as_deref());
            assert_eq!(code, 3, "{backend:?} {name}: exit {code}: {err}");
            let expected = format!("first bad sequence number {first_bad}:");
            assert!(err.contains(&expected), "{backend:?} {name}: {err}");
            let failures: Vec<&str> = err.lines().filter(|l| !l.contains("jaga: warning:")).collect();
            assert_eq!(failures.len(), 1, "{err}");
            if let Some(pg) = copy.pg {
                pg.drop().await;
            }
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn forged_checkpoint_is_detected(backend) {
        let (sandbox, _) = pristine(backend).await;
        let copy = tampered_copy(
            &sandbox,
            "update audit_checkpoint set note = replace(note, 'time ', 'time  ') where tree_size = 30;",
        )
        .await;
        let (code, err) = verify(&sandbox, &copy, None);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("checkpoint at tree size 30"), "{err}");
        if let Some(pg) = copy.pg {
            pg.drop().await;
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn truncating_log_and_checkpoints_together_is_caught_by_an_external_checkpoint(backend) {
        let (sandbox, note) = pristine(backend).await;
        let external = sandbox.dir.path().join("checkpoint.txt");
        std::fs::write(&external, &note).unwrap();
        let copy = tampered_copy(
            &sandbox,
            "delete from audit_event where seq >= 25; delete from audit_checkpoint where tree_size > 25; \
             delete from audit_tip;",
        )
        .await;
        // The database alone is self-consistent again, and says it has no copy…
        let (code, err) = verify(&sandbox, &copy, None);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("no checkpoint copy"), "{err}");
        // …but not with a checkpoint kept outside it…
        let (code, err) = verify(&sandbox, &copy, Some(&external));
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("first bad sequence number 25:"), "{err}");
        // …and plain `jaga audit verify` uses the copy the service keeps.
        let out = sandbox
            .command(&["audit", "verify"])
            .env("JAGA_DATABASE_URL", &copy.url)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        if let Some(pg) = copy.pg {
            pg.drop().await;
        }
        // An emptied log too.
        let emptied = tampered_copy(
            &sandbox,
            "delete from audit_event; delete from audit_checkpoint; delete from audit_tip;",
        )
        .await;
        let out = sandbox
            .command(&["audit", "verify"])
            .env("JAGA_DATABASE_URL", &emptied.url)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{backend:?}: {err}");
        assert!(err.contains("first bad sequence number 0:"), "{err}");
        if let Some(pg) = emptied.pg {
            pg.drop().await;
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn the_application_cannot_change_or_delete_audit_rows(backend) {
        let (sandbox, _) = pristine(backend).await;
        let statements = [
            "update audit_event set outcome = 'denied' where seq = 1",
            "delete from audit_event where seq = 1",
            "delete from audit_checkpoint where tree_size = 10",
        ];
        for sql in statements {
            let result = match backend {
                Backend::Sqlite => {
                    let url = format!("sqlite://{}", sandbox.dir.path().join("jaga.db").display());
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
            };
            let err = result.expect_err(sql).to_string();
            assert!(err.contains("append-only"), "{backend:?} {sql}: {err}");
        }
        sandbox.drop_database().await;
    }
}

/// Runs `statements` on the sandbox's database as someone with direct
/// access would, the append-only triggers dropped first.
pub(crate) async fn as_the_database_administrator(sandbox: &Sandbox, statements: &str) {
    let drop_triggers = match sandbox.backend {
        Backend::Sqlite => SQLITE_DROP_TRIGGERS,
        Backend::Postgres => PG_DROP_TRIGGERS,
    };
    for statement in format!("{drop_triggers} {statements}")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        crate::support::modules::jaga_sql(sandbox, statement).await;
    }
}

backend_test! {
    async fn serve_refuses_to_start_on_a_truncated_log(backend) {
        let (sandbox, _) = pristine(backend).await;
        as_the_database_administrator(&sandbox, "delete from audit_event where seq >= 55;").await;
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("truncated"), "{backend:?}: {err}");
    }
}

backend_test! {
    async fn serve_refuses_a_database_rolled_back_behind_its_checkpoint_copy(backend) {
        let (sandbox, _) = pristine(backend).await;
        let copy = sandbox.keys_path().with_file_name("audit-checkpoint.txt");
        // The copy is current: it covers every acknowledged event.
        assert!(std::fs::read_to_string(&copy).unwrap().contains("\n65\n"));
        as_the_database_administrator(
            &sandbox,
            "delete from audit_event where seq >= 30; delete from audit_checkpoint where tree_size > 30; \
             delete from audit_tip;",
        )
        .await;
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("truncated or rolled back"), "{backend:?}: {err}");
        assert!(err.contains("before 65 events"), "{err}");
    }
}
