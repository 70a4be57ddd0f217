//! Reference-counted storage of the shingled points held by the trees' samples.
//!
//! All trees share one store: a point accepted by several trees is stored once.

use serde::{Deserialize, Serialize};

/// Flat storage of fixed-length points with reference counts and slot reuse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PointStore {
    dims: usize,
    values: Vec<f32>,
    ref_counts: Vec<u32>,
    free_slots: Vec<u32>,
}

impl PointStore {
    /// An empty store for points of `dims` values.
    pub fn new(dims: usize) -> Self {
        PointStore { dims, values: Vec::new(), ref_counts: Vec::new(), free_slots: Vec::new() }
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
