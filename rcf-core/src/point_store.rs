//! Reference-counted storage of the shingled points held by the trees' samples.
//!
//! All trees share one store: a point accepted by several trees is stored once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Flat storage of fixed-length points with reference counts and slot reuse.
///
/// Stored as [`PointStoreState`]: only live points, chained so that a shingled point that
/// continues another (its first values are the other's last) costs only its newest input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(into = "PointStoreState", from = "PointStoreState")]
pub struct PointStore {
    dims: usize,
    /// Values added per shingle step (0 without shingling): the overlap used by the stored form.
    shingle_step: usize,
    values: Vec<f32>,
    ref_counts: Vec<u32>,
    free_slots: Vec<u32>,
}

/// The stored form of a [`PointStore`]. Reference counts are not stored: the forest recounts
/// them from its samplers on load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointStoreState {
    dims: u32,
    shingle_step: u32,
    capacity: u32,
    /// Live slots in chain order.
    order: Vec<u32>,
    /// Per entry of `order`: true when the point continues the previous one (only its newest
    /// `shingle_step` values are in `values`), false when all its values follow.
    continues: Vec<bool>,
    values: Vec<f32>,
    free_slots: Vec<u32>,
}

impl From<PointStore> for PointStoreState {
    fn from(store: PointStore) -> Self {
        let (dims, step) = (store.dims, store.shingle_step);
        let live: Vec<u32> = (0..store.ref_counts.len() as u32).filter(|&s| store.ref_counts[s as usize] > 0).collect();
        let key = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        // A point's successor starts with the point's last `dims - step` values.
        let mut by_prefix: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
        let chaining = step > 0 && step < dims;
        if chaining {
            for &s in &live {
                by_prefix.entry(key(&store.get(s)[..dims - step])).or_default().push(s);
            }
        }
        let mut has_predecessor = vec![false; store.ref_counts.len()];
        let mut successor: HashMap<u32, u32> = HashMap::new();
        if chaining {
            for &s in &live {
                if let Some(next) = by_prefix.get_mut(&key(&store.get(s)[step..])).and_then(|c| c.iter().position(|&n| !has_predecessor[n as usize] && n != s).map(|i| c.swap_remove(i))) {
                    has_predecessor[next as usize] = true;
                    successor.insert(s, next);
                }
            }
        }
        let (mut order, mut continues, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let mut emitted = vec![false; store.ref_counts.len()];
        // Heads first (points without a predecessor), then any remaining cycles.
        let starts = live.iter().filter(|&&s| !has_predecessor[s as usize]).chain(live.iter()).copied().collect::<Vec<_>>();
        for head in starts {
            if emitted[head as usize] {
                continue;
            }
            let mut at = Some(head);
            let mut first = true;
            while let Some(s) = at.filter(|&s| !emitted[s as usize]) {
                emitted[s as usize] = true;
                order.push(s);
                continues.push(!first);
                let p = store.get(s);
                values.extend_from_slice(if first { p } else { &p[dims - step..] });
                first = false;
                at = successor.get(&s).copied();
            }
        }
        PointStoreState {
            dims: dims as u32,
            shingle_step: step as u32,
            capacity: store.ref_counts.len() as u32,
            order,
            continues,
            values,
            free_slots: store.free_slots,
        }
    }
}

/// A store as read. Reference counts are zero until the forest recounts them; anything
/// inconsistent (bad slots, short values) leaves a store that fails [`PointStore::check_free_list`].
impl From<PointStoreState> for PointStore {
    fn from(s: PointStoreState) -> Self {
        let (dims, step) = (s.dims as usize, s.shingle_step as usize);
        let capacity = (s.capacity as usize).min(s.order.len() + s.free_slots.len());
        let mut store = PointStore {
            dims,
            shingle_step: step,
            values: vec![0.0; capacity.saturating_mul(dims)],
            ref_counts: vec![0; capacity],
            free_slots: s.free_slots,
        };
        let mut cursor = 0usize;
        let mut previous: Option<usize> = None;
        for (k, &slot) in s.order.iter().enumerate() {
            let slot = slot as usize;
            let continues = s.continues.get(k).copied().unwrap_or(false) && step > 0 && step < dims;
            let fresh = if continues { step } else { dims };
            let (Some(new), true) = (s.values.get(cursor..cursor + fresh), slot < capacity) else {
                store.values.clear(); // fails the consistency check
                return store;
            };
            cursor += fresh;
            let mut point = vec![0.0; dims];
            match (continues, previous) {
                (true, Some(p)) => {
                    point[..dims - step].copy_from_slice(&store.values[p * dims + step..(p + 1) * dims]);
                    point[dims - step..].copy_from_slice(new);
                }
                _ => point.copy_from_slice(&new[..dims.min(new.len())]),
            }
            store.values[slot * dims..(slot + 1) * dims].copy_from_slice(&point);
            previous = Some(slot);
        }
        store
    }
}

impl PointStore {
    /// An empty store for points of `dims` values, of which each shingle step adds
    /// `shingle_step` new ones (0 when points are not shingled).
    pub fn new(dims: usize, shingle_step: usize) -> Self {
        PointStore { dims, shingle_step, values: Vec::new(), ref_counts: Vec::new(), free_slots: Vec::new() }
    }

    /// Sets reference counts from scratch (used when loading: counts are not stored).
    pub(crate) fn set_ref_counts(&mut self, counts: Vec<u32>) {
        self.ref_counts = counts;
    }

    /// Values per point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The point in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &[f32] {
        let start = slot as usize * self.dims;
        &self.values[start..start + self.dims]
    }

    /// Stores `point` with a reference count of zero and returns its slot.
    /// The caller must add a reference or call [`PointStore::release_if_unused`].
    pub fn insert(&mut self, point: &[f32]) -> u32 {
        debug_assert_eq!(point.len(), self.dims);
        if let Some(slot) = self.free_slots.pop() {
            let start = slot as usize * self.dims;
            self.values[start..start + self.dims].copy_from_slice(point);
            slot
        } else {
            let slot = self.ref_counts.len() as u32;
            self.values.extend_from_slice(point);
            self.ref_counts.push(0);
            slot
        }
    }

    /// Adds one reference to `slot`.
    #[inline]
    pub fn add_ref(&mut self, slot: u32) {
        self.ref_counts[slot as usize] += 1;
    }

    /// Removes one reference from `slot`, freeing it when none remain.
    #[inline]
    pub fn remove_ref(&mut self, slot: u32) {
        let count = &mut self.ref_counts[slot as usize];
        *count -= 1;
        if *count == 0 {
            self.free_slots.push(slot);
        }
    }

    /// Frees `slot` if nothing references it (a point no tree accepted).
    pub fn release_if_unused(&mut self, slot: u32) {
        if self.ref_counts[slot as usize] == 0 {
            self.free_slots.push(slot);
        }
    }

    /// Number of slots ever allocated (live or free).
    pub fn capacity(&self) -> usize {
        self.ref_counts.len()
    }

    /// Number of references to `slot`.
    pub fn ref_count(&self, slot: u32) -> u32 {
        self.ref_counts[slot as usize]
    }

    /// Number of live points.
    pub fn live_points(&self) -> usize {
        self.ref_counts.iter().filter(|&&c| c > 0).count()
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        self.values.capacity() * 4 + self.ref_counts.capacity() * 4 + self.free_slots.capacity() * 4
    }

    /// Checks that the free list holds exactly the unreferenced slots, once each, and that the
    /// value array matches the slot count.
    pub fn check_free_list(&self) -> Result<(), String> {
        if self.values.len() != self.ref_counts.len() * self.dims {
            return Err("point store values do not match its slot count".into());
        }
        let mut listed = vec![false; self.ref_counts.len()];
        for &slot in &self.free_slots {
            match listed.get_mut(slot as usize) {
                Some(flag) if !*flag && self.ref_counts[slot as usize] == 0 => *flag = true,
                _ => return Err(format!("free point slot {slot} is out of range, in use, or listed twice")),
            }
        }
        match self.ref_counts.iter().zip(&listed).position(|(&c, &l)| c == 0 && !l) {
            Some(slot) => Err(format!("point slot {slot} is unreferenced but not free")),
            None => Ok(()),
        }
    }
}
