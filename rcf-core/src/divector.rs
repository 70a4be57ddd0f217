//! Directional attribution: how much each dimension contributes to a score, split by direction.

use serde::{Deserialize, Serialize};

/// Per-dimension contributions to an anomaly score. `high[i]` is the part due to the point lying
/// above what the model expects in dimension `i`, `low[i]` below. The parts sum to the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiVector {
    /// Contribution of values higher than expected, per dimension.
    pub high: Vec<f64>,
    /// Contribution of values lower than expected, per dimension.
    pub low: Vec<f64>,
}

impl DiVector {
    /// All-zero attribution over `dims` dimensions.
    pub fn zeros(dims: usize) -> Self {
        DiVector { high: vec![0.0; dims], low: vec![0.0; dims] }
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.high.len()
    }

    /// Sum of all parts: equals the anomaly score it explains.
    pub fn total(&self) -> f64 {
        self.high.iter().sum::<f64>() + self.low.iter().sum::<f64>()
    }

    /// `high[i] + low[i]` for each dimension.
    pub fn per_dimension(&self) -> Vec<f64> {
        self.high.iter().zip(&self.low).map(|(h, l)| h + l).collect()
    }

    /// Folds a shingled attribution onto the input features: dimension `i` of the result sums
    /// dimensions `i, i + input_dims, i + 2·input_dims, …`. Returns `self` unchanged for 0 or a
    /// non-divisor.
    pub fn fold_shingle(&self, input_dims: usize) -> DiVector {
        if input_dims == 0 || !self.dims().is_multiple_of(input_dims) {
            return self.clone();
        }
        let mut out = DiVector::zeros(input_dims);
        for i in 0..self.dims() {
            out.high[i % input_dims] += self.high[i];
            out.low[i % input_dims] += self.low[i];
        }
        out
    }

    pub(crate) fn add_scaled(&mut self, other: &DiVector, factor: f64) {
        for i in 0..self.dims() {
            self.high[i] += other.high[i] * factor;
            self.low[i] += other.low[i] * factor;
        }
    }

    pub(crate) fn scale(&mut self, factor: f64) {
        self.high.iter_mut().chain(self.low.iter_mut()).for_each(|v| *v *= factor);
    }

    pub(crate) fn fill(&mut self, value: f64) {
        self.high.iter_mut().chain(self.low.iter_mut()).for_each(|v| *v = value);
    }
}
