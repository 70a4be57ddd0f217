//! The detector's builder: validated settings with AWS's TRCF defaults.

use std::collections::VecDeque;

use super::{
    Cadence, Calibration, Detector, FillMethod, Settings, ThresholdConfig, Thresholder, Transform, Transformer,
};
use crate::config::ForestBuilder;
use crate::error::ConfigError;
use crate::limits;

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
    anomaly_rate: Option<f64>,
    output_after: Option<usize>,
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
            anomaly_rate: None,
            output_after: None,
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
    /// Points before scores are produced (see [`limits::OUTPUT_AFTER`]).
    pub fn output_after(mut self, n: usize) -> Self {
        self.forest = self.forest.output_after(n);
        self.output_after = Some(n);
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
        self.anomaly_rate = None;
        self
    }
    /// Z-factor of the threshold (default 3; see [`limits::Z_FACTOR`]).
    pub fn z_factor(mut self, z: f64) -> Self {
        self.threshold.z_factor = z;
        self.anomaly_rate = None;
        self
    }
    /// Lower bound of the threshold (default 0.8).
    pub fn lower_threshold(mut self, value: f64) -> Self {
        self.threshold.lower_threshold = value;
        self
    }
    /// Expected anomaly rate in (0, 0.5] ([`limits::ANOMALY_RATE`]): sets the z-factor to the
    /// normal quantile of 1 − rate (0.01 → 2.33, 0.005 → 2.58), never below 2. Checked by
    /// [`DetectorBuilder::build`]; overrides [`DetectorBuilder::z_factor`] given before it.
    pub fn anomaly_rate(mut self, rate: f64) -> Self {
        self.anomaly_rate = Some(rate);
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
        self.near_expected_absolute = absolute;
        self.near_expected_relative = relative;
        self
    }
    /// Suppress anomalies whose values depart from the expected values by no more than `factor`
    /// times the larger of the stream's typical step-to-step change and the average step along
    /// the shingle since the anomaly, in every dimension (default 1; 0 turns this off). Removes
    /// alarms on points that are unusual as a shingle but not in their values. The same tolerance
    /// decides which values count as alike in [`DetectorBuilder::similar_context_suppression`].
    pub fn noise_suppression(mut self, factor: f64) -> Self {
        self.noise_factor = factor;
        self
    }
    /// Suppress an anomaly when at least `fraction` of the (up to 50) sampled points nearest to
    /// its shingle hold values within the noise tolerance of its own at the anomaly's position:
    /// such values have been seen in a similar context before (default 0.1, AWS TRCF's; 0 turns
    /// this off).
    pub fn similar_context_suppression(mut self, fraction: f64) -> Self {
        self.similar_context_support = fraction;
        self
    }

    /// Keep calibrating forecasts of `horizon` inputs against what arrives (see
    /// [`Detector::forecast`]); within [`limits::FORECAST_HORIZON`], and `horizon × input_dims`
    /// within [`limits::CALIBRATED_VALUES`].
    pub fn forecast_horizon(mut self, horizon: usize) -> Self {
        self.forecast_horizon = Some(horizon);
        self
    }

    /// Builds the detector. Every parameter is checked against its range in [`limits`]; the
    /// error names the first one outside it.
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
        if let Some(n) = self.output_after {
            limits::OUTPUT_AFTER.check_count(n)?;
        }
        let mut threshold = self.threshold.clone();
        if let Some(rate) = self.anomaly_rate {
            let rate = limits::ANOMALY_RATE.check(rate)?;
            threshold.z_factor = super::thresholder::normal_quantile(1.0 - rate).max(2.0);
        }
        limits::Z_FACTOR.check(threshold.z_factor)?;
        limits::LOWER_THRESHOLD.check(threshold.lower_threshold)?;
        let t = &threshold;
        let finite = [t.initial_threshold, t.score_differencing, t.score_cap].iter().all(|v| v.is_finite());
        if !(finite && t.minimum_scores > 0) {
            return Err(ConfigError::OutOfRange {
                name: "threshold",
                value: format!("{t:?}"),
                expected: "finite values and minimum_scores > 0",
            });
        }
        limits::IGNORE_NEAR_EXPECTED.check(self.near_expected_absolute)?;
        limits::IGNORE_NEAR_EXPECTED.check(self.near_expected_relative)?;
        limits::NOISE_SUPPRESSION.check(self.noise_factor)?;
        limits::SIMILAR_CONTEXT_SUPPRESSION.check(self.similar_context_support)?;
        if let Some(horizon) = self.forecast_horizon {
            limits::FORECAST_HORIZON.check_count(horizon)?;
            limits::CALIBRATED_VALUES.check_product(horizon, self.input_dims)?;
            if config.shingle_size < 2 {
                return Err(ConfigError::OutOfRange {
                    name: "forecast_horizon",
                    value: horizon.to_string(),
                    expected: "a shingle size of at least 2 to forecast with",
                });
            }
        }
        let discount = 1.0 / self.sample_size.max(1) as f64;
        Ok(Detector {
            transformer: Transformer::new(self.transform, self.input_dims, discount),
            thresholder: Thresholder::new(threshold, discount),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::DetectorError;
    use crate::InputError;

    fn rejects(builder: DetectorBuilder, name: &str) -> String {
        match builder.seed(1).build() {
            Err(ConfigError::OutOfRange { name: n, value, expected }) => {
                assert_eq!(n, name);
                format!("{value} ({expected})")
            }
            Ok(_) => panic!("{name}: out-of-range value accepted"),
        }
    }

    #[test]
    fn every_setting_is_checked_against_its_limit() {
        let huge = 1_000_000_000;
        let horizon = rejects(DetectorBuilder::new(1).forecast_horizon(huge), "forecast_horizon");
        assert_eq!(horizon, "1000000000 (between 1 and 10000)");
        rejects(DetectorBuilder::new(1).forecast_horizon(0), "forecast_horizon");
        rejects(DetectorBuilder::new(1).shingle_size(1).forecast_horizon(4), "forecast_horizon");
        rejects(DetectorBuilder::new(100).shingle_size(2).forecast_horizon(1000), "forecast_horizon × input_dims");
        assert_eq!(rejects(DetectorBuilder::new(1).anomaly_rate(0.7), "anomaly_rate"), "0.7 (a number in (0, 0.5])");
        rejects(DetectorBuilder::new(1).anomaly_rate(0.0), "anomaly_rate");
        rejects(DetectorBuilder::new(1).anomaly_rate(f64::NAN), "anomaly_rate");
        rejects(DetectorBuilder::new(1).z_factor(0.0), "z_factor");
        rejects(DetectorBuilder::new(1).z_factor(1e300), "z_factor");
        rejects(DetectorBuilder::new(1).lower_threshold(-1.0), "lower_threshold");
        rejects(DetectorBuilder::new(1).ignore_near_expected(0.0, -1.0), "ignore_near_expected");
        rejects(DetectorBuilder::new(1).noise_suppression(f64::INFINITY), "noise_suppression");
        rejects(DetectorBuilder::new(1).similar_context_suppression(1.5), "similar_context_suppression");
        rejects(DetectorBuilder::new(1).output_after(usize::MAX), "output_after");
        rejects(DetectorBuilder::new(1).num_trees(huge), "num_trees");
        rejects(DetectorBuilder::new(1).shingle_size(huge), "shingle_size");
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        let built = DetectorBuilder::new(1)
            .shingle_size(2)
            .num_trees(5)
            .sample_size(16)
            .forecast_horizon(limits::MAX_FORECAST_HORIZON)
            .anomaly_rate(0.5)
            .similar_context_suppression(1.0)
            .seed(1)
            .build();
        assert!(built.is_ok());
        // The last of z_factor and anomaly_rate wins.
        let d = DetectorBuilder::new(1).anomaly_rate(0.01).z_factor(7.0).seed(1).build().unwrap();
        assert_eq!(d.thresholder.config().z_factor, 7.0);
        let d = DetectorBuilder::new(1).z_factor(7.0).anomaly_rate(0.01).seed(1).build().unwrap();
        assert!((d.thresholder.config().z_factor - 2.326).abs() < 1e-3);
    }

    #[test]
    fn forecast_arguments_are_checked_before_anything_is_computed() {
        let mut d = DetectorBuilder::new(2).shingle_size(4).num_trees(5).sample_size(16).seed(1).build().unwrap();
        for t in 0..40 {
            d.process(&[t as f32, 1.0], t).unwrap();
        }
        let too_far = d.forecast(1_000_000_000, 0.9).unwrap_err();
        assert_eq!(too_far, DetectorError::Input(InputError::Argument(limits::HORIZON.rejects("1000000000".into()))));
        assert!(d.forecast(3, 1.5).is_err());
        assert!(d.forest().forecast(usize::MAX, 0.5).is_err());
        let steps = d.forecast_steps(limits::MAX_FORECAST_HORIZON, 0.9).unwrap();
        assert_eq!(steps.len(), limits::MAX_FORECAST_HORIZON);
        let first: Vec<_> = steps.take(3).collect();
        let forecast = d.forecast(3, 0.9).unwrap();
        assert_eq!(first.iter().flat_map(|s| s.values.clone()).collect::<Vec<_>>(), forecast.values);
        assert_eq!(forecast.horizon, 3);
    }
}
