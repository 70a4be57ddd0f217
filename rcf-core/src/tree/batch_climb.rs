//! The score's walk up for a whole batch of narrow points (two to eight dimensions) in a tree
//! with cached boxes, after [`BatchDescent`](super::BatchDescent): sixteen walks in flight, one
//! per lane of AVX-512 registers, and a lane takes the next walk as soon as its walk ends. One
//! point at a time, where a walk ends (the first box that holds the point) was an unpredictable
//! branch per walk; here it is a mask, and the sixteen walks' box arithmetic overlaps.
//!
//! Each step does the arithmetic of [`Tree::narrow_score`] in the same order (the lane sums of
//! `score.rs`, the f32 division, the f64 update without fused multiply-adds), so the scores
//! match it bit for bit.

#[cfg(target_arch = "x86_64")]
use super::{NodeRef, Tree, Visitor, NONE};
#[cfg(target_arch = "x86_64")]
use crate::point_store::PointStore;
#[cfg(target_arch = "x86_64")]
use crate::score::{separation_f64, ScoreVisitor};

/// Walks left to climb after their leaf: the point's index in the batch, the node to start at,
/// the leaf's depth and the score so far. Reused from tree to tree.
#[derive(Default)]
pub(crate) struct Climbs {
    rows: Vec<i32>,
    nodes: Vec<i32>,
    depths: Vec<i32>,
    scores: Vec<f64>,
}

/// Lanes per register of 32-bit values; also the slack the queue keeps for whole-register loads.
#[cfg(target_arch = "x86_64")]
const LANES: usize = 16;

/// Sets of sixteen walks in flight: one set's step waits on its box loads and divisions; a
/// second set's step fills that wait (+13 % at 8 dimensions; a third measured no faster).
#[cfg(target_arch = "x86_64")]
const SETS: usize = 2;

#[cfg(target_arch = "x86_64")]
impl Climbs {
    /// Room for `walks` walks, and a register's worth past them: whole registers load from any
    /// queued position. Kept across trees, so it is filled once per batch.
    fn make_room(&mut self, walks: usize) {
        let room = walks + LANES;
        if self.rows.len() < room {
            self.rows.resize(room, 0);
            self.nodes.resize(room, 0);
            self.depths.resize(room, 0);
            self.scores.resize(room, 0.0);
        }
    }

    fn set(&mut self, at: usize, row: usize, node: u16, depth: usize, score: f64) {
        self.rows[at] = row as i32;
        self.nodes[at] = i32::from(node);
        self.depths[at] = depth as i32;
        self.scores[at] = score;
    }
}

#[cfg(target_arch = "x86_64")]
impl Tree {
    /// Sets `raw[i]` to the raw score ([`Tree::narrow_score`]) of `points[i]` for every
    /// `(i, leaf, depth)` that `found` lists, reusing `climbs`.
    ///
    /// Trees without cached boxes, and points of another width or of one or over eight
    /// dimensions, take [`Tree::raw_score`] (one dimension: walks are too short to gain).
    ///
    /// # Safety
    /// The CPU has AVX-512F and BMI2.
    #[target_feature(enable = "avx512f,bmi2")]
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn batch_narrow_scores(
        &self,
        found: impl Iterator<Item = (usize, NodeRef, usize)>,
        points: &[&[f32]],
        store: &PointStore,
        tree_mass: u32,
        climbs: &mut Climbs,
        raw: &mut [f64],
    ) {
        let d = self.dims;
        let narrow = self.cache_boxes
            && (2..=8).contains(&d)
            && self.bounds.len() == self.nodes.len() * 2 * d
            && raw.len() >= points.len()
            && points.iter().all(|point| point.len() == d);
        if !narrow {
            for (i, leaf, depth) in found {
                raw[i] = self.raw_score(leaf, depth, points[i], store, tree_mass);
            }
            return;
        }
        // The leaf step, as the visitor takes it; walks that go on are queued.
        climbs.make_room(points.len());
        let mut queued = 0;
        for (i, leaf, depth) in found {
            if leaf.is_null() {
                raw[i] = 0.0;
                continue;
            }
            let l = leaf.index();
            let mut visitor = ScoreVisitor::new(tree_mass);
            visitor.accept_leaf(points[i], store.get(self.leaf_slot[l]), self.leaf_mass[l] as u32, depth);
            let parent = self.leaf_parent[l];
            if visitor.is_done() || parent == NONE || usize::from(parent) >= self.nodes.len() {
                raw[i] = visitor.raw();
            } else {
                climbs.set(queued, i, parent, depth, visitor.raw());
                queued += 1;
            }
        }
        // SAFETY: AVX-512F and BMI2 (this function's promise); the checks above.
        // One copy per width keeps the point and the lane sums in registers.
        unsafe {
            match d {
                2 => self.climb_all::<2>(climbs, queued, points, raw),
                3 => self.climb_all::<3>(climbs, queued, points, raw),
                4 => self.climb_all::<4>(climbs, queued, points, raw),
                5 => self.climb_all::<5>(climbs, queued, points, raw),
                6 => self.climb_all::<6>(climbs, queued, points, raw),
                7 => self.climb_all::<7>(climbs, queued, points, raw),
                _ => self.climb_all::<8>(climbs, queued, points, raw),
            }
        };
    }

    /// The walks `climbs` queues (the first `queued`), in [`SETS`] sets of sixteen.
    ///
    /// # Safety
    /// The CPU has AVX-512F and BMI2. The tree caches boxes for `D` (`2..=8`) dimensions, as
    /// wide as every point; every queued row is below `points.len()` and `raw.len()`; `climbs`
    /// has room for `queued` walks.
    #[target_feature(enable = "avx512f,bmi2")]
    unsafe fn climb_all<const D: usize>(&self, climbs: &Climbs, queued: usize, points: &[&[f32]], raw: &mut [f64]) {
        debug_assert_eq!(D, self.dims);
        let mut sets = [WalkSet::idle(); SETS];
        let mut next = 0;
        loop {
            let mut any_busy = false;
            for set in &mut sets {
                // SAFETY: this function's promises.
                unsafe { set.refill::<D>(climbs, &mut next, queued, points) };
                if set.busy != 0 {
                    any_busy = true;
                    // SAFETY: as above.
                    unsafe { set.step::<D>(self, points, raw) };
                }
            }
            if !any_busy {
                return;
            }
        }
    }

    /// The box starting at `at` (`[min; D] ++ [max; D]`) as `[min; 8] ++ [max; 8]`, zero past `D`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `at` starts `2 * D` readable values.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn box_register<const D: usize>(at: *const f32) -> std::arch::x86_64::__m512 {
        use std::arch::x86_64::*;
        if D == 8 {
            // SAFETY: sixteen values, the caller's promise.
            return unsafe { _mm512_loadu_ps(at) };
        }
        let first = (1u16 << D) - 1;
        // SAFETY: each mask reads `D` of the box's values: the mins into lanes 0.., then the maxes
        // (`at + D + j`) into lanes 8 + j, addressed from `D - 8` values before `at` (a masked
        // load touches only its unmasked lanes).
        unsafe {
            let min = _mm512_maskz_loadu_ps(first, at);
            _mm512_mask_loadu_ps(min, first << 8, at.wrapping_sub(8 - D))
        }
    }

    /// `p` with the lanes in `overflowed` recomputed in f64 (their f32 sums overflowed), as
    /// [`crate::score::separation`] does for one point.
    #[target_feature(enable = "avx512f")]
    #[cold]
    fn separations_in_f64(
        &self,
        p: [std::arch::x86_64::__m512d; 2],
        overflowed: u16,
        row: std::arch::x86_64::__m512i,
        node: std::arch::x86_64::__m512i,
        points: &[&[f32]],
    ) -> [std::arch::x86_64::__m512d; 2] {
        use std::arch::x86_64::*;
        let (mut ps, mut rows, mut nodes) = ([0.0f64; 16], [0i32; 16], [0i32; 16]);
        // SAFETY: each store writes one register into an array of its size.
        unsafe {
            _mm512_storeu_pd(ps.as_mut_ptr(), p[0]);
            _mm512_storeu_pd(ps.as_mut_ptr().add(8), p[1]);
            _mm512_storeu_si512(rows.as_mut_ptr() as *mut _, row);
            _mm512_storeu_si512(nodes.as_mut_ptr() as *mut _, node);
        }
        let width = 2 * self.dims;
        for lane in (0..16).filter(|lane| overflowed & 1 << lane != 0) {
            let at = nodes[lane] as usize * width;
            let (min, max) = self.bounds[at..at + width].split_at(self.dims);
            ps[lane] = separation_f64(points[rows[lane] as usize], min, max).0;
        }
        // SAFETY: each load reads one register from an array of its size.
        unsafe { [_mm512_loadu_pd(ps.as_ptr()), _mm512_loadu_pd(ps.as_ptr().add(8))] }
    }
}

/// Sixteen walks, one per lane: each point's row in the batch, the node its walk evaluates next
/// and the depth below it, the score so far (lanes 0–7, then 8–15), and the lanes holding a walk.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct WalkSet {
    row: std::arch::x86_64::__m512i,
    node: std::arch::x86_64::__m512i,
    depth: std::arch::x86_64::__m512i,
    score: [std::arch::x86_64::__m512d; 2],
    /// Each lane's point twice over, `[p; 8] ++ [p; 8]`, zero beyond the width in each half, as a
    /// narrow point's missing lanes are.
    points: [std::arch::x86_64::__m512; LANES],
    busy: u16,
}

#[cfg(target_arch = "x86_64")]
impl WalkSet {
    #[target_feature(enable = "avx512f")]
    fn idle() -> Self {
        use std::arch::x86_64::*;
        let zero = _mm512_setzero_si512();
        WalkSet {
            row: zero,
            node: zero,
            depth: zero,
            score: [_mm512_setzero_pd(); 2],
            points: [_mm512_setzero_ps(); LANES],
            busy: 0,
        }
    }

    /// Gives idle lanes the next queued walks (from `next`, of `queued`).
    ///
    /// # Safety
    /// The CPU has AVX-512F and BMI2; `climbs` has room for `queued` walks, whose rows index
    /// `points`, each `D` values wide.
    #[target_feature(enable = "avx512f,bmi2")]
    #[inline]
    unsafe fn refill<const D: usize>(&mut self, climbs: &Climbs, next: &mut usize, queued: usize, points: &[&[f32]]) {
        use std::arch::x86_64::*;
        let refill = _pdep_u32((1u32 << (queued - *next).min(LANES)) - 1, u32::from(!self.busy)) as u16;
        if refill == 0 {
            return;
        }
        let at = *next;
        let high_from = at + (refill as u8).count_ones() as usize;
        // SAFETY: `climbs` has a register's room past `queued`.
        unsafe {
            self.row = _mm512_mask_expand_epi32(
                self.row,
                refill,
                _mm512_loadu_si512(climbs.rows.as_ptr().add(at) as *const _),
            );
            self.node = _mm512_mask_expand_epi32(
                self.node,
                refill,
                _mm512_loadu_si512(climbs.nodes.as_ptr().add(at) as *const _),
            );
            self.depth = _mm512_mask_expand_epi32(
                self.depth,
                refill,
                _mm512_loadu_si512(climbs.depths.as_ptr().add(at) as *const _),
            );
            self.score[0] =
                _mm512_mask_expand_pd(self.score[0], refill as u8, _mm512_loadu_pd(climbs.scores.as_ptr().add(at)));
            self.score[1] = _mm512_mask_expand_pd(
                self.score[1],
                (refill >> 8) as u8,
                _mm512_loadu_pd(climbs.scores.as_ptr().add(high_from)),
            );
        }
        let mut rows = [0i32; LANES];
        // SAFETY: one register into an array of its size.
        unsafe { _mm512_storeu_si512(rows.as_mut_ptr() as *mut _, self.row) };
        let mut fresh = refill;
        while fresh != 0 {
            let k = fresh.trailing_zeros() as usize;
            fresh &= fresh - 1;
            let point = points[rows[k] as usize];
            // SAFETY: the mask reads the point's `D` values only.
            let once = unsafe { _mm512_maskz_loadu_ps((1u16 << D) - 1, point.as_ptr()) };
            self.points[k] = _mm512_shuffle_f32x4::<0b01_00_01_00>(once, once);
        }
        *next += refill.count_ones() as usize;
        self.busy |= refill;
    }

    /// One level of every busy walk in `tree`: the separation probability at its node, then the
    /// visitor's step (done where it is 0, else one level up). Walks that end write their raw
    /// score to `raw` at their row.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `tree` caches boxes for `D` dimensions; every row is below
    /// `points.len()` and `raw.len()`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn step<const D: usize>(&mut self, tree: &Tree, points: &[&[f32]], raw: &mut [f64]) {
        use std::arch::x86_64::*;
        let zero = _mm512_setzero_ps();
        let one = _mm512_set1_pd(1.0);
        let last_node = _mm512_set1_epi32(tree.nodes.len() as i32 - 1);
        let node = _mm512_min_epi32(self.node, last_node);

        // The separation sums of each lane's point and node box, added as `score.rs` adds them;
        // idle lanes compute on a stale (clamped, so in-bounds) node and are masked off below.
        let mut at = [0i32; LANES];
        // SAFETY: one register into an array of its size.
        unsafe {
            _mm512_storeu_si512(at.as_mut_ptr() as *mut _, _mm512_mullo_epi32(node, _mm512_set1_epi32(2 * D as i32)))
        };
        let (mut gap, mut span) = (zero, zero);
        for (k, (&at, &point)) in at.iter().zip(&self.points).enumerate() {
            // SAFETY: `at` starts a box of `2 * D` values inside the bounds.
            let bounds = unsafe { Tree::box_register::<D>(tree.bounds.as_ptr().add(at as usize)) };
            let (lane_gap, lane_span) = lane_sums(bounds, point);
            gap = _mm512_mask_broadcastss_ps(gap, 1 << k, lane_gap);
            span = _mm512_mask_broadcastss_ps(span, 1 << k, lane_span);
        }

        // p = gap / (gap + span) in f32, widened; 0 where the box holds the point.
        let apart = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(self.busy, gap, zero);
        let total = _mm512_add_ps(gap, span);
        let p = _mm512_maskz_div_ps(apart, gap, total);
        let mut p = [
            _mm512_cvtps_pd(_mm512_castps512_ps256(p)),
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(p)))),
        ];
        let overflowed = apart & !_mm512_cmp_ps_mask::<_CMP_LT_OQ>(total, _mm512_set1_ps(f32::INFINITY));
        if overflowed != 0 {
            p = tree.separations_in_f64(p, overflowed, self.row, self.node, points);
        }

        // The visitor's step: done where p is 0, else one level up.
        let lower_depth = _mm512_sub_epi32(self.depth, _mm512_set1_epi32(1));
        let going_on = u16::from(_mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(p[0], _mm512_setzero_pd()))
            | u16::from(_mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(p[1], _mm512_setzero_pd())) << 8;
        let going_on = going_on & self.busy;
        let depths = [
            _mm512_cvtepi32_pd(_mm512_castsi512_si256(lower_depth)),
            _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64::<1>(lower_depth)),
        ];
        for (half, (score, (p, depth))) in self.score.iter_mut().zip(p.iter().zip(depths)).enumerate() {
            let unseen = _mm512_div_pd(one, _mm512_add_pd(depth, one));
            let updated = _mm512_add_pd(_mm512_mul_pd(_mm512_sub_pd(one, *p), *score), _mm512_mul_pd(*p, unseen));
            *score = _mm512_mask_mov_pd(*score, (going_on >> (8 * half)) as u8, updated);
        }
        self.depth = _mm512_mask_mov_epi32(self.depth, going_on, lower_depth);
        // A node's `right | parent << 16` is its third 32-bit word (`Node` is `repr(C)`).
        // SAFETY: the node is clamped as above; the word is inside it.
        let parent_word = unsafe {
            let word = _mm512_add_epi32(_mm512_slli_epi32::<2>(node), _mm512_set1_epi32(2));
            _mm512_mask_i32gather_epi32::<4>(_mm512_setzero_si512(), going_on, word, tree.nodes.as_ptr() as *const i32)
        };
        let parent = _mm512_srli_epi32::<16>(parent_word);
        self.node = _mm512_mask_mov_epi32(self.node, going_on, parent);
        // `NONE`, the root's parent, is past the last node.
        let climbing = going_on & !_mm512_cmpgt_epi32_mask(parent, last_node);
        let ended = self.busy & !climbing;
        if ended != 0 {
            let rows = [_mm512_castsi512_si256(self.row), _mm512_extracti64x4_epi64::<1>(self.row)];
            for (half, (rows, score)) in rows.into_iter().zip(self.score).enumerate() {
                // SAFETY: every row is below `raw.len()`; rows of a batch are distinct.
                unsafe { _mm512_mask_i32scatter_pd::<8>(raw.as_mut_ptr(), (ended >> (8 * half)) as u8, rows, score) };
            }
        }
        self.busy = climbing;
    }
}

/// The separation sums of one point and box: `bounds` is `[min; 8] ++ [max; 8]` and `point`
/// `[p; 8] ++ [p; 8]` (both zero past the width). Returns (gap, span) in lane 0 of each.
/// The same additions, in the same order, as `add_group` then `reduce_lanes` in `score.rs`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn lane_sums(
    bounds: std::arch::x86_64::__m512,
    point: std::arch::x86_64::__m512,
) -> (std::arch::x86_64::__m128, std::arch::x86_64::__m128) {
    use std::arch::x86_64::*;
    // [min - p ++ p - max], then each clamped at 0: [below ++ above].
    let apart =
        _mm512_max_ps(_mm512_mask_sub_ps(_mm512_sub_ps(bounds, point), 0xFF00, point, bounds), _mm512_setzero_ps());
    // Halves swapped: [above ++ below] and [max ++ min].
    let apart_swapped = _mm512_shuffle_f32x4::<0b01_00_11_10>(apart, apart);
    let bounds_swapped = _mm512_shuffle_f32x4::<0b01_00_11_10>(bounds, bounds);
    // Per dimension: gap = 0 + (below + above), span = 0 + (max - min), as `add_group` adds them.
    let gap = _mm512_add_ps(_mm512_setzero_ps(), _mm512_add_ps(apart, apart_swapped));
    let span = _mm512_add_ps(_mm512_setzero_ps(), _mm512_sub_ps(bounds_swapped, bounds));
    // [gap ++ span] (their low halves), then per 128-bit block v0 + v4, v1 + v5, ...
    let sums = _mm512_shuffle_f32x4::<0b01_00_01_00>(gap, span);
    let halves = _mm512_add_ps(sums, _mm512_shuffle_f32x4::<0b10_11_00_01>(sums, sums));
    // (h0 + h2, h1 + h3), then their sum, in lane 0 of the gap block and of the span block.
    let pairs = _mm512_add_ps(halves, _mm512_permute_ps::<0b01_00_11_10>(halves));
    let total = _mm512_add_ps(pairs, _mm512_permute_ps::<0b10_11_00_01>(pairs));
    (_mm512_castps512_ps128(total), _mm512_extractf32x4_ps::<2>(total))
}
