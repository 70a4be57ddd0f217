//! Descents of a whole batch of points through one tree: the first half of batch scoring and
//! batch attribution. With AVX-512 the descents run 32 at a time by gathers, and a lane whose
//! point reaches its leaf takes the next point at once, so no lane idles while the deepest
//! descent of a group finishes (see benches/README.md for the measurements).

use super::traverse::descend_points;
use super::{NodeRef, Tree, GROUP};

/// Where each point of a batch ends in a tree: its index in the batch, its leaf and the leaf's
/// depth, in the order the descents finished. Reused from tree to tree.
pub struct BatchDescent<'a> {
    points: &'a [&'a [f32]],
    dims: usize,
    /// The points one after another, when the AVX-512 descent can read them.
    packed: Option<Vec<f32>>,
    finished_points: Vec<u32>,
    /// `leaf | depth << 16` for the point at the same position in `finished_points`.
    finished_leaves: Vec<u32>,
    /// How many of `finished_points` the last descent wrote.
    found: usize,
}

/// Fewest points for the AVX-512 descent (and walk up): smaller batches leave most of its 32
/// lanes idle, and one-row batches (a real-time endpoint's) measured 5× slower on it.
pub const WIDE_BATCH: usize = 64;

/// Lanes of an AVX-512 register of 32-bit values; also the slack the descent needs at the end of
/// its output (it stores whole registers).
const LANES: usize = 16;

impl<'a> BatchDescent<'a> {
    /// Room for the descents of `points`, each `dims` values wide.
    pub fn new(points: &'a [&'a [f32]], dims: usize) -> Self {
        let packed = (Self::goes_wide(points.len())
            && dims > 0
            && points.iter().all(|point| point.len() == dims)
            && points.len().saturating_mul(dims) <= i32::MAX as usize)
            .then(|| points.concat());
        let room = points.len() + LANES;
        BatchDescent { points, dims, packed, finished_points: vec![0; room], finished_leaves: vec![0; room], found: 0 }
    }

    /// Descends every point through `tree`; returns each point's index, leaf and depth.
    pub fn through(&mut self, tree: &Tree) -> impl Iterator<Item = (usize, NodeRef, usize)> + '_ {
        self.descend(tree);
        self.found()
    }

    /// Descends every point through `tree`, for [`BatchDescent::found`] to list.
    pub fn descend(&mut self, tree: &Tree) {
        self.found = match &self.packed {
            #[cfg(target_arch = "x86_64")]
            Some(packed) if tree.dims == self.dims && !tree.nodes.is_empty() => {
                // SAFETY: `packed` exists only where `wide_descent_available` found AVX-512F and BMI2.
                unsafe { descend_all_avx512(tree, packed, &mut self.finished_points, &mut self.finished_leaves) }
            }
            _ => self.descend_in_groups(tree),
        };
    }

    /// Each point's index, leaf and depth from the last [`BatchDescent::descend`], in the order
    /// the descents finished.
    pub fn found(&self) -> impl Iterator<Item = (usize, NodeRef, usize)> + '_ {
        self.finished_points[..self.found]
            .iter()
            .zip(&self.finished_leaves[..self.found])
            .map(|(&point, &leaf)| (point as usize, NodeRef((leaf & 0xFFFF) as u16), (leaf >> 16) as usize))
    }

    /// The portable descent: [`GROUP`] points at a time in lockstep (see [`descend_points`]).
    fn descend_in_groups(&mut self, tree: &Tree) -> usize {
        for (g, group) in self.points.chunks(GROUP).enumerate() {
            for (k, &(leaf, depth)) in descend_points(tree, group)[..group.len()].iter().enumerate() {
                let i = g * GROUP + k;
                self.finished_points[i] = i as u32;
                self.finished_leaves[i] = u32::from(leaf.0) | (depth as u32) << 16;
            }
        }
        self.points.len()
    }

    /// Whether the AVX-512 descent runs for `points` points on this CPU.
    pub fn goes_wide(points: usize) -> bool {
        points >= WIDE_BATCH && wide_descent_available()
    }
}

fn wide_descent_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("bmi2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Registers of [`LANES`] descents each that [`descend_all_avx512`] keeps in flight: one
/// register's steps wait on two gathers in a row; two registers hide that wait (three or four
/// measured no faster).
#[cfg(target_arch = "x86_64")]
const REGISTERS: usize = 2;

/// Descends every row of `rows` (row-major, `tree.dims` values each) through `tree`, refilling a
/// lane with the next row as soon as its row reaches a leaf. Writes, in the order the rows finish,
/// each row's index to `out_rows` and `leaf | depth << 16` to `out_leaves`, and returns how many
/// it wrote: every row, if both outputs have room for [`LANES`] more than there are rows.
///
/// Every load stays in bounds whatever the tree holds: node indices and cut dimensions are clamped
/// to the arrays they index.
///
/// # Safety
/// The CPU has AVX-512F and BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,bmi2")]
unsafe fn descend_all_avx512(tree: &Tree, rows: &[f32], out_rows: &mut [u32], out_leaves: &mut [u32]) -> usize {
    use super::LEAF_BIT;
    use std::arch::x86_64::*;

    let dims = tree.dims;
    let room = out_rows.len().min(out_leaves.len()).saturating_sub(LANES);
    let n = (rows.len() / dims.max(1)).min(room).min(i32::MAX as usize / dims.max(1));
    if n == 0 || dims == 0 || tree.nodes.is_empty() {
        return 0;
    }
    let root = _mm512_set1_epi32(i32::from(tree.root.0));
    let last_node = _mm512_set1_epi32(tree.nodes.len() as i32 - 1);
    let last_dim = _mm512_set1_epi32(dims as i32 - 1);
    let row_width = _mm512_set1_epi32(dims as i32);
    let leaf_bit = _mm512_set1_epi32(i32::from(LEAF_BIT));
    let low_half = _mm512_set1_epi32(0xFFFF);
    let lane_ids = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // A node is 16 bytes (`repr(C)`): `cut_value` at 0, then `cut_dim`, `left`, `right` and
    // `parent` (16 bits each) from 4. Gathered at 32-bit word `4 * node` (the cut value) and as
    // one 64-bit word from `4 * node + 1`: eight lanes a gather, but a third fewer loads than
    // two 32-bit gathers (+4 % measured).
    let words = tree.nodes.as_ptr() as *const i32;

    let mut node = [root; REGISTERS];
    let mut depth = [_mm512_setzero_si512(); REGISTERS];
    let mut row = [lane_ids; REGISTERS];
    // Lanes holding a row not yet written out.
    let mut busy = [0u32; REGISTERS];
    let mut next_row = 0;
    for r in 0..REGISTERS {
        let take = (n - next_row).min(LANES);
        busy[r] = (1 << take) - 1;
        row[r] = _mm512_add_epi32(_mm512_set1_epi32(next_row as i32), lane_ids);
        next_row += take;
    }
    let mut written = 0;
    loop {
        let mut any_busy = 0;
        for r in 0..REGISTERS {
            let at_leaf = u32::from(_mm512_test_epi32_mask(node[r], leaf_bit)) & busy[r];
            if at_leaf != 0 {
                // Write the finished lanes out (whole registers: the slack takes the rest) and
                // give those lanes the next rows, as many as are left.
                let leaves = _mm512_or_si512(node[r], _mm512_slli_epi32::<16>(depth[r]));
                let finished_rows = _mm512_maskz_compress_epi32(at_leaf as u16, row[r]);
                let finished_leaves = _mm512_maskz_compress_epi32(at_leaf as u16, leaves);
                _mm512_storeu_si512(out_rows.as_mut_ptr().add(written) as *mut __m512i, finished_rows);
                _mm512_storeu_si512(out_leaves.as_mut_ptr().add(written) as *mut __m512i, finished_leaves);
                written += at_leaf.count_ones() as usize;
                let refill = _pdep_u32((1 << (n - next_row).min(LANES)) - 1, at_leaf) as u16;
                let new_rows = _mm512_add_epi32(_mm512_set1_epi32(next_row as i32), lane_ids);
                row[r] = _mm512_mask_expand_epi32(row[r], refill, new_rows);
                node[r] = _mm512_mask_mov_epi32(node[r], refill, root);
                depth[r] = _mm512_mask_mov_epi32(depth[r], refill, _mm512_setzero_si512());
                next_row += refill.count_ones() as usize;
                busy[r] = (busy[r] & !at_leaf) | u32::from(refill);
            }
            any_busy |= busy[r];
            // One level down for every busy lane at an internal node.
            let step = (busy[r] & !u32::from(_mm512_test_epi32_mask(node[r], leaf_bit))) as u16;
            let at = _mm512_slli_epi32::<2>(_mm512_min_epi32(node[r], last_node));
            let cut_value = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), step, at, words as *const f32);
            let links = [
                _mm512_mask_i32gather_epi64::<4>(
                    _mm512_setzero_si512(),
                    step as u8,
                    _mm512_castsi512_si256(at),
                    words.add(1) as *const i64,
                ),
                _mm512_mask_i32gather_epi64::<4>(
                    _mm512_setzero_si512(),
                    (step >> 8) as u8,
                    _mm512_extracti64x4_epi64::<1>(at),
                    words.add(1) as *const i64,
                ),
            ];
            let dim_left = _mm512_inserti64x4::<1>(
                _mm512_castsi256_si512(_mm512_cvtepi64_epi32(links[0])),
                _mm512_cvtepi64_epi32(links[1]),
            );
            let right_parent = _mm512_inserti64x4::<1>(
                _mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64::<32>(links[0]))),
                _mm512_cvtepi64_epi32(_mm512_srli_epi64::<32>(links[1])),
            );
            let dim = _mm512_min_epi32(_mm512_and_si512(dim_left, low_half), last_dim);
            let value_at = _mm512_add_epi32(_mm512_mullo_epi32(row[r], row_width), dim);
            let value = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), step, value_at, rows.as_ptr());
            let go_left = _mm512_mask_cmp_ps_mask::<_CMP_LE_OQ>(step, value, cut_value);
            let right = _mm512_and_si512(right_parent, low_half);
            let child = _mm512_mask_mov_epi32(right, go_left, _mm512_srli_epi32::<16>(dim_left));
            node[r] = _mm512_mask_mov_epi32(node[r], step, child);
            depth[r] = _mm512_mask_sub_epi32(depth[r], step, depth[r], _mm512_set1_epi32(-1));
        }
        if any_busy == 0 {
            return written;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::*;
    use crate::point_store::PointStore;
    use crate::rng::TreeRng;

    fn tree_of(points: &[Vec<f32>], dims: usize, cached: bool, seed: u64) -> Tree {
        let mut store = PointStore::new(dims, 0);
        let mut tree = Tree::new(dims, cached);
        let mut rng = TreeRng::seed_from_u64(seed);
        for point in points {
            let slot = store.insert(point);
            let used = tree.insert(slot, &store, &mut rng);
            store.add_ref(used);
            store.release_if_unused(slot);
        }
        tree
    }

    /// Each point's leaf and depth by the one-point descent, in batch order.
    fn one_by_one(tree: &Tree, points: &[&[f32]]) -> Vec<(usize, NodeRef, usize)> {
        points.iter().enumerate().map(|(i, point)| (i, tree.descend(point).0, tree.descend(point).1)).collect()
    }

    fn sorted(mut found: Vec<(usize, NodeRef, usize)>) -> Vec<(usize, NodeRef, usize)> {
        found.sort_by_key(|&(i, _, _)| i);
        found
    }

    /// Values on a coarse grid, so that trees hold duplicates and queries repeat tree points.
    fn rows(dims: usize, count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Vec<f32>>> {
        prop::collection::vec(prop::collection::vec((-4i8..=4).prop_map(|v| f32::from(v) * 0.5), dims), count)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(120))]

        /// Batches of every size around the register width (and trees of one point, where the
        /// root is a leaf) end where the one-point descent ends, each point once.
        #[test]
        fn every_point_reaches_the_leaf_and_depth_of_its_own_descent(
            (dims, tree_points, queries) in (1usize..12).prop_flat_map(|d| (Just(d), rows(d, 1..300), rows(d, 0..80))),
            cached in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let tree = tree_of(&tree_points, dims, cached, seed);
            // Points on cuts, where `<=` sends them left.
            let on_cuts: Vec<Vec<f32>> = tree.nodes.iter().take(40).map(|node| vec![node.cut_value; dims]).collect();
            let queries: Vec<&[f32]> = queries.iter().chain(&on_cuts).map(Vec::as_slice).collect();
            let expected = one_by_one(&tree, &queries);
            let mut descent = BatchDescent::new(&queries, dims);
            let found = sorted(descent.through(&tree).collect());
            prop_assert_eq!(&found, &expected);
            // Each path on its own, at every batch size here (the batch above takes the AVX-512
            // path only from `WIDE_BATCH` points).
            let listed = |descent: &BatchDescent, n: usize| {
                sorted((0..n).map(|k| (descent.finished_points[k] as usize, NodeRef(descent.finished_leaves[k] as u16), (descent.finished_leaves[k] >> 16) as usize)).collect())
            };
            let n = descent.descend_in_groups(&tree);
            prop_assert_eq!(&listed(&descent, n), &expected);
            #[cfg(target_arch = "x86_64")]
            if wide_descent_available() && !tree.nodes.is_empty() {
                let packed = queries.concat();
                // SAFETY: AVX-512F and BMI2, checked just above.
                let n = unsafe { descend_all_avx512(&tree, &packed, &mut descent.finished_points, &mut descent.finished_leaves) };
                prop_assert_eq!(&listed(&descent, n), &expected);
            }
        }
    }

    #[test]
    fn an_empty_tree_sends_every_point_to_no_leaf() {
        let tree = Tree::new(3, true);
        let points: Vec<&[f32]> = vec![&[1.0, 2.0, 3.0]; 20];
        let found = sorted(BatchDescent::new(&points, 3).through(&tree).collect());
        assert_eq!(found, (0..20).map(|i| (i, NodeRef::NULL, 0)).collect::<Vec<_>>());
    }

    #[test]
    fn this_machine_packs_points_for_the_wide_descent_exactly_when_it_has_avx512() {
        let points: Vec<&[f32]> = vec![&[1.0, 2.0]; WIDE_BATCH];
        assert_eq!(BatchDescent::new(&points, 2).packed.is_some(), wide_descent_available());
        // Small batches stay on the portable path.
        assert!(BatchDescent::new(&points[1..], 2).packed.is_none());
        // Points of another width than the trees' stay on the portable path.
        assert!(BatchDescent::new(&points, 3).packed.is_none());
    }
}
