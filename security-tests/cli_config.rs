//! The command line and configuration refuse what is unsafe or unknown.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::backend_test;
use crate::support::{Backend, Sandbox};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

backend_test! {
    async fn unknown_config_keys_are_refused_with_their_name(backend) {
        let sandbox = Sandbox::new(backend).await;
        let file = sandbox.dir.path().join("jaga.toml");
        std::fs::write(&file, "[server]\nlisten = [\"127.0.0.1:0\"]\nlisten_backlog = 5\n").unwrap();
        let out = sandbox.cli(&["--config", file.to_str().unwrap(), "serve"]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("server.listen_backlog: unknown configuration key"),
            "{err}"
        );

        let mut cmd = sandbox.command(&["config", "check"]);
        let out = cmd.env("JAGA_DATABSE_URL", "sqlite://x.db").output().unwrap();
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("JAGA_DATABSE_URL: unknown configuration key"),
            "{}",
            stderr(&out)
        );
    }
}

backend_test! {
    async fn invalid_values_are_refused_with_key_and_reason(backend) {
        let sandbox = Sandbox::new(backend).await;
        let out = sandbox
            .command(&["config", "check"])
            .env("JAGA_SERVER_MAX_BODY_BYTES", "-1")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("server.max_body_bytes: -1 is outside"),
            "{}",
            stderr(&out)
        );
    }
}

backend_test! {
    async fn config_check_prints_effective_configuration_without_secrets(backend) {
        let sandbox = Sandbox::new(backend).await;
        let secret_file = sandbox.dir.path().join("db-url");
        std::fs::write(&secret_file, "postgres://jaga:s3cr3t-pw@db.internal/jaga\n").unwrap();
        let out = sandbox
            .command(&["config", "check"])
            .env_remove("JAGA_DATABASE_URL")
            .env("JAGA_DATABASE_URL_FILE", &secret_file)
            .env("JAGA_AUDIT_CHECKPOINT_EVERY_EVENTS", "250")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains("s3cr3t-pw"), "{text}");
        assert!(
            text.contains("database.url = postgres://<redacted>@db.internal/jaga"),
            "{text}"
        );
        assert!(text.contains("audit.checkpoint_every_events = 250"), "{text}");
        assert!(text.contains("mode = production"), "{text}");
    }
}

#[tokio::test]
async fn plain_http_on_a_non_loopback_address_is_refused() {
    let mut sandbox = Sandbox::new(Backend::Sqlite).await;
    for addr in ["0.0.0.0:0", "[::]:0"] {
        sandbox.extra_env = vec![("JAGA_SERVER_LISTEN".into(), addr.into())];
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success(), "{addr} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains("refusing to serve plain HTTP on non-loopback address"),
            "{err}"
        );
        assert_eq!(err.lines().filter(|l| l.starts_with("jaga:")).count(), 1, "{err}");
    }
    // The database was not even created.
    assert!(!sandbox.dir.path().join("jaga.db").exists());
}

backend_test! {
    async fn serve_refuses_to_start_without_keys(backend) {
        let sandbox = Sandbox::new(backend).await;
        std::fs::remove_file(sandbox.keys_path()).unwrap();
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("no key file at"), "{}", stderr(&out));
    }
}

backend_test! {
    async fn keys_init_writes_mode_0600_and_never_overwrites(backend) {
        let sandbox = Sandbox::new(backend).await;
        let path = sandbox.keys_path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let before = std::fs::read(&path).unwrap();
        let out = sandbox.cli(&["keys", "init"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // A key file others can read is refused.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = sandbox.cli(&["serve"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("readable by other users"), "{}", stderr(&out));
    }
}

backend_test! {
    async fn keys_can_come_from_the_environment(backend) {
        let sandbox = Sandbox::new(backend).await;
        let text = std::fs::read_to_string(sandbox.keys_path()).unwrap();
        std::fs::remove_file(sandbox.keys_path()).unwrap();
        let mut cmd = sandbox.command(&["serve"]);
        cmd.env("JAGA_KEYS_INLINE", text);
        let app = crate::support::TestApp::start(cmd);
        assert_eq!(app.get("/readyz").await.status(), 200);
        assert!(!app.logs().contains("signing_key"));
    }
}

#[test]
fn help_explains_each_command() {
    let out = std::process::Command::new(crate::support::BIN)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "keys", "audit", "config"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(cmd) && l.len() > cmd.len() + 8),
            "{cmd}: {text}"
        );
    }
    for args in [["keys", "--help"], ["audit", "--help"]] {
        let out = std::process::Command::new(crate::support::BIN)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
}
