//! Exponentially discounted mean and deviation of a stream of numbers.

use serde::{Deserialize, Serialize};

/// Running mean and standard deviation in which older values count less (discount δ per step;
/// δ = 0 gives the plain mean).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    discount: f64,
    weight: f64,
    sum: f64,
    sum_squares: f64,
    count: u64,
}

impl Deviation {
    /// A tracker with discount `discount` in [0, 1).
    pub fn new(discount: f64) -> Self {
        Deviation { discount: discount.clamp(0.0, 0.999_999), weight: 0.0, sum: 0.0, sum_squares: 0.0, count: 0 }
    }

    /// Adds a value.
    pub fn update(&mut self, value: f64) {
        let keep = 1.0 - self.discount;
        self.weight = self.weight * keep + 1.0;
        self.sum = self.sum * keep + value;
        self.sum_squares = self.sum_squares * keep + value * value;
        self.count += 1;
    }

    /// Values seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Discounted mean (0 before any value).
    pub fn mean(&self) -> f64 {
        if self.weight == 0.0 {
            0.0
        } else {
            self.sum / self.weight
        }
    }

    /// Discounted standard deviation (0 before two values).
    pub fn deviation(&self) -> f64 {
        if self.weight == 0.0 {
            return 0.0;
        }
        let mean = self.mean();
        (self.sum_squares / self.weight - mean * mean).max(0.0).sqrt()
    }
}
