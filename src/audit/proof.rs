//! Inclusion and consistency proofs (RFC 9162 §2.1) built from the stored
//! tree: the nodes kept every eight levels (`audit_node`) and, below the
//! lowest of them, the events themselves. A proof reads at most a few
//! hundred rows whatever the size of the log.
//!
//! The proofs are only as honest as the database; they are meant to be
//! checked by whoever asks, against a checkpoint they trust (the console
//! checks them in the browser against the signed checkpoint).

use std::collections::{BTreeMap, HashMap};

use super::from_row;
use super::merkle::{self, Frontier, Hash, Node, OutOfRange, STORED_EVERY};
use crate::store::audit_node::{self, NodeRow};
use crate::store::{Db, StoreError, audit_export};

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("no such leaf or tree size")]
    OutOfRange,
    /// Nodes below the tree size are missing: a log written before they
    /// were stored, whose background backfill has not reached them yet.
    #[error("the audit tree's stored nodes are still being built")]
    Incomplete,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OutOfRange> for ProofError {
    fn from(_: OutOfRange) -> Self {
        Self::OutOfRange
    }
}

/// The rows to store for nodes a frontier completed.
pub fn node_rows(nodes: &[Node]) -> Vec<NodeRow> {
    nodes
        .iter()
        .filter_map(|n| {
            Some(NodeRow {
                height: i64::from(n.height),
                idx: i64::try_from(n.index).ok()?,
                hash: n.hash.to_vec(),
            })
        })
        .collect()
}

/// The audit path of leaf `index` in the tree of `size` leaves.
pub async fn inclusion(db: &Db, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    range_hashes(db, &merkle::inclusion_ranges(index, size)?).await
}

/// The consistency proof between the trees of `old` and `new` leaves.
pub async fn consistency(db: &Db, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
    range_hashes(db, &merkle::consistency_ranges(old, new)?).await
}

/// The leaf hash of event `seq`, as stored.
pub async fn leaf(db: &Db, seq: u64) -> Result<Hash, ProofError> {
    let mut known = HashMap::new();
    fetch(db, 0, &[(seq, seq + 1)], &mut known).await?;
    known.get(&(0, seq)).copied().ok_or(ProofError::OutOfRange)
}

/// A perfect subtree: its height and first leaf.
type Piece = (u32, u64);

/// Intervals of indices `[from, to)` of stored hashes, per stored height.
type Wanted = BTreeMap<u32, Vec<(u64, u64)>>;

/// The pieces of a range, left to right (largest first, as the ranges of
/// a proof start aligned).
fn pieces(lo: u64, hi: u64) -> Vec<Piece> {
    let mut at = lo;
    merkle::range_heights(lo, hi)
        .into_iter()
        .map(|h| {
            let piece = (h, at);
            at += 1u64 << h;
            piece
        })
        .collect()
}

/// Where a piece's hash comes from: the stored height at or below it, and
/// the indices of the stored nodes (or leaves) at that height under it.
fn source(piece: Piece) -> (u32, u64, u64) {
    let (height, start) = piece;
    let base = height - height % STORED_EVERY;
    let from = start >> base;
    (base, from, from + (1u64 << (height - base)))
}

async fn range_hashes(db: &Db, ranges: &[(u64, u64)]) -> Result<Vec<Hash>, ProofError> {
    let (split, wanted) = plan(ranges);
    let mut known = HashMap::new();
    for (base, intervals) in wanted {
        fetch(db, base, &intervals, &mut known).await?;
    }
    assemble(ranges, &split, &known)
}

/// Each range's pieces, and the stored hashes they need: intervals of
/// indices per stored height.
fn plan(ranges: &[(u64, u64)]) -> (Vec<Vec<Piece>>, Wanted) {
    let split: Vec<Vec<Piece>> = ranges.iter().map(|&(lo, hi)| pieces(lo, hi)).collect();
    let mut wanted: Wanted = BTreeMap::new();
    for piece in split.iter().flatten() {
        let (base, from, to) = source(*piece);
        wanted.entry(base).or_default().push((from, to));
    }
    let wanted = wanted.into_iter().map(|(base, v)| (base, merge(v))).collect();
    (split, wanted)
}

/// Each range's hash from its pieces' roots.
fn assemble(
    ranges: &[(u64, u64)],
    split: &[Vec<Piece>],
    known: &HashMap<(u32, u64), Hash>,
) -> Result<Vec<Hash>, ProofError> {
    split
        .iter()
        .zip(ranges)
        .map(|(pieces, &(lo, hi))| {
            let roots = pieces
                .iter()
                .map(|p| piece_root(*p, known))
                .collect::<Result<Vec<_>, _>>()?;
            Frontier::from_hashes(hi - lo, &roots)
                .map(|f| f.root())
                .ok_or(ProofError::OutOfRange)
        })
        .collect()
}

/// Sorted intervals, neighbours closer than a tile joined (one query reads
/// a few rows more rather than one query per sibling).
fn merge(mut intervals: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    const GAP: u64 = 1 << STORED_EVERY;
    intervals.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (from, to) in intervals {
        match out.last_mut() {
            Some(last) if from <= last.1.saturating_add(GAP) => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// Reads stored hashes at `base` height (leaves at 0) into `known`.
async fn fetch(
    db: &Db,
    base: u32,
    intervals: &[(u64, u64)],
    known: &mut HashMap<(u32, u64), Hash>,
) -> Result<(), ProofError> {
    for &(from, to) in intervals {
        let (Ok(lo), Ok(hi)) = (i64::try_from(from), i64::try_from(to)) else {
            return Err(ProofError::OutOfRange);
        };
        if base == 0 {
            for row in audit_export::events_between(db, lo, hi, hi - lo).await? {
                let recorded = from_row(&row)
                    .ok_or_else(|| StoreError::Corrupt(format!("audit event {} is unreadable", row.seq)))?;
                known.insert((0, recorded.seq), merkle::leaf_hash(&recorded.canonical_bytes()));
            }
        } else {
            for row in audit_node::between(db, i64::from(base), lo, hi).await? {
                let (Ok(idx), Ok(hash)) = (u64::try_from(row.idx), Hash::try_from(row.hash.as_slice())) else {
                    return Err(StoreError::Corrupt(format!("audit node {base}/{} is unreadable", row.idx)).into());
                };
                known.insert((base, idx), hash);
            }
        }
    }
    Ok(())
}

/// The root of a perfect subtree from the stored hashes under it.
fn piece_root(piece: Piece, known: &HashMap<(u32, u64), Hash>) -> Result<Hash, ProofError> {
    let (base, from, to) = source(piece);
    let mut level = (from..to)
        .map(|i| {
            known.get(&(base, i)).copied().ok_or(if base == 0 {
                ProofError::OutOfRange
            } else {
                ProofError::Incomplete
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => merkle::node_hash(l, r),
                [one] => *one,
                _ => merkle::empty_root(),
            })
            .collect();
    }
    level.first().copied().ok_or(ProofError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_reads_the_stored_level_at_or_below_it() {
        assert_eq!(source((0, 5)), (0, 5, 6));
        assert_eq!(source((7, 128)), (0, 128, 256));
        assert_eq!(source((8, 256)), (8, 1, 2));
        assert_eq!(source((10, 1024)), (8, 4, 8));
        assert_eq!(source((16, 0)), (16, 0, 1));
    }

    /// Every leaf and every node a writer would store, for `size` leaves.
    fn stored(size: u64) -> (merkle::Tree, HashMap<(u32, u64), Hash>) {
        let mut tree = merkle::Tree::default();
        let mut frontier = Frontier::default();
        let mut nodes = Vec::new();
        let mut all = HashMap::new();
        for i in 0..size {
            let leaf = merkle::leaf_hash(&i.to_be_bytes());
            tree.push(leaf);
            frontier.push_noting(leaf, &mut nodes);
            all.insert((0, i), leaf);
        }
        for n in nodes {
            assert_eq!(n.height % STORED_EVERY, 0);
            assert!(all.insert((n.height, n.index), n.hash).is_none(), "a node stored twice");
        }
        (tree, all)
    }

    /// Only what the plan asks for, as the database would give it.
    fn read(all: &HashMap<(u32, u64), Hash>, ranges: &[(u64, u64)]) -> Result<Vec<Hash>, ProofError> {
        let (split, wanted) = plan(ranges);
        let mut known = HashMap::new();
        for (base, intervals) in wanted {
            for (from, to) in intervals {
                for i in from..to {
                    if let Some(h) = all.get(&(base, i)) {
                        known.insert((base, i), *h);
                    }
                }
            }
        }
        assemble(ranges, &split, &known)
    }

    #[test]
    fn proofs_from_stored_nodes_are_the_trees_proofs() {
        let (tree, all) = stored(70_000);
        let sizes = [
            1u64, 2, 255, 256, 257, 511, 512, 513, 1000, 65_535, 65_536, 65_537, 70_000,
        ];
        for &size in &sizes {
            for index in [0, 1, size / 3, size / 2, size.saturating_sub(2), size - 1] {
                if index >= size {
                    continue;
                }
                let ranges = merkle::inclusion_ranges(index, size).unwrap();
                let proof = read(&all, &ranges).unwrap();
                assert_eq!(
                    proof,
                    tree.inclusion_proof(index, size).unwrap(),
                    "inclusion {index} in {size}"
                );
                let leaf = all[&(0, index)];
                assert!(merkle::verify_inclusion(
                    index,
                    size,
                    &leaf,
                    &proof,
                    &tree.root(size).unwrap()
                ));
            }
            for &old in &sizes {
                if old > size {
                    continue;
                }
                let ranges = merkle::consistency_ranges(old, size).unwrap();
                let proof = read(&all, &ranges).unwrap();
                assert_eq!(
                    proof,
                    tree.consistency_proof(old, size).unwrap(),
                    "consistency {old} to {size}"
                );
            }
        }
    }

    #[test]
    fn a_missing_node_is_reported_not_guessed() {
        let (_, mut all) = stored(1024);
        all.remove(&(8, 1));
        let ranges = merkle::inclusion_ranges(0, 1024).unwrap();
        assert!(matches!(read(&all, &ranges), Err(ProofError::Incomplete)));
    }

    #[test]
    fn near_intervals_are_read_together() {
        assert_eq!(merge(vec![(300, 301), (0, 1), (2, 4)]), vec![(0, 4), (300, 301)]);
        assert_eq!(merge(vec![(0, 1), (1000, 1001)]), vec![(0, 1), (1000, 1001)]);
    }
}
