//! The detector's builder: validated settings with AWS's TRCF defaults.

use std::collections::VecDeque;

use super::{Cadence, Calibration, Detector, FillMethod, Settings, ThresholdConfig, Thresholder, Transform, Transformer};
use crate::config::ForestBuilder;
use crate::error::ConfigError;

/// Builds a [`Detector`].
///
/// ```
/// use rcf_core::detector::{DetectorBuilder, Transform};
/// let mut detector = DetectorBuilder::new(1).shingle_size(4).transform(Transform::Normalize).seed(1).build()?;
/// for t in 0..600 {
///     let value = (t as f32 * 0.3).sin() + if t == 500 { 6.0 } else { 0.0 };
///     let d = detector.process(&[value], t)?;
///     if t == 500 { assert!(d.grade > 0.0); }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DetectorBuilder {
    forest: ForestBuilder,
    input_dims: usize,
    sample_size: usize,
    transform: Transform,
    threshold: ThresholdConfig,
    fill: FillMethod,
    alert_once: bool,
    near_expected_absolute: f64,
    near_expected_relative: f64,
    noise_factor: f64,
    similar_context_support: f64,
    forecast_horizon: Option<usize>,
}

impl DetectorBuilder {
    /// A detector over inputs of `input_dims` values, with AWS's TRCF defaults: 50 trees, sample
    /// 256, shingle 8, no transform, z-factor 3, lower threshold 0.8.
    pub fn new(input_dims: usize) -> Self {
        DetectorBuilder {
            forest: ForestBuilder::new(input_dims).num_trees(50).shingle_size(8).initial_accept_fraction(0.125),
            input_dims,
            sample_size: 256,
            transform: Transform::None,
            threshold: ThresholdConfig::default(),
            fill: FillMethod::Reject,
            alert_once: false,
            near_expected_absolute: 0.0,
            near_expected_relative: 0.0,
            noise_factor: 1.0,
            similar_context_support: 0.1,
            forecast_horizon: None,
        }
    }

    /// Shingle size (default 8).
    pub fn shingle_size(mut self, n: usize) -> Self {
        self.forest = self.forest.shingle_size(n);
        self
    }
    /// Number of trees (default 50).
    pub fn num_trees(mut self, n: usize) -> Self {
        self.forest = self.forest.num_trees(n);
        self
    }
    /// Sample size per tree (default 256).
    pub fn sample_size(mut self, n: usize) -> Self {
        self.forest = self.forest.sample_size(n);
        self.sample_size = n;
        self
    }
    /// Time decay of the forest (default 1/(10·sample_size)).
    pub fn time_decay(mut self, lambda: f64) -> Self {
        self.forest = self.forest.time_decay(lambda);
        self
    }
    /// Points before scores are produced.
    pub fn output_after(mut self, n: usize) -> Self {
        self.forest = self.forest.output_after(n);
        self
    }
    /// Seed for all randomness.
    pub fn seed(mut self, seed: u64) -> Self {
        self.forest = self.forest.seed(seed);
        self
    }
    /// Input transform (default none).
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }
    /// Threshold parameters.
    pub fn threshold(mut self, config: ThresholdConfig) -> Self {
        self.threshold = config;
        self
    }
    /// Z-factor of the threshold (default 3).
    pub fn z_factor(mut self, z: f64) -> Self {
        self.threshold.z_factor = z;
        self
    }
    /// Lower bound of the threshold (default 0.8).
    pub fn lower_threshold(mut self, value: f64) -> Self {
        self.threshold.lower_threshold = value;
        self
    }
    /// Expected anomaly rate in (0, 1): sets the z-factor to the normal quantile of 1 − rate
    /// (0.01 → 2.33, 0.005 → 2.58), never below 2.
    pub fn anomaly_rate(mut self, rate: f64) -> Self {
        self.threshold.z_factor = super::thresholder::normal_quantile(1.0 - rate.clamp(1e-9, 0.5)).max(2.0);
        self
    }
    /// How missing values and timestamp gaps are filled (default: rejected).
    pub fn fill(mut self, method: FillMethod) -> Self {
        self.fill = method;
        self
    }
    /// Report an anomaly once, not again while the scores stay high.
    pub fn alert_once(mut self, on: bool) -> Self {
        self.alert_once = on;
        self
    }
    /// Suppress anomalies whose values are within `absolute` of the expected values, or within
    /// `relative` × |expected|, in every dimension.
    pub fn ignore_near_expected(mut self, absolute: f64, relative: f64) -> Self {
        self.near_expected_absolute = absolute.max(0.0);
        self.near_expected_relative = relative.max(0.0);
        self
    }
    /// Suppress anomalies whose values depart from the expected values by no more than `factor`
    /// times the larger of the stream's typical step-to-step change and the average step along
    /// the shingle since the anomaly, in every dimension (default 1; 0 turns this off). Removes
    /// alarms on points that are unusual as a shingle but not in their values. The same tolerance
    /// decides which values count as alike in [`DetectorBuilder::similar_context_suppression`].
    pub fn noise_suppression(mut self, factor: f64) -> Self {
        self.noise_factor = factor.max(0.0);
        self
    }
    /// Suppress an anomaly when at least `fraction` of the (up to 50) sampled points nearest to
    /// its shingle hold values within the noise tolerance of its own at the anomaly's position:
    /// such values have been seen in a similar context before (default 0.1, AWS TRCF's; 0 turns
    /// this off).
    pub fn similar_context_suppression(mut self, fraction: f64) -> Self {
        self.similar_context_support = fraction.clamp(0.0, 1.0);
        self
    }

    /// Keep calibrating forecasts of `horizon` inputs against what arrives (see
    /// [`Detector::forecast`]).
    pub fn forecast_horizon(mut self, horizon: usize) -> Self {
        self.forecast_horizon = Some(horizon);
        self
    }

    /// Builds the detector.
    pub fn build(&self) -> Result<Detector, ConfigError> {
        let forest = self.forest.build()?;
        let config = forest.config().clone();
        if let FillMethod::Fixed(values) = &self.fill {
            if values.len() != self.input_dims || values.iter().any(|v| !v.is_finite()) {
                return Err(ConfigError::OutOfRange {
                    name: "fill values",
                    value: format!("{values:?}"),
                    expected: "one finite value per input dimension",
                });
            }
        }
        let t = &self.threshold;
        if !(t.z_factor > 0.0 && t.lower_threshold >= 0.0 && t.minimum_scores > 0 && t.z_factor.is_finite()) {
            return Err(ConfigError::OutOfRange {
                name: "threshold",
                value: format!("{t:?}"),
                expected: "z_factor > 0, lower_threshold ≥ 0, minimum_scores > 0",
            });
        }
        if self.forecast_horizon == Some(0) || (self.forecast_horizon.is_some() && config.shingle_size < 2) {
            return Err(ConfigError::OutOfRange {
                name: "forecast_horizon",
                value: format!("{:?}", self.forecast_horizon),
                expected: "at least 1, with a shingle size of at least 2",
            });
        }
        let discount = 1.0 / self.sample_size.max(1) as f64;
        Ok(Detector {
            transformer: Transformer::new(self.transform, self.input_dims, discount),
            thresholder: Thresholder::new(self.threshold.clone(), discount),
            settings: Settings {
                fill: self.fill.clone(),
                alert_once: self.alert_once,
                near_expected_absolute: self.near_expected_absolute,
                near_expected_relative: self.near_expected_relative,
                noise_factor: self.noise_factor,
                similar_context_support: self.similar_context_support,
            },
            calibration: self.forecast_horizon.map(|h| Calibration::new(h, self.input_dims)),
            recent_inputs: VecDeque::with_capacity(config.shingle_size),
            recent_imputed: VecDeque::with_capacity(config.shingle_size),
            forest,
            cadence: Cadence::default(),
            inputs_seen: 0,
            last_anomaly: None,
            previous_graded: false,
            previous_high: false,
            previous_score: 0.0,
            run: super::drift::Run::new(self.input_dims),
        })
    }
}

