//! The signed tip: a checkpoint at every group commit and its copy outside
//! the database cover every acknowledged event; a log cut or rolled back
//! under a running service is never extended; the checkpointer never
//! signs over an altered event; a running service re-verifies the whole
//! log in the background.

use jaga::audit::checkpointer::Checkpointer;
use sqlx::Connection as _;

use crate::audit_tamper::{PG_DROP_TRIGGERS, SQLITE_DROP_TRIGGERS, as_the_database_administrator};
use crate::support::{Backend, Lib, Sandbox, backend_test, sample_event};

backend_test! {
    /// A running service re-verifies the whole log in the background: events
    /// altered long after they were checkpointed turn `/readyz` to 503 and
    /// `jaga_audit_intact` to 0.
    async fn a_running_service_notices_old_events_being_altered(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![
            ("JAGA_AUDIT_REVERIFY_EVERY_SECS".into(), "1".into()),
            ("JAGA_AUDIT_CHECKPOINT_EVERY_EVENTS".into(), "2".into()),
            ("JAGA_SERVER_METRICS_TOKEN".into(), "metrics-token-for-tests-0123456789abcdef".into()),
        ];
        let app = sandbox.serve();
        let mut phone = crate::support::browser::Browser::new(&app);
        assert_eq!(phone.enrol("3171015207990007", "Siti Aminah").await.status, 201);
        let metrics = |app: &crate::support::TestApp| {
            let request = app
                .client
                .get(app.url("/metrics"))
                .bearer_auth("metrics-token-for-tests-0123456789abcdef");
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let gauge = |text: &str, name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1.0)
        };
        // A complete pass over the enrolment's events.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while gauge(&metrics(&app).await, "jaga_audit_verified_events") < 5.0 {
            assert!(std::time::Instant::now() < deadline, "no complete re-verification");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(app.get("/readyz").await.status(), 200);
        // Someone with database access rewrites event 2.
        let sql = "update audit_event set outcome = 'denied' where seq = 2";
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", sandbox.dir.path().join("jaga.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let all = format!("{SQLITE_DROP_TRIGGERS} {sql}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(all)).execute(&mut c).await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
                let all = format!("{PG_DROP_TRIGGERS} {sql}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(all)).execute(&mut c).await.unwrap();
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while app.get("/readyz").await.status() != 503 {
            assert!(std::time::Instant::now() < deadline, "{backend:?}: /readyz still 200");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(gauge(&metrics(&app).await, "jaga_audit_intact"), 0.0);
        drop(phone);
        let (_, logs) = app.stop();
        assert!(logs.contains("audit event 2 was altered"), "{logs}");
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// The copy outside the database is written before a write is answered, so
    /// it covers every acknowledged event: none can be cut from the tail unseen.
    async fn every_acknowledged_event_is_covered_by_the_checkpoint_copy(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let copy = sandbox.keys_path().with_file_name("audit-checkpoint.txt");
        let mut phone = crate::support::browser::Browser::new(&app);
        assert_eq!(phone.enrol("3171015207990007", "Siti Aminah").await.status, 201);
        for _ in 0..3 {
            phone.me().await;
            let answer = phone.post_json("/api/verification-code", &serde_json::json!({})).await;
            assert_eq!(answer.status, 200);
            // Read at once, without waiting for anything.
            let note = std::fs::read_to_string(&copy).unwrap();
            let size: i64 = note.lines().nth(1).unwrap().parse().unwrap();
            let stored = sandbox.sql_count("select count(*) from audit_event").await;
            assert_eq!(size, stored, "{backend:?}: the copy lags behind acknowledged events");
        }
        drop(phone);
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// The checkpointer checks every event it adds to the tree: it never
    /// signs a checkpoint over an event altered since it was written.
    async fn the_checkpointer_never_signs_over_an_altered_event(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let mut cp = Checkpointer::resume(
            lib.db.clone(),
            lib.writer.clone(),
            lib.keys.audit.clone(),
            Lib::audit_config(&sandbox, 1000),
            jaga::audit::checkpointer::AuditStatus::default(),
        )
        .await
        .unwrap();
        for i in 0..5 {
            lib.record(sample_event(i)).await;
        }
        as_the_database_administrator(&sandbox, "update audit_event set outcome = 'denied' where seq = 3").await;
        let signed = cp.step(true).await;
        assert!(signed.is_err(), "{backend:?}: the checkpointer signed over an altered event");
        assert!(format!("{:?}", signed.unwrap_err()).contains("audit event 3 was altered"));
        assert!(
            jaga::store::audit::checkpoints(&lib.db).await.unwrap().is_empty(),
            "{backend:?}: a checkpoint was stored"
        );
        drop(cp);
        lib.close().await;
    }
}

backend_test! {
    /// A database administrator cuts the tail of the log with its stored
    /// checkpoints and its tip while the service runs: the next write is
    /// refused (nothing is signed over the shorter log, the copy outside
    /// the database is not overwritten), `/readyz` says so, and commands
    /// that write refuse the database too.
    async fn a_log_cut_under_a_running_service_is_never_extended(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = crate::support::browser::Browser::new(&app);
        assert_eq!(phone.enrol("3171015207990007", "Siti Aminah").await.status, 201);
        phone.me().await;
        let copy = sandbox.keys_path().with_file_name("audit-checkpoint.txt");
        let signed = std::fs::read_to_string(&copy).unwrap();
        let cut_at = 2;
        let reset_head = match backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!("update audit_head set next_seq = {cut_at};"),
        };
        as_the_database_administrator(
            &sandbox,
            &format!(
                "delete from audit_event where seq >= {cut_at}; delete from audit_checkpoint where tree_size > {cut_at}; \
                 delete from audit_tip; {reset_head}"
            ),
        )
        .await;
        let write = phone.post_json("/api/verification-code", &serde_json::json!({})).await;
        assert!(write.status.is_server_error(), "{backend:?}: a write went through: {:?}", write.status);
        assert_eq!(app.get("/readyz").await.status(), 503, "{backend:?}");
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), signed, "the copy was overwritten");
        drop(phone);
        let (_, logs) = app.stop();
        assert!(logs.contains("cut or rolled back"), "{logs}");
        // A command that writes refuses the database as well.
        let out = sandbox.cli(&["modules", "add", "--name", "antrian"]);
        assert!(!out.status.success(), "{backend:?}: a command wrote to a cut log");
        assert!(String::from_utf8_lossy(&out.stderr).contains("truncated or rolled back"));
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), signed);
    }
}
