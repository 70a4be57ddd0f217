//! AWS's anomaly score: expected inverse depth, computed as if the point were inserted
//! (Guha et al., Theorem 5), with AWS's scoreSeen / scoreUnseen / damp / normaliser.

use crate::tree::Visitor;

/// `1 / (depth + log2(mass + 1))`: a leaf equal to the point, at `depth` with multiplicity `mass`.
#[inline]
pub fn score_seen(depth: usize, mass: u32) -> f64 {
    1.0 / (depth as f64 + (mass as f64 + 1.0).log2())
}

/// `1 / (depth + 1)`: the point would be isolated at `depth`.
#[inline]
pub fn score_unseen(depth: usize) -> f64 {
    // Depths are below 2^16, so going through u32 is exact, and one instruction rather than the
    // several an unsigned 64-bit conversion takes.
    1.0 / (depth as u32 as f64 + 1.0)
}

/// `1 − leaf_mass / (2·tree_mass)`: discounts points that are already frequent.
#[inline]
pub fn damp(leaf_mass: u32, tree_mass: u32) -> f64 {
    1.0 - leaf_mass as f64 / (2.0 * tree_mass as f64)
}

/// Scales a tree's raw score by `log2(tree_mass + 1)` so scores are comparable across sample sizes.
#[inline]
pub fn normalize(score: f64, tree_mass: u32) -> f64 {
    score * (tree_mass as f64 + 1.0).log2()
}

/// Probability that a random cut of (box ∪ point) separates `point` from the box:
/// the total distance of the point outside the box over the total range of the enlarged box.
#[inline(always)]
pub fn separation_probability(point: &[f32], min: &[f32], max: &[f32]) -> f64 {
    separation(point, min, max).0
}

/// [`separation_probability`] and the total distance of the point outside the box it is made of.
///
/// Summed in f32 over eight independent lanes without branches, so it vectorises; when extreme
/// coordinates (near ±f32::MAX) overflow f32, it is recomputed in f64.
#[inline(always)]
pub fn separation(point: &[f32], min: &[f32], max: &[f32]) -> (f64, f64) {
    let n = point.len().min(min.len()).min(max.len());
    let (point, min, max) = (&point[..n], &min[..n], &max[..n]);
    separation_from_sums(gap_and_span(point, min, max), point, min, max)
}

/// [`separation`] given the sums [`gap_and_span`] gives for the same point and box.
#[inline(always)]
fn separation_from_sums((gap, span): (f32, f32), point: &[f32], min: &[f32], max: &[f32]) -> (f64, f64) {
    if gap == 0.0 {
        return (0.0, 0.0);
    }
    let total = gap + span;
    if total.is_finite() {
        ((gap / total) as f64, gap as f64)
    } else {
        separation_f64(point, min, max)
    }
}

/// The total distance of `point` outside the box and the total width of the box.
///
/// Both are summed in eight lanes: lane k adds dimensions k, k + 8, k + 16, … (the last group of
/// eight may be short: its missing dimensions add nothing); then [`sum_lanes`] adds the lanes. The
/// AVX2 form (when the CPU has it) does each group in one instruction and adds the lanes in
/// registers; both forms add the same numbers in the same order.
#[inline(always)]
fn gap_and_span(point: &[f32], min: &[f32], max: &[f32]) -> (f32, f32) {
    let n = point.len().min(min.len()).min(max.len());
    if n <= 2 {
        // One or two dimensions: the lanes they leave empty add nothing, so adding them directly
        // gives the same sums, without the lane machinery.
        let (mut gap, mut span) = (0.0f32, 0.0f32);
        for i in 0..n {
            gap += positive(min[i] - point[i]) + positive(point[i] - max[i]);
            span += max[i] - min[i];
        }
        return (gap, span);
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { gap_and_span_avx2(point, min, max) };
    }
    gap_and_span_portable(point, min, max)
}

/// Lanes of the separation sums (see [`gap_and_span`]).
const LANES: usize = 8;

#[inline(always)]
fn gap_and_span_portable(point: &[f32], min: &[f32], max: &[f32]) -> (f32, f32) {
    let n = point.len().min(min.len()).min(max.len());
    let (mut gap, mut span) = ([0.0f32; LANES], [0.0f32; LANES]);
    for i in 0..n {
        let (p, lo, hi) = (point[i], min[i], max[i]);
        gap[i % LANES] += positive(lo - p) + positive(p - hi);
        span[i % LANES] += hi - lo;
    }
    (sum_lanes(gap), sum_lanes(span))
}

/// [`gap_and_span`] with AVX2 intrinsics. `_mm256_max_ps(x, 0)` is [`positive`]: it gives 0 when
/// `x` is NaN or ±0, `x` when positive. A short last group is loaded with zeros in its missing
/// lanes, which add 0 to both sums. Storing the lanes and adding them one by one, as the portable
/// form does, took a good part of a score's time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn gap_and_span_avx2(point: &[f32], min: &[f32], max: &[f32]) -> (f32, f32) {
    use std::arch::x86_64::*;
    let n = point.len().min(min.len()).min(max.len());
    let mut sums = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let whole = n - n % LANES;
    for at in (0..whole).step_by(LANES) {
        // SAFETY: at + LANES <= n, the length of the shortest slice.
        unsafe {
            add_group(
                &mut sums,
                _mm256_loadu_ps(point.as_ptr().add(at)),
                _mm256_loadu_ps(min.as_ptr().add(at)),
                _mm256_loadu_ps(max.as_ptr().add(at)),
            )
        };
    }
    if whole < n {
        let present = lanes_below(n - whole);
        // SAFETY: the mask loads only the lanes below n - whole, inside all three slices.
        unsafe {
            add_group(
                &mut sums,
                _mm256_maskload_ps(point.as_ptr().add(whole), present),
                _mm256_maskload_ps(min.as_ptr().add(whole), present),
                _mm256_maskload_ps(max.as_ptr().add(whole), present),
            )
        };
    }
    reduce_lanes(sums)
}

/// The mask of lanes `0..n`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn lanes_below(n: usize) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// Adds one group of eight dimensions (`p`, `lo`, `hi`) to the lane sums `(gap, span)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn add_group(
    (gap, span): &mut (std::arch::x86_64::__m256, std::arch::x86_64::__m256),
    p: std::arch::x86_64::__m256,
    lo: std::arch::x86_64::__m256,
    hi: std::arch::x86_64::__m256,
) {
    use std::arch::x86_64::*;
    let zero = _mm256_setzero_ps();
    let below = _mm256_max_ps(_mm256_sub_ps(lo, p), zero);
    let above = _mm256_max_ps(_mm256_sub_ps(p, hi), zero);
    *gap = _mm256_add_ps(*gap, _mm256_add_ps(below, above));
    *span = _mm256_add_ps(*span, _mm256_sub_ps(hi, lo));
}

/// The lanes of `(gap, span)` added as [`sum_lanes`] adds them, in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn reduce_lanes((gap, span): (std::arch::x86_64::__m256, std::arch::x86_64::__m256)) -> (f32, f32) {
    use std::arch::x86_64::*;
    // [v0 + v4, v1 + v5, v2 + v6, v3 + v7] of each.
    let gap = _mm_add_ps(_mm256_castps256_ps128(gap), _mm256_extractf128_ps::<1>(gap));
    let span = _mm_add_ps(_mm256_castps256_ps128(span), _mm256_extractf128_ps::<1>(span));
    // [g0 + g2, g1 + g3, s0 + s2, s1 + s3], then lanes 0 and 2 each add their neighbour.
    let pairs = _mm_add_ps(_mm_shuffle_ps::<0b01_00_01_00>(gap, span), _mm_shuffle_ps::<0b11_10_11_10>(gap, span));
    let sums = _mm_add_ps(pairs, _mm_movehdup_ps(pairs));
    (_mm_cvtss_f32(sums), _mm_cvtss_f32(_mm_movehl_ps(sums, sums)))
}

/// A query point of one to eight dimensions held in one register (zero beyond its width), for
/// the separation sums against many boxes of its width.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct NarrowPoint {
    lanes: std::arch::x86_64::__m256,
    present: std::arch::x86_64::__m256i,
    dims: usize,
}

#[cfg(target_arch = "x86_64")]
impl NarrowPoint {
    /// `point` in a register, if it has one to eight dimensions.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) unsafe fn new(point: &[f32]) -> Option<Self> {
        use std::arch::x86_64::*;
        if point.is_empty() || point.len() > LANES {
            return None;
        }
        let present = lanes_below(point.len());
        // SAFETY: the mask loads only the lanes below point.len().
        let lanes = unsafe { _mm256_maskload_ps(point.as_ptr(), present) };
        Some(NarrowPoint { lanes, present, dims: point.len() })
    }

    /// [`separation_probability`] of this point and the box `bounds` (`[min; d] ++ [max; d]`, `d`
    /// the point's width): the same, bit for bit. `point` is the slice the point was made from,
    /// read again only if the sums overflow f32.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) unsafe fn separation_probability(&self, point: &[f32], bounds: &[f32]) -> f64 {
        use std::arch::x86_64::*;
        let n = self.dims;
        let (min, max) = (&bounds[..n], &bounds[n..2 * n]);
        let mut sums = (_mm256_setzero_ps(), _mm256_setzero_ps());
        // SAFETY: both load only the point's lanes (all eight, or the `n` the mask marks), inside
        // `min` and `max`, `n` values each.
        let (lo, hi) = unsafe {
            if n == LANES {
                // A masked load measured slower than a plain one here.
                (_mm256_loadu_ps(min.as_ptr()), _mm256_loadu_ps(max.as_ptr()))
            } else {
                (_mm256_maskload_ps(min.as_ptr(), self.present), _mm256_maskload_ps(max.as_ptr(), self.present))
            }
        };
        add_group(&mut sums, self.lanes, lo, hi);
        separation_from_sums(reduce_lanes(sums), point, min, max).0
    }
}

/// The sum of eight lanes, added pairwise (two packed additions and a short tail rather than a
/// chain of seven dependent ones).
#[inline(always)]
fn sum_lanes(v: [f32; LANES]) -> f32 {
    let half = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
    (half[0] + half[2]) + (half[1] + half[3])
}

/// `x` if positive, else 0. Written as a comparison rather than `f32::max`, whose NaN rules keep the
/// compiler from using packed max instructions.
#[inline(always)]
fn positive(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// [`separation`] in f64 throughout, for coordinates whose ranges overflow f32.
pub(crate) fn separation_f64(point: &[f32], min: &[f32], max: &[f32]) -> (f64, f64) {
    let (mut gap, mut span) = (0.0f64, 0.0f64);
    for ((&p, &lo), &hi) in point.iter().zip(min).zip(max) {
        let (p, lo, hi) = (p as f64, lo as f64, hi as f64);
        gap += (lo - p).max(0.0) + (p - hi).max(0.0);
        span += hi - lo;
    }
    if gap == 0.0 {
        (0.0, 0.0)
    } else {
        (gap / (gap + span), gap)
    }
}

/// Computes one tree's raw score along the query's path.
pub struct ScoreVisitor {
    tree_mass: u32,
    score: f64,
    done: bool,
}

impl ScoreVisitor {
    /// A visitor for a tree holding `tree_mass` points.
    pub fn new(tree_mass: u32) -> Self {
        ScoreVisitor { tree_mass, score: 0.0, done: false }
    }

    /// The normalised score of this tree.
    pub fn result(&self) -> f64 {
        normalize(self.score, self.tree_mass)
    }

    /// [`Visitor::accept_node`] given the node's separation probability `p`.
    #[inline(always)]
    pub(crate) fn accept_separation(&mut self, p: f64, depth: usize) {
        if p == 0.0 {
            self.done = true;
        } else {
            self.score = (1.0 - p) * self.score + p * score_unseen(depth);
        }
    }

    /// The score of this tree before [`normalize`].
    #[inline(always)]
    pub(crate) fn raw(&self) -> f64 {
        self.score
    }
}

/// [`normalize`]'s factor, kept for the mass it was last asked for: the trees of a full forest
/// share one mass, and the logarithm is not free.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normaliser {
    mass: u32,
    factor: f64,
}

impl Default for Normaliser {
    fn default() -> Self {
        Normaliser { mass: u32::MAX, factor: 0.0 }
    }
}

impl Normaliser {
    /// `normalize(1.0, tree_mass)`.
    #[inline(always)]
    pub(crate) fn of(&mut self, tree_mass: u32) -> f64 {
        if self.mass != tree_mass {
            *self = Normaliser { mass: tree_mass, factor: normalize(1.0, tree_mass) };
        }
        self.factor
    }
}

impl Visitor for ScoreVisitor {
    #[inline(always)]
    fn accept_leaf(&mut self, point: &[f32], leaf_point: &[f32], leaf_mass: u32, depth: usize) {
        if point == leaf_point {
            self.score = damp(leaf_mass, self.tree_mass) * score_seen(depth, leaf_mass);
            self.done = true;
        } else {
            self.score = score_unseen(depth);
        }
    }

    #[inline(always)]
    fn accept_node(
        &mut self,
        point: &[f32],
        min: &[f32],
        max: &[f32],
        _sibling: (&[f32], &[f32]),
        _mass: u32,
        depth: usize,
    ) {
        self.accept_separation(separation_probability(point, min, max), depth);
    }

    #[inline(always)]
    fn is_done(&self) -> bool {
        self.done
    }

    fn needs_sibling(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 sums, and the dispatcher's (direct for one or two dimensions), equal the portable
    /// ones bit for bit: signed zeros, points inside and outside, widths that are and are not
    /// multiples of eight.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_gap_and_span_equal_portable_gap_and_span() {
        assert!(std::is_x86_feature_detected!("avx2"), "this test needs a CPU with AVX2");
        let mut state = 3u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match state >> 60 {
                0 => 0.0,
                1 => -0.0,
                _ => ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 1e3,
            }
        };
        for dims in [0usize, 1, 2, 3, 7, 8, 9, 16, 40, 129] {
            for _ in 0..200 {
                let point: Vec<f32> = (0..dims).map(|_| next()).collect();
                let a: Vec<f32> = (0..dims).map(|_| next()).collect();
                let b: Vec<f32> = (0..dims).map(|_| next()).collect();
                let (min, max): (Vec<f32>, Vec<f32>) = a.iter().zip(&b).map(|(&x, &y)| (x.min(y), x.max(y))).unzip();
                // SAFETY: the CPU has AVX2 (asserted above).
                let wide = unsafe { gap_and_span_avx2(&point, &min, &max) };
                let narrow = gap_and_span_portable(&point, &min, &max);
                let bits = |(gap, span): (f32, f32)| (gap.to_bits(), span.to_bits());
                assert_eq!(bits(wide), bits(narrow), "dims {dims}");
                // The dispatcher, which adds one or two dimensions directly.
                assert_eq!(bits(gap_and_span(&point, &min, &max)), bits(narrow), "dims {dims}");
            }
        }
    }
}
