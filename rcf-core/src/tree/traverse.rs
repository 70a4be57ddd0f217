//! Leaf-to-root traversal: the one walk that every query (score, attribution) plugs into.

use super::{NodeRef, Tree, NONE};
use crate::point_store::PointStore;

/// A computation carried along the path of a query point, from its leaf up to the root.
pub trait Visitor {
    /// Called first, at the leaf the point falls into, with the leaf's point, multiplicity and depth.
    fn accept_leaf(&mut self, point: &[f32], leaf_point: &[f32], leaf_mass: u32, depth: usize);
    /// Called at each ancestor with its box (`min`, `max`), the box of its child that is *off* the
    /// path (`sibling`), its mass and its depth — unless [`Visitor::is_done`].
    fn accept_node(
        &mut self,
        point: &[f32],
        min: &[f32],
        max: &[f32],
        sibling: (&[f32], &[f32]),
        mass: u32,
        depth: usize,
    );
    /// True once nothing further up can change the result (the point lies inside a box).
    fn is_done(&self) -> bool;
}

impl Tree {
    /// Runs `visitor` over the path of `point`. Does nothing on an empty tree.
    #[inline]
    pub fn traverse(&self, point: &[f32], store: &PointStore, visitor: &mut impl Visitor) {
        let (leaf, mut depth) = self.descend(point);
        if leaf.is_null() {
            return;
        }
        let l = leaf.index();
        visitor.accept_leaf(point, store.get(self.leaf_slot[l]), self.leaf_mass[l], depth);
        let mut child = leaf;
        let mut node = self.leaf_parent[l];
        while node != NONE && !visitor.is_done() {
            depth -= 1;
            let n = node as usize;
            let sibling = if self.left[n] == child { self.right[n] } else { self.left[n] };
            visitor.accept_node(point, self.min_of(n), self.max_of(n), self.box_of(sibling, store), self.mass[n], depth);
            child = NodeRef::internal(node);
            node = self.parent[n];
        }
    }
}
