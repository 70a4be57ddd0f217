//! Structural checks: used by property tests and by the model loader on untrusted files.

use super::{NodeRef, Tree, NONE};
use crate::point_store::PointStore;

impl Tree {
    /// Checks every invariant: parent links, masses, exact boxes, cut placement, index bounds.
    /// Returns a description of the first violation.
    pub fn check(&self, store: &PointStore) -> Result<(), String> {
        let dims = self.dims;
        let nodes = self.nodes.len();
        let leaves = self.leaf_slot.len();
        if self.bounds.len() != if self.cache_boxes { nodes * 2 * dims } else { 0 } {
            return Err("internal node arrays differ in length".into());
        }
        if self.leaf_mass.len() != leaves || self.leaf_parent.len() != leaves {
            return Err("leaf arrays differ in length".into());
        }
        if store.dims() != dims {
            return Err("point dimensions differ between tree and point store".into());
        }
        // The boxes checked below are computed from the leaf order when none are cached.
        self.check_leaf_order()?;
        if self.root.is_null() {
            return self.check_free_lists(&vec![false; nodes], &vec![false; leaves]);
        }
        let in_range = |r: NodeRef| !r.is_null() && if r.is_leaf() { r.index() < leaves } else { r.index() < nodes };
        if !in_range(self.root) || self.parent_of(self.root) != NONE {
            return Err("bad root".into());
        }
        // Iterative post-order walk; `visited` guards against cycles in hostile input.
        let mut visited_nodes = vec![false; nodes];
        let mut visited_leaves = vec![false; leaves];
        let mut stack = vec![(self.root, false)];
        while let Some((node, children_done)) = stack.pop() {
            if node.is_leaf() {
                let l = node.index();
                if std::mem::replace(&mut visited_leaves[l], true) {
                    return Err(format!("leaf {l} reached twice"));
                }
                if self.leaf_mass[l] == 0 || self.leaf_slot[l] as usize >= store.capacity() {
                    return Err(format!("leaf {l} has zero mass or a slot out of range"));
                }
                continue;
            }
            let n = node.index();
            let (left, right) = (self.nodes[n].left, self.nodes[n].right);
            if !children_done {
                if std::mem::replace(&mut visited_nodes[n], true) {
                    return Err(format!("node {n} reached twice"));
                }
                if !in_range(left) || !in_range(right) {
                    return Err(format!("node {n} has a child out of range"));
                }
                if self.parent_of(left) as usize != n || self.parent_of(right) as usize != n {
                    return Err(format!("node {n}: child's parent link is wrong"));
                }
                if self.nodes[n].cut_dim as usize >= dims || !self.nodes[n].cut_value.is_finite() {
                    return Err(format!("node {n} has an invalid cut"));
                }
                stack.push((node, true));
                stack.push((left, false));
                stack.push((right, false));
                continue;
            }
            let mass = self.mass_of(left) as u64 + self.mass_of(right) as u64;
            if mass != self.nodes[n].mass as u64 {
                return Err(format!("node {n}: mass {} is not the sum of its children's ({mass})", self.nodes[n].mass));
            }
            let (mut lmin, mut lmax, mut rmin, mut rmax) =
                (vec![0.0; dims], vec![0.0; dims], vec![0.0; dims], vec![0.0; dims]);
            self.node_box(left, store, &mut lmin, &mut lmax);
            self.node_box(right, store, &mut rmin, &mut rmax);
            let (dim, value) = (self.nodes[n].cut_dim as usize, self.nodes[n].cut_value);
            if !(lmax[dim] <= value && value < rmin[dim]) {
                return Err(format!("node {n}: cut {value} on dimension {dim} does not separate its children"));
            }
            for i in (0..dims).filter(|_| self.cache_boxes) {
                if self.min_of(n)[i] != lmin[i].min(rmin[i]) || self.max_of(n)[i] != lmax[i].max(rmax[i]) {
                    return Err(format!("node {n}: box is not the union of its children's boxes"));
                }
            }
        }
        self.check_free_lists(&visited_nodes, &visited_leaves)
    }

    /// Every slot is either reachable or on its free list, exactly once.
    fn check_free_lists(&self, reachable_nodes: &[bool], reachable_leaves: &[bool]) -> Result<(), String> {
        for (free, reachable, what) in
            [(&self.free_nodes, reachable_nodes, "node"), (&self.free_leaves, reachable_leaves, "leaf")]
        {
            let mut seen = reachable.to_vec();
            for &i in free {
                match seen.get_mut(i as usize) {
                    Some(flag) if !*flag => *flag = true,
                    _ => return Err(format!("free {what} {i} is out of range, in use, or listed twice")),
                }
            }
            if seen.iter().any(|&s| !s) {
                return Err(format!("a {what} is neither reachable nor free"));
            }
        }
        Ok(())
    }
}
