//! Reference-counted storage of the shingled points held by the trees' samples.
//!
//! All trees share one store: a point accepted by several trees is stored once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::sampler::Sampler;

/// Storage of fixed-length points with reference counts and slot reuse.
///
/// A point's values are one contiguous run of `values`, starting at `starts[slot]`. A shingled
/// point usually continues the point stored just before it (its first `dims - shingle_step` values
/// are that point's last ones), so it shares those values and adds only its newest inputs: a store
/// of shingle-8 points holds about one value per point instead of eight. Freed points leave their
/// values in place until the array is full; then [`PointStore::compact`] squeezes out what no live
/// point uses, keeping shared runs shared.
///
/// Stored as [`PointStoreState`]: only live points, chained the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "PointStoreState", from = "PointStoreState")]
pub struct PointStore {
    dims: usize,
    /// Values added per shingle step (0 without shingling): how far consecutive points overlap.
    shingle_step: usize,
    values: Vec<f32>,
    /// Start of each slot's point in `values` (stale for free slots).
    starts: Vec<u32>,
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
                if let Some(next) = by_prefix.get_mut(&key(&store.get(s)[step..])).and_then(|c| {
                    c.iter().position(|&n| !has_predecessor[n as usize] && n != s).map(|i| c.swap_remove(i))
                }) {
                    has_predecessor[next as usize] = true;
                    successor.insert(s, next);
                }
            }
        }
        let (mut order, mut continues, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let mut emitted = vec![false; store.ref_counts.len()];
        // Heads first (points without a predecessor), then any remaining cycles.
        let starts =
            live.iter().filter(|&&s| !has_predecessor[s as usize]).chain(live.iter()).copied().collect::<Vec<_>>();
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
/// inconsistent (bad or repeated slots, short values) leaves a store that fails
/// [`PointStore::check_free_list`].
impl From<PointStoreState> for PointStore {
    fn from(s: PointStoreState) -> Self {
        let (dims, step) = (s.dims as usize, s.shingle_step as usize);
        let capacity = (s.capacity as usize).min(s.order.len() + s.free_slots.len());
        let mut store = PointStore {
            dims,
            shingle_step: step,
            values: Vec::with_capacity(s.values.len().min(capacity.saturating_mul(dims))),
            starts: vec![u32::MAX; capacity],
            ref_counts: vec![0; capacity],
            free_slots: s.free_slots,
        };
        let mut cursor = 0usize;
        for (k, &slot) in s.order.iter().enumerate() {
            let slot = slot as usize;
            // The previous point of the chain was the last one appended, so a continuing point
            // starts inside it.
            let continues = k > 0 && s.continues.get(k).copied().unwrap_or(false) && store.chains();
            let fresh = if continues { step } else { dims };
            let (Some(new), true) =
                (s.values.get(cursor..cursor + fresh), slot < capacity && store.starts[slot] == u32::MAX)
            else {
                store.values.clear();
                store.starts.clear(); // fails the consistency check
                return store;
            };
            cursor += fresh;
            store.starts[slot] = to_start(store.values.len() + fresh - dims);
            store.values.extend_from_slice(new);
        }
        store
    }
}

/// A value offset as stored in `starts`. A store large enough to overflow it would hold over
/// 16 GiB of values.
fn to_start(offset: usize) -> u32 {
    u32::try_from(offset).expect("point store exceeds 2^32 values")
}

impl PointStore {
    /// An empty store for points of `dims` values, of which each shingle step adds
    /// `shingle_step` new ones (0 when points are not shingled).
    pub fn new(dims: usize, shingle_step: usize) -> Self {
        PointStore {
            dims,
            shingle_step,
            values: Vec::new(),
            starts: Vec::new(),
            ref_counts: Vec::new(),
            free_slots: Vec::new(),
        }
    }

    /// Whether consecutive points can share values.
    fn chains(&self) -> bool {
        self.shingle_step > 0 && self.shingle_step < self.dims
    }

    /// Sets reference counts from scratch, one per sampled entry of `samplers` (used when
    /// loading: counts are not stored), then checks the free list against them.
    pub(crate) fn recount<'a>(&mut self, samplers: impl IntoIterator<Item = &'a Sampler>) -> Result<(), String> {
        let mut counts = vec![0u32; self.capacity()];
        for p in samplers.into_iter().flat_map(Sampler::points) {
            let count = counts.get_mut(p.slot as usize).ok_or("a sampled point is outside the point store")?;
            *count = count.checked_add(1).ok_or("reference count overflow")?;
        }
        self.ref_counts = counts;
        self.check_free_list()
    }

    #[cfg(test)]
    fn set_ref_counts(&mut self, counts: Vec<u32>) {
        self.ref_counts = counts;
    }

    /// Values per point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The point in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &[f32] {
        let start = self.starts[slot as usize] as usize;
        &self.values[start..start + self.dims]
    }

    /// Stores `point` with a reference count of zero and returns its slot.
    /// The caller must add a reference or call [`PointStore::release_if_unused`].
    pub fn insert(&mut self, point: &[f32]) -> u32 {
        debug_assert_eq!(point.len(), self.dims);
        let mut shared = self.shared_with_tail(point);
        if self.values.len() + self.dims - shared > self.values.capacity() {
            self.compact();
            shared = self.shared_with_tail(point);
            let wanted = self.values.len() + self.dims - shared;
            // A quarter more room than is in use (and at least a few points' worth): each
            // compaction then pays for itself over the next wanted/4 values.
            let room = (wanted / 4).max(4 * self.dims);
            self.values.reserve_exact(wanted + room - self.values.len());
        }
        let start = to_start(self.values.len() - shared);
        self.values.extend_from_slice(&point[shared..]);
        if let Some(slot) = self.free_slots.pop() {
            self.starts[slot as usize] = start;
            slot
        } else {
            self.starts.push(start);
            self.ref_counts.push(0);
            (self.ref_counts.len() - 1) as u32
        }
    }

    /// How many leading values of `point` the end of `values` already holds: `dims - step` when
    /// `point` continues the last point appended (bit for bit), else 0.
    fn shared_with_tail(&self, point: &[f32]) -> usize {
        if !self.chains() {
            return 0;
        }
        let overlap = self.dims - self.shingle_step;
        match self.values.len().checked_sub(overlap) {
            Some(from) if same_bits(&self.values[from..], &point[..overlap]) => overlap,
            _ => 0,
        }
    }

    /// Moves every point still in use (every slot not on the free list) to the front of `values`,
    /// in their current order, so runs that points share stay shared.
    fn compact(&mut self) {
        let mut free = vec![false; self.starts.len()];
        for &slot in &self.free_slots {
            free[slot as usize] = true;
        }
        let mut used: Vec<u32> = (0..self.starts.len() as u32).filter(|&s| !free[s as usize]).collect();
        used.sort_unstable_by_key(|&s| self.starts[s as usize]);
        // Where the run copied so far ends, in the old and in the new layout.
        let (mut old_end, mut new_end) = (0usize, 0usize);
        for slot in used {
            let start = self.starts[slot as usize] as usize;
            let end = start + self.dims;
            if start >= old_end {
                // A new run: starts where the last one ended.
                self.values.copy_within(start..end, new_end);
                self.starts[slot as usize] = to_start(new_end);
                new_end += self.dims;
            } else {
                // Overlaps the run copied last: same offset from its end, extended if needed.
                self.starts[slot as usize] = to_start(new_end - (old_end - start));
                if end > old_end {
                    self.values.copy_within(old_end..end, new_end);
                    new_end += end - old_end;
                }
            }
            old_end = old_end.max(end);
        }
        self.values.truncate(new_end);
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

    /// Whether `slot` exists and holds a point in use.
    pub fn is_live(&self, slot: u32) -> bool {
        self.ref_counts.get(slot as usize).is_some_and(|&c| c > 0)
    }

    /// Number of live points.
    pub fn live_points(&self) -> usize {
        self.ref_counts.iter().filter(|&&c| c > 0).count()
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        (self.values.capacity() + self.starts.capacity() + self.ref_counts.capacity() + self.free_slots.capacity()) * 4
    }

    /// Checks that the free list holds exactly the unreferenced slots, once each, and that every
    /// slot in use lies inside the value array.
    pub fn check_free_list(&self) -> Result<(), String> {
        if self.starts.len() != self.ref_counts.len() {
            return Err("point store starts do not match its slot count".into());
        }
        let mut listed = vec![false; self.ref_counts.len()];
        for &slot in &self.free_slots {
            match listed.get_mut(slot as usize) {
                Some(flag) if !*flag && self.ref_counts[slot as usize] == 0 => *flag = true,
                _ => return Err(format!("free point slot {slot} is out of range, in use, or listed twice")),
            }
        }
        if let Some(slot) = self.ref_counts.iter().zip(&listed).position(|(&c, &l)| c == 0 && !l) {
            return Err(format!("point slot {slot} is unreferenced but not free"));
        }
        let fits =
            |s: usize| (self.starts[s] as usize).checked_add(self.dims).is_some_and(|end| end <= self.values.len());
        match (0..self.starts.len()).find(|&s| !listed[s] && !fits(s)) {
            Some(slot) => Err(format!("point slot {slot} lies outside the stored values")),
            None => Ok(()),
        }
    }
}

/// Bitwise equality, so a stored point reads back exactly as given (−0.0 stays −0.0).
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The shingled point ending at stream position `t` (values `t-dims+1 ..= t`, `step` = 1).
    fn shingled(t: usize, dims: usize) -> Vec<f32> {
        (t + 1 - dims..=t).map(|v| v as f32).collect()
    }

    #[test]
    fn consecutive_shingled_points_share_their_values() {
        let mut store = PointStore::new(8, 1);
        let slots: Vec<u32> = (7..1007).map(|t| store.insert(&shingled(t, 8))).collect();
        for (t, &slot) in (7..1007).zip(&slots) {
            assert_eq!(store.get(slot), &shingled(t, 8)[..]);
        }
        assert_eq!(store.values.len(), 1007, "one new value per point after the first");
    }

    #[test]
    fn compaction_drops_freed_points_and_keeps_the_rest_exact() {
        let mut store = PointStore::new(4, 1);
        let mut live = Vec::new();
        for t in 3..5000 {
            let slot = store.insert(&shingled(t, 4));
            store.add_ref(slot);
            live.push((slot, t));
            if t % 3 != 0 {
                let (old, _) = live.remove(0);
                store.remove_ref(old);
            }
        }
        assert!(store.values.capacity() <= 8 * (store.live_points() * 4 + 4), "freed values are reclaimed");
        for &(slot, t) in &live {
            assert_eq!(store.get(slot), &shingled(t, 4)[..]);
        }
        store.check_free_list().unwrap();
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Insert the next point: continuing the last one (true) or a jump in the stream.
        Insert(bool),
        /// Drop the reference to the live point at this index (mod the number live).
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![3 => any::<bool>().prop_map(Op::Insert), 2 => any::<usize>().prop_map(Op::Release)]
    }

    proptest! {
        /// Any mix of inserts and releases: every live point reads back bit for bit, the free
        /// list stays consistent, and a save/load round trip keeps every live point.
        #[test]
        fn live_points_read_back_exactly(ops in proptest::collection::vec(op(), 1..400), dims in 1usize..6, step in 0usize..3) {
            let mut store = PointStore::new(dims, step);
            let mut t = 100usize;
            let mut live: Vec<(u32, Vec<f32>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(continues) => {
                        t += if continues { step.max(1) } else { 7 };
                        let point: Vec<f32> = (0..dims).map(|i| (t + i) as f32 * 0.5).collect();
                        let slot = store.insert(&point);
                        store.add_ref(slot);
                        live.push((slot, point));
                    }
                    Op::Release(i) if !live.is_empty() => {
                        let (slot, _) = live.swap_remove(i % live.len());
                        store.remove_ref(slot);
                    }
                    Op::Release(_) => {}
                }
                for (slot, point) in &live {
                    prop_assert_eq!(store.get(*slot), &point[..]);
                }
            }
            prop_assert!(store.check_free_list().is_ok());
            let mut loaded = PointStore::from(PointStoreState::from(store.clone()));
            let mut counts = vec![0; loaded.capacity()];
            for (slot, _) in &live {
                counts[*slot as usize] += 1;
            }
            loaded.set_ref_counts(counts);
            prop_assert!(loaded.check_free_list().is_ok());
            for (slot, point) in &live {
                prop_assert_eq!(loaded.get(*slot), &point[..]);
            }
        }
    }
}
