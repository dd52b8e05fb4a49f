//! RFC 9162 (RFC 6962) Merkle tree hashing, proofs and their verification.
//!
//! Leaf hash `SHA-256(0x00 ‖ data)`, node hash `SHA-256(0x01 ‖ left ‖ right)`,
//! empty tree `SHA-256("")`. [`Tree`] builds proofs; [`verify_inclusion`] and
//! [`verify_consistency`] check them without a tree, following RFC 9162
//! §2.1.3.2 and §2.1.4.2, so that they are independent of the builder.

use ring::digest::{Context, SHA256, digest};

pub type Hash = [u8; 32];

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    finish(ctx)
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

pub fn empty_root() -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, b"").as_ref());
    out
}

/// The heights whose nodes are kept in the database: every 8 levels, so a
/// stored node stands for 256 of the stored level below it (leaves at
/// the bottom), the width of a C2SP tlog-tiles tile.
pub const STORED_EVERY: u32 = 8;

/// A complete perfect subtree: `2^height` leaves starting at leaf
/// `index << height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub height: u32,
    pub index: u64,
    pub hash: Hash,
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The right edge of a tree: the roots of its perfect subtrees, largest
/// first. Enough to append leaves and compute the root in O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, hash); heights strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        // A leaf is a subtree of height 0, always aligned.
        let _ = self.push_subtree(0, leaf);
    }

    /// [`Self::push`], and adds to `stored` every node it completes whose
    /// height is a multiple of [`STORED_EVERY`] (those kept in the
    /// database, from which proofs are built).
    pub fn push_noting(&mut self, leaf: Hash, stored: &mut Vec<Node>) {
        let _ = self.push_with(0, leaf, Some(stored));
    }

    /// Appends the root of a perfect subtree of `2^height` leaves. The
    /// subtree must start where the tree ends, aligned to its own size
    /// (as the pieces of [`range_heights`] are); `false`, and nothing
    /// changes, if it does not.
    pub fn push_subtree(&mut self, height: u32, hash: Hash) -> bool {
        self.push_with(height, hash, None)
    }

    fn push_with(&mut self, height: u32, hash: Hash, mut stored: Option<&mut Vec<Node>>) -> bool {
        let Some(width) = 1u64.checked_shl(height).filter(|w| self.size.is_multiple_of(*w)) else {
            return false;
        };
        let Some(size) = self.size.checked_add(width) else {
            return false;
        };
        let mut node = (height, hash);
        while let Some(&(h, left)) = self.nodes.last() {
            if h != node.0 {
                break;
            }
            self.nodes.pop();
            node = (h + 1, node_hash(&left, &node.1));
            if let Some(out) = stored.as_deref_mut()
                && node.0.is_multiple_of(STORED_EVERY)
            {
                // The node ends where the tree now ends.
                out.push(Node {
                    height: node.0,
                    index: (size >> node.0) - 1,
                    hash: node.1,
                });
            }
        }
        self.nodes.push(node);
        self.size = size;
        true
    }

    /// The right edge as hashes, largest subtree first; their heights are
    /// the set bits of the size.
    pub fn hashes(&self) -> Vec<Hash> {
        self.nodes.iter().map(|(_, h)| *h).collect()
    }

    /// The frontier of a tree of `size` leaves from [`Self::hashes`];
    /// `None` if the number of hashes does not match the size.
    pub fn from_hashes(size: u64, hashes: &[Hash]) -> Option<Self> {
        let heights: Vec<u32> = (0..64u32).rev().filter(|b| size >> b & 1 == 1).collect();
        (heights.len() == hashes.len()).then(|| Self {
            size,
            nodes: heights.into_iter().zip(hashes.iter().copied()).collect(),
        })
    }

    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// Serialises as: u64 size, then each node as u8 height ‖ 32-byte hash.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.size.to_be_bytes().to_vec();
        for (h, hash) in &self.nodes {
            out.push(u8::try_from(*h).unwrap_or(u8::MAX));
            out.extend_from_slice(hash);
        }
        out
    }

    /// Parses [`Self::to_bytes`]; `None` if the bytes do not describe a frontier
    /// whose heights match its size.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (size, mut rest) = bytes.split_first_chunk::<8>()?;
        let size = u64::from_be_bytes(*size);
        let mut nodes = Vec::new();
        while let Some((h, tail)) = rest.split_first() {
            let (hash, tail) = tail.split_first_chunk::<32>()?;
            nodes.push((u32::from(*h), *hash));
            rest = tail;
        }
        let expected: Vec<u32> = (0..64u32).rev().filter(|b| size >> b & 1 == 1).collect();
        let heights: Vec<u32> = nodes.iter().map(|n| n.0).collect();
        (heights == expected).then_some(Self { size, nodes })
    }
}

/// The leaves `[begin, end)` as the fewest perfect subtrees, each aligned
/// to its size, left to right: their heights. Appending their roots to the
/// frontier at `begin` gives the frontier at `end`, so a stretch of the log
/// can be checked against a checkpoint with the frontier before it, its
/// leaves, and these roots after it.
pub fn range_heights(begin: u64, end: u64) -> Vec<u32> {
    let mut heights = Vec::new();
    let mut at = begin;
    while at < end {
        let mut h = if at == 0 { 63 } else { at.trailing_zeros() };
        while h > 0 && (end - at) >> h == 0 {
            h -= 1;
        }
        heights.push(h);
        at += 1u64 << h;
    }
    heights
}

/// A whole tree in memory: every complete node at every level, so roots and
/// proofs for any earlier size cost O(log² n) hashes.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("proof request out of range")]
pub struct OutOfRange;

impl Tree {
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut node = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(node);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            match (row.get(n - 2), row.get(n - 1)) {
                (Some(l), Some(r)) => node = node_hash(l, r),
                _ => return,
            }
            level += 1;
        }
    }

    /// Hash of leaves `[lo, hi)`, where the range is a subtree of the RFC's
    /// recursive split (lo is a multiple of the largest power of two ≤ hi-lo).
    fn subtree(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() {
            let level = n.trailing_zeros() as usize;
            let index = usize::try_from(lo >> level).unwrap_or(usize::MAX);
            if let Some(h) = self.levels.get(level).and_then(|row| row.get(index)) {
                return *h;
            }
        }
        let k = split(n);
        node_hash(&self.subtree(lo, lo + k), &self.subtree(lo + k, hi))
    }

    /// Root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, OutOfRange> {
        match size {
            0 => Ok(empty_root()),
            s if s <= self.size() => Ok(self.subtree(0, s)),
            _ => Err(OutOfRange),
        }
    }

    /// RFC 6962 §2.1.1 audit path of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, OutOfRange> {
        if size > self.size() {
            return Err(OutOfRange);
        }
        Ok(inclusion_ranges(index, size)?
            .into_iter()
            .map(|(lo, hi)| self.subtree(lo, hi))
            .collect())
    }

    /// RFC 6962 §2.1.2 consistency proof between sizes `old` and `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, OutOfRange> {
        if new > self.size() {
            return Err(OutOfRange);
        }
        Ok(consistency_ranges(old, new)?
            .into_iter()
            .map(|(lo, hi)| self.subtree(lo, hi))
            .collect())
    }
}

/// The leaves `[lo, hi)` whose subtree hashes make the audit path of leaf
/// `index` in the tree of `size` leaves (RFC 6962 §2.1.1), in proof order.
/// Each range starts at a multiple of the largest power of two not above
/// its length, so its hash is the root of its [`range_heights`] pieces.
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>, OutOfRange> {
    if index >= size {
        return Err(OutOfRange);
    }
    let mut ranges = Vec::new();
    path(index, 0, size, &mut ranges);
    Ok(ranges)
}

fn path(m: u64, lo: u64, hi: u64, ranges: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, lo, lo + k, ranges);
        ranges.push((lo + k, hi));
    } else {
        path(m - k, lo + k, hi, ranges);
        ranges.push((lo, lo + k));
    }
}

/// The leaf ranges of the consistency proof between sizes `old` and `new`
/// (RFC 6962 §2.1.2), in proof order.
pub fn consistency_ranges(old: u64, new: u64) -> Result<Vec<(u64, u64)>, OutOfRange> {
    if old > new {
        return Err(OutOfRange);
    }
    let mut ranges = Vec::new();
    if old > 0 && old < new {
        subproof(old, 0, new, true, &mut ranges);
    }
    Ok(ranges)
}

fn subproof(m: u64, lo: u64, hi: u64, complete: bool, ranges: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !complete {
            ranges.push((lo, hi));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, lo, lo + k, complete, ranges);
        ranges.push((lo + k, hi));
    } else {
        subproof(m - k, lo + k, hi, false, ranges);
        ranges.push((lo, lo + k));
    }
}

/// RFC 9162 §2.1.3.2: does `proof` show leaf `index` in the tree of `size`
/// leaves with root `root`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree of `old` leaves with
/// root `old_root` is a prefix of the tree of `new` leaves with `new_root`?
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if proof.is_empty() {
        return false;
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
