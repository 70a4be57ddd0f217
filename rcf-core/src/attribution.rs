//! Attribution: the score visitor's recurrence carried per dimension and direction, so the parts
//! add up to the score (AWS's `AttributionVisitor`, including its shadow box for duplicates).

use crate::divector::DiVector;
use crate::score::{damp, normalize, score_seen, score_unseen, separation};
use crate::tree::Visitor;

/// Computes one tree's attribution along the query's path. One visitor serves many trees in turn
/// (see [`AttributionVisitor::reset`]), so a query allocates its buffers once.
pub struct AttributionVisitor {
    tree_mass: u32,
    score: f64,
    /// The attribution is `scale · parts`. Each level multiplies the whole attribution by
    /// (1 − p); keeping that factor apart costs O(1) a level instead of O(d), and only the
    /// dimensions where the point lies outside the box are then touched.
    parts: DiVector,
    scale: f64,
    /// The point equals its leaf: boxes are taken without that leaf (the "shadow box").
    hit_duplicate: bool,
    shadow: Option<(Vec<f32>, Vec<f32>)>,
    done: bool,
}

/// Below this, `scale` is folded into `parts` before it can underflow.
const SMALLEST_SCALE: f64 = 1e-150;

impl AttributionVisitor {
    /// A visitor for a tree holding `tree_mass` points of `dims` values.
    pub fn new(tree_mass: u32, dims: usize) -> Self {
        AttributionVisitor {
            tree_mass,
            score: 0.0,
            parts: DiVector::zeros(dims),
            scale: 1.0,
            hit_duplicate: false,
            shadow: None,
            done: false,
        }
    }

    /// Makes the visitor ready for another tree, keeping its buffers.
    pub fn reset(&mut self, tree_mass: u32) {
        self.tree_mass = tree_mass;
        self.score = 0.0;
        self.parts.fill(0.0);
        self.scale = 1.0;
        self.hit_duplicate = false;
        self.shadow = None;
        self.done = false;
    }

    /// Adds this tree's attribution, scaled to total its normalised score, into `sum`.
    pub fn add_result_to(&self, sum: &mut DiVector) {
        let target = normalize(self.score, self.tree_mass);
        // `scale` cancels: the parts are rescaled to the target anyway.
        let total = self.parts.total();
        if total > 0.0 {
            sum.add_scaled(&self.parts, target / total);
        } else {
            // A lone duplicate leaf: nothing separates it, so no dimension stands out.
            let share = target / (2 * sum.dims()) as f64;
            sum.high.iter_mut().chain(sum.low.iter_mut()).for_each(|v| *v += share);
        }
    }

    /// Multiplies the attribution by `factor` (the 1 − p of a level; 0 clears it).
    fn scale_by(&mut self, factor: f64) {
        self.scale *= factor;
        if self.scale < SMALLEST_SCALE {
            self.parts.scale(self.scale);
            self.scale = 1.0;
        }
    }

    /// Adds `weight` × `probability` to the attribution, shared out over the dimensions and
    /// directions in which `point` lies outside the box, in proportion to its distance outside
    /// (`gap` in total, from [`separation`]).
    fn add_separation(&mut self, point: &[f32], min: &[f32], max: &[f32], (probability, gap): (f64, f64), weight: f64) {
        if probability == 0.0 {
            return;
        }
        let factor = weight * probability / (gap * self.scale);
        let n = point.len().min(min.len()).min(max.len());
        let (high, low) = (&mut self.parts.high[..n], &mut self.parts.low[..n]);
        // Branch-free so it vectorises: most dimensions add zero.
        for i in 0..n {
            let (p, lo, hi) = (point[i] as f64, min[i] as f64, max[i] as f64);
            high[i] += positive(p - hi) * factor;
            low[i] += positive(lo - p) * factor;
        }
    }
}

/// `x` if positive, else 0, as a comparison (vectorises, unlike `f64::max`).
#[inline(always)]
fn positive(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

impl Visitor for AttributionVisitor {
    fn accept_leaf(&mut self, point: &[f32], leaf_point: &[f32], leaf_mass: u32, depth: usize) {
        if point == leaf_point {
            self.score = damp(leaf_mass, self.tree_mass) * score_seen(depth, leaf_mass);
            self.hit_duplicate = true;
        } else {
            self.score = score_unseen(depth);
            let separation = separation(point, leaf_point, leaf_point);
            self.add_separation(point, leaf_point, leaf_point, separation, self.score);
        }
    }

    fn accept_node(
        &mut self,
        point: &[f32],
        min: &[f32],
        max: &[f32],
        sibling: (&[f32], &[f32]),
        _mass: u32,
        depth: usize,
    ) {
        let shadow = if self.hit_duplicate {
            let (smin, smax) = self.shadow.get_or_insert_with(|| (sibling.0.to_vec(), sibling.1.to_vec()));
            for i in 0..smin.len() {
                smin[i] = smin[i].min(sibling.0[i]);
                smax[i] = smax[i].max(sibling.1[i]);
            }
            self.shadow.take()
        } else {
            None
        };
        let (min, max) = shadow.as_ref().map_or((min, max), |(smin, smax)| (&smin[..], &smax[..]));
        // The probability the score visitor uses, so the attribution's total is the score.
        let separation = separation(point, min, max);
        let prob = separation.0;
        if prob == 0.0 {
            self.done = true;
        } else {
            let unseen = score_unseen(depth);
            if !self.hit_duplicate {
                self.score = (1.0 - prob) * self.score + prob * unseen;
            }
            self.scale_by(1.0 - prob);
            self.add_separation(point, min, max, separation, unseen);
        }
        self.shadow = shadow;
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn needs_sibling(&self) -> bool {
        self.hit_duplicate
    }
}
