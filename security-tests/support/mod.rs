//! Test harness: spawns the real `jaga` binary on port 0 against a fresh
//! SQLite file, or a fresh PostgreSQL database when JAGA_TEST_POSTGRES_URL
//! is set, and talks to it over HTTP.

pub mod authenticator;
pub mod browser;
pub mod modules;
pub mod oauth;
pub mod postgres;
pub mod sign_in;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_jaga");
pub const ORIGIN: &str = "jaga.test/audit";
/// The browser origin the tests' passkey client speaks from.
pub const WEB_ORIGIN: &str = "http://localhost:8080";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares a test that runs once per backend, each its own test with its
/// own result: `name::sqlite` and `name::postgres`. Without a PostgreSQL
/// server configured, `name::postgres` is listed as ignored with the reason.
///
/// ```ignore
/// backend_test! {
///     /// What it shows.
///     async fn replayed_assertion_is_rejected(backend) {
///         let sandbox = Sandbox::new(backend).await;
///         …
///     }
/// }
/// ```
macro_rules! backend_test {
    ($(#[doc = $doc:literal])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $backend = $crate::support::Backend::Sqlite;
                $body
            }

            #[cfg_attr(
                jaga_no_postgres,
                ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
            )]
            #[tokio::test]
            async fn postgres() {
                let $backend = $crate::support::Backend::Postgres;
                $body
            }
        }
    };
}
pub(crate) use backend_test;

/// A place for one test: a temporary folder, a key file and a database.
#[derive(Debug)]
pub struct Sandbox {
    pub dir: TempDir,
    pub db_url: String,
    pub backend: Backend,
    pg: Option<postgres::Database>,
    pub extra_env: Vec<(String, String)>,
}

impl Sandbox {
    pub async fn new(backend: Backend) -> Sandbox {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(postgres::Database::create().await),
        };
        Self::with(backend, pg)
    }

    /// A sandbox whose database lives on the PostgreSQL `server` (such as
    /// the replicated one of the failover test).
    pub async fn on_postgres_server(server: &str) -> Sandbox {
        Self::with(
            Backend::Postgres,
            Some(postgres::Database::create_on(server, None).await),
        )
    }

    fn with(backend: Backend, pg: Option<postgres::Database>) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_url = match &pg {
            None => format!("sqlite://{}", dir.path().join("jaga.db").display()),
            Some(db) => db.url.clone(),
        };
        let sandbox = Sandbox {
            dir,
            db_url,
            backend,
            pg,
            extra_env: Vec::new(),
        };
        // The shipped policies, where `serve` looks for them by default
        // (a test may change its copy).
        let policies = sandbox.dir.path().join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        for entry in std::fs::read_dir(shipped).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
        }
        let out = sandbox.cli(&["keys", "init"]);
        assert!(
            out.status.success(),
            "keys init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        sandbox
    }

    pub fn keys_path(&self) -> PathBuf {
        self.dir.path().join("keys/jaga-keys.toml")
    }

    pub fn pg(&self) -> Option<&postgres::Database> {
        self.pg.as_ref()
    }

    /// The environment the binary runs with (nothing inherited but PATH).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("JAGA_DATABASE_URL".to_owned(), self.db_url.clone()),
            ("JAGA_KEYS_PATH".to_owned(), self.keys_path().display().to_string()),
            ("JAGA_SERVER_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("JAGA_LOG_FORMAT".to_owned(), "json".to_owned()),
            ("JAGA_LOG_FILTER".to_owned(), "info".to_owned()),
            ("JAGA_AUDIT_ORIGIN".to_owned(), ORIGIN.to_owned()),
            ("JAGA_WEBAUTHN_RP_ID".to_owned(), "localhost".to_owned()),
            ("JAGA_WEBAUTHN_ORIGINS".to_owned(), WEB_ORIGIN.to_owned()),
            // Most suites drive the module API with a static key; the OAuth
            // suite sets "refuse" and uses DPoP-bound tokens.
            ("JAGA_MODULES_STATIC_KEYS".to_owned(), "allow".to_owned()),
        ];
        for (k, v) in &self.extra_env {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args).env_clear().envs(self.env()).current_dir(self.dir.path());
        cmd
    }

    /// Runs a one-shot command to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().expect("run jaga")
    }

    /// Starts `jaga serve` and waits until it listens.
    pub fn serve(&self) -> TestApp {
        TestApp::start(self.command(&["serve"]))
    }

    /// The single integer a query answers, read straight from the database
    /// (what is really stored, not what the service says).
    /// Runs one statement on the sandbox's database (to stand in for time
    /// passing, say); returns the rows it touched.
    pub async fn sql_exec(&self, sql: &str) -> u64 {
        use sqlx::Connection as _;
        match self.backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", self.dir.path().join("jaga.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap()
                    .rows_affected()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap()
                    .rows_affected()
            }
        }
    }

    pub async fn sql_count(&self, sql: &str) -> i64 {
        use sqlx::Connection as _;
        match self.backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", self.dir.path().join("jaga.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
        }
    }

    pub async fn drop_database(mut self) {
        if let Some(pg) = self.pg.take() {
            pg.drop().await;
        }
    }
}

/// A PostgreSQL database is dropped even when the test panics first.
impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(pg.drop());
                }
            })
            .join();
        }
    }
}

/// A running `jaga serve`.
#[derive(Debug)]
pub struct TestApp {
    child: Child,
    pub base: String,
    pub client: reqwest::Client,
    logs: Arc<Mutex<String>>,
    /// The server certificate to trust, when the sandbox serves TLS.
    tls_root: Option<reqwest::Certificate>,
}

impl TestApp {
    pub fn start(cmd: Command) -> TestApp {
        Self::start_reading(cmd, true)
    }

    /// Starts the service and, once it listens, stops reading its standard
    /// output (the pipe fills up, as a stuck log shipper would leave it).
    pub fn start_with_stuck_output(cmd: Command) -> TestApp {
        Self::start_reading(cmd, false)
    }

    fn start_reading(mut cmd: Command, keep_reading: bool) -> TestApp {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jaga serve");
        let logs = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let listening = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .filter(|v| v["message"] == "listening");
                if let Some(v) = &listening {
                    let _ = addr_tx.send(format!(
                        "{}://{}",
                        v["server.scheme"].as_str().unwrap_or("http"),
                        v["server.addr"].as_str().unwrap_or_default()
                    ));
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
                if listening.is_some() && !keep_reading {
                    // Hold the pipe open without reading it, until the process ends.
                    loop {
                        std::thread::park();
                    }
                }
            }
        });
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("jaga did not start listening:\n{}", logs.lock().unwrap());
            }
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        TestApp {
            child,
            base,
            client: reqwest::Client::builder().build().expect("client"),
            logs,
            tls_root: None,
        }
    }

    /// Talks to a sandbox serving TLS with `root`'s certificate for
    /// localhost: the base becomes https://localhost:PORT.
    pub fn trust(&mut self, root: reqwest::Certificate) {
        let port = self.base.rsplit(':').next().unwrap_or_default().to_owned();
        self.base = format!("https://localhost:{port}");
        self.tls_root = Some(root);
        self.client = self.client_builder().build().expect("client");
    }

    /// A client builder that trusts the sandbox's server certificate.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder();
        match &self.tls_root {
            Some(root) => builder.tls_certs_only([root.clone()]),
            None => builder,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until a log line contains `needle`; returns the logs.
    pub async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            assert!(Instant::now() < deadline, "no log line with {needle:?}:\n{logs}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends a signal (`HUP`, `TERM`, …) to the service.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.logs());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("jaga did not stop after SIGTERM:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `text` contains anything that betrays internals.
pub fn leaks_internals(text: &str) -> Option<&'static str> {
    const MARKERS: &[&str] = &[
        "sqlx",
        "sqlite",
        "postgres",
        "SELECT",
        "select ",
        "insert ",
        "panicked",
        "src/",
        ".rs:",
        "/tmp",
        "/work",
        "/home",
        "/root",
        "backtrace",
        "thread '",
        "Error {",
        "os error",
    ];
    MARKERS.iter().copied().find(|m| text.contains(m))
}

/// The library pieces, opened on a sandbox's database, for tests that
/// drive the audit log directly.
#[derive(Debug)]
pub struct Lib {
    pub db: jaga::store::Db,
    pub writer: jaga::store::Writer,
    pub keys: Arc<jaga::keys::KeyRing>,
}

impl Lib {
    pub async fn open(sandbox: &Sandbox) -> Lib {
        let text = std::fs::read_to_string(sandbox.keys_path()).unwrap();
        let keys = Arc::new(jaga::keys::KeyRing::parse(&text).unwrap());
        let url = secrecy::SecretString::from(sandbox.db_url.clone());
        let db = jaga::store::Db::open(&url, 4, true).await.unwrap();
        db.migrate().await.unwrap();
        let sealer = Arc::new(jaga::audit::AuditSealer::new(
            keys.audit.clone(),
            ORIGIN,
            Some(sandbox.keys_path().with_file_name("audit-checkpoint.txt")),
            jaga::audit::checkpointer::AuditStatus::default(),
        ));
        let (writer, _task) = jaga::store::Writer::start(db.clone(), sealer);
        Lib { db, writer, keys }
    }

    pub fn audit_config(sandbox: &Sandbox, every_events: u64) -> jaga::config::AuditConfig {
        jaga::config::AuditConfig {
            origin: ORIGIN.to_owned(),
            checkpoint_file: sandbox.keys_path().with_file_name("audit-checkpoint.txt"),
            checkpoint_every_events: every_events,
            checkpoint_every: Duration::from_secs(3600),
            reverify_every: Duration::from_secs(3600),
            signer_takeover: Duration::from_secs(5),
            witnesses: Default::default(),
        }
    }

    /// Appends one event in its own unit of work.
    pub async fn record(&self, event: jaga::audit::Event) {
        self.writer
            .write::<(), jaga::audit::AuditError, _>(move |tx| Box::pin(jaga::audit::record(tx, event)))
            .await
            .unwrap();
    }

    pub async fn close(self) {
        drop(self.writer);
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.db.close().await;
    }
}

/// A varied, realistic event.
pub fn sample_event(i: u64) -> jaga::audit::Event {
    use jaga::audit::{Actor, ActorKind, Event, Outcome, Target};
    let kind = [ActorKind::Citizen, ActorKind::Officer, ActorKind::Module][(i % 3) as usize];
    Event::new(
        Actor::new(kind, format!("act_{i}")),
        "vault.read",
        Target::new("citizen", Some(format!("ctz_{}", i % 7))).with_fields(["nik", "name"]),
        Outcome::Success,
    )
    .purpose("permit.review")
    .reason("lawful_basis_public_task")
    .request(Some(format!("req{i:04}")), Some("127.0.0.1".to_owned()))
}
