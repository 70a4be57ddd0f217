//! Leaf-to-root traversal: the one walk that every query (score, attribution) plugs into.

use super::{grow_box, with_two_boxes, Node, NodeRef, Tree, LEAF_BIT, NONE};
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

    /// Whether the next [`Visitor::accept_node`] reads `sibling`; when false an empty box is
    /// passed and the walk avoids loading the sibling (often a leaf point elsewhere in memory).
    fn needs_sibling(&self) -> bool {
        true
    }
}

/// Hints the CPU to start loading the cache line at `address` (no effect elsewhere than x86_64).
/// Prefetching is a hint: it never faults, whatever the address.
#[inline(always)]
fn prefetch(address: *const f32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults, even for an address outside any allocation.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Boxes at least this wide (in dimensions) are prefetched by one point's descent through a
/// group of trees, where they are often out of cache. Narrower boxes, and batch descents (one
/// tree kept in cache for many points), measured faster without it (see benches/README.md).
const WIDE_BOX: usize = 16;

/// Descents made together by [`descend_group`] and [`descend_points`].
pub const GROUP: usize = 8;

/// Descends up to [`GROUP`] trees in lockstep, one level of every tree per step. A descent is a
/// chain of dependent loads; interleaving independent chains lets the memory system serve several
/// at once instead of waiting on each miss in turn.
#[inline]
pub fn descend_group(trees: &[&Tree], point: &[f32]) -> [(NodeRef, usize); GROUP] {
    // Trees of one forest share their width and whether they cache boxes.
    if trees.first().is_some_and(|tree| tree.dims >= WIDE_BOX && tree.cache_boxes) {
        descend_lockstep::<true>(trees.len(), |k| trees[k], |_| point)
    } else {
        descend_lockstep::<false>(trees.len(), |k| trees[k], |_| point)
    }
}

/// Descends one tree with up to [`GROUP`] points in lockstep (see [`descend_group`]); the
/// portable [`BatchDescent`](super::BatchDescent) uses it to keep one tree in cache while many
/// points pass through it.
#[inline]
pub fn descend_points(tree: &Tree, points: &[&[f32]]) -> [(NodeRef, usize); GROUP] {
    descend_lockstep::<false>(points.len(), |_| tree, |k| points[k])
}

/// The leaf (and its depth) that descent `k` of `n` (at most [`GROUP`]) reaches with
/// `point_of(k)` in `tree_of(k)`.
///
/// Branch-free per step: every slot takes a step each round, and a slot that has reached its leaf
/// (or never started) steps onto itself. Which slot finishes when is unpredictable, so testing
/// each slot cost a mispredicted branch per descent; the idle steps cost less.
#[inline(always)]
fn descend_lockstep<'a, const PREFETCH: bool>(
    n: usize,
    tree_of: impl Fn(usize) -> &'a Tree,
    point_of: impl Fn(usize) -> &'a [f32],
) -> [(NodeRef, usize); GROUP] {
    // Read by finished slots: a leaf reference, or `NONE`, is never a node index.
    const IDLE: Node =
        Node { cut_value: 0.0, cut_dim: 0, left: NodeRef::NULL, right: NodeRef::NULL, parent: NONE, mass: 0 };
    let n = n.min(GROUP);
    let mut at = [NONE; GROUP];
    let mut depth = [0usize; GROUP];
    for (k, slot) in at.iter_mut().enumerate().take(n) {
        *slot = tree_of(k).root.0;
    }
    loop {
        let mut unfinished = 0;
        for (k, (slot, depth)) in at.iter_mut().zip(&mut depth).enumerate().take(n) {
            let node = *slot;
            let finished = node & LEAF_BIT != 0;
            let tree = tree_of(k);
            let split = tree.nodes.get(node as usize).unwrap_or(&IDLE);
            // The walk back up will read the boxes of the deepest nodes of this path.
            if PREFETCH && *depth >= 2 && !finished {
                prefetch(tree.bounds.as_ptr().wrapping_add(node as usize * 2 * tree.dims));
            }
            let point = point_of(k);
            let next = if point[split.cut_dim as usize] <= split.cut_value { split.left.0 } else { split.right.0 };
            let next = if finished { node } else { next };
            *depth += usize::from(!finished);
            unfinished |= !next & LEAF_BIT;
            *slot = next;
        }
        if unfinished == 0 {
            break;
        }
    }
    std::array::from_fn(|k| (NodeRef(at[k]), depth[k]))
}

impl Tree {
    /// Runs `visitor` from `leaf` (at `depth`, as found by a descent with `point`) up to the root.
    #[inline(always)]
    pub fn visit_from<V: Visitor>(
        &self,
        leaf: NodeRef,
        mut depth: usize,
        point: &[f32],
        store: &PointStore,
        visitor: &mut V,
    ) {
        if leaf.is_null() {
            return;
        }
        let l = leaf.index();
        visitor.accept_leaf(point, store.get(self.leaf_slot[l]), self.leaf_mass[l] as u32, depth);
        if !self.cache_boxes {
            return self.visit_from_uncached(leaf, depth, point, store, visitor);
        }
        let mut child = leaf;
        let mut node = self.leaf_parent[l];
        while node != NONE && !visitor.is_done() {
            depth -= 1;
            let n = node as usize;
            let sibling = if visitor.needs_sibling() {
                let other = if self.nodes[n].left == child { self.nodes[n].right } else { self.nodes[n].left };
                self.box_of(other, store)
            } else {
                (&[][..], &[][..])
            };
            visitor.accept_node(point, self.min_of(n), self.max_of(n), sibling, self.nodes[n].mass as u32, depth);
            child = NodeRef::internal(node);
            node = self.nodes[n].parent;
        }
    }

    /// The walk without cached boxes: each ancestor's box is the running box grown by the box of
    /// the sibling subtree, computed from its leaves.
    fn visit_from_uncached<V: Visitor>(
        &self,
        leaf: NodeRef,
        depth: usize,
        point: &[f32],
        store: &PointStore,
        visitor: &mut V,
    ) {
        with_two_boxes(self.dims, |(min, max), sibling| {
            let leaf_point = store.get(self.leaf_slot[leaf.index()]);
            min.copy_from_slice(leaf_point);
            max.copy_from_slice(leaf_point);
            self.walk_up_uncached(leaf, depth, point, store, visitor, (min, max), sibling);
        });
    }

    /// The loop of [`Tree::visit_from_uncached`], given the running box (starting as the leaf's
    /// point) and room for a sibling's box. A function of its own, always inlined: written inside
    /// the buffer's closure instead, the loop measured 12 % slower on workload b.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn walk_up_uncached<V: Visitor>(
        &self,
        leaf: NodeRef,
        mut depth: usize,
        point: &[f32],
        store: &PointStore,
        visitor: &mut V,
        (min, max): (&mut [f32], &mut [f32]),
        (smin, smax): (&mut [f32], &mut [f32]),
    ) {
        let mut child = leaf;
        let mut node = self.leaf_parent[leaf.index()];
        while node != NONE && !visitor.is_done() {
            depth -= 1;
            let n = node as usize;
            let other = if self.nodes[n].left == child { self.nodes[n].right } else { self.nodes[n].left };
            if visitor.needs_sibling() {
                self.node_box(other, store, smin, smax);
                grow_box(min, max, smin);
                grow_box(min, max, smax);
            } else {
                // Without the sibling's own box the running box can grow leaf by leaf, and stop
                // once it holds the point: the whole box holds it too, so the visitor sees what
                // the exact box would give it (nothing separates the point here) and is done.
                self.grow_box_until_it_holds(other, store, min, max, point);
            }
            visitor.accept_node(point, min, max, (smin, smax), self.nodes[n].mass as u32, depth);
            child = NodeRef::internal(node);
            node = self.nodes[n].parent;
        }
    }
}
