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
    1.0 / (depth as f64 + 1.0)
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
    const LANES: usize = 8; // sum_lanes adds eight
    let n = point.len().min(min.len()).min(max.len());
    let (mut gap, mut span) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (point, min, max) = (&point[..n], &min[..n], &max[..n]);
    let lanes = point.chunks_exact(LANES).zip(min.chunks_exact(LANES)).zip(max.chunks_exact(LANES));
    for ((p, lo), hi) in lanes {
        // Fixed-size arrays: no bounds checks inside, so the loop becomes packed instructions.
        let (p, lo, hi): (&[f32; LANES], &[f32; LANES], &[f32; LANES]) = (
            p.try_into().expect("chunk of LANES"),
            lo.try_into().expect("chunk of LANES"),
            hi.try_into().expect("chunk of LANES"),
        );
        for k in 0..LANES {
            gap[k] += positive(lo[k] - p[k]) + positive(p[k] - hi[k]);
            span[k] += hi[k] - lo[k];
        }
    }
    let whole = n - n % LANES;
    for i in whole..n {
        let (p, lo, hi) = (point[i], min[i], max[i]);
        gap[0] += (lo - p).max(0.0) + (p - hi).max(0.0);
        span[0] += hi - lo;
    }
    let gap = sum_lanes(gap);
    if gap == 0.0 {
        return (0.0, 0.0);
    }
    let total = gap + sum_lanes(span);
    if total.is_finite() {
        ((gap / total) as f64, gap as f64)
    } else {
        separation_f64(point, min, max)
    }
}

/// The sum of eight lanes, added pairwise (two packed additions and a short tail rather than a
/// chain of seven dependent ones).
#[inline(always)]
fn sum_lanes(v: [f32; 8]) -> f32 {
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
fn separation_f64(point: &[f32], min: &[f32], max: &[f32]) -> (f64, f64) {
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

    /// [`ScoreVisitor::result`] with the normaliser's logarithm taken from `cache` when the mass
    /// is the one it last saw (trees of a full forest share one mass).
    #[inline(always)]
    pub(crate) fn result_cached(&self, cache: &mut (u32, f64)) -> f64 {
        if cache.0 != self.tree_mass {
            *cache = (self.tree_mass, normalize(1.0, self.tree_mass));
        }
        self.score * cache.1
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
        let p = separation_probability(point, min, max);
        if p == 0.0 {
            self.done = true;
        } else {
            self.score = (1.0 - p) * self.score + p * score_unseen(depth);
        }
    }

    #[inline(always)]
    fn is_done(&self) -> bool {
        self.done
    }

    fn needs_sibling(&self) -> bool {
        false
    }
}
