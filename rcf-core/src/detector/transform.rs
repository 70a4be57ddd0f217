//! Streaming input transforms applied before the forest, and their inverses (for expected values
//! and forecasts in the caller's units).

use serde::{Deserialize, Serialize};

use super::deviation::Deviation;

/// How inputs are transformed before they reach the forest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Transform {
    /// Values as they are.
    #[default]
    None,
    /// `(x − mean) / deviation`, with discounted statistics per input dimension.
    Normalize,
    /// `x − previous x`.
    Difference,
    /// Differences, normalised.
    NormalizeDifference,
    /// `x − discounted moving average`.
    SubtractMovingAverage,
}

/// Per-dimension state of a [`Transform`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transformer {
    method: Transform,
    values: Vec<Deviation>,
    differences: Vec<Deviation>,
    previous: Option<Vec<f32>>,
}

/// The smallest scale used when normalising, so constant series do not divide by zero.
const MIN_SCALE: f64 = 1e-3;

impl Transformer {
    /// A transformer for `dims` input values with statistics discounted by `discount` per step.
    pub fn new(method: Transform, dims: usize, discount: f64) -> Self {
        Transformer {
            method,
            values: vec![Deviation::new(discount); dims],
            differences: vec![Deviation::new(discount); dims],
            previous: None,
        }
    }

    /// The transform in use.
    pub fn method(&self) -> Transform {
        self.method
    }

    /// `(shift, scale)` per dimension: transformed = (x − shift) / scale, given the current state.
    pub fn shift_and_scale(&self, i: usize) -> (f64, f64) {
        self.shift_and_scale_after(i, self.previous.as_deref())
    }

    /// As [`Transformer::shift_and_scale`], with `previous` as the input before the one transformed
    /// (the differencing transforms depend on it).
    pub fn shift_and_scale_after(&self, i: usize, previous: Option<&[f32]>) -> (f64, f64) {
        let prev = previous.map_or(0.0, |p| p[i] as f64);
        let scale = |d: &Deviation| d.deviation().max(MIN_SCALE * (1.0 + d.mean().abs()));
        match self.method {
            Transform::None => (0.0, 1.0),
            Transform::Normalize => (self.values[i].mean(), scale(&self.values[i])),
            Transform::Difference => (prev, 1.0),
            Transform::NormalizeDifference => (prev + self.differences[i].mean(), scale(&self.differences[i])),
            Transform::SubtractMovingAverage => (self.values[i].mean(), 1.0),
        }
    }

    /// Transforms `input` with the current state (without learning from it).
    pub fn apply(&self, input: &[f32]) -> Vec<f32> {
        input
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let (shift, scale) = self.shift_and_scale(i);
                ((x as f64 - shift) / scale) as f32
            })
            .collect()
    }

    /// Maps transformed values back to input units with the current state.
    pub fn invert(&self, transformed: &[f32]) -> Vec<f32> {
        self.invert_after(transformed, self.previous.as_deref())
    }

    /// Maps one transformed input back to input units, `previous` being the input before it.
    pub fn invert_after(&self, transformed: &[f32], previous: Option<&[f32]>) -> Vec<f32> {
        transformed
            .iter()
            .enumerate()
            .map(|(i, &y)| {
                let (shift, scale) = self.shift_and_scale_after(i, previous);
                (y as f64 * scale + shift) as f32
            })
            .collect()
    }

    /// Learns from an input after it has been processed.
    pub fn update(&mut self, input: &[f32]) {
        for (i, &x) in input.iter().enumerate() {
            self.values[i].update(x as f64);
            if let Some(prev) = &self.previous {
                self.differences[i].update(x as f64 - prev[i] as f64);
            }
        }
        self.previous = Some(input.to_vec());
    }

    /// Typical step-to-step change of dimension `i` (the deviation of its differences): the noise
    /// level below which a departure from the expected value is not remarkable.
    pub fn noise(&self, i: usize) -> f64 {
        self.differences[i].deviation()
    }

    /// True when the state has `dims` dimensions throughout (checked on load).
    pub fn is_consistent(&self, dims: usize) -> bool {
        self.values.len() == dims
            && self.differences.len() == dims
            && self.previous.as_ref().is_none_or(|p| p.len() == dims)
    }

    /// The last input seen, if any.
    pub fn previous(&self) -> Option<&[f32]> {
        self.previous.as_deref()
    }
}
