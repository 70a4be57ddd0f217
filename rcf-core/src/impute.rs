//! Imputation and forecasting from the forest: each tree proposes values for the missing
//! dimensions (its best-fitting leaf), and the proposals are summarised by median and quantiles.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::forest::Forest;
use crate::limits;
use crate::shingle::Shingle;

/// Values proposed for missing dimensions, with a spread across trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputation {
    /// Median proposal per missing dimension (in the order of the dimensions).
    pub values: Vec<f32>,
    /// Lower quantile of the proposals per missing dimension.
    pub lower: Vec<f32>,
    /// Upper quantile of the proposals per missing dimension.
    pub upper: Vec<f32>,
}

/// A forecast of the next `horizon` inputs, flattened input by input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Number of steps forecast.
    pub horizon: usize,
    /// Forecast values, `horizon × input_dims`.
    pub values: Vec<f32>,
    /// Lower bounds of the stated interval.
    pub lower: Vec<f32>,
    /// Upper bounds of the stated interval.
    pub upper: Vec<f32>,
}

impl Forest {
    /// Fills the dimensions of the shingled `point` flagged in `missing`; `coverage` sets the
    /// central fraction of tree proposals spanned by `lower`..`upper` (e.g. 0.9).
    pub(crate) fn impute_point(&self, point: &[f32], missing: &[bool], coverage: f64) -> Imputation {
        let missing_dims: Vec<usize> = (0..point.len()).filter(|&i| missing[i]).collect();
        let mut proposals: Vec<Vec<f32>> = vec![Vec::with_capacity(self.trees.len()); missing_dims.len()];
        for t in &self.trees {
            if let Some(leaf) = t.tree.impute_leaf(point, missing, &self.store) {
                let values = self.store.get(leaf.slot);
                for (k, &d) in missing_dims.iter().enumerate() {
                    proposals[k].push(values[d]);
                }
            }
        }
        let tail = (1.0 - coverage.clamp(0.0, 1.0)) / 2.0;
        let mut out = Imputation { values: vec![], lower: vec![], upper: vec![] };
        for mut p in proposals {
            p.sort_by(f32::total_cmp);
            out.values.push(quantile(&p, 0.5));
            out.lower.push(quantile(&p, tail));
            out.upper.push(quantile(&p, 1.0 - tail));
        }
        out
    }

    /// Completes the next input: values that are NaN are replaced by the forest's estimate given
    /// the known values and the shingle history. Infinite values are an error.
    pub fn impute(&self, input: &[f32]) -> Result<Vec<f32>, InputError> {
        let dims = self.config.input_dims;
        if input.len() != dims {
            return Err(InputError::WrongLength { expected: dims, found: input.len() });
        }
        if let Some(index) = input.iter().position(|v| v.is_infinite()) {
            return Err(InputError::NonFinite { index, value: input[index] });
        }
        let mut point = Vec::with_capacity(self.config.dimensions());
        self.shingle.point_with(input, &mut point);
        let missing: Vec<bool> = point.iter().map(|v| v.is_nan()).collect();
        if !missing.iter().any(|&m| m) || self.stored_points() == 0 {
            return Ok(input.iter().map(|&v| if v.is_nan() { 0.0 } else { v }).collect());
        }
        let filled = self.impute_point(&point, &missing, 0.5);
        let mut out = input.to_vec();
        let offset = point.len() - dims;
        let mut k = 0;
        for (i, m) in missing.iter().enumerate() {
            if *m {
                if i >= offset {
                    out[i - offset] = filled.values[k];
                }
                k += 1;
            }
        }
        Ok(out)
    }

    /// Extrapolates the next `horizon` inputs of a shingled series. Each step imputes the newest
    /// input of the shifted shingle and feeds the median back in; `coverage` is the central fraction
    /// of tree proposals reported as the interval (uncalibrated; see the detector's calibrated
    /// forecaster). Needs a shingle size of at least 2; `horizon` and `coverage` must lie in
    /// [`limits::HORIZON`], [`limits::FORECAST_VALUES`] and [`limits::COVERAGE`].
    pub fn forecast(&self, horizon: usize, coverage: f64) -> Result<Forecast, InputError> {
        let steps = self.forecast_steps(horizon, coverage)?;
        Ok(Forecast::from_steps(horizon, self.config.input_dims, steps))
    }

    /// The steps of [`Forest::forecast`], one input at a time, for callers that want to stop early
    /// (a user's interrupt) or check something between steps. The arguments are checked here.
    pub fn forecast_steps(&self, horizon: usize, coverage: f64) -> Result<ForecastSteps<'_>, InputError> {
        let dims = self.config.input_dims;
        if self.config.shingle_size < 2 {
            return Err(InputError::Unsupported { what: "forecasting needs a shingle size of at least 2" });
        }
        check_forecast_arguments(horizon, dims, coverage)?;
        Ok(ForecastSteps {
            forest: self,
            shingle: self.shingle.clone(),
            unknown: vec![f32::NAN; dims],
            point: Vec::with_capacity(self.config.dimensions()),
            coverage,
            remaining: horizon,
        })
    }
}

/// Checks the arguments of a forecast of `horizon` inputs of `dims` values.
pub(crate) fn check_forecast_arguments(horizon: usize, dims: usize, coverage: f64) -> Result<(), InputError> {
    limits::HORIZON.check_count(horizon)?;
    limits::FORECAST_VALUES.check_product(horizon, dims)?;
    limits::COVERAGE.check(coverage)?;
    Ok(())
}

/// The steps of a forecast, each the imputation of the next input (values, lower and upper bounds
/// per input dimension); see [`Forest::forecast_steps`].
#[derive(Debug)]
pub struct ForecastSteps<'a> {
    forest: &'a Forest,
    shingle: Shingle,
    unknown: Vec<f32>,
    point: Vec<f32>,
    coverage: f64,
    remaining: usize,
}

impl Iterator for ForecastSteps<'_> {
    type Item = Imputation;

    fn next(&mut self) -> Option<Imputation> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let dims = self.unknown.len();
        self.shingle.point_with(&self.unknown, &mut self.point);
        let step = if self.forest.stored_points() == 0 {
            Imputation { values: vec![0.0; dims], lower: vec![0.0; dims], upper: vec![0.0; dims] }
        } else {
            let missing: Vec<bool> = self.point.iter().map(|v| v.is_nan()).collect();
            self.forest.impute_point(&self.point, &missing, self.coverage)
        };
        self.shingle.push(&step.values);
        Some(step)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for ForecastSteps<'_> {}

impl Forecast {
    /// An empty forecast with room for `horizon` steps of `dims` values.
    pub fn with_capacity(horizon: usize, dims: usize) -> Self {
        let n = horizon.saturating_mul(dims).min(limits::MAX_FORECAST_VALUES);
        let values = Vec::with_capacity(n);
        Forecast { horizon: 0, values, lower: Vec::with_capacity(n), upper: Vec::with_capacity(n) }
    }

    /// Appends one step.
    pub fn push(&mut self, step: Imputation) {
        self.horizon += 1;
        self.values.extend_from_slice(&step.values);
        self.lower.extend_from_slice(&step.lower);
        self.upper.extend_from_slice(&step.upper);
    }

    /// A forecast of the given steps.
    pub fn from_steps(horizon: usize, dims: usize, steps: impl IntoIterator<Item = Imputation>) -> Self {
        let mut forecast = Forecast::with_capacity(horizon, dims);
        steps.into_iter().for_each(|s| forecast.push(s));
        forecast
    }
}

/// Linear-interpolated quantile of sorted values (0 for none).
fn quantile(sorted: &[f32], q: f64) -> f32 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = (pos - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}
