use super::*;
use crate::audit::checkpoint::Checkpoint;
use crate::audit::merkle::Tree;
use crate::keys::KeyRing;

const ORIGIN: &str = "jaga.test/audit";
const NAME: &str = "saksi.test/w1";

struct Log {
    ring: KeyRing,
    tree: Tree,
}

impl Log {
    fn new() -> Self {
        Self {
            ring: KeyRing::generate().unwrap().0,
            tree: Tree::default(),
        }
    }

    fn grow(&mut self, n: u64, salt: u8) {
        for i in 0..n {
            let size = self.tree.size();
            self.tree.push(merkle::leaf_hash(&[salt, (size + i) as u8]));
        }
    }

    fn note(&self, size: u64) -> String {
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: self.tree.root(size).unwrap(),
            time: 1_796_000_000,
        }
        .sign(&self.ring.audit)
    }

    fn request(&self, old: u64, new: u64) -> String {
        AddCheckpoint {
            old,
            proof: if old == 0 {
                vec![]
            } else {
                self.tree.consistency_proof(old, new).unwrap()
            },
            note: self.note(new),
        }
        .encode()
    }
}

fn witness(log: &Log, dir: &Path) -> Witness {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    let logs = BTreeMap::from([(ORIGIN.to_owned(), log.ring.audit.public_key())]);
    Witness::open(NAME.into(), key, logs, dir.join("state.json")).unwrap()
}

fn public(w: &Witness) -> [u8; 32] {
    use ring::signature::KeyPair as _;
    w.key.public_key().as_ref().try_into().unwrap()
}

#[test]
fn consistent_checkpoints_are_cosigned_and_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new();
    log.grow(5, 1);
    let w = witness(&log, dir.path());
    let line = w.add_checkpoint(&log.request(0, 5)).unwrap();
    let body = cosignature::body_of(&log.note(5)).unwrap();
    assert!(cosignature::verify(&line, NAME, &public(&w), &body).is_some());
    log.grow(12, 1);
    assert!(w.add_checkpoint(&log.request(5, 17)).is_ok());
    // The same checkpoint again is cosigned again.
    assert!(w.add_checkpoint(&log.request(17, 17)).is_ok());
    assert_eq!(w.seen(ORIGIN).map(|s| s.size), Some(17));
    // The state survives a restart.
    let again = Witness::open(
        NAME.into(),
        Ed25519KeyPair::from_pkcs8(
            ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .unwrap()
                .as_ref(),
        )
        .unwrap(),
        BTreeMap::from([(ORIGIN.to_owned(), log.ring.audit.public_key())]),
        dir.path().join("state.json"),
    )
    .unwrap();
    assert_eq!(
        again.seen(ORIGIN),
        Some(Seen {
            size: 17,
            root: log.tree.root(17).unwrap()
        })
    );
}

#[test]
fn a_rewritten_log_is_refused_and_the_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new();
    log.grow(8, 1);
    let w = witness(&log, dir.path());
    w.add_checkpoint(&log.request(0, 8)).unwrap();
    // The same key signs another history (leaf 3 changed), longer.
    let mut forged = Log {
        ring: log.ring,
        tree: Tree::default(),
    };
    forged.grow(3, 1);
    forged.grow(1, 9);
    forged.grow(10, 1);
    assert_eq!(
        w.add_checkpoint(&forged.request(8, 14)),
        Err(Refusal::Inconsistent { old: 8, new: 14 })
    );
    // Starting over from nothing does not help: the witness says where it is.
    assert_eq!(w.add_checkpoint(&forged.request(0, 14)), Err(Refusal::Conflict(8)));
    // The same size with another root is a conflict too.
    assert_eq!(w.add_checkpoint(&forged.request(8, 8)), Err(Refusal::Conflict(8)));
    assert_eq!(w.seen(ORIGIN).map(|s| s.size), Some(8));
}

#[test]
fn unknown_logs_bad_signatures_and_bad_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new();
    log.grow(4, 1);
    let w = witness(&log, dir.path());
    let other = Log {
        ring: KeyRing::generate().unwrap().0,
        tree: log.tree.clone(),
    };
    assert_eq!(w.add_checkpoint(&other.request(0, 4)), Err(Refusal::Unsigned));
    let renamed = log.request(0, 4).replace(ORIGIN, "other.test/audit");
    assert_eq!(
        w.add_checkpoint(&renamed),
        Err(Refusal::UnknownLog("other.test/audit".into()))
    );
    assert!(matches!(
        w.add_checkpoint(&log.request(0, 4).replacen("old 0", "old 5", 1)),
        Err(Refusal::Malformed(_))
    ));
    assert!(matches!(w.add_checkpoint("old 0\n"), Err(Refusal::Malformed(_))));
    assert_eq!(w.seen(ORIGIN), None);
}
