//! The deployable artifact, `model.tar.gz`, shared by the Python package, the CLI and the
//! SageMaker container: the model file (`model.rcf`) plus a JSON manifest (`manifest.json`).
//!
//! This module only transforms bytes; reading and writing files or S3 objects (atomically) is the
//! caller's job.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::ModelFileError;
use crate::forest::Forest;
use crate::model_file::{read_header, FORMAT_VERSION};

/// The format version in the header of `model_bytes` (this build's newest if they have none).
fn written_version(model_bytes: &[u8]) -> u32 {
    read_header(model_bytes).map_or(FORMAT_VERSION, |h| h.version)
}

/// Name of the model file inside the artifact (and in SageMaker's /opt/ml/model).
pub const MODEL_FILE: &str = "model.rcf";
/// Name of the manifest inside the artifact.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the artifact layout.
pub const ARTIFACT_VERSION: u32 = 1;
/// Largest model file accepted from an artifact (bounds memory on untrusted input).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Summary of the scores of the training data (for thresholds such as mean + 3σ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingStats {
    /// Rows read during training.
    pub records: u64,
    /// Mean anomaly score of the training rows under the trained model.
    pub score_mean: f64,
    /// Population standard deviation of those scores.
    pub score_std: f64,
}

impl TrainingStats {
    /// The statistics of training scores, computed the same way by every face (population
    /// standard deviation; zero scores from a forest still warming up are skipped).
    pub fn from_scores(records: u64, scores: &[f64]) -> Self {
        let used: Vec<f64> = scores.iter().copied().filter(|s| *s > 0.0 && s.is_finite()).collect();
        if used.is_empty() {
            return TrainingStats { records, score_mean: 0.0, score_std: 0.0 };
        }
        let n = used.len() as f64;
        let mean = used.iter().sum::<f64>() / n;
        let var = used.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        TrainingStats { records, score_mean: mean, score_std: var.sqrt() }
    }

    /// The conventional threshold `mean + 3σ` (SageMaker's three-sigma rule).
    pub fn three_sigma_threshold(&self) -> f64 {
        self.score_mean + 3.0 * self.score_std
    }
}

/// Human-readable description of the model stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Artifact layout version.
    pub artifact_version: u32,
    /// Version of the model file format.
    pub model_format_version: u32,
    /// CRC-32 of `model.rcf`, as 8 hex digits.
    pub model_checksum: String,
    /// Values per input row (SageMaker's `feature_dim`).
    pub feature_dim: usize,
    /// Shingle size.
    pub shingle_size: usize,
    /// Number of trees.
    pub num_trees: usize,
    /// Sample size per tree.
    pub num_samples_per_tree: usize,
    /// Hyperparameters as given by the user (SageMaker's string map, or the CLI's flags).
    #[serde(default)]
    pub hyperparameters: BTreeMap<String, String>,
    /// Training score statistics, when known.
    #[serde(default)]
    pub training: Option<TrainingStats>,
    /// What wrote the artifact, e.g. `rcf-serve 0.1.0`.
    pub created_by: String,
}

impl Manifest {
    /// A manifest describing `forest` and its serialized bytes.
    pub fn describe(forest: &Forest, model_bytes: &[u8], created_by: &str) -> Self {
        let config = forest.config();
        Manifest {
            artifact_version: ARTIFACT_VERSION,
            model_format_version: written_version(model_bytes),
            model_checksum: format!("{:08x}", crc32fast::hash(model_bytes)),
            feature_dim: config.input_dims,
            shingle_size: config.shingle_size,
            num_trees: config.num_trees,
            num_samples_per_tree: config.sample_size,
            hyperparameters: BTreeMap::new(),
            training: None,
            created_by: created_by.to_string(),
        }
    }
}

/// Packs `forest` and `manifest` into `model.tar.gz` bytes. The manifest's format version and
/// checksum are filled in from the model bytes actually written.
pub fn pack(forest: &Forest, manifest: &Manifest) -> Vec<u8> {
    pack_model(forest.to_bytes(), manifest)
}

/// [`pack`] with the compact model file ([`Forest::to_compact_bytes`]: trees regrown on load).
pub fn pack_compact(forest: &Forest, manifest: &Manifest) -> Vec<u8> {
    pack_model(forest.to_compact_bytes(), manifest)
}

fn pack_model(model: Vec<u8>, manifest: &Manifest) -> Vec<u8> {
    let mut manifest = manifest.clone();
    manifest.model_format_version = written_version(&model);
    manifest.model_checksum = format!("{:08x}", crc32fast::hash(&model));
    let manifest_json = serde_json::to_vec_pretty(&manifest).expect("a manifest always serializes");
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    for (name, data) in [(MODEL_FILE, &model), (MANIFEST_FILE, &manifest_json)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        archive.append_data(&mut header, name, data.as_slice()).expect("writing to memory cannot fail");
    }
    archive.into_inner().and_then(|gz| gz.finish()).expect("writing to memory cannot fail")
}

/// Reads `model.tar.gz` bytes: the forest and its manifest (if present). Entries other than the
/// two known files are ignored; sizes are bounded.
pub fn unpack(bytes: &[u8]) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let bad = |what: String| ModelFileError::Decode(format!("model.tar.gz: {what}"));
    let (mut model, mut manifest) = (None, None);
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.to_string_lossy().trim_start_matches("./").to_string();
        let limit = match path.as_str() {
            MODEL_FILE => MAX_MODEL_BYTES,
            MANIFEST_FILE => MAX_MANIFEST_BYTES,
            _ => continue,
        };
        let mut data = Vec::new();
        entry.take(limit + 1).read_to_end(&mut data).map_err(|e| bad(e.to_string()))?;
        if data.len() as u64 > limit {
            return Err(bad(format!("{path} is larger than {limit} bytes")));
        }
        if path == MODEL_FILE {
            model = Some(data);
        } else {
            manifest = Some(serde_json::from_slice::<Manifest>(&data).map_err(|e| bad(format!("{MANIFEST_FILE}: {e}")))?);
        }
    }
    let model = model.ok_or_else(|| bad(format!("no {MODEL_FILE} inside")))?;
    Ok((Forest::from_bytes(&model)?, manifest))
}

/// Reads a model from either artifact bytes (`model.tar.gz`) or bare model-file bytes (`model.rcf`).
pub fn read_any(bytes: &[u8]) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        unpack(bytes)
    } else {
        Ok((Forest::from_bytes(bytes)?, None))
    }
}
