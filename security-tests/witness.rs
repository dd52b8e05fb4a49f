//! Witnesses: `jaga witness serve` cosigns the checkpoints Jaga sends it
//! while the log only grows; a database administrator who rewrites the
//! log's history, even with the key file at hand and the checkpoint copy
//! beside it replaced, is caught: the witness refuses the next checkpoint
//! and Jaga reports an integrity failure, and a folder witness keeps the
//! rewritten log from starting at all.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::audit_tamper::as_the_database_administrator;
use crate::counter_recovery::officer_with_role;
use crate::support::modules::portal_page;
use crate::support::{BIN, Backend, Lib, Sandbox, backend_test, sample_event};

const NAME: &str = "saksi.test/w1";

/// `jaga witness serve`, killed when dropped.
struct WitnessProcess {
    child: Child,
    url: String,
    dir: PathBuf,
    vkey: String,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WitnessProcess {
    fn start(sandbox: &Sandbox) -> WitnessProcess {
        let dir = sandbox.dir.path().join("witness");
        let init = Command::new(BIN)
            .args(["witness", "init", "--dir", dir.to_str().unwrap(), "--name", NAME])
            .env_clear()
            .output()
            .unwrap();
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        let vkey = String::from_utf8(init.stdout).unwrap().trim().to_owned();
        assert!(vkey.starts_with(&format!("{NAME}+")), "{vkey}");
        let log = public_key(sandbox);
        let mut child = Command::new(BIN)
            .args([
                "witness",
                "serve",
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--log",
                &log,
            ])
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        WitnessProcess { child, url, dir, vkey }
    }

    /// The size the witness last cosigned, from its state file.
    fn seen(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.dir.join("state.json")).ok()?;
        let state: serde_json::Value = serde_json::from_str(&text).unwrap();
        state["logs"][crate::support::ORIGIN][0].as_u64()
    }
}

fn public_key(sandbox: &Sandbox) -> String {
    let out = sandbox.cli(&["audit", "public-key"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn fast_checkpoints(sandbox: &mut Sandbox) {
    for (k, v) in [
        ("JAGA_AUDIT_CHECKPOINT_EVERY_SECS", "1"),
        ("JAGA_AUDIT_WITNESS_EVERY_SECS", "1"),
    ] {
        sandbox.extra_env.push((k.into(), v.into()));
    }
}

async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// With the key file at hand: the whole log replaced by another history
/// of `events` events, signed with the log's own key, and the checkpoint
/// copy beside the key file removed so that nothing local remembers.
async fn rewrite_history(sandbox: &Sandbox, events: u64) {
    let (nodes, cosignatures) = match sandbox.backend {
        Backend::Sqlite => (
            "drop trigger audit_node_no_update; drop trigger audit_node_no_delete;",
            "drop trigger audit_cosignature_no_update; drop trigger audit_cosignature_no_delete;",
        ),
        Backend::Postgres => (
            "drop trigger audit_node_append_only on audit_node;",
            "drop trigger audit_cosignature_append_only on audit_cosignature;",
        ),
    };
    let head = if sandbox.backend == Backend::Postgres {
        "update audit_head set next_seq = 0;"
    } else {
        ""
    };
    as_the_database_administrator(
        sandbox,
        &format!(
            "{nodes} {cosignatures} delete from audit_event; delete from audit_checkpoint; delete from audit_tip; \
         delete from audit_node; delete from audit_cosignature; {head}"
        ),
    )
    .await;
    std::fs::remove_file(sandbox.keys_path().with_file_name("audit-checkpoint.txt")).unwrap();
    let lib = Lib::open(sandbox).await;
    for i in 0..events {
        lib.record(sample_event(1000 + i)).await;
    }
    lib.close().await;
}

backend_test! {
    async fn a_witness_catches_a_rewritten_history(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        let witness = WitnessProcess::start(&sandbox);
        sandbox.extra_env.push(("JAGA_AUDIT_WITNESSES".into(), format!("{} {}", witness.vkey, witness.url)));
        fast_checkpoints(&mut sandbox);
        let app = sandbox.serve();
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        eventually("a cosignature", || async {
            sandbox.sql_count("select count(*) from audit_cosignature").await > 0
        }).await;
        let witnessed = witness.seen().unwrap();
        let stored = sandbox.sql_count("select max(tree_size) from audit_cosignature").await as u64;
        assert_eq!(stored, witnessed);
        // The console shows the witness and what it cosigned.
        let home = portal_page(&app, &security, "/security").await.text().await.unwrap();
        assert!(home.contains(NAME) && home.contains("id=\"witness-ok\""), "{home}");
        app.stop();

        rewrite_history(&sandbox, witnessed + 40).await;
        let app = sandbox.serve();
        eventually("the witness's refusal", || async { app.get("/readyz").await.status() == 503 }).await;
        assert_eq!(witness.seen(), Some(witnessed), "the witness kept what it cosigned");
        let refused = sandbox
            .sql_count("select count(*) from audit_event where action = 'audit.witness.refused' and outcome = 'failure'")
            .await;
        assert_eq!(refused, 1, "the refusal is in the log");
        let (_, logs) = app.stop();
        assert!(logs.contains(&format!("witness {NAME} refused checkpoint")) && logs.contains("rewritten"), "{logs}");
    }
}

backend_test! {
    async fn a_folder_witness_keeps_a_rewritten_log_from_starting(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        let folder: PathBuf = sandbox.dir.path().join("other-office-share");
        sandbox.extra_env.push(("JAGA_AUDIT_WITNESS_DIR".into(), folder.display().to_string()));
        fast_checkpoints(&mut sandbox);
        let app = sandbox.serve();
        let _ = officer_with_role(&sandbox, &app, "security").await;
        let note = folder.join("checkpoint");
        eventually("the folder's checkpoint", || {
            let note = note.clone();
            async move { note.exists() }
        }).await;
        app.stop();
        // A clean restart is fine.
        let app = sandbox.serve();
        assert_eq!(app.get("/readyz").await.status(), 200);
        app.stop();

        let size: u64 = std::fs::read_to_string(&note).unwrap().lines().nth(1).unwrap().parse().unwrap();
        rewrite_history(&sandbox, size + 40).await;
        let (status, said) = run_serve(&sandbox);
        assert!(!status.success(), "a rewritten log must not start");
        assert!(said.contains("audit.witness_dir") && said.contains("rewritten"), "{said}");
    }
}

/// `jaga serve` that is expected to refuse to start: its exit and stderr
/// (killed, and the test failing, if it is still running after 30 s).
fn run_serve(sandbox: &Sandbox) -> (std::process::ExitStatus, String) {
    let mut child = sandbox
        .command(&["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut said = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut said).unwrap();
            return (status, said);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started on a rewritten log");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
