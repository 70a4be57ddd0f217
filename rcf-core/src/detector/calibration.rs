//! Calibration of forecast intervals from the forecaster's own past errors (split conformal):
//! every `horizon` inputs a forecast is recorded, and when the actual values arrive the absolute
//! errors per step ahead are kept; an interval of coverage c is the point forecast ± the c-quantile
//! of those errors.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::limits;

/// Errors kept per step ahead (bounded memory).
const MAX_ERRORS: usize = 512;
/// Most lists (pending forecasts, error lists) decoded from a model file: an empty list is one
/// byte in the file but a few dozen in memory, so their count is bounded while decoding.
const MAX_DECODED_LISTS: usize = 1 << 20;

/// Past forecasts awaiting their actual values, and the errors of those that got them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    horizon: usize,
    dims: usize,
    /// (index of the first forecast input, forecast values) still waiting for actuals.
    #[serde(deserialize_with = "crate::load_limits::bounded::at_most::<_, _, _, MAX_DECODED_LISTS>")]
    pending: VecDeque<(u64, Vec<f32>)>,
    /// Absolute errors per (step ahead, dimension).
    #[serde(deserialize_with = "crate::load_limits::bounded::at_most::<_, _, _, MAX_DECODED_LISTS>")]
    errors: Vec<VecDeque<f32>>,
}

impl Calibration {
    /// Calibration for forecasts of `horizon` inputs of `dims` values.
    pub fn new(horizon: usize, dims: usize) -> Self {
        Calibration { horizon, dims, pending: VecDeque::new(), errors: vec![VecDeque::new(); horizon * dims] }
    }

    /// True when every stored forecast and error list matches `dims` (checked on load).
    /// A loaded horizon outside the limits would make every later forecast too large.
    pub fn is_consistent(&self, dims: usize) -> bool {
        let values = limits::CALIBRATED_VALUES.check_product(self.horizon, dims).ok();
        self.dims == dims
            && limits::FORECAST_HORIZON.check_count(self.horizon).is_ok()
            && values.is_some_and(|n| self.errors.len() == n && self.pending.iter().all(|(_, v)| v.len() == n))
            && self.errors.iter().all(|e| e.len() <= MAX_ERRORS)
    }

    /// Forecast horizon.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Records a forecast whose first step is input number `first_index`.
    pub fn record(&mut self, first_index: u64, values: Vec<f32>) {
        self.pending.push_back((first_index, values));
    }

    /// Scores pending forecasts against the actual input number `index`.
    pub fn observe(&mut self, index: u64, actual: &[f32]) {
        for (first, values) in &self.pending {
            if index >= *first && index < first + self.horizon as u64 {
                let step = (index - first) as usize;
                for d in 0..self.dims {
                    let errors = &mut self.errors[step * self.dims + d];
                    if errors.len() == MAX_ERRORS {
                        errors.pop_front();
                    }
                    errors.push_back((actual[d] - values[step * self.dims + d]).abs());
                }
            }
        }
        while self.pending.front().is_some_and(|(first, _)| index + 1 >= first + self.horizon as u64) {
            self.pending.pop_front();
        }
    }

    /// Half-width of the interval of `coverage` for step `step`, dimension `d`; `None` until
    /// enough errors are known.
    pub fn half_width(&self, step: usize, d: usize, coverage: f64) -> Option<f32> {
        let errors = &self.errors[step * self.dims + d];
        if errors.len() < 10 {
            return None;
        }
        let mut sorted: Vec<f32> = errors.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        // The conformal quantile: rank ⌈(n + 1)·c⌉.
        let rank = (((sorted.len() + 1) as f64 * coverage).ceil() as usize).clamp(1, sorted.len());
        Some(sorted[rank - 1])
    }
}
