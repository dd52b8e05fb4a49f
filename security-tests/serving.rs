//! Serving: lifecycle, development mode, metrics, OpenAPI.

use crate::support::backend_test;
use crate::support::{Backend, Sandbox, TestApp};

backend_test! {
    async fn graceful_shutdown_writes_the_pending_checkpoint(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        // No checkpoint would be due before shutdown on its own.
        sandbox.extra_env = vec![
            ("JAGA_AUDIT_CHECKPOINT_EVERY_EVENTS".into(), "1000000".into()),
            ("JAGA_AUDIT_CHECKPOINT_EVERY_SECS".into(), "86400".into()),
        ];
        let app = sandbox.serve();
        assert_eq!(app.get("/readyz").await.status(), 200);
        let (status, logs) = app.stop();
        assert!(status.success(), "{backend:?} exit {status}:\n{logs}");
        assert!(logs.contains("jaga stopped"), "{logs}");

        let out = sandbox.cli(&["audit", "checkpoint"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let note = String::from_utf8(out.stdout).unwrap();
        let mut lines = note.lines();
        assert_eq!(lines.next(), Some(crate::support::ORIGIN));
        // service.start and service.stop
        assert_eq!(lines.next(), Some("2"), "{note}");
        let out = sandbox.cli(&["audit", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("audit log intact: 2 events, 1 signed checkpoints"));
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn restart_continues_the_same_log(backend) {
        let sandbox = Sandbox::new(backend).await;
        for _ in 0..2 {
            let app = sandbox.serve();
            assert_eq!(app.get("/readyz").await.status(), 200);
            assert!(app.stop().0.success());
        }
        let out = sandbox.cli(&["audit", "verify"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            text.contains("audit log intact: 4 events, 2 signed checkpoints"),
            "{text}"
        );
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn dev_mode_creates_its_data_and_keys_and_says_so() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut cmd = sandbox.command(&["serve", "--dev"]);
    cmd.env_remove("JAGA_DATABASE_URL")
        .env_remove("JAGA_KEYS_PATH")
        .env_remove("JAGA_LOG_FORMAT");
    // Port 0 instead of 8080 so tests do not collide; the address stays loopback.
    cmd.env("JAGA_SERVER_LISTEN", "127.0.0.1:0")
        .env("JAGA_LOG_FORMAT", "json");
    let app = TestApp::start(cmd);
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Development mode serves metrics on the main listener, for convenience.
    assert_eq!(app.get("/metrics").await.status(), 200);
    let data = sandbox.dir.path().join("data");
    assert!(data.join("jaga.db").exists());
    assert!(data.join("dev-keys.toml").exists());
    let logs = app.logs();
    assert!(logs.contains("DEVELOPMENT MODE"), "{logs}");
    assert!(logs.contains("created a development key file"), "{logs}");
}

/// Right after the quick start, in the same folder, every command takes
/// `--dev` and uses exactly the database and key file `serve --dev` uses.
#[tokio::test]
async fn the_command_line_follows_dev_mode() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let dev = |args: &[&str]| {
        let mut cmd = sandbox.command(args);
        cmd.env_remove("JAGA_DATABASE_URL")
            .env_remove("JAGA_KEYS_PATH")
            .env_remove("JAGA_WEBAUTHN_RP_ID")
            .env_remove("JAGA_WEBAUTHN_ORIGINS")
            .env("JAGA_SERVER_LISTEN", "127.0.0.1:0");
        cmd
    };
    let app = TestApp::start(dev(&["serve", "--dev"]));
    // The banner names the address actually listened on.
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let logs = app.wait_for_log("Commands take --dev too").await;
    assert!(logs.contains(&format!("Open http://localhost:{port}")), "{logs}");
    let run = |args: &[&str]| {
        let out = dev(args).stdin(std::process::Stdio::null()).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[
        "officers",
        "add",
        "--dev",
        "--name",
        "Petugas",
        "--unit",
        "Kecamatan Rangkui",
        "--role",
        "counter",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("http://localhost:8080/officer/enrol#"), "{out}");
    let officer = out
        .split_whitespace()
        .find(|w| w.starts_with("ofc_"))
        .unwrap()
        .to_owned();
    let (code, out, err) = run(&["modules", "add", "--dev", "--name", "antrian"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("jaga_mk_"), "{out}");
    let id = out.split(['(', ')']).nth(1).unwrap().to_owned();
    // A revoked module's name can be registered again: a new key, the same module.
    assert_eq!(run(&["modules", "revoke", "--dev", "--name", "antrian"]).0, Some(0));
    let (code, out, err) = run(&["modules", "add", "--dev", "--name", "antrian"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&id), "the same module: {out}");
    let (_, list, _) = run(&["modules", "list", "--dev"]);
    assert!(list.contains("antrian") && list.contains("active"), "{list}");
    let (_, list, _) = run(&["officers", "list", "--dev"]);
    assert!(list.contains(&officer) && list.contains("Kecamatan Rangkui"), "{list}");
    assert_eq!(run(&["officers", "suspend", "--dev", "--officer", &officer]).0, Some(0));
    let (_, list, _) = run(&["officers", "list", "--dev"]);
    assert!(
        list.lines().any(|l| l.starts_with(&officer) && l.contains("suspended")),
        "{list}"
    );
    let (code, out, err) = run(&["audit", "verify", "--dev"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("audit log intact") && out.contains("checkpoint copy"),
        "{out}"
    );
    assert_eq!(run(&["keys", "status", "--dev"]).0, Some(0));
    assert_eq!(
        run(&["citizens", "find", "--dev", "--nik", "3171015207990007"]).0,
        Some(1)
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
}

backend_test! {
    async fn metrics_count_requests_by_route_and_status(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_SERVER_METRICS_TOKEN".into(), "metrics-secret-0123456789-abcdefghijkl".into())];
        let app = sandbox.serve();
        for _ in 0..3 {
            app.get("/healthz").await;
        }
        app.get("/missing").await;
        for i in 0..3 {
            let method = reqwest::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
            app.client.request(method, app.url("/healthz")).send().await.unwrap();
        }
        let resp = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth("metrics-secret-0123456789-abcdefghijkl")
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("jaga_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("jaga_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE jaga_http_request_duration_seconds histogram"));
        // Made-up methods share one label instead of adding series.
        assert!(!text.contains("FOO"), "{text}");
        assert!(text.contains("method=\"other\",status=\"405\"} 3"), "{text}");
        assert!(
            text.contains("jaga_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\",status=\"200\"} 3")
        );
    }
}

backend_test! {
    async fn metrics_are_not_public_on_the_main_listener(backend) {
        // Production without a token: not served on the main listener at all.
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        assert_eq!(app.get("/metrics").await.status(), 404);
        drop(app);
        // With a token: only to its bearer.
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_SERVER_METRICS_TOKEN".into(), "metrics-secret-0123456789-abcdefghijkl".into())];
        let app = sandbox.serve();
        let anonymous = app.get("/metrics").await;
        assert_eq!(anonymous.status(), 401);
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = anonymous.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
        for wrong in ["metrics-secret-0123456789-abcdefghijkm", "", "metrics-secret-0123456789-abcdefghijkl0"] {
            let resp = app
                .client
                .get(app.url("/metrics"))
                .bearer_auth(wrong)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 401, "{wrong:?}");
        }
        let ok = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth("metrics-secret-0123456789-abcdefghijkl")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        // The token never reaches a log line.
        let (_, logs) = app.stop();
        assert!(!logs.contains("metrics-secret"), "{logs}");
    }
}

backend_test! {
    async fn metrics_can_move_to_an_admin_address(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![("JAGA_SERVER_ADMIN_LISTEN".into(), "127.0.0.1:0".into())];
        let app = sandbox.serve();
        assert_eq!(app.get("/metrics").await.status(), 404);
        // Wait for the admin listener's own "listening" line.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let admin = loop {
            let found = app
                .logs()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["message"] == "listening")
                .map(|v| v["server.addr"].as_str().unwrap().to_owned())
                .find(|a| !app.base.ends_with(a.as_str()));
            if let Some(admin) = found {
                break admin;
            }
            assert!(std::time::Instant::now() < deadline, "no admin listener");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let resp = app.client.get(format!("http://{admin}/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
}

backend_test! {
    async fn openapi_document_describes_the_api(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/openapi.json",
            "/api/me",
            "/api/sessions",
            "/api/passkeys",
        ] {
            assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
        }
        for path in [
            "/api/enrol/start",
            "/api/enrol/finish",
            "/api/signin/start",
            "/api/signin/finish",
            "/api/recover/start",
        ] {
            assert!(doc["paths"][path]["post"].is_object(), "{path} missing");
        }
        assert!(doc["components"]["schemas"]["EnrolStart"]["properties"]["nik"].is_object());
        let error = &doc["components"]["schemas"]["ErrorBody"]["properties"];
        for field in ["error", "message", "request_id"] {
            assert!(error[field].is_object(), "{field}");
        }
    }
}

backend_test! {
    async fn migrate_applies_and_is_idempotent(backend) {
        let sandbox = Sandbox::new(backend).await;
        for _ in 0..2 {
            let out = sandbox.cli(&["migrate"]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn home_page_speaks_bahasa_indonesia_first_and_has_no_script(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let resp = app.get("/").await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = resp.text().await.unwrap();
        assert!(html.contains("<html lang=\"id\">"));
        assert!(html.contains("lang=\"en\""));
        // Scripts only from our origin, none inline; no inline styles.
        for script in html.split("<script").skip(1) {
            let tag = script.split("</script>").next().unwrap();
            assert!(tag.starts_with(" src=\"/static/"), "{tag}");
            assert!(tag.trim_end().ends_with('>'), "inline script body: {tag}");
        }
        assert!(!html.contains("style="));
    }
}

backend_test! {
    /// Logging is off the request path: with the log output stuck (a full
    /// pipe nobody reads), requests are still answered, the lines that do
    /// not fit are dropped and counted in /metrics, and shutdown is not held up.
    async fn a_stuck_log_output_neither_blocks_requests_nor_shutdown(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        sandbox.extra_env = vec![
            ("JAGA_LOG_QUEUE_LINES".into(), "64".into()),
            ("JAGA_SERVER_METRICS_TOKEN".into(), "metrics-token-for-tests-0123456789abcdef".into()),
        ];
        let app = crate::support::TestApp::start_with_stuck_output(sandbox.command(&["serve"]));
        // Far more log lines than the pipe (64 KiB) and the queue hold.
        let started = std::time::Instant::now();
        for _ in 0..1500 {
            let resp = tokio::time::timeout(std::time::Duration::from_secs(10), app.get("/healthz"))
                .await
                .expect("a request blocked behind the log output");
            assert_eq!(resp.status(), 200);
        }
        let text = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth("metrics-token-for-tests-0123456789abcdef")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let dropped: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("jaga_log_lines_dropped_total "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(dropped > 0, "{backend:?}: nothing dropped in {:?}", started.elapsed());
        let stopping = std::time::Instant::now();
        let (status, _) = app.stop();
        assert!(status.success());
        assert!(stopping.elapsed() < std::time::Duration::from_secs(25), "shutdown held up");
    }
}
