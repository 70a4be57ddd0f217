//! A self-adjusting threshold on anomaly scores and the grade of a score above it (after AWS's
//! `BasicThresholder`): discounted statistics of recent scores and of their differences set a
//! threshold `mean + z·deviation`, never below a lower threshold, blended in from an initial
//! threshold while the statistics warm up.

use serde::{Deserialize, Serialize};

use super::deviation::Deviation;

/// Threshold parameters; defaults are AWS's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdConfig {
    /// Deviations above the mean score at which a score becomes anomalous (default 3).
    pub z_factor: f64,
    /// The threshold never goes below this (default 0.8).
    pub lower_threshold: f64,
    /// Threshold used until enough scores are seen (default 1.5).
    pub initial_threshold: f64,
    /// Weight in [0, 1] of the score-difference deviation, which discounts the slow drift of
    /// shingled scores (default 0.5).
    pub score_differencing: f64,
    /// Scores needed before the statistics take over (default 10).
    pub minimum_scores: u64,
    /// Scores above this are clipped before they update the statistics, so anomalies do not
    /// inflate the threshold (default 2).
    pub score_cap: f64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            z_factor: 3.0,
            lower_threshold: 0.8,
            initial_threshold: 1.5,
            score_differencing: 0.5,
            minimum_scores: 10,
            score_cap: 2.0,
        }
    }
}

/// The state of the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholder {
    config: ThresholdConfig,
    scores: Deviation,
    differences: Deviation,
    last_score: Option<f64>,
}

impl Thresholder {
    /// A thresholder whose statistics are discounted by `discount` per score.
    pub fn new(config: ThresholdConfig, discount: f64) -> Self {
        Thresholder {
            config,
            scores: Deviation::new(discount),
            differences: Deviation::new(discount),
            last_score: None,
        }
    }

    /// Parameters.
    pub fn config(&self) -> &ThresholdConfig {
        &self.config
    }

    /// How far above the mean score the threshold sits: one deviation of the scores plus
    /// `z − 1` deviations of their long-term level, where the long-term level blends the score
    /// deviation with the deviation of successive score differences (shingled scores move slowly,
    /// so their differences measure the noise between neighbours).
    fn margin(&self) -> f64 {
        let level = self.scores.deviation();
        let local = self.differences.deviation();
        let h = self.config.score_differencing.clamp(0.0, 1.0);
        let long_term = h * level.min(local) + (1.0 - h) * local;
        level + (self.config.z_factor - 1.0).max(0.0) * long_term
    }

    /// Fraction in [0, 1] of the statistical threshold blended in (0 during warm-up).
    fn warmness(&self) -> f64 {
        let (n, min) = (self.scores.count() as f64, self.config.minimum_scores as f64);
        if n < min {
            0.0
        } else {
            ((n - min) / min.max(1.0)).min(1.0)
        }
    }

    /// The current threshold.
    pub fn threshold(&self) -> f64 {
        let statistical = self.scores.mean() + self.margin();
        let w = self.warmness();
        let blended = w * statistical + (1.0 - w) * self.config.initial_threshold;
        blended.max(self.config.lower_threshold)
    }

    /// The grade in [0, 1) of `score`: 0 at or below the threshold, then `1 − exp(−excess/margin)`,
    /// so it keeps ranking scores far above the threshold instead of saturating (0.63 one margin
    /// above; never 0 for a score above the threshold).
    pub fn grade(&self, score: f64) -> f64 {
        let threshold = self.threshold();
        if score.partial_cmp(&threshold) != Some(std::cmp::Ordering::Greater) {
            return 0.0;
        }
        let span = self.margin().max(0.1 * threshold);
        (1.0 - (-(score - threshold) / span).exp()).max(1e-6)
    }

    /// Learns from a score.
    pub fn update(&mut self, score: f64) {
        let clipped = score.min(self.config.score_cap);
        if let Some(last) = self.last_score {
            self.differences.update(clipped - last);
        }
        self.scores.update(clipped);
        self.last_score = Some(clipped);
    }

    /// Scores seen.
    pub fn count(&self) -> u64 {
        self.scores.count()
    }
}

/// The standard normal quantile (Acklam's rational approximation; error below 1.2e-9).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}
