//! Unit tests, compiled only under #[cfg(test)] through a `#[path]` module.
//! Reference vectors from transparency-dev/merkle (RFC 6962 test data) and
//! corruption probes modelled on its verifier tests.

use super::*;

fn h(s: &str) -> Hash {
    let v = hex::decode(s).unwrap();
    v.try_into().unwrap()
}

fn leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| hex::decode(s).unwrap())
    .collect()
}

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof)
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (old size, new size, proof)
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn reference_tree() -> Tree {
    let mut tree = Tree::default();
    for leaf in leaves() {
        tree.push(leaf_hash(&leaf));
    }
    tree
}

fn root(size: u64) -> Hash {
    h(ROOTS[size as usize - 1])
}

const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

#[test]
fn empty_tree_root_is_sha256_of_nothing() {
    assert_eq!(
        hex::encode(Tree::default().root(0).unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(Frontier::default().root(), empty_root());
}

#[test]
fn roots_match_reference_vectors() {
    let tree = reference_tree();
    let mut frontier = Frontier::default();
    for (i, leaf) in leaves().iter().enumerate() {
        frontier.push(leaf_hash(leaf));
        let size = i as u64 + 1;
        assert_eq!(tree.root(size).unwrap(), root(size), "size {size}");
        assert_eq!(frontier.root(), root(size), "frontier size {size}");
    }
}

#[test]
fn inclusion_proofs_match_reference_vectors() {
    let tree = reference_tree();
    for (index, size, expected) in inclusion_vectors() {
        assert_eq!(tree.inclusion_proof(index, size).unwrap(), expected, "{index}/{size}");
        let leaf = leaf_hash(&leaves()[index as usize]);
        assert!(verify_inclusion(index, size, &leaf, &expected, &root(size)));
    }
}

#[test]
fn consistency_proofs_match_reference_vectors() {
    let tree = reference_tree();
    for (old, new, expected) in consistency_vectors() {
        assert_eq!(tree.consistency_proof(old, new).unwrap(), expected, "{old}->{new}");
        assert!(verify_consistency(old, new, &root(old), &root(new), &expected));
    }
}

fn flip(proof: &[Hash], i: usize, bit: u8) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[i][0] ^= bit;
    p
}

#[test]
fn corrupted_inclusion_proofs_are_rejected() {
    let some = h(SOME_HASH);
    for (index, size, proof) in inclusion_vectors() {
        let leaf = leaf_hash(&leaves()[index as usize]);
        let r = root(size);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (index.wrapping_sub(1), size, leaf, r, proof.clone()),
            (index + 1, size, leaf, r, proof.clone()),
            (index ^ 2, size, leaf, r, proof.clone()),
            (index, size * 2, leaf, r, proof.clone()),
            (index, size / 2, leaf, r, proof.clone()),
            (index, size, some, r, proof.clone()),
            (index, size, leaf, empty_root(), proof.clone()),
            (index, size, leaf, some, proof.clone()),
            (index, size, leaf, r, [proof.clone(), vec![r]].concat()),
            (index, size, leaf, r, [vec![r], proof.clone()].concat()),
        ];
        for i in 0..proof.len() {
            probes.push((index, size, leaf, r, flip(&proof, i, 8)));
        }
        if !proof.is_empty() {
            probes.push((index, size, leaf, r, proof[..proof.len() - 1].to_vec()));
        }
        if proof.len() > 1 {
            probes.push((
                index,
                size,
                leaf,
                r,
                [vec![proof[0], some], proof[1..].to_vec()].concat(),
            ));
        }
        for (n, (i, s, l, rt, p)) in probes.iter().enumerate() {
            assert!(
                !verify_inclusion(*i, *s, l, p, rt),
                "probe {n} for {index}/{size} verified"
            );
        }
    }
}

#[test]
fn corrupted_consistency_proofs_are_rejected() {
    for (old, new, proof) in consistency_vectors().into_iter().filter(|v| !v.2.is_empty()) {
        let (r1, r2) = (root(old), root(new));
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, proof.clone()),
            (old + 1, new, r1, r2, proof.clone()),
            (old ^ 2, new, r1, r2, proof.clone()),
            (old, new * 2, r1, r2, proof.clone()),
            (old, new / 2, r1, r2, proof.clone()),
            (old, new, h(SOME_HASH), r2, proof.clone()),
            (old, new, r1, h(SOME_HASH), proof.clone()),
            (old, new, r2, r1, proof.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [proof.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], proof.clone()].concat()),
            (old, new, r1, r2, [vec![r2], proof.clone()].concat()),
            (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            probes.push((old, new, r1, r2, flip(&proof, i, 16)));
        }
        for (n, (o, nw, a, b, p)) in probes.iter().enumerate() {
            assert!(
                !verify_consistency(*o, *nw, a, b, p),
                "probe {n} for {old}->{new} verified"
            );
        }
    }
}

#[test]
fn trivial_consistency_cases() {
    let (a, b) = (h(SOME_HASH), empty_root());
    assert!(verify_consistency(0, 0, &a, &a, &[]));
    assert!(verify_consistency(0, 1, &a, &b, &[]));
    assert!(verify_consistency(1, 1, &b, &b, &[]));
    assert!(!verify_consistency(1, 1, &a, &b, &[]));
    assert!(!verify_consistency(1, 0, &a, &b, &[]));
    assert!(!verify_consistency(2, 1, &a, &b, &[]));
    assert!(!verify_consistency(1, 2, &a, &b, &[]));
    assert!(!verify_consistency(0, 0, &b, &b, &[b]));
    assert!(!verify_consistency(0, 1, &b, &b, &[b]));
    assert!(!verify_consistency(1, 1, &b, &b, &[b]));
}

/// The RFC's recursive definition, directly.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

#[test]
fn every_proof_of_every_small_tree_verifies() {
    let hashes: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut tree = Tree::default();
    let mut frontier = Frontier::default();
    for leaf in &hashes {
        tree.push(*leaf);
        frontier.push(*leaf);
        let n = tree.size();
        let r = naive_root(&hashes[..n as usize]);
        assert_eq!(tree.root(n).unwrap(), r);
        assert_eq!(frontier.root(), r);
        assert_eq!(Frontier::from_bytes(&frontier.to_bytes()), Some(frontier.clone()));
    }
    let n = tree.size();
    for size in 1..=n {
        let r = tree.root(size).unwrap();
        for i in 0..size {
            let p = tree.inclusion_proof(i, size).unwrap();
            assert!(verify_inclusion(i, size, &hashes[i as usize], &p, &r), "{i}/{size}");
        }
        for old in 0..=size {
            let p = tree.consistency_proof(old, size).unwrap();
            assert!(
                verify_consistency(old, size, &tree.root(old).unwrap(), &r, &p),
                "{old}->{size}"
            );
        }
    }
    assert_eq!(tree.inclusion_proof(n, n), Err(OutOfRange));
    assert_eq!(tree.consistency_proof(1, n + 1), Err(OutOfRange));
}

#[test]
fn malformed_frontier_bytes_are_refused() {
    let mut f = Frontier::default();
    for i in 0u8..5 {
        f.push(leaf_hash(&[i]));
    }
    let mut bytes = f.to_bytes();
    bytes[7] = 6; // size 6 does not match heights [2, 0]
    assert_eq!(Frontier::from_bytes(&bytes), None);
    assert_eq!(Frontier::from_bytes(&f.to_bytes()[..20]), None);
}

/// A stretch of the log checks against the root of a larger tree with the
/// frontier before it and the subtree roots after it, for every stretch of
/// every small tree; misaligned subtrees and wrong counts are refused.
#[test]
fn stretches_rebuild_the_root_from_the_frontier_and_range_roots() {
    let hashes: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for end in 0..=hashes.len() as u64 {
        for begin in 0..=end {
            let mut before = Frontier::default();
            for leaf in &hashes[..begin as usize] {
                before.push(*leaf);
            }
            let mut f = Frontier::from_hashes(begin, &before.hashes()).unwrap();
            assert_eq!(f, before);
            let mut at = begin;
            for h in range_heights(begin, end) {
                let width = 1u64 << h;
                let piece = naive_root(&hashes[at as usize..(at + width) as usize]);
                assert!(f.push_subtree(h, piece), "{begin}..{end} at {at}");
                at += width;
            }
            assert_eq!(at, end);
            assert_eq!(f.size(), end);
            assert_eq!(f.root(), naive_root(&hashes[..end as usize]), "{begin}..{end}");
        }
    }
    let mut f = Frontier::default();
    f.push(hashes[0]);
    assert!(!f.push_subtree(1, hashes[1]), "a pair cannot start at an odd position");
    assert_eq!(f.size(), 1);
    assert_eq!(Frontier::from_hashes(3, &hashes[..1]), None);
    assert_eq!(range_heights(5, 5), Vec::<u32>::new());
    assert_eq!(range_heights(0, 7), vec![2, 1, 0]);
    assert_eq!(range_heights(3, 12), vec![0, 2, 2]);
}
