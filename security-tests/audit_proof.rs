//! Audit proofs: the latest signed checkpoint is public; an event's
//! inclusion proof and the consistency proof between two checkpoints are
//! for security officers only, and verify with the log's public key alone
//! (RFC 9162). A database administrator who rewrites an event or a stored
//! tree node is caught by the proofs; a log whose stored nodes are gone
//! (one written before they were kept) is completed in the background.

use futures_util::future::join_all;
use jaga::audit::checkpoint::{Checkpoint, parse_verifier_key};
use jaga::audit::merkle::{self, Hash};
use jaga::store::audit::EventRow;
use reqwest::Method;
use serde_json::Value;

use crate::audit_tamper::{PG_DROP_TRIGGERS, SQLITE_DROP_TRIGGERS};
use crate::counter_recovery::officer_with_role;
use crate::support::browser::Browser;
use crate::support::modules::citizen_deciding;
use crate::support::{Backend, Lib, Sandbox, TestApp, backend_test, sample_event};

const CHECKPOINT: &str = "/api/audit/checkpoint";
const SQLITE_DROP_NODE_TRIGGERS: &str = "drop trigger audit_node_no_update; drop trigger audit_node_no_delete;";
const PG_DROP_NODE_TRIGGERS: &str = "drop trigger audit_node_append_only on audit_node;";

/// Appends `n` events through the library's writer (many per batch).
async fn append(sandbox: &Sandbox, n: u64) {
    let lib = Lib::open(sandbox).await;
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        join_all(chunk.iter().map(|i| lib.record(sample_event(*i)))).await;
    }
    lib.close().await;
}

/// Event `seq` as stored.
pub(crate) async fn stored_row(sandbox: &Sandbox, seq: u64) -> EventRow {
    row(sandbox, seq).await
}

async fn row(sandbox: &Sandbox, seq: u64) -> EventRow {
    let lib = Lib::open(sandbox).await;
    let rows = jaga::store::audit::events_from(&lib.db, seq as i64, 1).await.unwrap();
    lib.close().await;
    rows.into_iter().next().unwrap()
}

/// The leaf hash of a row, computed here from what the database holds.
fn leaf_of(row: &EventRow) -> Hash {
    merkle::leaf_hash(&jaga::audit::from_row(row).unwrap().canonical_bytes())
}

fn public_key(sandbox: &Sandbox) -> [u8; 32] {
    let out = sandbox.cli(&["audit", "public-key"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    parse_verifier_key(String::from_utf8(out.stdout).unwrap().trim())
        .unwrap()
        .1
}

/// The public checkpoint, its signature checked.
async fn checkpoint(app: &TestApp, key: &[u8; 32]) -> Checkpoint {
    let answer = app.get(CHECKPOINT).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/plain; charset=utf-8");
    Checkpoint::open(&answer.text().await.unwrap(), key).unwrap()
}

fn hashes(list: &Value) -> Vec<Hash> {
    use base64::Engine as _;
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap();
            Hash::try_from(bytes.as_slice()).unwrap()
        })
        .collect()
}

/// Whether the API's proof for `seq` shows `leaf` in the checkpoint's tree.
async fn included(security: &Browser<'_>, cp: &Checkpoint, seq: u64, leaf: &Hash) -> bool {
    let answer = security
        .send(
            Method::GET,
            &format!("/api/security/audit/{seq}/proof?size={}", cp.size),
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["tree_size"], cp.size);
    assert_eq!(answer.body["leaf_index"], seq);
    merkle::verify_inclusion(seq, cp.size, leaf, &hashes(&answer.body["audit_path"]), &cp.root)
}

backend_test! {
    /// Every event's proof verifies against the public checkpoint, and two
    /// checkpoints are consistent; only security officers get proofs.
    async fn proofs_verify_against_the_signed_checkpoint(backend) {
        let sandbox = Sandbox::new(backend).await;
        append(&sandbox, 600).await;
        let key = public_key(&sandbox);
        let app = sandbox.serve();
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let first = checkpoint(&app, &key).await;
        assert!(first.size > 600, "{}", first.size);
        let nodes = sandbox.sql_count("select count(*) from audit_node where height = 8").await;
        assert_eq!(nodes as u64, first.size / 256, "a node per 256 events, stored with them");
        for seq in [0, 1, 2, 255, 256, 257, 300, 511, 512, 599, first.size - 1] {
            let leaf = leaf_of(&row(&sandbox, seq).await);
            assert!(included(&security, &first, seq, &leaf).await, "event {seq}");
            let other = leaf_of(&row(&sandbox, (seq + 1) % first.size).await);
            assert!(!included(&security, &first, seq, &other).await, "another event's hash at {seq}");
        }
        let answer = security.send(Method::GET, &format!("/api/security/audit/3/proof?size={}", first.size), None).await;
        assert_eq!(answer.body["checkpoint"].as_str().map(|n| Checkpoint::open(n, &key).unwrap()), Some(first.clone()));
        // Without a size: the latest tree, with its signed note.
        let latest = security.send(Method::GET, "/api/security/audit/3/proof", None).await;
        assert_eq!(latest.status, 200);
        let note = Checkpoint::open(latest.body["checkpoint"].as_str().unwrap(), &key).unwrap();
        assert_eq!(latest.body["tree_size"], note.size);

        // More events (each search is audited), then a newer checkpoint.
        for _ in 0..5 {
            assert_eq!(security.send(Method::GET, "/api/security/audit?limit=1", None).await.status, 200);
        }
        let second = checkpoint(&app, &key).await;
        assert!(second.size > first.size);
        let answer = security.send(Method::GET,
            &format!("/api/security/audit/consistency?first={}&second={}", first.size, second.size), None).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let proof = hashes(&answer.body["consistency"]);
        assert!(merkle::verify_consistency(first.size, second.size, &first.root, &second.root, &proof));
        assert!(!merkle::verify_consistency(first.size, second.size, &second.root, &second.root, &proof));
        // The latest tree's note comes with it; an older tip's note only
        // if it was also stored as a checkpoint (every 1,000 events or 60 s).
        let note = answer.body["second_checkpoint"].as_str().unwrap();
        assert_eq!(Checkpoint::open(note, &key).unwrap(), second);
        if let Some(note) = answer.body["first_checkpoint"].as_str() {
            assert_eq!(Checkpoint::open(note, &key).unwrap(), first);
        }

        // Out of range is 404 no_proof; a missing size 400.
        for path in [
            format!("/api/security/audit/{}/proof", second.size + 10),
            "/api/security/audit/5/proof?size=5".to_owned(),
            format!("/api/security/audit/5/proof?size={}", second.size + 10),
            "/api/security/audit/x/proof".to_owned(),
            format!("/api/security/audit/consistency?first={}&second={}", second.size, first.size),
            format!("/api/security/audit/consistency?first=1&second={}", second.size + 10),
        ] {
            let answer = security.send(Method::GET, &path, None).await;
            assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (404, Some("no_proof")), "{path}");
        }
        let answer = security.send(Method::GET, "/api/security/audit/consistency?first=1", None).await;
        assert_eq!(answer.status, 400);

        // Only security officers: citizens, counter officers, administrators 403; no session 401.
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let consistency = format!("/api/security/audit/consistency?first=1&second={}", first.size);
        for path in ["/api/security/audit/3/proof", consistency.as_str()] {
            for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("administrator", &admin)] {
                let answer = browser.send(Method::GET, path, None).await;
                assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (403, Some("forbidden")), "{who} {path}");
            }
            assert_eq!(app.get(path).await.status(), 401, "{path}");
        }
    }
}

backend_test! {
    /// Rewriting an event or a stored node shows in the proofs; a log
    /// without its stored nodes gets them back in the background.
    async fn tampering_shows_in_the_proofs_and_lost_nodes_are_rebuilt(backend) {
        let sandbox = Sandbox::new(backend).await;
        append(&sandbox, 700).await;
        let key = public_key(&sandbox);
        let drop = match backend {
            Backend::Sqlite => format!("{SQLITE_DROP_TRIGGERS} {SQLITE_DROP_NODE_TRIGGERS}"),
            Backend::Postgres => format!("{PG_DROP_TRIGGERS} {PG_DROP_NODE_TRIGGERS}"),
        };
        for statement in drop.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sandbox.sql_exec(statement).await;
        }
        // As if the log were written before nodes were stored.
        assert_eq!(sandbox.sql_exec("delete from audit_node").await, 2);
        let app = sandbox.serve();
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let cp = checkpoint(&app, &key).await;
        let mut rebuilt = false;
        for _ in 0..100 {
            let answer = security.send(Method::GET, &format!("/api/security/audit/0/proof?size={}", cp.size), None).await;
            match answer.status.as_u16() {
                200 => { rebuilt = true; break; }
                503 => assert_eq!(answer.body["error"], "proof_unavailable"),
                other => panic!("{other}: {:?}", answer.body),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(rebuilt, "the stored nodes were rebuilt");
        assert_eq!(sandbox.sql_count("select count(*) from audit_node where height = 8").await, 2);
        let leaf = leaf_of(&row(&sandbox, 10).await);
        assert!(included(&security, &cp, 10, &leaf).await);

        // An event rewritten: its stored row no longer proves in the signed tree.
        assert_eq!(sandbox.sql_exec("update audit_event set actor_id = 'act_someone' where seq = 10").await, 1);
        let altered = leaf_of(&row(&sandbox, 10).await);
        assert!(!included(&security, &cp, 10, &altered).await, "a rewritten event");
        let answer = security.send(Method::GET, &format!("/api/security/audit/10/proof?size={}", cp.size), None).await;
        assert_eq!(answer.body["leaf_hash"], serde_json::json!(base64_of(&altered)), "the API shows what is stored");

        // A stored node rewritten: proofs through it fail.
        let genuine = leaf_of(&row(&sandbox, 300).await);
        assert!(included(&security, &cp, 300, &genuine).await);
        let touched = match backend {
            Backend::Sqlite => sandbox.sql_exec("update audit_node set hash = zeroblob(32) where height = 8 and idx = 0").await,
            Backend::Postgres => sandbox.sql_exec("update audit_node set hash = decode(repeat('00', 32), 'hex') where height = 8 and idx = 0").await,
        };
        assert_eq!(touched, 1);
        assert!(!included(&security, &cp, 300, &genuine).await, "a proof through a rewritten node");
    }
}

fn base64_of(hash: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash)
}
