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
///
/// Summed in f32 over eight independent lanes without branches, so it vectorises; when extreme
/// coordinates (near ±f32::MAX) overflow f32, it is recomputed in f64.
#[inline]
pub fn separation_probability(point: &[f32], min: &[f32], max: &[f32]) -> f64 {
    const LANES: usize = 8;
    let n = point.len().min(min.len()).min(max.len());
    let (mut gap, mut span) = ([0.0f32; LANES], [0.0f32; LANES]);
    let whole = n - n % LANES;
    for start in (0..whole).step_by(LANES) {
        for k in 0..LANES {
            let i = start + k;
            let (p, lo, hi) = (point[i], min[i], max[i]);
            gap[k] += positive(lo - p) + positive(p - hi);
            span[k] += hi - lo;
        }
    }
    for i in whole..n {
        let (p, lo, hi) = (point[i], min[i], max[i]);
        gap[0] += (lo - p).max(0.0) + (p - hi).max(0.0);
        span[0] += hi - lo;
    }
    let gap: f32 = gap.iter().sum();
    if gap == 0.0 {
        return 0.0;
    }
    let total = gap + span.iter().sum::<f32>();
    if total.is_finite() {
        (gap / total) as f64
    } else {
        separation_probability_f64(point, min, max)
    }
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

/// [`separation_probability`] in f64 throughout, for coordinates whose ranges overflow f32.
fn separation_probability_f64(point: &[f32], min: &[f32], max: &[f32]) -> f64 {
    let (mut gap, mut span) = (0.0f64, 0.0f64);
    for ((&p, &lo), &hi) in point.iter().zip(min).zip(max) {
        let (p, lo, hi) = (p as f64, lo as f64, hi as f64);
        gap += (lo - p).max(0.0) + (p - hi).max(0.0);
        span += hi - lo;
    }
    if gap == 0.0 {
        0.0
    } else {
        gap / (gap + span)
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
}

impl Visitor for ScoreVisitor {
    #[inline]
    fn accept_leaf(&mut self, point: &[f32], leaf_point: &[f32], leaf_mass: u32, depth: usize) {
        if point == leaf_point {
            self.score = damp(leaf_mass, self.tree_mass) * score_seen(depth, leaf_mass);
            self.done = true;
        } else {
            self.score = score_unseen(depth);
        }
    }

    #[inline]
    fn accept_node(&mut self, point: &[f32], min: &[f32], max: &[f32], _sibling: (&[f32], &[f32]), _mass: u32, depth: usize) {
        let p = separation_probability(point, min, max);
        if p == 0.0 {
            self.done = true;
        } else {
            self.score = (1.0 - p) * self.score + p * score_unseen(depth);
        }
    }

    #[inline]
    fn is_done(&self) -> bool {
        self.done
    }

    const NEEDS_SIBLING: bool = false;
}
