//! What the detector says about one input.

use serde::{Deserialize, Serialize};

use crate::divector::DiVector;

/// Why a candidate anomaly was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Suppression {
    /// Nothing was suppressed.
    None,
    /// The values were within the configured tolerance of the expected values.
    NearExpected,
    /// The score came from an earlier anomaly still inside the shingle: with it replaced by its
    /// expected value the score is not high, or the inputs since then carry too little of it.
    EarlierAnomalyInShingle,
    /// Alert-once: the anomaly continues one already reported.
    AlertOnce,
    /// A continuation of the event already reported: the score stayed high without rising, or
    /// the last reported anomaly is still inside the shingle and scored at least as high.
    Continuation,
    /// Values like these were seen before in a similar context: enough of the sampled points
    /// nearest to the shingle hold them (see `DetectorBuilder::similar_context_suppression`).
    SimilarContext,
    /// The stream has settled at a new level: scores have stayed high since an anomaly was
    /// reported and the values sit where the run's values have been sitting.
    DataDrift,
}

/// The detector's verdict on one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyDescriptor {
    /// Timestamp given with the input.
    pub timestamp: i64,
    /// The forest's anomaly score of the (transformed) input.
    pub score: f64,
    /// Anomaly grade in [0, 1]: 0 is normal; anything above 0 is an anomaly.
    pub grade: f64,
    /// The threshold the score was compared with.
    pub threshold: f64,
    /// Confidence in [0, 1] in the model's view of the data (low while warming up or after
    /// many imputed values).
    pub confidence: f64,
    /// Per-dimension attribution of the score (shingled dimensions), for candidates only.
    pub attribution: Option<DiVector>,
    /// Where in the shingle the anomaly most likely started: 0 is this input, −k is k inputs ago.
    pub relative_index: i64,
    /// Values the model expected (input units) at `relative_index`, for candidates only.
    pub expected_values: Option<Vec<f32>>,
    /// The actual values at `relative_index`, for candidates only.
    pub actual_values: Option<Vec<f32>>,
    /// True when this input starts a new anomaly (the previous input was not graded anomalous).
    pub start_of_anomaly: bool,
    /// True while scores stay above the threshold, reported or not.
    pub in_high_score_region: bool,
    /// Why a candidate was not reported, if it was not.
    pub suppression: Suppression,
    /// Number of inputs imputed before this one (timestamp gaps) and within it (missing values).
    pub imputed_values: usize,
}
