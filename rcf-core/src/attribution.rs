//! Attribution: the score visitor's recurrence carried per dimension and direction, so the parts
//! add up to the score (AWS's `AttributionVisitor`, including its shadow box for duplicates).

use crate::divector::DiVector;
use crate::score::{damp, normalize, score_seen, score_unseen};
use crate::tree::Visitor;

/// Computes one tree's attribution along the query's path.
pub struct AttributionVisitor {
    tree_mass: u32,
    score: f64,
    attribution: DiVector,
    probability: DiVector,
    /// The point equals its leaf: boxes are taken without that leaf (the "shadow box").
    hit_duplicate: bool,
    shadow: Option<(Vec<f32>, Vec<f32>)>,
    done: bool,
}

impl AttributionVisitor {
    /// A visitor for a tree holding `tree_mass` points of `dims` values.
    pub fn new(tree_mass: u32, dims: usize) -> Self {
        AttributionVisitor {
            tree_mass,
            score: 0.0,
            attribution: DiVector::zeros(dims),
            probability: DiVector::zeros(dims),
            hit_duplicate: false,
            shadow: None,
            done: false,
        }
    }

    /// Adds this tree's attribution, scaled to total its normalised score, into `sum`.
    pub fn add_result_to(&self, sum: &mut DiVector) {
        let target = normalize(self.score, self.tree_mass);
        let total = self.attribution.total();
        if total > 0.0 {
            sum.add_scaled(&self.attribution, target / total);
        } else {
            // A lone duplicate leaf: nothing separates it, so no dimension stands out.
            let share = target / (2 * sum.dims()) as f64;
            sum.high.iter_mut().chain(sum.low.iter_mut()).for_each(|v| *v += share);
        }
    }

    /// Adds `factor` × the current separation shares to the attribution.
    fn add_probability_scaled(&mut self, factor: f64) {
        let (attribution, probability) = (&mut self.attribution, &self.probability);
        attribution.add_scaled(probability, factor);
    }

    /// Sets `probability` to the per-direction separation shares of `point` against the box;
    /// returns their total.
    fn assign_probability(&mut self, point: &[f32], min: &[f32], max: &[f32]) -> f64 {
        let mut span = 0.0f64;
        for i in 0..point.len() {
            let (p, lo, hi) = (point[i] as f64, min[i] as f64, max[i] as f64);
            let above = (p - hi).max(0.0);
            let below = (lo - p).max(0.0);
            self.probability.high[i] = above;
            self.probability.low[i] = below;
            span += hi.max(p) - lo.min(p);
        }
        if span <= 0.0 {
            self.probability.fill(0.0);
            return 0.0;
        }
        self.probability.scale(1.0 / span);
        self.probability.total()
    }
}

impl Visitor for AttributionVisitor {
    fn accept_leaf(&mut self, point: &[f32], leaf_point: &[f32], leaf_mass: u32, depth: usize) {
        if point == leaf_point {
            self.score = damp(leaf_mass, self.tree_mass) * score_seen(depth, leaf_mass);
            self.hit_duplicate = true;
        } else {
            self.score = score_unseen(depth);
            self.assign_probability(point, leaf_point, leaf_point);
            self.add_probability_scaled(self.score);
        }
    }

    fn accept_node(&mut self, point: &[f32], min: &[f32], max: &[f32], sibling: (&[f32], &[f32]), _mass: u32, depth: usize) {
        let prob = if self.hit_duplicate {
            let (smin, smax) = self.shadow.get_or_insert_with(|| (sibling.0.to_vec(), sibling.1.to_vec()));
            for i in 0..smin.len() {
                smin[i] = smin[i].min(sibling.0[i]);
                smax[i] = smax[i].max(sibling.1[i]);
            }
            let (smin, smax) = self.shadow.take().expect("shadow box was just set");
            let prob = self.assign_probability(point, &smin, &smax);
            self.shadow = Some((smin, smax));
            prob
        } else {
            self.assign_probability(point, min, max)
        };
        if prob == 0.0 {
            self.done = true;
            return;
        }
        let unseen = score_unseen(depth);
        if !self.hit_duplicate {
            self.score = (1.0 - prob) * self.score + prob * unseen;
        }
        self.attribution.scale(1.0 - prob);
        self.add_probability_scaled(unseen);
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
