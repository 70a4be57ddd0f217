//! Near neighbours of a point among the sampled points, and a density estimate built on them.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::forest::Forest;
use crate::input::check_point;

/// A sampled point near the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// The sampled (shingled) point.
    pub point: Vec<f32>,
    /// Euclidean distance to the query.
    pub distance: f64,
    /// Fraction of trees whose leaf for the query was this point.
    pub tree_fraction: f64,
}

impl Forest {
    /// Sampled points that the trees place next to the next input: in every tree, the leaf the
    /// shingled point falls into is a candidate. Sorted by distance, at most `k`.
    pub fn near_neighbours(&self, input: &[f32], k: usize) -> Result<Vec<Neighbour>, InputError> {
        check_point(input, self.config.input_dims)?;
        let mut point = Vec::with_capacity(self.config.dimensions());
        self.shingle.point_with(input, &mut point);
        Ok(self.near_neighbours_of_point(&point, k))
    }

    /// As [`Forest::near_neighbours`], for a whole (already shingled) point of the forest's
    /// dimensions.
    pub(crate) fn near_neighbours_of_point(&self, point: &[f32], k: usize) -> Vec<Neighbour> {
        let mut votes: Vec<(u32, usize)> = Vec::new();
        let nothing_missing = vec![false; point.len()];
        for t in &self.trees {
            if let Some(leaf) = t.tree.impute_leaf(point, &nothing_missing, &self.store) {
                match votes.iter_mut().find(|(slot, _)| *slot == leaf.slot) {
                    Some(entry) => entry.1 += 1,
                    None => votes.push((leaf.slot, 1)),
                }
            }
        }
        let mut out: Vec<Neighbour> = votes
            .into_iter()
            .map(|(slot, count)| {
                let p = self.store.get(slot);
                let distance = p.iter().zip(point).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt();
                Neighbour { point: p.to_vec(), distance, tree_fraction: count as f64 / self.trees.len() as f64 }
            })
            .collect();
        out.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        out.truncate(k);
        out
    }

    /// Density of the sample around the next input: the tree-weighted fraction of the sample per
    /// unit of L1 volume around the query, `Σ fraction / (1 + distance)^d` — high near dense
    /// regions, falling off with distance. Comparable across points of one forest, not across forests.
    pub fn density(&self, input: &[f32]) -> Result<f64, InputError> {
        let dims = self.config.dimensions() as i32;
        let neighbours = self.near_neighbours(input, usize::MAX)?;
        Ok(neighbours.iter().map(|n| n.tree_fraction / (1.0 + n.distance).powi(dims.min(8))).sum())
    }
}
