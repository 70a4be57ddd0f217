//! Time-decayed weighted reservoir sampling (Efraimidis–Spirakis), as in AWS's `CompactSampler`.
//!
//! Each arriving point gets the weight `−seq·λ + ln(−ln u)`; the reservoir keeps the lowest weights,
//! so recent points are favoured. A max-heap gives the member to evict in O(1).

use serde::{Deserialize, Serialize};

/// One sampled point: its weight and its slot in the point store.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampledPoint {
    /// Sampling weight; the largest weight is evicted first.
    pub weight: f32,
    /// Slot in the shared point store.
    pub slot: u32,
}

/// Outcome of offering a point to the sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    /// The point is not sampled.
    Rejected,
    /// The point is sampled with `weight`; `evicted` is the member it displaces, if any.
    Accepted {
        /// Weight to store with the point.
        weight: f32,
        /// The member that must leave the tree.
        evicted: Option<SampledPoint>,
    },
}

/// A reservoir of at most `capacity` points, kept as a max-heap on weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampler {
    capacity: usize,
    heap: Vec<SampledPoint>,
}

impl Sampler {
    /// An empty reservoir.
    pub fn new(capacity: usize) -> Self {
        Sampler { capacity, heap: Vec::with_capacity(capacity) }
    }

    /// Points currently sampled.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Maximum number of points.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The sampled points, in heap order.
    pub fn points(&self) -> &[SampledPoint] {
        &self.heap
    }

    /// The sampling weight of a point arriving at `sequence_index`, from a uniform draw `u` in (0, 1).
    pub fn weight(sequence_index: u64, time_decay: f64, u: f64) -> f32 {
        let u = u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
        (-(sequence_index as f64) * time_decay + (-u.ln()).ln()) as f32
    }

    /// Decides whether a point with `weight` enters the reservoir.
    ///
    /// While the reservoir is filling, a point is taken unconditionally with probability
    /// [`Sampler::initial_accept_probability`] (`accept_draw` is the uniform draw for that test);
    /// otherwise it must beat the largest weight, which it evicts.
    pub fn admit(&mut self, weight: f32, initial_accept_fraction: f64, accept_draw: impl FnOnce() -> f64) -> Admission {
        let filling = self.heap.len() < self.capacity;
        if filling && accept_draw() < self.initial_accept_probability(initial_accept_fraction) {
            return Admission::Accepted { weight, evicted: None };
        }
        match self.heap.first() {
            Some(top) if weight < top.weight => {
                let evicted = self.pop_max();
                Admission::Accepted { weight, evicted: Some(evicted) }
            }
            _ => Admission::Rejected,
        }
    }

    /// Probability of unconditional acceptance at the current fill level: 1 below the initial
    /// accept fraction, then falling linearly to 0 at full capacity.
    pub fn initial_accept_probability(&self, initial_accept_fraction: f64) -> f64 {
        let fill = self.heap.len() as f64 / self.capacity as f64;
        if fill < initial_accept_fraction {
            1.0
        } else if initial_accept_fraction >= 1.0 {
            0.0
        } else {
            1.0 - (fill - initial_accept_fraction) / (1.0 - initial_accept_fraction)
        }
    }

    /// Adds an admitted point. The caller guarantees room (after any eviction).
    pub fn push(&mut self, point: SampledPoint) {
        debug_assert!(self.heap.len() < self.capacity);
        self.heap.push(point);
        self.sift_up(self.heap.len() - 1);
    }

    fn pop_max(&mut self) -> SampledPoint {
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
        let top = self.heap.pop().expect("pop_max on a non-empty heap");
        if !self.heap.is_empty() {
            self.sift_down(0);
        }
        top
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].weight >= self.heap[i].weight {
                break;
            }
            self.heap.swap(parent, i);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (left, right) = (2 * i + 1, 2 * i + 2);
            let mut largest = i;
            if left < n && self.heap[left].weight > self.heap[largest].weight {
                largest = left;
            }
            if right < n && self.heap[right].weight > self.heap[largest].weight {
                largest = right;
            }
            if largest == i {
                return;
            }
            self.heap.swap(i, largest);
            i = largest;
        }
    }

    /// True when the heap property holds and the size is within capacity (checked on load).
    pub fn is_valid(&self) -> bool {
        self.heap.len() <= self.capacity
            && (1..self.heap.len()).all(|i| self.heap[(i - 1) / 2].weight >= self.heap[i].weight)
            && self.heap.iter().all(|p| !p.weight.is_nan())
    }
}
