//! Insertion that preserves the tree distribution (Guha et al., Theorem 4), in AWS's bottom-up form:
//! walk from the leaf towards the root, draw a cut of (node box ∪ point) at every level, and place the
//! new node at the highest level whose cut separates the point.

use super::{separating_cut, with_two_boxes, Cut, Index, NodeRef, Tree, NONE};
use crate::point_store::PointStore;
use crate::rng::{uniform, TreeRng};
use crate::score::separation_probability;

impl Tree {
    /// Inserts the point in `slot`. Returns the slot the tree now references for it: `slot` itself, or
    /// the slot of an equal point already present (whose leaf mass was incremented).
    pub fn insert(&mut self, slot: u32, store: &PointStore, rng: &mut TreeRng) -> u32 {
        let point = store.get(slot);
        if self.root.is_null() {
            self.root = self.new_leaf(slot, NONE);
            self.order_first_leaf(self.root);
            return slot;
        }
        let (leaf, _) = self.descend(point);
        let leaf_slot = self.leaf_slot[leaf.index()];
        if store.get(leaf_slot) == point {
            self.leaf_mass[leaf.index()] += 1;
            self.add_mass_above(self.leaf_parent[leaf.index()]);
            return leaf_slot;
        }

        // At each level a random cut of (box ∪ point) separates the point with probability
        // gap/span; conditioned on separating, the cut is uniform over the gap. So draw only the
        // decision per level, and the cut itself once, at the highest separating level. Once the
        // point lies inside a box, no ancestor's cut can separate it, so the walk stops there.
        let leaf_point = store.get(leaf_slot);
        // The box of the current level, grown level by level (copied from the cache when there
        // is one), and the box of the highest separating level so far.
        let (chosen, cut) = with_two_boxes(self.dims, |(min, max), (chosen_min, chosen_max)| {
            min.copy_from_slice(leaf_point);
            max.copy_from_slice(leaf_point);
            chosen_min.copy_from_slice(leaf_point);
            chosen_max.copy_from_slice(leaf_point);
            let mut chosen = leaf;
            let mut child = leaf;
            loop {
                let p = separation_probability(point, min, max);
                if p == 0.0 {
                    break;
                }
                if uniform(rng) < p {
                    chosen = child;
                    chosen_min.copy_from_slice(min);
                    chosen_max.copy_from_slice(max);
                }
                let parent = self.parent_of(child);
                if parent == NONE {
                    break;
                }
                let n = parent as usize;
                if self.cache_boxes {
                    min.copy_from_slice(self.min_of(n));
                    max.copy_from_slice(self.max_of(n));
                } else {
                    // Growing stops once the box holds the point: then p = 0 here, as it would be
                    // with the whole box, and the walk ends.
                    let other = if self.nodes[n].left == child { self.nodes[n].right } else { self.nodes[n].left };
                    self.grow_box_until_it_holds(other, store, min, max, point);
                }
                child = NodeRef::internal(parent);
            }
            // The leaf level always separates two distinct points (p = 1 there), so a cut exists.
            let cut = separating_cut(uniform(rng), point, chosen_min, chosen_max)
                .expect("distinct points always admit a separating cut");
            (chosen, cut)
        });
        self.splice_above(chosen, cut, slot, store);
        slot
    }

    /// Puts a new internal node with `cut` between `child` and its parent, with a new leaf for `slot`.
    fn splice_above(&mut self, child: NodeRef, cut: Cut, slot: u32, store: &PointStore) {
        let point = store.get(slot);
        let grand = self.parent_of(child);
        let child_run = self.run_before_splice(child);
        let node = self.new_node(cut, grand);
        let leaf = self.new_leaf(slot, node as Index);
        let (left, right) = if point[cut.dim] <= cut.value { (leaf, child) } else { (child, leaf) };
        self.nodes[node].left = left;
        self.nodes[node].right = right;
        self.nodes[node].mass = (self.mass_of(child) + 1) as Index;
        self.set_parent(child, node as Index);

        let dims = self.dims;
        let start = node * 2 * dims;
        for i in (0..dims).filter(|_| self.cache_boxes) {
            let (min, max) = {
                let (cmin, cmax) = self.box_of(child, store);
                (cmin[i].min(point[i]), cmax[i].max(point[i]))
            };
            self.bounds[start + i] = min;
            self.bounds[start + dims + i] = max;
        }

        let new_ref = NodeRef::internal(node);
        if grand == NONE {
            self.root = new_ref;
        } else {
            let g = grand as usize;
            if self.nodes[g].left == child {
                self.nodes[g].left = new_ref;
            } else {
                self.nodes[g].right = new_ref;
            }
            self.extend_boxes_above(grand, point);
        }
        self.order_after_splice(node, leaf, child_run);
    }

    fn add_mass_above(&mut self, mut node: Index) {
        while node != NONE {
            self.nodes[node as usize].mass += 1;
            node = self.nodes[node as usize].parent;
        }
    }

    /// Adds one to the mass of `node` and its ancestors and grows their boxes to hold `point`.
    fn extend_boxes_above(&mut self, mut node: Index, point: &[f32]) {
        let dims = self.dims;
        while node != NONE {
            let n = node as usize;
            self.nodes[n].mass += 1;
            if !self.cache_boxes {
                node = self.nodes[n].parent;
                continue;
            }
            let start = n * 2 * dims;
            let (mins, maxs) = self.bounds[start..start + 2 * dims].split_at_mut(dims);
            for i in 0..dims {
                mins[i] = mins[i].min(point[i]);
                maxs[i] = maxs[i].max(point[i]);
            }
            node = self.nodes[n].parent;
        }
    }
}
