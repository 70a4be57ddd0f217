//! For trees without cached boxes: the leaves in left-to-right order, and each internal node's
//! run of them. A node's box is then computed by reading one contiguous run instead of walking
//! its subtree, whose child links are a chain of dependent loads and whose leaf-or-node branches
//! mispredict at random; that walk was most of a lean score's time.
//!
//! Insertion and deletion move one entry and shift the later positions by one; runs of free nodes
//! are empty and never shift, so a tree's order depends only on its structure.

use super::{Index, NodeRef, Tree, NONE};

/// The leaf order and the runs; empty when the tree caches boxes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LeafOrder {
    /// Leaf indices, left to right.
    leaves: Vec<Index>,
    /// Per internal node: the position of its first leaf in `leaves`.
    first: Vec<Index>,
    /// Per internal node: its number of leaves (0 for a free node).
    count: Vec<Index>,
}

impl LeafOrder {
    pub(super) fn heap_bytes(&self) -> usize {
        (self.leaves.capacity() + self.first.capacity() + self.count.capacity()) * size_of::<Index>()
    }

    /// Makes room for internal node `node`.
    pub(super) fn reserve_node(&mut self, node: usize) {
        if node >= self.first.len() {
            self.first.resize(node + 1, 0);
            self.count.resize(node + 1, 0);
        }
    }

    /// Adds one to every non-empty run starting at or after `at`.
    fn shift_up_from(&mut self, at: usize) {
        // Positions are below 2^15, so signed 16-bit compares hold; they vectorise on SSE2.
        let at = at as i16;
        for (f, &c) in self.first.iter_mut().zip(&self.count) {
            *f = f.wrapping_add(((*f as i16 >= at) & (c != 0)) as Index);
        }
    }

    /// Takes one from every non-empty run starting after `at`.
    fn shift_down_after(&mut self, at: usize) {
        let at = at as i16;
        for (f, &c) in self.first.iter_mut().zip(&self.count) {
            *f = f.wrapping_sub(((*f as i16 > at) & (c != 0)) as Index);
        }
    }
}

impl Tree {
    /// The leaf indices below `node`, left to right. Only for trees without cached boxes.
    #[inline(always)]
    pub(super) fn leaves_below(&self, node: NodeRef) -> &[Index] {
        let (first, count) = self.run_of(node);
        &self.order.leaves[first..first + count]
    }

    /// Position of the first leaf of `node` in the order, and its number of leaves.
    #[inline(always)]
    fn run_of(&self, node: NodeRef) -> (usize, usize) {
        if !node.is_leaf() {
            let n = node.index();
            return (self.order.first[n] as usize, self.order.count[n] as usize);
        }
        let parent = self.leaf_parent[node.index()];
        if parent == NONE {
            return (0, 1);
        }
        let p = parent as usize;
        let first = self.order.first[p] as usize;
        if self.nodes[p].left == node {
            (first, 1)
        } else {
            (first + self.order.count[p] as usize - 1, 1)
        }
    }

    /// Records that internal node `node` was just put above `child`, which covered `child_run`
    /// before, with the new `leaf` as its other child.
    pub(super) fn order_after_splice(&mut self, node: usize, leaf: NodeRef, child_run: (usize, usize)) {
        if self.cache_boxes {
            return;
        }
        let (first, count) = child_run;
        let at = if self.nodes[node].left == leaf { first } else { first + count };
        self.order.shift_up_from(at);
        self.order.leaves.insert(at, leaf.index() as Index);
        self.order.reserve_node(node);
        self.order.first[node] = first as Index;
        self.order.count[node] = (count + 1) as Index;
        // Ancestors gained the leaf; one that started at the child now starts at the new leaf.
        let mut up = self.nodes[node].parent;
        while up != NONE {
            let u = up as usize;
            self.order.count[u] += 1;
            self.order.first[u] = self.order.first[u].min(at as Index);
            up = self.nodes[u].parent;
        }
    }

    /// The run of `node`, for [`Tree::order_after_splice`]; nothing without a leaf order.
    pub(super) fn run_before_splice(&self, node: NodeRef) -> (usize, usize) {
        if self.cache_boxes {
            return (0, 0);
        }
        self.run_of(node)
    }

    /// Records `leaf` as the only leaf of a tree that was empty.
    pub(super) fn order_first_leaf(&mut self, leaf: NodeRef) {
        if !self.cache_boxes {
            self.order.leaves = vec![leaf.index() as Index];
        }
    }

    /// Removes `leaf`, about to be cut out together with its parent `parent`, from the order.
    pub(super) fn order_before_removal(&mut self, leaf: NodeRef, parent: Index) {
        if self.cache_boxes {
            return;
        }
        let (at, _) = self.run_of(leaf);
        self.order.leaves.remove(at);
        if parent == NONE {
            return;
        }
        self.order.shift_down_after(at);
        let mut up = self.nodes[parent as usize].parent;
        while up != NONE {
            self.order.count[up as usize] -= 1;
            up = self.nodes[up as usize].parent;
        }
        self.order.first[parent as usize] = 0;
        self.order.count[parent as usize] = 0;
    }

    /// The leaf order of the current structure, computed from scratch (on load, and to check the
    /// maintained one). A child out of range or a node reached twice is an error, not a panic.
    pub(super) fn computed_leaf_order(&self) -> Result<LeafOrder, String> {
        if self.cache_boxes {
            return Ok(LeafOrder::default());
        }
        let nodes = self.nodes.len();
        let mut order = LeafOrder { leaves: Vec::new(), first: vec![0; nodes], count: vec![0; nodes] };
        let mut seen = vec![false; nodes];
        let mut stack = vec![(self.root, false)];
        while let Some((node, children_done)) = stack.pop() {
            if node.is_null() {
                continue;
            }
            if node.is_leaf() {
                if node.index() >= self.leaf_slot.len() || order.leaves.len() >= self.leaf_slot.len() {
                    return Err("leaf out of range or reached twice".into());
                }
                order.leaves.push(node.index() as Index);
                continue;
            }
            let n = node.index();
            if children_done {
                order.count[n] = (order.leaves.len() - order.first[n] as usize) as Index;
                continue;
            }
            match seen.get_mut(n) {
                Some(s) if !*s => *s = true,
                _ => return Err(format!("node {n} out of range or reached twice")),
            }
            order.first[n] = order.leaves.len() as Index;
            stack.push((node, true));
            stack.push((self.nodes[n].right, false));
            stack.push((self.nodes[n].left, false));
        }
        Ok(order)
    }

    /// Checks the maintained leaf order against one computed from the structure.
    pub(super) fn check_leaf_order(&self) -> Result<(), String> {
        if self.order != self.computed_leaf_order()? {
            return Err("leaf order does not match the tree".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::Tree;
    use crate::point_store::PointStore;
    use crate::rng::TreeRng;

    fn lean_tree(points: &[[f32; 2]]) -> (Tree, PointStore) {
        let mut store = PointStore::new(2, 0);
        let mut tree = Tree::new(2, false);
        let mut rng = TreeRng::seed_from_u64(1);
        for p in points {
            let slot = store.insert(p);
            let used = tree.insert(slot, &store, &mut rng);
            store.add_ref(used);
        }
        (tree, store)
    }

    #[test]
    fn the_root_run_lists_every_leaf_left_to_right() {
        let (tree, store) = lean_tree(&[[0.0, 0.0], [3.0, 0.0], [1.0, 2.0], [2.0, 1.0]]);
        let from_walk: Vec<u32> = tree.leaves().iter().map(|&(slot, _)| slot).collect();
        let from_run: Vec<u32> = tree.leaves_below(tree.root).iter().map(|&l| tree.leaf_slot[l as usize]).collect();
        assert_eq!(from_run, from_walk);
        assert_eq!(from_run.len(), 4);
        assert_eq!(tree.check(&store), Ok(()));
    }

    #[test]
    fn an_order_out_of_step_with_the_tree_fails_the_check() {
        let (mut tree, store) = lean_tree(&[[0.0, 0.0], [3.0, 0.0], [1.0, 2.0]]);
        tree.order.leaves.swap(0, 1);
        assert_eq!(tree.check(&store), Err("leaf order does not match the tree".into()));
        tree.order.leaves.swap(0, 1);
        tree.order.count[0] += 1;
        assert_eq!(tree.check(&store), Err("leaf order does not match the tree".into()));
    }
}
