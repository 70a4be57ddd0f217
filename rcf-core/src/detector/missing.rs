//! Streaming imputation: filling missing values and timestamp gaps before the forest sees them.

use serde::{Deserialize, Serialize};

/// How missing values (NaN) and timestamp gaps are filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FillMethod {
    /// Missing values are an error and gaps are ignored (AWS's STANDARD mode).
    Reject,
    /// Fill with zeros.
    Zero,
    /// Fill with fixed values, one per input dimension.
    Fixed(Vec<f32>),
    /// Repeat the previous input.
    Previous,
    /// Interpolate linearly between the previous input and the next known one (for NaN inside an
    /// input, the previous value is used).
    Linear,
    /// Ask the forest for the value that fits the recent shingle best.
    Forest,
}

/// Tracks the regular interval of a stream's timestamps to find gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Cadence {
    last: Option<i64>,
    interval: Option<i64>,
}

/// At most this many missing steps are filled for one gap (bounds work on hostile timestamps).
pub const MAX_GAP_FILL: usize = 10_000;

impl Cadence {
    /// The last timestamp seen.
    pub fn last(&self) -> Option<i64> {
        self.last
    }

    /// Number of whole steps missing before `timestamp` (0 while the interval is unknown).
    pub fn missing_before(&self, timestamp: i64) -> usize {
        match (self.last, self.interval) {
            (Some(last), Some(interval)) if interval > 0 => {
                let steps = ((timestamp - last) as f64 / interval as f64).round() as i64 - 1;
                steps.clamp(0, MAX_GAP_FILL as i64) as usize
            }
            _ => 0,
        }
    }

    /// Records a timestamp; the interval is the smallest positive step seen.
    pub fn record(&mut self, timestamp: i64) {
        if let Some(last) = self.last {
            let step = timestamp - last;
            if step > 0 && self.interval.is_none_or(|i| step < i) {
                self.interval = Some(step);
            }
        }
        self.last = Some(timestamp);
    }

    /// The interval in use, if known.
    pub fn interval(&self) -> Option<i64> {
        self.interval
    }
}
