//! Random cut trees (Guha et al. 2016) over points in a shared [`PointStore`].
//!
//! Layout: internal nodes are 16-byte records indexed by `u16` (a tree holds at most
//! [`MAX_SAMPLE_SIZE`](crate::MAX_SAMPLE_SIZE) points); each caches its bounding box as
//! `[min; d] ++ [max; d]` in a parallel array. Leaves are a second arena holding a point-store slot
//! and a multiplicity, so duplicate points are leaf mass rather than extra nodes. A child reference
//! is a [`NodeRef`] whose top bit tells leaf from internal node.

mod batch_climb;
mod batch_descent;
mod cut;
mod delete;
mod impute;
mod insert;
mod leaf_order;
mod score_climb;
mod state;
mod traverse;
mod validate;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub(crate) use batch_climb::Climbs;
pub use batch_descent::BatchDescent;
pub use cut::{separating_cut, Cut};
pub use traverse::{descend_group, Visitor, GROUP};

use crate::point_store::PointStore;
use leaf_order::LeafOrder;

/// A node or leaf index, or a mass: 16 bits, as trees hold at most `MAX_SAMPLE_SIZE` points.
type Index = u16;
const LEAF_BIT: Index = 1 << 15;
/// No node (a root's parent, an empty tree's root).
const NONE: Index = Index::MAX;
/// Largest leaf or node index: the leaf bit set on it must not give [`NONE`].
const MAX_INDEX: usize = (LEAF_BIT - 2) as usize;
const _: () = assert!(crate::config::MAX_SAMPLE_SIZE <= MAX_INDEX + 1);

/// A reference to an internal node or a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRef(Index);

impl NodeRef {
    const NULL: NodeRef = NodeRef(NONE);

    /// Leaf `index` (at most [`MAX_INDEX`]).
    fn leaf(index: impl Into<usize>) -> Self {
        let index = index.into();
        debug_assert!(index <= MAX_INDEX);
        NodeRef(index as Index | LEAF_BIT)
    }
    /// Internal node `index` (at most [`MAX_INDEX`]).
    fn internal(index: impl Into<usize>) -> Self {
        let index = index.into();
        debug_assert!(index <= MAX_INDEX);
        NodeRef(index as Index)
    }
    fn is_null(self) -> bool {
        self.0 == NONE
    }
    fn is_leaf(self) -> bool {
        !self.is_null() && self.0 & LEAF_BIT != 0
    }
    fn index(self) -> usize {
        (self.0 & !LEAF_BIT) as usize
    }
}

/// An internal node: its cut, its children, its parent and the number of points below it.
/// Kept together (16 bytes) so a descent or an ascent touches one cache line per level.
/// `repr(C)`: the batch descent gathers its fields at fixed offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
struct Node {
    cut_value: f32,
    cut_dim: u16,
    left: NodeRef,
    right: NodeRef,
    parent: Index,
    mass: Index,
}
const _: () = assert!(std::mem::size_of::<Node>() == 16);

/// One random cut tree. Stored as [`state::TreeState`]; see [`Tree::rebuild_derived`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "state::TreeState", try_from = "state::TreeState")]
pub struct Tree {
    dims: usize,
    root: NodeRef,
    // Internal nodes, and (when `cache_boxes`) their boxes as `[min; d] ++ [max; d]` per node.
    nodes: Vec<Node>,
    cache_boxes: bool,
    bounds: Vec<f32>,
    free_nodes: Vec<Index>,
    // Leaves.
    leaf_slot: Vec<u32>,
    leaf_mass: Vec<Index>,
    leaf_parent: Vec<Index>,
    free_leaves: Vec<Index>,
    // Without `cache_boxes`: the leaves left to right and each node's run of them.
    order: LeafOrder,
}

impl Tree {
    /// An empty tree over points of `dims` values. Without `cache_boxes` the tree keeps no boxes
    /// and computes them from runs of its leaf order when needed: less memory, slower queries.
    pub fn new(dims: usize, cache_boxes: bool) -> Self {
        Tree {
            dims,
            cache_boxes,
            root: NodeRef::NULL,
            nodes: Vec::new(),
            bounds: Vec::new(),
            free_nodes: Vec::new(),
            leaf_slot: Vec::new(),
            leaf_mass: Vec::new(),
            leaf_parent: Vec::new(),
            free_leaves: Vec::new(),
            order: LeafOrder::default(),
        }
    }

    /// Total number of points (with multiplicity) in the tree.
    pub fn mass(&self) -> u32 {
        self.mass_of(self.root)
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.bounds.capacity() * 4
            + (self.free_nodes.capacity() + self.free_leaves.capacity()) * size_of::<Index>()
            + self.leaf_slot.capacity() * 4
            + (self.leaf_mass.capacity() + self.leaf_parent.capacity()) * size_of::<Index>()
            + self.order.heap_bytes()
    }

    fn mass_of(&self, node: NodeRef) -> u32 {
        if node.is_null() {
            0
        } else if node.is_leaf() {
            self.leaf_mass[node.index()] as u32
        } else {
            self.nodes[node.index()].mass as u32
        }
    }

    fn parent_of(&self, node: NodeRef) -> Index {
        if node.is_leaf() {
            self.leaf_parent[node.index()]
        } else {
            self.nodes[node.index()].parent
        }
    }

    fn set_parent(&mut self, node: NodeRef, parent: Index) {
        if node.is_leaf() {
            self.leaf_parent[node.index()] = parent;
        } else {
            self.nodes[node.index()].parent = parent;
        }
    }

    #[inline]
    fn min_of(&self, node: usize) -> &[f32] {
        let start = node * 2 * self.dims;
        &self.bounds[start..start + self.dims]
    }

    #[inline]
    fn max_of(&self, node: usize) -> &[f32] {
        let start = node * 2 * self.dims + self.dims;
        &self.bounds[start..start + self.dims]
    }

    /// The box of `node`: cached bounds for an internal node, the point itself for a leaf.
    fn box_of<'a>(&'a self, node: NodeRef, store: &'a PointStore) -> (&'a [f32], &'a [f32]) {
        if node.is_leaf() {
            let p = store.get(self.leaf_slot[node.index()]);
            (p, p)
        } else {
            (self.min_of(node.index()), self.max_of(node.index()))
        }
    }

    /// Writes the box of `node` into `min`/`max`: copied from the cache, or (without a cache) the
    /// union of the leaf points below it.
    fn node_box(&self, node: NodeRef, store: &PointStore, min: &mut [f32], max: &mut [f32]) {
        if node.is_leaf() || self.cache_boxes {
            let (lo, hi) = self.box_of(node, store);
            min.copy_from_slice(lo);
            max.copy_from_slice(hi);
            return;
        }
        min.fill(f32::INFINITY);
        max.fill(f32::NEG_INFINITY);
        self.for_each_leaf_batch(node, store, |batch| {
            grow_box_by_batch(min, max, batch, None);
            false
        });
    }

    /// Grows `min`/`max` by the leaf points below `node` until the box holds `point` (then the
    /// rest cannot change whether it does) or every leaf is in. A batch may add a few leaves past
    /// the one that made the box hold the point, which changes nothing: they are in the box of
    /// the subtree too.
    fn grow_box_until_it_holds(
        &self,
        node: NodeRef,
        store: &PointStore,
        min: &mut [f32],
        max: &mut [f32],
        point: &[f32],
    ) {
        self.for_each_leaf_batch(node, store, |batch| grow_box_by_batch(min, max, batch, Some(point)));
    }

    /// Calls `visit` with the leaf points below `node`, [`LEAF_BATCH`] at a time (merging a batch
    /// into a box reads and writes the box once, not once per leaf), until it returns true. Only
    /// for trees without cached boxes: the leaves come from the leaf order, left to right.
    #[inline(always)]
    fn for_each_leaf_batch(&self, node: NodeRef, store: &PointStore, mut visit: impl FnMut(&[&[f32]]) -> bool) {
        if node.is_null() {
            return;
        }
        if node.is_leaf() {
            visit(&[store.get(self.leaf_slot[node.index()])]);
            return;
        }
        let mut batch = [&[][..]; LEAF_BATCH];
        for leaves in self.leaves_below(node).chunks(LEAF_BATCH) {
            for (point, &leaf) in batch.iter_mut().zip(leaves) {
                *point = store.get(self.leaf_slot[leaf as usize]);
            }
            if visit(&batch[..leaves.len()]) {
                return;
            }
        }
    }

    fn new_leaf(&mut self, slot: u32, parent: Index) -> NodeRef {
        if let Some(i) = self.free_leaves.pop() {
            let i = i as usize;
            self.leaf_slot[i] = slot;
            self.leaf_mass[i] = 1;
            self.leaf_parent[i] = parent;
            NodeRef::leaf(i)
        } else {
            self.leaf_slot.push(slot);
            self.leaf_mass.push(1);
            self.leaf_parent.push(parent);
            NodeRef::leaf(self.leaf_slot.len() - 1)
        }
    }

    fn new_node(&mut self, cut: Cut, parent: Index) -> usize {
        let i = if let Some(i) = self.free_nodes.pop() {
            i as usize
        } else {
            self.nodes.push(Node {
                cut_value: 0.0,
                cut_dim: 0,
                left: NodeRef::NULL,
                right: NodeRef::NULL,
                parent: NONE,
                mass: 0,
            });
            if self.cache_boxes {
                self.bounds.resize(self.bounds.len() + 2 * self.dims, 0.0);
            }
            self.nodes.len() - 1
        };
        self.nodes[i].cut_dim = cut.dim as u16;
        self.nodes[i].cut_value = cut.value;
        self.nodes[i].parent = parent;
        i
    }

    /// Walks from the root to the leaf `point` falls into; returns the leaf and its depth.
    #[inline]
    fn descend(&self, point: &[f32]) -> (NodeRef, usize) {
        let mut node = self.root;
        let mut depth = 0;
        while !node.is_null() && !node.is_leaf() {
            let i = node.index();
            node = if point[self.nodes[i].cut_dim as usize] <= self.nodes[i].cut_value {
                self.nodes[i].left
            } else {
                self.nodes[i].right
            };
            depth += 1;
        }
        (node, depth)
    }

    /// Point-store slots of all leaves with their multiplicities (for checks and serialization).
    pub fn leaves(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut stack = vec![self.root];
        while let Some(node) = stack.pop() {
            if node.is_null() {
                continue;
            }
            if node.is_leaf() {
                out.push((self.leaf_slot[node.index()], self.leaf_mass[node.index()] as u32));
            } else {
                stack.push(self.nodes[node.index()].right);
                stack.push(self.nodes[node.index()].left);
            }
        }
        out
    }
}

/// Grows the box `min`/`max` to hold `point` (whose values are finite). Written as comparisons,
/// which become packed min/max instructions; `f32::min`'s NaN rules would keep them scalar.
#[inline(always)]
pub(crate) fn grow_box(min: &mut [f32], max: &mut [f32], point: &[f32]) {
    for ((lo, hi), &v) in min.iter_mut().zip(max.iter_mut()).zip(point) {
        *lo = if v < *lo { v } else { *lo };
        *hi = if v > *hi { v } else { *hi };
    }
}

thread_local! {
    /// The buffer behind [`with_two_boxes`].
    static TWO_BOXES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with two boxes (`min`, `max` pairs) of `dims` values from a buffer reused across calls:
/// the walks of every tree of every point need them, and allocating them each time showed in
/// profiles. Not reentrant: `f` must not call it again.
#[inline(always)]
fn with_two_boxes<R>(dims: usize, f: impl FnOnce((&mut [f32], &mut [f32]), (&mut [f32], &mut [f32])) -> R) -> R {
    TWO_BOXES.with_borrow_mut(|buffer| {
        buffer.resize(4 * dims, 0.0);
        let (first, second) = buffer.split_at_mut(2 * dims);
        f(first.split_at_mut(dims), second.split_at_mut(dims))
    })
}

/// Leaf points merged into a box at once (see [`Tree::for_each_leaf_batch`]).
const LEAF_BATCH: usize = 16;
/// Values per block of [`grow_box_by_batch`]: a block's running minima and maxima stay in
/// registers while every leaf of the batch is merged in.
const BLOCK: usize = 8;

/// Grows the box `min`/`max` by every point of `leaves`; returns whether it then holds `point`
/// (false without a point).
#[inline(always)]
fn grow_box_by_batch(min: &mut [f32], max: &mut [f32], leaves: &[&[f32]], point: Option<&[f32]>) -> bool {
    let dims = min.len();
    let mut inside = point.is_some();
    let holds = |lo: &[f32], hi: &[f32], p: &[f32]| {
        lo.iter().zip(hi).zip(p).fold(true, |ok, ((l, h), v)| ok & (l <= v) & (v <= h))
    };
    let mut start = 0;
    while start + BLOCK <= dims {
        let block = start..start + BLOCK;
        let mut lo: [f32; BLOCK] = min[block.clone()].try_into().expect("a block");
        let mut hi: [f32; BLOCK] = max[block.clone()].try_into().expect("a block");
        for leaf in leaves {
            let v: &[f32; BLOCK] = leaf[block.clone()].try_into().expect("a block");
            for j in 0..BLOCK {
                lo[j] = if v[j] < lo[j] { v[j] } else { lo[j] };
                hi[j] = if v[j] > hi[j] { v[j] } else { hi[j] };
            }
        }
        if let Some(p) = point {
            inside &= holds(&lo, &hi, &p[block.clone()]);
        }
        min[block.clone()].copy_from_slice(&lo);
        max[block].copy_from_slice(&hi);
        start += BLOCK;
    }
    for leaf in leaves {
        grow_box(&mut min[start..], &mut max[start..], &leaf[start..dims]);
    }
    if let Some(p) = point {
        inside &= holds(&min[start..], &max[start..], &p[start..]);
    }
    inside
}
