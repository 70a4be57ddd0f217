//! The score's walk up a tree from the leaf a point reached: by the visitor, and written out
//! for points of one to eight dimensions.

#[cfg(target_arch = "x86_64")]
use super::Visitor;
use super::{NodeRef, Tree};
use crate::point_store::PointStore;
#[cfg(target_arch = "x86_64")]
use crate::score::NarrowPoint;
use crate::score::ScoreVisitor;

impl Tree {
    /// The raw (unnormalised) score of `point`, held in `narrow`, given the leaf and depth its
    /// descent reached: what [`Tree::raw_score`] gives, bit for bit, in about half the
    /// instructions per level (no loop over groups of dimensions, one bounds check per box).
    ///
    /// Trees without cached boxes, or of another width than `point`, take the visitor's walk.
    ///
    /// `narrow` must hold `point` for the score to be right.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) unsafe fn narrow_score(
        &self,
        leaf: NodeRef,
        depth: usize,
        point: &[f32],
        narrow: &NarrowPoint,
        store: &PointStore,
        tree_mass: u32,
    ) -> f64 {
        if !self.cache_boxes || point.len() != self.dims {
            return self.raw_score(leaf, depth, point, store, tree_mass);
        }
        if leaf.is_null() {
            return 0.0;
        }
        // `visit_from` with the visitor's steps written out, reading each box as one slice.
        let mut visitor = ScoreVisitor::new(tree_mass);
        let l = leaf.index();
        visitor.accept_leaf(point, store.get(self.leaf_slot[l]), self.leaf_mass[l] as u32, depth);
        let (mut at, mut depth) = (self.leaf_parent[l] as usize, depth);
        let width = 2 * self.dims;
        // `NONE`, the root's parent, is past the last node.
        while let (false, Some(node)) = (visitor.is_done(), self.nodes.get(at)) {
            let Some(bounds) = self.bounds.get(at * width..(at + 1) * width) else { break };
            depth -= 1;
            // SAFETY: the CPU has AVX2 (the caller's promise).
            visitor.accept_separation(unsafe { narrow.separation_probability(point, bounds) }, depth);
            at = node.parent as usize;
        }
        visitor.raw()
    }

    /// The raw (unnormalised) score of `point` by [`ScoreVisitor`], given the leaf and depth its
    /// descent reached, in a tree holding `tree_mass` points.
    #[inline(always)]
    pub(crate) fn raw_score(
        &self,
        leaf: NodeRef,
        depth: usize,
        point: &[f32],
        store: &PointStore,
        tree_mass: u32,
    ) -> f64 {
        let mut visitor = ScoreVisitor::new(tree_mass);
        self.visit_from(leaf, depth, point, store, &mut visitor);
        visitor.raw()
    }
}
