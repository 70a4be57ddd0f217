//! The allowed range of every size-like or range-like parameter users hand to the forest and the
//! detector, in one place: the builders, the Python package and the CLI all check against these,
//! so every front end accepts the same values and rejects the rest with the same message, which
//! names the parameter, the value and the range.
//!
//! The forest's own ranges (dimensions, trees, sample size, time decay, initial accept fraction)
//! are the ones [`ForestConfig::validate`](crate::ForestConfig::validate) enforces; they are listed
//! here too so that front ends can check (and show) them before building anything.

use crate::config::{MAX_DIMENSIONS, MAX_SAMPLE_SIZE, MAX_TREES};
use crate::error::ConfigError;

/// Most steps one forecast may ask for. A forecast costs one imputation over every tree per step,
/// so this also bounds its time.
pub const MAX_FORECAST_HORIZON: usize = 10_000;
/// Most values one forecast may return (`horizon × input_dims`), in each of its three arrays.
pub const MAX_FORECAST_VALUES: usize = 1 << 20;
/// Most forecast values a detector calibrates (`forecast_horizon × input_dims`): it keeps up to
/// 512 past errors for each, so this bounds that memory at 32 MiB.
pub const MAX_CALIBRATED_VALUES: usize = 1 << 14;
/// Most attribution values one batch call may compute (`rows × input_dims × shingle_size`): each
/// is a pair of `f64`, so this bounds the call's memory at 256 MiB.
pub const MAX_ATTRIBUTION_VALUES: usize = 1 << 24;
/// Largest points-before-output count (larger would never produce a score in practice).
pub const MAX_OUTPUT_AFTER: usize = u32::MAX as usize;
/// Largest z-factor of the detector's threshold (a larger one would never flag anything).
pub const MAX_Z_FACTOR: f64 = 100.0;

/// The range one parameter must lie in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Parameter name, as the builders and the Python package spell it.
    pub name: &'static str,
    /// Lower bound.
    pub min: f64,
    /// Whether `min` itself is allowed.
    pub min_inclusive: bool,
    /// Upper bound (`f64::INFINITY`: any finite number).
    pub max: f64,
    /// Whether `max` itself is allowed.
    pub max_inclusive: bool,
    /// Whether only whole numbers are allowed.
    pub integer: bool,
    /// The range in words, as error messages show it (checked against the bounds by a test).
    pub expected: &'static str,
}

const fn count(name: &'static str, min: usize, max: usize, expected: &'static str) -> Limit {
    Limit { name, min: min as f64, min_inclusive: true, max: max as f64, max_inclusive: true, integer: true, expected }
}

const fn real(name: &'static str, min: (f64, bool), max: (f64, bool), expected: &'static str) -> Limit {
    Limit { name, min: min.0, min_inclusive: min.1, max: max.0, max_inclusive: max.1, integer: false, expected }
}

const ANY: (f64, bool) = (f64::INFINITY, false);

/// Values per input point.
pub const INPUT_DIMS: Limit = count("input_dims", 1, MAX_DIMENSIONS, "between 1 and 65535");
/// Consecutive inputs joined into one point.
pub const SHINGLE_SIZE: Limit = count("shingle_size", 1, MAX_DIMENSIONS, "between 1 and 65535");
/// Dimensions of a shingled point.
pub const DIMENSIONS: Limit = count("input_dims × shingle_size", 1, MAX_DIMENSIONS, "between 1 and 65535");
/// Number of trees.
pub const NUM_TREES: Limit = count("num_trees", 1, MAX_TREES, "between 1 and 10000");
/// Points kept per tree.
pub const SAMPLE_SIZE: Limit = count("sample_size", 1, MAX_SAMPLE_SIZE, "between 1 and 16384");
/// Points seen before scores are produced.
pub const OUTPUT_AFTER: Limit = count("output_after", 0, MAX_OUTPUT_AFTER, "between 0 and 4294967295");
/// Time decay of the reservoir.
pub const TIME_DECAY: Limit = real("time_decay", (0.0, true), ANY, "a finite number ≥ 0");
/// Share of the reservoir filled unconditionally while warming up.
pub const INITIAL_ACCEPT_FRACTION: Limit =
    real("initial_accept_fraction", (0.0, false), (1.0, true), "a number in (0, 1]");
/// Steps of a forecast the detector keeps calibrating.
pub const FORECAST_HORIZON: Limit = count("forecast_horizon", 1, MAX_FORECAST_HORIZON, "between 1 and 10000");
/// Values a detector calibrates: `forecast_horizon × input_dims`.
pub const CALIBRATED_VALUES: Limit =
    count("forecast_horizon × input_dims", 1, MAX_CALIBRATED_VALUES, "between 1 and 16384");
/// Steps of one forecast call.
pub const HORIZON: Limit = count("horizon", 0, MAX_FORECAST_HORIZON, "between 0 and 10000");
/// Values of one forecast call: `horizon × input_dims`.
pub const FORECAST_VALUES: Limit = count("horizon × input_dims", 0, MAX_FORECAST_VALUES, "between 0 and 1048576");
/// Values of one batch attribution: `rows × input_dims × shingle_size`.
pub const ATTRIBUTION_VALUES: Limit =
    count("rows × input_dims × shingle_size", 0, MAX_ATTRIBUTION_VALUES, "between 0 and 16777216");
/// Share of later values a forecast interval should cover.
pub const COVERAGE: Limit = real("coverage", (0.0, true), (1.0, true), "a number in [0, 1]");
/// Near neighbours asked for (a forest holds at most one per tree).
pub const NEIGHBOURS: Limit = count("k", 1, MAX_TREES, "between 1 and 10000");
/// Expected share of anomalies, which sets the detector's z-factor.
pub const ANOMALY_RATE: Limit = real("anomaly_rate", (0.0, false), (0.5, true), "a number in (0, 0.5]");
/// Share of training rows the Python estimator's threshold flags as outliers.
pub const CONTAMINATION: Limit = real("contamination", (0.0, false), (0.5, true), "a number in (0, 0.5]");
/// Deviations above the mean score at which the detector's threshold sits.
pub const Z_FACTOR: Limit = real("z_factor", (0.0, false), (MAX_Z_FACTOR, true), "a number in (0, 100]");
/// Floor of the detector's threshold.
pub const LOWER_THRESHOLD: Limit = real("lower_threshold", (0.0, true), ANY, "a finite number ≥ 0");
/// Absolute and relative tolerances of the near-expected suppression.
pub const IGNORE_NEAR_EXPECTED: Limit = real("ignore_near_expected", (0.0, true), ANY, "a finite number ≥ 0");
/// Factor of the noise suppression.
pub const NOISE_SUPPRESSION: Limit = real("noise_suppression", (0.0, true), ANY, "a finite number ≥ 0");
/// Share of near neighbours that suppresses an anomaly seen in a similar context.
pub const SIMILAR_CONTEXT_SUPPRESSION: Limit =
    real("similar_context_suppression", (0.0, true), (1.0, true), "a number in [0, 1]");

/// Every limit, for front ends that check or list them by name.
pub const ALL: &[Limit] = &[
    INPUT_DIMS,
    SHINGLE_SIZE,
    DIMENSIONS,
    NUM_TREES,
    SAMPLE_SIZE,
    OUTPUT_AFTER,
    TIME_DECAY,
    INITIAL_ACCEPT_FRACTION,
    FORECAST_HORIZON,
    CALIBRATED_VALUES,
    HORIZON,
    FORECAST_VALUES,
    ATTRIBUTION_VALUES,
    COVERAGE,
    NEIGHBOURS,
    ANOMALY_RATE,
    CONTAMINATION,
    Z_FACTOR,
    LOWER_THRESHOLD,
    IGNORE_NEAR_EXPECTED,
    NOISE_SUPPRESSION,
    SIMILAR_CONTEXT_SUPPRESSION,
];

/// The limit of the parameter called `name`, if it has one.
pub fn find(name: &str) -> Option<&'static Limit> {
    ALL.iter().find(|l| l.name == name)
}

impl Limit {
    /// True when `value` lies in the range (never for NaN).
    pub fn contains(&self, value: f64) -> bool {
        let above = if self.min_inclusive { value >= self.min } else { value > self.min };
        let below = if self.max_inclusive { value <= self.max } else { value < self.max };
        above && below && value.is_finite() && (!self.integer || value.fract() == 0.0)
    }

    /// Checks a real-valued parameter.
    pub fn check(&self, value: f64) -> Result<f64, ConfigError> {
        if self.contains(value) {
            Ok(value)
        } else {
            Err(self.rejects(value.to_string()))
        }
    }

    /// Checks a count.
    pub fn check_count(&self, value: usize) -> Result<usize, ConfigError> {
        // Counts beyond 2^53 are not exact as f64, but every bound is far below that.
        if (value as f64) >= self.min && (value as f64) <= self.max {
            Ok(value)
        } else {
            Err(self.rejects(value.to_string()))
        }
    }

    /// Checks the product `a × b` of two counts (without overflow).
    pub fn check_product(&self, a: usize, b: usize) -> Result<usize, ConfigError> {
        match a.checked_mul(b) {
            Some(product) => self.check_count(product),
            None => Err(self.rejects(format!("{a} × {b}"))),
        }
    }

    /// The error for a value, given as text, outside the range (for front ends whose numbers do
    /// not fit in a `usize` or `f64`).
    pub fn rejects(&self, value: String) -> ConfigError {
        ConfigError::OutOfRange { name: self.name, value, expected: self.expected }
    }

    /// The range in words, derived from the bounds: what [`Limit::expected`] must say.
    pub fn describe(&self) -> String {
        if self.integer {
            format!("between {} and {}", self.min, self.max)
        } else if self.max.is_infinite() {
            format!("a finite number {} {}", if self.min_inclusive { "≥" } else { ">" }, self.min)
        } else {
            let open = if self.min_inclusive { '[' } else { '(' };
            let close = if self.max_inclusive { ']' } else { ')' };
            format!("a number in {open}{}, {}{close}", self.min, self.max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ForestBuilder;

    #[test]
    fn every_description_matches_its_bounds() {
        for limit in ALL {
            assert_eq!(limit.expected, limit.describe(), "{}", limit.name);
        }
        let mut names: Vec<_> = ALL.iter().map(|l| l.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "two limits share a name");
    }

    #[test]
    fn bounds_are_in_or_out_as_stated() {
        assert!(ANOMALY_RATE.check(0.5).is_ok());
        assert!(ANOMALY_RATE.check(0.0).is_err());
        assert!(ANOMALY_RATE.check(0.500001).is_err());
        assert!(ANOMALY_RATE.check(f64::NAN).is_err());
        assert!(TIME_DECAY.check(f64::INFINITY).is_err());
        assert!(TIME_DECAY.check(0.0).is_ok());
        assert!(Z_FACTOR.check(MAX_Z_FACTOR).is_ok());
        assert!(Z_FACTOR.check(0.0).is_err());
        assert!(HORIZON.check_count(0).is_ok());
        assert!(HORIZON.check_count(MAX_FORECAST_HORIZON).is_ok());
        assert!(FORECAST_HORIZON.check_count(0).is_err());
        assert!(OUTPUT_AFTER.check_count(MAX_OUTPUT_AFTER).is_ok());
        assert!(OUTPUT_AFTER.check_count(MAX_OUTPUT_AFTER + 1).is_err());
        assert!(SHINGLE_SIZE.contains(2.0) && !SHINGLE_SIZE.contains(2.5));
    }

    #[test]
    fn errors_name_the_parameter_the_value_and_the_range() {
        let e = FORECAST_HORIZON.check_count(1_000_000_000).unwrap_err();
        assert_eq!(e.to_string(), "invalid forecast_horizon: 1000000000 (between 1 and 10000)");
        let e = FORECAST_VALUES.check_product(usize::MAX, 2).unwrap_err();
        assert_eq!(e.to_string(), format!("invalid horizon × input_dims: {} × 2 (between 0 and 1048576)", usize::MAX));
        assert!(FORECAST_VALUES.check_product(1000, 1000).is_ok());
        assert!(FORECAST_VALUES.check_product(1025, 1024).is_err());
        assert_eq!(
            ANOMALY_RATE.check(0.7).unwrap_err().to_string(),
            "invalid anomaly_rate: 0.7 (a number in (0, 0.5])"
        );
        assert_eq!(find("k"), Some(&NEIGHBOURS));
        assert_eq!(find("n_jobs"), None);
    }

    /// The forest's limits listed here are exactly the ranges its configuration enforces.
    #[test]
    fn forest_limits_agree_with_the_forest_configuration() {
        type Set = fn(ForestBuilder, f64) -> ForestBuilder;
        let cases: [(&Limit, Set); 5] = [
            (&SHINGLE_SIZE, |b, v| b.shingle_size(v as usize)),
            (&NUM_TREES, |b, v| b.num_trees(v as usize)),
            (&SAMPLE_SIZE, |b, v| b.sample_size(v as usize)),
            (&TIME_DECAY, |b, v| b.time_decay(v)),
            (&INITIAL_ACCEPT_FRACTION, |b, v| b.initial_accept_fraction(v)),
        ];
        for (limit, set) in cases {
            let step = if limit.integer { 1.0 } else { 1e-9 };
            let mut probes = vec![limit.min - step, limit.min, limit.min + step];
            if !limit.integer {
                probes.push(f64::NAN);
            }
            if limit.max.is_finite() {
                probes.extend([limit.max - step, limit.max, limit.max + step]);
            }
            for v in probes {
                if limit.integer && v < 0.0 {
                    continue;
                }
                let result = set(ForestBuilder::new(1).seed(1), v).config();
                assert_eq!(result.is_ok(), limit.contains(v), "{} = {v}", limit.name);
                if let Err(e) = result {
                    assert_eq!(e, limit.rejects(v.to_string()), "{} = {v}", limit.name);
                }
            }
        }
        // The configuration words this one as "at most 65535": same bound, other words.
        match ForestBuilder::new(300).shingle_size(300).seed(1).config() {
            Err(ConfigError::OutOfRange { name, value, expected }) => {
                assert_eq!((name, value.as_str()), (DIMENSIONS.name, "90000"));
                assert!(expected.ends_with(&DIMENSIONS.max.to_string()));
            }
            other => panic!("90000 dimensions accepted: {other:?}"),
        }
        assert_eq!(ForestBuilder::new(0).seed(1).config().unwrap_err(), INPUT_DIMS.rejects("0".into()));
    }
}
