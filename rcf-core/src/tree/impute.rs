//! Conditional imputation on one tree (after AWS's `ImputeVisitor`): descend with the known
//! values; where a cut falls on a missing dimension, explore both sides and keep the side where the
//! known values fit best (the lower anomaly score). The leaf reached supplies the missing values.

use super::{NodeRef, Tree};
use crate::point_store::PointStore;
use crate::score::{damp, score_seen, score_unseen};

/// Best leaf for a partly known point: its slot and the (raw) score of the known values there.
#[derive(Debug, Clone, Copy)]
pub struct ImputedLeaf {
    /// Slot of the chosen leaf's point.
    pub slot: u32,
    /// Raw score of the known values against that branch (lower fits better).
    pub score: f64,
}

impl Tree {
    /// The leaf that best completes `point`, whose dimensions with `missing[i]` are unknown.
    /// `None` on an empty tree.
    pub fn impute_leaf(&self, point: &[f32], missing: &[bool], store: &PointStore) -> Option<ImputedLeaf> {
        if self.root.is_null() {
            return None;
        }
        Some(self.impute_from(self.root, 0, point, missing, store))
    }

    fn impute_from(
        &self,
        node: NodeRef,
        depth: usize,
        point: &[f32],
        missing: &[bool],
        store: &PointStore,
    ) -> ImputedLeaf {
        if node.is_leaf() {
            let l = node.index();
            let slot = self.leaf_slot[l];
            let leaf = store.get(slot);
            let equal = point.iter().zip(leaf).zip(missing).all(|((p, q), &m)| m || p == q);
            let mass = self.leaf_mass[l] as u32;
            let score = if equal { damp(mass, self.mass()) * score_seen(depth, mass) } else { score_unseen(depth) };
            return ImputedLeaf { slot, score };
        }
        let n = node.index();
        let dim = self.nodes[n].cut_dim as usize;
        let child = if missing[dim] {
            let left = self.impute_from(self.nodes[n].left, depth + 1, point, missing, store);
            let right = self.impute_from(self.nodes[n].right, depth + 1, point, missing, store);
            if right.score < left.score {
                right
            } else {
                left
            }
        } else {
            let next = if point[dim] <= self.nodes[n].cut_value { self.nodes[n].left } else { self.nodes[n].right };
            self.impute_from(next, depth + 1, point, missing, store)
        };
        let (mut min, mut max) = (vec![0.0; self.dims], vec![0.0; self.dims]);
        self.node_box(node, store, &mut min, &mut max);
        let p = known_separation(point, missing, &min, &max);
        ImputedLeaf { slot: child.slot, score: (1.0 - p) * child.score + p * score_unseen(depth) }
    }
}

/// Separation probability over the known dimensions only.
fn known_separation(point: &[f32], missing: &[bool], min: &[f32], max: &[f32]) -> f64 {
    let (mut gap, mut span) = (0.0f64, 0.0f64);
    for i in 0..point.len() {
        if missing[i] {
            span += max[i] as f64 - min[i] as f64;
            continue;
        }
        let (p, lo, hi) = (point[i] as f64, min[i] as f64, max[i] as f64);
        let outside = (lo - p).max(0.0) + (p - hi).max(0.0);
        gap += outside;
        span += hi - lo + outside;
    }
    if gap == 0.0 || span <= 0.0 {
        0.0
    } else {
        gap / span
    }
}
