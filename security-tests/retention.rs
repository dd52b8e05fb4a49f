//! Retention: expired sessions (with their IP address and user agent),
//! used or expired codes and expired ceremonies are deleted on schedule,
//! and each purge is audited.

use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::backend_test;
use crate::support::browser::Browser;

/// Waits until `sql` answers `want`, or fails after a generous deadline.
async fn wait_for(sandbox: &Sandbox, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = sandbox.sql_count(sql).await;
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, waited for {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

backend_test! {
    async fn expired_sessions_used_codes_and_expired_ceremonies_are_purged_and_audited(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![
            ("JAGA_SESSIONS_IDLE_TIMEOUT_SECS".into(), "3".into()),
            ("JAGA_SESSIONS_PURGE_EVERY_SECS".into(), "1".into()),
            ("JAGA_WEBAUTHN_CEREMONY_TIMEOUT_SECS".into(), "2".into()),
        ];
        let app = sandbox.serve();
        let mut phone = Browser::new(&app);
        let enrolled = phone.enrol("3171015207990007", "Siti Aminah").await;
        assert_eq!(enrolled.status, 201);
        let code = enrolled.body["recovery_codes"][0].as_str().unwrap().to_owned();
        // A used recovery code, a ceremony nobody finishes, and sessions.
        let mut new_phone = Browser::new(&app);
        assert_eq!(new_phone.recover("3171015207990007", &code).await.status, 201);
        assert!(new_phone.sign_in_options().await["publicKey"].is_object());
        assert!(sandbox.sql_count("select count(*) from session").await >= 2);
        // After the idle timeout and the ceremony lifetime, all are gone.
        wait_for(&sandbox, "select count(*) from session", 0).await;
        wait_for(
            &sandbox,
            "select count(*) from recovery_code where used_at is not null",
            0,
        )
        .await;
        wait_for(&sandbox, "select count(*) from ceremony", 0).await;
        // Unused recovery codes stay.
        assert_eq!(sandbox.sql_count("select count(*) from recovery_code").await, 9);
        let purges = sandbox
            .sql_count("select count(*) from audit_event where action = 'retention.purge' and actor_kind = 'system'")
            .await;
        assert!(purges >= 1, "{backend:?}: purges are audited");
        drop((phone, new_phone));
        sandbox.drop_database().await;
    }
}
