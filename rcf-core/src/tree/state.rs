//! The stored form of a tree: cuts, children and leaves only. Parent links, masses, boxes and the
//! leaf order are derived data; they are dropped on save (boxes are most of a tree's bytes) and
//! rebuilt, with every index checked, on load.

use serde::{Deserialize, Serialize};

use super::{Index, LeafOrder, Node, NodeRef, Tree, MAX_INDEX, NONE};
use crate::point_store::PointStore;

/// A child reference in compact form: internal node `i` is `2i`, leaf `l` is `2l + 1`, so small
/// indices stay small under variable-length integer encoding.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Child(u32);

impl From<NodeRef> for Child {
    fn from(r: NodeRef) -> Self {
        if r.is_null() {
            Child(u32::MAX)
        } else if r.is_leaf() {
            Child(2 * r.index() as u32 + 1)
        } else {
            Child(2 * r.index() as u32)
        }
    }
}

impl TryFrom<Child> for NodeRef {
    type Error = String;

    fn try_from(c: Child) -> Result<Self, String> {
        let index = (c.0 / 2) as usize;
        match c.0 {
            u32::MAX => Ok(NodeRef::NULL),
            _ if index > MAX_INDEX => Err(format!("child reference {} out of range", c.0)),
            v if v % 2 == 1 => Ok(NodeRef::leaf(index)),
            _ => Ok(NodeRef::internal(index)),
        }
    }
}

/// A stored index, checked to fit a tree's 16-bit indices.
fn index(value: u32, what: &str) -> Result<Index, String> {
    match Index::try_from(value) {
        Ok(i) if (i as usize) <= MAX_INDEX => Ok(i),
        _ => Err(format!("{what} {value} out of range")),
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Split {
    cut_dim: u32,
    cut_value: f32,
    left: Child,
    right: Child,
}

/// What is written for one tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeState {
    dims: u32,
    cache_boxes: bool,
    root: Child,
    splits: Vec<Split>,
    leaf_slot: Vec<u32>,
    leaf_mass: Vec<u32>,
    free_nodes: Vec<u32>,
    free_leaves: Vec<u32>,
}

impl From<Tree> for TreeState {
    fn from(t: Tree) -> Self {
        TreeState {
            dims: t.dims as u32,
            cache_boxes: t.cache_boxes,
            root: t.root.into(),
            splits: t
                .nodes
                .iter()
                .map(|n| Split {
                    cut_dim: n.cut_dim as u32,
                    cut_value: n.cut_value,
                    left: n.left.into(),
                    right: n.right.into(),
                })
                .collect(),
            leaf_slot: t.leaf_slot,
            leaf_mass: t.leaf_mass.iter().map(|&m| m as u32).collect(),
            free_nodes: t.free_nodes.iter().map(|&i| i as u32).collect(),
            free_leaves: t.free_leaves.iter().map(|&i| i as u32).collect(),
        }
    }
}

/// A tree as read, before [`Tree::rebuild_derived`] restores parents, masses and boxes. Indices and
/// multiplicities that do not fit a tree's 16-bit fields are an error.
impl TryFrom<TreeState> for Tree {
    type Error = String;

    fn try_from(s: TreeState) -> Result<Self, String> {
        let leaves = s.leaf_slot.len();
        if s.splits.len() > MAX_INDEX + 1 || leaves > MAX_INDEX + 1 {
            return Err("tree has too many nodes".into());
        }
        let nodes = s
            .splits
            .iter()
            .map(|x| {
                Ok(Node {
                    cut_value: x.cut_value,
                    cut_dim: u16::try_from(x.cut_dim)
                        .map_err(|_| format!("cut dimension {} out of range", x.cut_dim))?,
                    left: x.left.try_into()?,
                    right: x.right.try_into()?,
                    parent: NONE,
                    mass: 0,
                })
            })
            .collect::<Result<Vec<Node>, String>>()?;
        let indices = |v: &[u32], what: &str| v.iter().map(|&i| index(i, what)).collect::<Result<Vec<Index>, String>>();
        let leaf_mass = s
            .leaf_mass
            .iter()
            .map(|&m| Index::try_from(m).map_err(|_| format!("leaf mass {m} out of range")))
            .collect::<Result<Vec<Index>, String>>()?;
        Ok(Tree {
            dims: s.dims as usize,
            cache_boxes: s.cache_boxes,
            root: s.root.try_into()?,
            nodes,
            bounds: Vec::new(),
            free_nodes: indices(&s.free_nodes, "free node")?,
            leaf_slot: s.leaf_slot,
            leaf_mass,
            leaf_parent: vec![NONE; leaves],
            free_leaves: indices(&s.free_leaves, "free leaf")?,
            order: LeafOrder::default(),
        })
    }
}

impl Tree {
    /// Restores parent links, masses and boxes from the stored structure, checking every index
    /// (hostile input gives an error, never a panic). Run [`Tree::check`] afterwards.
    /// A tree of a forest with `sample_size` points per tree holds at most one leaf more (while a
    /// point replaces another) and one node fewer than that; larger arrays are refused before the
    /// boxes, sized by them, are allocated.
    pub(crate) fn rebuild_derived(&mut self, store: &PointStore, sample_size: usize) -> Result<(), String> {
        let (nodes, leaves, dims) = (self.nodes.len(), self.leaf_slot.len(), self.dims);
        if self.leaf_mass.len() != leaves || dims != store.dims() {
            return Err("tree arrays do not match".into());
        }
        if leaves > sample_size.saturating_add(1) || nodes > sample_size {
            return Err(format!("{leaves} leaves and {nodes} nodes are more than a sample of {sample_size} needs"));
        }
        let size = if self.cache_boxes { nodes.checked_mul(2 * dims).ok_or("tree too large")? } else { 0 };
        self.bounds = vec![0.0; size];
        if self.root.is_null() {
            self.order = self.computed_leaf_order()?;
            return Ok(());
        }
        let valid = |r: NodeRef| !r.is_null() && if r.is_leaf() { r.index() < leaves } else { r.index() < nodes };
        if !valid(self.root) {
            return Err("root out of range".into());
        }
        let mut seen_nodes = vec![false; nodes];
        let mut seen_leaves = vec![false; leaves];
        let mut stack = vec![(self.root, NONE, false)];
        while let Some((node, parent, children_done)) = stack.pop() {
            if node.is_leaf() {
                let l = node.index();
                if std::mem::replace(&mut seen_leaves[l], true) {
                    return Err(format!("leaf {l} reached twice"));
                }
                if !store.is_live(self.leaf_slot[l]) {
                    return Err(format!("leaf {l} points outside the point store or at a free point"));
                }
                self.leaf_parent[l] = parent;
                continue;
            }
            let n = node.index();
            let (left, right) = (self.nodes[n].left, self.nodes[n].right);
            if !children_done {
                if std::mem::replace(&mut seen_nodes[n], true) {
                    return Err(format!("node {n} reached twice"));
                }
                if !valid(left) || !valid(right) {
                    return Err(format!("node {n} has a child out of range"));
                }
                self.nodes[n].parent = parent;
                stack.push((node, parent, true));
                stack.push((left, n as Index, false));
                stack.push((right, n as Index, false));
                continue;
            }
            let mass = self.mass_of(left).saturating_add(self.mass_of(right));
            self.nodes[n].mass = Index::try_from(mass).map_err(|_| format!("node {n} holds too many points"))?;
            if !self.cache_boxes {
                continue;
            }
            for i in 0..dims {
                let (lmin, lmax) = self.box_of(left, store);
                let (rmin, rmax) = self.box_of(right, store);
                let (min, max) = (lmin[i].min(rmin[i]), lmax[i].max(rmax[i]));
                self.bounds[n * 2 * dims + i] = min;
                self.bounds[n * 2 * dims + dims + i] = max;
            }
        }
        self.order = self.computed_leaf_order()?;
        Ok(())
    }
}
