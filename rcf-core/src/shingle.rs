//! Internal shingling: the forest keeps the last `shingle_size` inputs and joins them into one point.

use serde::{Deserialize, Serialize};

/// The most recent inputs, oldest first, as one flat shingled point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shingle {
    input_dims: usize,
    size: usize,
    values: Vec<f32>,
    filled: usize,
}

impl Shingle {
    /// An empty shingle of `size` inputs of `input_dims` values.
    pub fn new(input_dims: usize, size: usize) -> Self {
        Shingle { input_dims, size, values: vec![0.0; input_dims * size], filled: 0 }
    }

    /// Appends an input, dropping the oldest.
    pub fn push(&mut self, input: &[f32]) {
        let tail = self.values.len() - self.input_dims;
        self.values.copy_within(self.input_dims.., 0);
        self.values[tail..].copy_from_slice(input);
        self.filled = (self.filled + 1).min(self.size);
    }

    /// True once `size` inputs have arrived.
    pub fn is_full(&self) -> bool {
        self.filled == self.size
    }

    /// True if pushing one more input would make the shingle full.
    pub fn full_after_next(&self) -> bool {
        self.filled + 1 >= self.size
    }

    /// The current shingled point.
    pub fn point(&self) -> &[f32] {
        &self.values
    }

    /// Writes into `out` the point the shingle would hold after pushing `input`, without pushing it.
    pub fn point_with(&self, input: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(&self.values[self.input_dims..]);
        out.extend_from_slice(input);
    }

    pub(crate) fn is_consistent(&self, input_dims: usize, size: usize) -> bool {
        self.input_dims == input_dims
            && self.size == size
            && self.values.len() == input_dims * size
            && self.filled <= size
    }
}
