//! The thresholded detector (after AWS's ThresholdedRandomCutForest): a forest behind a streaming
//! transform, a self-adjusting threshold, and a corrector that explains each anomaly (attribution,
//! where in the shingle it started, what was expected) and suppresses what is not news: values
//! near the expected ones, values seen before in a similar context, echoes of an anomaly still in
//! the shingle, continuations, and a stream settling at a new level. Missing values and timestamp
//! gaps can be filled on the fly.

mod builder;
mod calibration;
mod descriptor;
mod deviation;
mod drift;
mod missing;
mod thresholder;
mod transform;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use builder::DetectorBuilder;
pub use calibration::Calibration;
pub use descriptor::{AnomalyDescriptor, Suppression};
pub use deviation::Deviation;
pub use missing::{Cadence, FillMethod, MAX_GAP_FILL};
pub use thresholder::{ThresholdConfig, Thresholder};
pub use transform::{Transform, Transformer};

use drift::Run;

use crate::error::InputError;
use crate::forest::Forest;
use crate::impute::{Forecast, Imputation};
use crate::DiVector;

/// Near neighbours consulted by the similar-context check (AWS TRCF's value).
const NEIGHBOURS_CONSULTED: usize = 50;

/// Share of the last anomaly's score that the newest inputs' attribution must change by before
/// they count as a new anomaly while the last one is inside the shingle (AWS TRCF's value).
const DIFFERENTIAL_FACTOR: f64 = 0.3;

/// The attribution of each shingle position (`dims` values each), summed over its values.
fn block_masses(attribution: &DiVector, dims: usize) -> Vec<f64> {
    attribution.per_dimension().chunks(dims).map(|b| b.iter().sum()).collect()
}

/// An input the detector cannot process.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DetectorError {
    /// The values were unusable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Timestamps must increase strictly.
    #[error("timestamp {found} is not after the previous timestamp {previous}")]
    TimestampNotIncreasing {
        /// The previous timestamp.
        previous: i64,
        /// The offending timestamp.
        found: i64,
    },
    /// A series call failed at one row.
    #[error("row {row}: {source}")]
    InRow {
        /// Zero-based row.
        row: usize,
        /// The failure.
        #[source]
        source: Box<DetectorError>,
    },
    /// The operation needs a setting the detector was not built with.
    #[error("{0}")]
    Unsupported(&'static str),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub(crate) fill: FillMethod,
    pub(crate) alert_once: bool,
    pub(crate) near_expected_absolute: f64,
    pub(crate) near_expected_relative: f64,
    pub(crate) noise_factor: f64,
    pub(crate) similar_context_support: f64,
}

/// True when every actual value is within `tolerance` of the expected one (per dimension).
fn within(actual: &[f32], expected: &[f32], tolerance: &[f64]) -> bool {
    actual.iter().zip(expected).zip(tolerance).all(|((&a, &e), &t)| (a as f64 - e as f64).abs() <= t)
}

/// The last reported anomaly: which input it was, the transformed values expected there, and its
/// score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LastAnomaly {
    index: u64,
    expected: Vec<f32>,
    score: f64,
}

/// A streaming anomaly detector with grades, thresholds and explanations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub(crate) forest: Forest,
    pub(crate) transformer: Transformer,
    pub(crate) thresholder: Thresholder,
    pub(crate) settings: Settings,
    pub(crate) calibration: Option<Calibration>,
    /// The last `shingle_size` raw inputs, oldest first (bounded while decoding: an empty input
    /// is one byte in the file, a few dozen in memory).
    #[serde(deserialize_with = "crate::load_limits::bounded::at_most::<_, _, _, { crate::MAX_DIMENSIONS }>")]
    pub(crate) recent_inputs: VecDeque<Vec<f32>>,
    /// Whether each of those inputs was imputed.
    pub(crate) recent_imputed: VecDeque<bool>,
    pub(crate) cadence: Cadence,
    pub(crate) inputs_seen: u64,
    pub(crate) last_anomaly: Option<LastAnomaly>,
    pub(crate) previous_graded: bool,
    pub(crate) previous_high: bool,
    pub(crate) previous_score: f64,
    /// The run of high scores since the last reported anomaly, for telling drift from anomalies.
    pub(crate) run: Run,
}

impl Detector {
    /// The underlying forest (in transformed units).
    pub fn forest(&self) -> &Forest {
        &self.forest
    }

    /// Inputs processed so far, imputed ones included.
    pub fn inputs_seen(&self) -> u64 {
        self.inputs_seen
    }

    /// The current threshold.
    pub fn threshold(&self) -> f64 {
        self.thresholder.threshold()
    }

    /// Processes one input arriving at `timestamp`: scores, grades and explains it, then learns it.
    /// NaN values are filled (or rejected) per the fill method; timestamps must increase.
    pub fn process(&mut self, input: &[f32], timestamp: i64) -> Result<AnomalyDescriptor, DetectorError> {
        let dims = self.transformer_dims();
        if input.len() != dims {
            return Err(InputError::WrongLength { expected: dims, found: input.len() }.into());
        }
        if let Some(previous) = self.cadence.last() {
            if timestamp <= previous {
                return Err(DetectorError::TimestampNotIncreasing { previous, found: timestamp });
            }
        }
        if let Some(index) = input.iter().position(|v| v.is_infinite()) {
            return Err(InputError::NonFinite { index, value: input[index] }.into());
        }
        let has_missing = input.iter().any(|v| v.is_nan());
        if has_missing && self.settings.fill == FillMethod::Reject {
            let index = input.iter().position(|v| v.is_nan()).unwrap_or(0);
            return Err(InputError::NonFinite { index, value: f32::NAN }.into());
        }
        let gap = if self.settings.fill == FillMethod::Reject { 0 } else { self.cadence.missing_before(timestamp) };
        for step in 0..gap {
            let unknown = vec![f32::NAN; dims];
            let filled = self.fill_missing(&unknown, Some((step + 1) as f64 / (gap + 1) as f64), Some(input))?;
            self.learn(&filled, true);
        }
        let values = if has_missing { self.fill_missing(input, None, None)? } else { input.to_vec() };
        let mut descriptor = self.evaluate(&values, timestamp);
        descriptor.imputed_values = gap * dims + input.iter().filter(|v| v.is_nan()).count();
        self.learn(&values, has_missing);
        self.cadence.record(timestamp);
        Ok(descriptor)
    }

    /// Processes a whole series (row-major, `input_dims` values per row). Without timestamps, row
    /// numbers are used. The series is checked first: on an error nothing was processed.
    pub fn process_series(
        &mut self,
        rows: &[f32],
        timestamps: Option<&[i64]>,
    ) -> Result<Vec<AnomalyDescriptor>, DetectorError> {
        let dims = self.transformer_dims();
        if !rows.len().is_multiple_of(dims) {
            return Err(InputError::RaggedBatch { len: rows.len(), row_len: dims }.into());
        }
        let n = rows.len() / dims;
        if let Some(ts) = timestamps {
            if ts.len() != n {
                return Err(InputError::WrongLength { expected: n, found: ts.len() }.into());
            }
        }
        let start = self.cadence.last().map_or(0, |t| t + 1);
        self.check_series(rows, timestamps, start)?;
        rows.chunks_exact(dims)
            .enumerate()
            .map(|(row, input)| {
                let ts = timestamps.map_or(start + row as i64, |ts| ts[row]);
                self.process(input, ts).map_err(|e| DetectorError::InRow { row, source: Box::new(e) })
            })
            .collect()
    }

    /// Checks a whole series before any of it is processed, so a bad row leaves the detector as it
    /// was: values (infinite, or NaN when missing values are rejected) and timestamp order.
    fn check_series(&self, rows: &[f32], timestamps: Option<&[i64]>, start: i64) -> Result<(), DetectorError> {
        let dims = self.transformer_dims();
        let mut previous = self.cadence.last();
        for (row, input) in rows.chunks_exact(dims).enumerate() {
            let fail = |e: DetectorError| DetectorError::InRow { row, source: Box::new(e) };
            let rejected = |v: &f32| v.is_infinite() || (v.is_nan() && self.settings.fill == FillMethod::Reject);
            if let Some(index) = input.iter().position(rejected) {
                return Err(fail(InputError::NonFinite { index, value: input[index] }.into()));
            }
            let ts = timestamps.map_or(start + row as i64, |ts| ts[row]);
            if let Some(p) = previous.filter(|&p| ts <= p) {
                return Err(fail(DetectorError::TimestampNotIncreasing { previous: p, found: ts }));
            }
            previous = Some(ts);
        }
        Ok(())
    }

    /// Free-form key/value annotations stored with the model (settings of a face, provenance).
    pub fn metadata(&self) -> &std::collections::BTreeMap<String, String> {
        self.forest.metadata()
    }

    /// Mutable access to the annotations.
    pub fn metadata_mut(&mut self) -> &mut std::collections::BTreeMap<String, String> {
        self.forest.metadata_mut()
    }

    /// Forecasts the next `horizon` inputs in input units. Intervals cover `coverage` of later
    /// values: calibrated from past errors when the detector was built with a forecast horizon
    /// (and has seen enough), otherwise the spread of the trees' proposals. The arguments must lie
    /// in [`limits::HORIZON`](crate::limits::HORIZON), [`limits::FORECAST_VALUES`](crate::limits::FORECAST_VALUES)
    /// and [`limits::COVERAGE`](crate::limits::COVERAGE).
    pub fn forecast(&self, horizon: usize, coverage: f64) -> Result<Forecast, DetectorError> {
        let steps = self.forecast_steps(horizon, coverage)?;
        Ok(Forecast::from_steps(horizon, self.transformer_dims(), steps))
    }

    /// The steps of [`Detector::forecast`], one input at a time (in input units), for callers that
    /// want to stop early. The arguments are checked here.
    pub fn forecast_steps(
        &self,
        horizon: usize,
        coverage: f64,
    ) -> Result<impl ExactSizeIterator<Item = Imputation> + '_, DetectorError> {
        if self.forest.config().shingle_size < 2 {
            return Err(DetectorError::Unsupported("forecasting needs a shingle size of at least 2"));
        }
        let dims = self.transformer_dims();
        let raw = self.forest.forecast_steps(horizon, coverage)?;
        let mut previous = self.transformer.previous().map(|p| p.to_vec());
        Ok(raw.enumerate().map(move |(step, raw)| {
            let value = self.transformer.invert_after(&raw.values, previous.as_deref());
            let lower = self.transformer.invert_after(&raw.lower, previous.as_deref());
            let upper = self.transformer.invert_after(&raw.upper, previous.as_deref());
            let mut out = Imputation {
                values: Vec::with_capacity(dims),
                lower: Vec::with_capacity(dims),
                upper: Vec::with_capacity(dims),
            };
            for d in 0..dims {
                let calibrated = self
                    .calibration
                    .as_ref()
                    .filter(|c| step < c.horizon())
                    .and_then(|c| c.half_width(step, d, coverage));
                let (lo, hi) = match calibrated {
                    Some(w) => (value[d] - w, value[d] + w),
                    None => (lower[d].min(value[d]), upper[d].max(value[d])),
                };
                out.values.push(value[d]);
                out.lower.push(lo);
                out.upper.push(hi);
            }
            previous = Some(value);
            out
        }))
    }

    /// Imputes the NaN values of the next input (input units) without processing it.
    pub fn impute(&self, input: &[f32]) -> Result<Vec<f32>, DetectorError> {
        let dims = self.transformer_dims();
        if input.len() != dims {
            return Err(InputError::WrongLength { expected: dims, found: input.len() }.into());
        }
        let transformed = self.transformer.apply(input);
        let filled = self.forest.impute(&transformed)?;
        let restored = self.transformer.invert(&filled);
        Ok(input.iter().zip(restored).map(|(&x, r)| if x.is_nan() { r } else { x }).collect())
    }

    /// Checks that every part of the state matches the forest's dimensions (used on load).
    pub fn check_consistency(&self) -> Result<(), String> {
        let config = self.forest.config();
        let dims = config.input_dims;
        let ok = self.transformer.is_consistent(dims)
            && self.calibration.as_ref().is_none_or(|c| c.is_consistent(dims))
            && self.run.dims() == dims
            && self.recent_inputs.len() <= config.shingle_size
            && self.recent_inputs.len() == self.recent_imputed.len()
            && self.recent_inputs.iter().all(|v| v.len() == dims)
            && self.last_anomaly.as_ref().is_none_or(|a| a.expected.len() == dims && a.index <= self.inputs_seen)
            && match &self.settings.fill {
                FillMethod::Fixed(values) => values.len() == dims,
                _ => true,
            };
        if ok {
            Ok(())
        } else {
            Err("detector state does not match the forest's dimensions".into())
        }
    }

    fn transformer_dims(&self) -> usize {
        self.forest.config().input_dims
    }

    /// Fills the NaN values of `input`. For gap filling, `fraction` is how far between the previous
    /// and `next` inputs this step lies (used by linear interpolation).
    fn fill_missing(
        &self,
        input: &[f32],
        fraction: Option<f64>,
        next: Option<&[f32]>,
    ) -> Result<Vec<f32>, DetectorError> {
        let previous = self.recent_inputs.back();
        let fill = |i: usize| -> f32 {
            let prev = previous.map_or(0.0, |p| p[i]);
            match &self.settings.fill {
                FillMethod::Reject | FillMethod::Zero => 0.0,
                FillMethod::Fixed(values) => values[i],
                FillMethod::Previous | FillMethod::Forest => prev,
                FillMethod::Linear => match (fraction, next.map(|n| n[i])) {
                    (Some(f), Some(n)) if n.is_finite() => prev + (n - prev) * f as f32,
                    _ => prev,
                },
            }
        };
        if self.settings.fill == FillMethod::Forest && self.forest.is_output_ready() {
            return self.impute(input);
        }
        Ok(input.iter().enumerate().map(|(i, &v)| if v.is_nan() { fill(i) } else { v }).collect())
    }

    /// Scores and grades `values` (already filled) as the next input, without learning it.
    fn evaluate(&mut self, values: &[f32], timestamp: i64) -> AnomalyDescriptor {
        let transformed = self.transformer.apply(values);
        let score = self.forest.score(&transformed).unwrap_or(0.0);
        let threshold = self.thresholder.threshold();
        let high = score > 0.0 && score > threshold;
        let mut d = AnomalyDescriptor {
            timestamp,
            score,
            grade: 0.0,
            threshold,
            confidence: self.confidence(),
            attribution: None,
            relative_index: 0,
            expected_values: None,
            actual_values: None,
            start_of_anomaly: false,
            in_high_score_region: high,
            suppression: Suppression::None,
            imputed_values: 0,
        };
        if high {
            self.explain(&transformed, values, &mut d);
        } else {
            self.run.end();
        }
        if score > 0.0 {
            self.thresholder.update(score);
        }
        d.start_of_anomaly = d.grade > 0.0 && !self.previous_graded;
        self.previous_graded = d.grade > 0.0;
        self.previous_high = high;
        self.previous_score = score;
        d
    }

    /// Fills in attribution, relative index, expected values, suppression and grade.
    fn explain(&mut self, transformed: &[f32], values: &[f32], d: &mut AnomalyDescriptor) {
        let config = self.forest.config();
        let (dims, shingle) = (config.input_dims, config.shingle_size);
        let attribution = self.forest.attribution(transformed).unwrap_or_else(|_| DiVector::zeros(dims * shingle));
        let block_mass = block_masses(&attribution, dims);
        let block = block_mass.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(shingle - 1, |(i, _)| i);
        d.relative_index = block as i64 - (shingle as i64 - 1);

        let mut point = Vec::with_capacity(dims * shingle);
        self.forest.shingle.point_with(transformed, &mut point);
        let expected_transformed = self.expected_block(&point, block, dims);
        let back = (-d.relative_index) as usize;
        let actual = if back == 0 { values.to_vec() } else { self.recent_input(back - 1).unwrap_or(values).to_vec() };
        let before = if back == 0 { self.recent_input(0) } else { self.recent_input(back) };
        let expected = self.transformer.invert_after(&expected_transformed, before);

        let uncertainty = self.uncertainty(&point, block, dims, shingle);
        d.suppression = if self.near_expected(&actual, &expected) || within(&actual, &expected, &uncertainty) {
            Suppression::NearExpected
        } else if self.seen_in_similar_context(&point, block, dims, &uncertainty) {
            Suppression::SimilarContext
        } else if self.explained_by_last_anomaly(&point, dims, shingle) {
            Suppression::EarlierAnomalyInShingle
        } else if self.settings.alert_once && self.previous_high {
            Suppression::AlertOnce
        } else if self.continues_last_anomaly(d.score, shingle) {
            Suppression::Continuation
        } else if self.run.is_drift(values, |i| self.settings.noise_factor * self.transformer.noise(i)) {
            Suppression::DataDrift
        } else {
            Suppression::None
        };
        self.run.record(values, d.suppression == Suppression::None);
        if d.suppression == Suppression::None {
            d.grade = self.thresholder.grade(d.score);
            self.last_anomaly = Some(LastAnomaly {
                index: self.inputs_seen - back as u64,
                expected: expected_transformed.clone(),
                score: d.score,
            });
        }
        d.attribution = Some(attribution);
        d.expected_values = Some(expected);
        d.actual_values = Some(actual);
    }

    /// How far (input units, per dimension) a value at shingle position `block` may sit from
    /// another and still be indistinguishable: the noise factor times the larger of the stream's
    /// typical step-to-step change and the average step along the shingle from `block` on (after
    /// AWS TRCF's uncertainty box), plus a rounding allowance.
    fn uncertainty(&self, point: &[f32], block: usize, dims: usize, shingle: usize) -> Vec<f64> {
        (0..dims)
            .map(|i| {
                let (shift, scale) = self.transformer.shift_and_scale(i);
                let steps = block..shingle.saturating_sub(1);
                let total: f64 =
                    steps.clone().map(|k| (point[k * dims + i] as f64 - point[(k + 1) * dims + i] as f64).abs()).sum();
                let path = if steps.is_empty() { 0.0 } else { total / steps.len() as f64 };
                self.settings.noise_factor * (scale * path).max(self.transformer.noise(i)) + 1e-3 * shift.abs()
            })
            .collect()
    }

    /// True when enough of the sampled points nearest to `point` hold, at shingle position
    /// `block`, values within `uncertainty` of the point's: the model has seen such values in a
    /// similar context, so they are not news.
    fn seen_in_similar_context(&self, point: &[f32], block: usize, dims: usize, uncertainty: &[f64]) -> bool {
        let support = self.settings.similar_context_support;
        if support <= 0.0 {
            return false;
        }
        let neighbours = self.forest.near_neighbours_of_point(point, NEIGHBOURS_CONSULTED);
        let scales: Vec<f64> = (0..dims).map(|i| self.transformer.shift_and_scale(i).1).collect();
        let range = block * dims..(block + 1) * dims;
        let close = neighbours
            .iter()
            .filter(|n| {
                n.point[range.clone()]
                    .iter()
                    .zip(&point[range.clone()])
                    .enumerate()
                    .all(|(i, (&a, &b))| scales[i] * (a as f64 - b as f64).abs() <= uncertainty[i])
            })
            .count();
        !neighbours.is_empty() && close as f64 >= support * neighbours.len() as f64
    }

    /// The raw input `back` steps before the newest stored one (0 = the newest stored).
    fn recent_input(&self, back: usize) -> Option<&[f32]> {
        let n = self.recent_inputs.len();
        (back < n).then(|| self.recent_inputs[n - 1 - back].as_slice())
    }

    fn near_expected(&self, actual: &[f32], expected: &[f32]) -> bool {
        let (abs, rel) = (self.settings.near_expected_absolute, self.settings.near_expected_relative);
        if abs == 0.0 && rel == 0.0 {
            return false;
        }
        actual.iter().zip(expected).all(|(&a, &e)| {
            let gap = (a as f64 - e as f64).abs();
            gap <= abs || gap <= rel * (e as f64).abs()
        })
    }

    /// True when `score` belongs to the event already reported: the scores have stayed high
    /// without rising, or the last reported anomaly is still inside the shingle and scored at
    /// least as high.
    fn continues_last_anomaly(&self, score: f64, shingle: usize) -> bool {
        let rising = score > self.previous_score;
        let recent = self.last_anomaly.as_ref().filter(|l| self.inputs_seen - l.index < shingle as u64);
        (self.previous_high && !rising) || recent.is_some_and(|l| score <= l.score)
    }

    /// True when the score is explained by the last anomaly still inside the shingle (after AWS
    /// TRCF's correction and trigger). With that input replaced by what was expected there, either
    /// the point no longer scores above the threshold, or the inputs that arrived since then carry
    /// too little of the anomaly themselves: replacing the most anomalous of them by its expected
    /// values changes their attribution by no more than [`DIFFERENTIAL_FACTOR`] of the last
    /// anomaly's score, or by too little to be graded when scaled up from their share of the
    /// shingle to all of it.
    fn explained_by_last_anomaly(&self, point: &[f32], dims: usize, shingle: usize) -> bool {
        let Some(last) = &self.last_anomaly else { return false };
        let age = (self.inputs_seen - last.index) as usize; // 1 = the previous input
        if age == 0 || age >= shingle {
            return false;
        }
        let mut corrected = point.to_vec();
        let old = shingle - 1 - age;
        corrected[old * dims..(old + 1) * dims].copy_from_slice(&last.expected);
        let attribution = self.forest.attribute_point(&corrected);
        if attribution.total() <= self.thresholder.threshold() {
            return true;
        }
        let per_block = block_masses(&attribution, dims);
        let newest = shingle - age..shingle;
        let Some(block) = newest.clone().max_by(|&a, &b| per_block[a].total_cmp(&per_block[b])) else { return false };
        let mut expected = corrected.clone();
        expected[block * dims..(block + 1) * dims].copy_from_slice(&self.expected_block(&corrected, block, dims));
        let ideal = self.forest.attribute_point(&expected);
        let change: f64 = (newest.start * dims..shingle * dims)
            .map(|k| (attribution.high[k] - ideal.high[k]).abs() + (attribution.low[k] - ideal.low[k]).abs())
            .sum();
        change <= DIFFERENTIAL_FACTOR * last.score
            || self.thresholder.grade(change * shingle as f64 / age as f64) == 0.0
    }

    /// What the forest expects at shingle position `block` of `point`, given the other positions.
    fn expected_block(&self, point: &[f32], block: usize, dims: usize) -> Vec<f32> {
        let missing: Vec<bool> = (0..point.len()).map(|i| i / dims == block).collect();
        self.forest.impute_point(point, &missing, 0.5).values
    }

    fn confidence(&self) -> f64 {
        let config = self.forest.config();
        let filled = (self.forest.points_seen() as f64 / config.sample_size as f64).min(1.0);
        let imputed = self.recent_imputed.iter().filter(|&&b| b).count() as f64;
        filled * (1.0 - imputed / config.shingle_size as f64)
    }

    /// Learns a (filled) input: transform, forest, calibration, history.
    fn learn(&mut self, values: &[f32], imputed: bool) {
        let transformed = self.transformer.apply(values);
        if let Some(calibration) = &mut self.calibration {
            calibration.observe(self.inputs_seen, values);
        }
        // The transformed values are finite by construction, so the update cannot fail.
        let _ = self.forest.update(&transformed);
        self.transformer.update(values);
        let shingle = self.forest.config().shingle_size;
        if self.recent_inputs.len() == shingle {
            self.recent_inputs.pop_front();
            self.recent_imputed.pop_front();
        }
        self.recent_inputs.push_back(values.to_vec());
        self.recent_imputed.push_back(imputed);
        self.inputs_seen += 1;
        let due = self.calibration.as_ref().map(|c| c.horizon()).filter(|h| self.inputs_seen.is_multiple_of(*h as u64));
        if let Some(horizon) = due {
            if self.forest.is_output_ready() {
                if let Ok(forecast) = self.forecast(horizon, 0.5) {
                    let first = self.inputs_seen;
                    if let Some(c) = &mut self.calibration {
                        c.record(first, forecast.values);
                    }
                }
            }
        }
    }
}
