//! Deletion (Guha et al., Theorem 2): remove the leaf and splice its sibling into the parent's place.

use super::{Index, NodeRef, Tree, NONE};
use crate::point_store::PointStore;

/// The tree did not contain the point asked for; the tree is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotInTree;

impl Tree {
    /// Removes one copy of the point in `slot`.
    pub fn delete(&mut self, slot: u32, store: &PointStore) -> Result<(), NotInTree> {
        let point = store.get(slot);
        let (leaf, _) = self.descend(point);
        if leaf.is_null() || self.leaf_slot[leaf.index()] != slot {
            return Err(NotInTree);
        }
        let l = leaf.index();
        let parent = self.leaf_parent[l];
        if self.leaf_mass[l] > 1 {
            self.leaf_mass[l] -= 1;
            self.shrink_above(parent, None, store);
            return Ok(());
        }
        self.order_before_removal(leaf, parent);
        self.free_leaves.push(l as Index);
        if parent == NONE {
            self.root = NodeRef::NULL;
            return Ok(());
        }
        let p = parent as usize;
        let sibling = if self.nodes[p].left == leaf { self.nodes[p].right } else { self.nodes[p].left };
        let grand = self.nodes[p].parent;
        self.set_parent(sibling, grand);
        self.free_nodes.push(parent);
        if grand == NONE {
            self.root = sibling;
        } else {
            let g = grand as usize;
            if self.nodes[g].left == NodeRef::internal(parent) {
                self.nodes[g].left = sibling;
            } else {
                self.nodes[g].right = sibling;
            }
            self.shrink_above(grand, Some(point), store);
        }
        Ok(())
    }

    /// Subtracts one from the mass of `node` and its ancestors. When `removed` is given, boxes are
    /// recomputed from the children until one no longer changes (then none above it can).
    fn shrink_above(&mut self, mut node: Index, removed: Option<&[f32]>, store: &PointStore) {
        let mut boxes_may_change = removed.is_some() && self.cache_boxes;
        while node != NONE {
            let n = node as usize;
            self.nodes[n].mass -= 1;
            if boxes_may_change {
                boxes_may_change = self.recompute_box(n, store);
            }
            node = self.nodes[n].parent;
        }
    }

    /// Sets the box of internal node `n` to the union of its children's; returns whether it changed.
    fn recompute_box(&mut self, n: usize, store: &PointStore) -> bool {
        let dims = self.dims;
        let (left, right) = (self.nodes[n].left, self.nodes[n].right);
        let mut changed = false;
        for i in 0..dims {
            let (lmin, lmax) = self.box_of(left, store);
            let (rmin, rmax) = self.box_of(right, store);
            let (min, max) = (lmin[i].min(rmin[i]), lmax[i].max(rmax[i]));
            let start = n * 2 * dims;
            if self.bounds[start + i] != min || self.bounds[start + dims + i] != max {
                changed = true;
                self.bounds[start + i] = min;
                self.bounds[start + dims + i] = max;
            }
        }
        changed
    }
}
