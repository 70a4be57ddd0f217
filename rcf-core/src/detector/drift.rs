//! Telling a level shift from a string of anomalies (after AWS TRCF's data-drift rule): while
//! scores stay above the threshold after an anomaly was reported, the values of the run are
//! tracked; once the run is past its first few inputs and the values sit where the run's values
//! have been sitting, the stream has moved to a new level and further alarms would only repeat
//! the first. The run ends with the first input scored at or below the threshold.

use serde::{Deserialize, Serialize};

use super::deviation::Deviation;

/// Inputs of a run, counted from the first reported anomaly, that may still be reported before
/// values like the run's are taken for drift (AWS TRCF's value).
const RUN_ALLOWED: u32 = 2;
/// Deviations of the run's values within which a value counts as the run's level.
const LEVEL_DEVIATIONS: f64 = 2.0;

/// The current run of high scores since a reported anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Run {
    /// High-scoring inputs since the run's first reported anomaly (0: none reported yet).
    length: u32,
    /// The run's values per input dimension.
    values: Vec<Deviation>,
}

impl Run {
    pub(crate) fn new(dims: usize) -> Self {
        Run { length: 0, values: vec![Deviation::new(0.0); dims] }
    }

    /// Ends the run (an input scored at or below the threshold).
    pub(crate) fn end(&mut self) {
        if self.length > 0 {
            *self = Run::new(self.values.len());
        }
    }

    /// True when `actual` looks like the level the run has settled at: the run is past its
    /// allowance and every value is within two of the run's deviations (at least `noise[i]`)
    /// of the run's mean.
    pub(crate) fn is_drift(&self, actual: &[f32], noise: impl Fn(usize) -> f64) -> bool {
        self.length > RUN_ALLOWED
            && actual.iter().enumerate().all(|(i, &a)| {
                let v = &self.values[i];
                (a as f64 - v.mean()).abs() <= (LEVEL_DEVIATIONS * v.deviation()).max(noise(i))
            })
    }

    /// Records a high-scoring input: `reported` when it was graded, so the run starts (or goes on).
    pub(crate) fn record(&mut self, actual: &[f32], reported: bool) {
        if self.length == 0 && !reported {
            return;
        }
        self.length += 1;
        for (v, &a) in self.values.iter_mut().zip(actual) {
            v.update(a as f64);
        }
    }

    pub(crate) fn dims(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_settling_at_a_new_level_is_drift_and_a_new_jump_is_not() {
        let mut run = Run::new(1);
        assert!(!run.is_drift(&[10.0], |_| 0.5), "no run yet");
        run.record(&[10.0], false);
        assert!(!run.is_drift(&[10.0], |_| 0.5), "a run starts with a report");
        for x in [10.0, 10.2, 9.9] {
            run.record(&[x], true);
        }
        assert!(run.is_drift(&[10.1], |_| 0.5));
        assert!(!run.is_drift(&[14.0], |_| 0.5));
        run.end();
        assert!(!run.is_drift(&[10.1], |_| 0.5), "a new run starts over");
    }
}
