//! The deployable artifact, `model.tar.gz`, shared by the Python package, the CLI and the
//! SageMaker container: the model file (`model.rcf`) plus a JSON manifest (`manifest.json`).
//!
//! This module only transforms bytes; reading and writing files or S3 objects (atomically) is the
//! caller's job.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::ModelFileError;
use crate::forest::Forest;
use crate::load_limits::{LoadLimits, MAX_ARCHIVE_ENTRIES};
use crate::model_file::{
    check_header_prefix, read_header, DeclaredModel, ModelPayload, FORMAT_VERSION, MODEL_HEADER_LEN,
};

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
/// Largest model file accepted from an artifact, whatever the memory budget ([`LoadLimits`]).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;
/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

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

/// The two files of a `model.tar.gz`, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactFiles {
    /// `model.rcf`.
    pub model: Vec<u8>,
    /// `manifest.json`, when present.
    pub manifest: Option<Vec<u8>>,
}

/// Reads the files of `model.tar.gz` bytes within `limits`. Every size is checked before it is
/// read: the whole archive may decompress to at most the memory budget (plus the manifest's
/// limit and 1 MiB of headers), `model.rcf` may declare at most the budget (and
/// [`MAX_MODEL_BYTES`]), `manifest.json` at most [`MAX_MANIFEST_BYTES`], and there are at most
/// [`MAX_ARCHIVE_ENTRIES`] entries. Entries other than the two known regular files are skipped
/// (so no name can point outside the archive); either file twice is an error.
pub fn unpack_files(bytes: &[u8], limits: &LoadLimits) -> Result<ArtifactFiles, ModelFileError> {
    let bad = |what: String| ModelFileError::Decode(format!("model.tar.gz: {what}"));
    let total_limit = limits.max_memory_bytes.saturating_add(MAX_MANIFEST_BYTES + (1 << 20));
    let exceeded = Cell::new(false);
    let stream = BoundedReader { inner: flate2::read::GzDecoder::new(bytes), left: total_limit, exceeded: &exceeded };
    let mut archive = tar::Archive::new(stream);
    let io_error = |e: std::io::Error| {
        if exceeded.get() {
            ModelFileError::OverBudget {
                what: format!(
                    "model.tar.gz, which decompresses to more than {total_limit} bytes (the budget, 1 MiB for \
                     the manifest and 1 MiB for headers),"
                ),
                declared: total_limit.saturating_add(1),
                budget: limits.max_memory_bytes,
            }
        } else {
            bad(e.to_string())
        }
    };
    let (mut model, mut manifest) = (None, None);
    let entries = archive.entries().map_err(io_error)?;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ARCHIVE_ENTRIES {
            let expected = format!("it should hold {MODEL_FILE} and {MANIFEST_FILE}");
            return Err(bad(format!("more than {MAX_ARCHIVE_ENTRIES} entries ({expected})")));
        }
        let entry = entry.map_err(io_error)?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?;
        let name = path.to_string_lossy().trim_start_matches("./").to_string();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let (slot, limit) = match name.as_str() {
            MODEL_FILE => (&mut model, limits.max_memory_bytes.min(MAX_MODEL_BYTES)),
            MANIFEST_FILE => (&mut manifest, MAX_MANIFEST_BYTES),
            _ => continue,
        };
        if slot.is_some() {
            return Err(bad(format!("{name} appears twice")));
        }
        let size = entry.size();
        if size > limit {
            let what = format!("{name} inside model.tar.gz");
            return Err(ModelFileError::OverBudget { what, declared: size, budget: limit });
        }
        let mut entry = entry.take(size);
        let mut data = Vec::new();
        if name == MODEL_FILE {
            // The model's own header must agree with the entry before the rest is inflated.
            entry.by_ref().take(MODEL_HEADER_LEN as u64).read_to_end(&mut data).map_err(io_error)?;
            check_header_prefix(&data, Some(size))?;
        }
        entry.read_to_end(&mut data).map_err(io_error)?;
        if data.len() as u64 != size {
            return Err(bad(format!("{name} is truncated: {} of {size} bytes", data.len())));
        }
        *slot = Some(data);
    }
    let model = model.ok_or_else(|| bad(format!("no {MODEL_FILE} inside")))?;
    Ok(ArtifactFiles { model, manifest })
}

/// A reader that gives at most `left` bytes and flags an input longer than that.
struct BoundedReader<'a, R> {
    inner: R,
    left: u64,
    exceeded: &'a Cell<bool>,
}

impl<R: Read> Read for BoundedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            if self.inner.read(&mut [0u8])? > 0 {
                self.exceeded.set(true);
                return Err(std::io::Error::other("decompressed data exceeds its limit"));
            }
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A model read with its manifest, the two checked against each other.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedArtifact {
    /// The model.
    pub model: ModelPayload,
    /// The manifest, when there was one.
    pub manifest: Option<Manifest>,
    /// The manifest as written (it may hold fields this build does not know).
    pub manifest_json: Option<Vec<u8>>,
    /// The model file's format version (from its header).
    pub format_version: u32,
}

impl Manifest {
    /// Parses `manifest.json` (at most [`MAX_MANIFEST_BYTES`]).
    pub fn parse(json: &[u8]) -> Result<Manifest, ModelFileError> {
        if json.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(ModelFileError::Manifest(format!(
                "{MANIFEST_FILE} has {} bytes, more than the {MAX_MANIFEST_BYTES} accepted",
                json.len()
            )));
        }
        serde_json::from_slice(json).map_err(|e| ModelFileError::Manifest(format!("{MANIFEST_FILE} is not valid: {e}")))
    }

    /// Checks that this manifest describes `model_bytes`: its checksum, then (from what the
    /// model declares, before it is decoded) the format version, feature_dim, shingle size,
    /// number of trees and sample size.
    pub fn check(&self, model_bytes: &[u8]) -> Result<DeclaredModel, ModelFileError> {
        let mismatch = |what: &str, manifest: String, model: String| {
            ModelFileError::Manifest(format!("{what} is {manifest} in {MANIFEST_FILE} but {model} in {MODEL_FILE}"))
        };
        if !(1..=ARTIFACT_VERSION).contains(&self.artifact_version) {
            return Err(ModelFileError::Manifest(format!(
                "artifact_version {} is not one this build reads (1 to {ARTIFACT_VERSION})",
                self.artifact_version
            )));
        }
        let checksum = format!("{:08x}", crc32fast::hash(model_bytes));
        if !self.model_checksum.eq_ignore_ascii_case(&checksum) {
            return Err(mismatch("the checksum", self.model_checksum.clone(), checksum));
        }
        let declared = DeclaredModel::read(model_bytes)?;
        let c = &declared.config;
        let fields = [
            ("model_format_version", self.model_format_version as usize, declared.header.version as usize),
            ("feature_dim", self.feature_dim, c.input_dims),
            ("shingle_size", self.shingle_size, c.shingle_size),
            ("num_trees", self.num_trees, c.num_trees),
            ("num_samples_per_tree", self.num_samples_per_tree, c.sample_size),
        ];
        if let Some((name, m, f)) = fields.into_iter().find(|(_, m, f)| m != f) {
            return Err(mismatch(name, m.to_string(), f.to_string()));
        }
        Ok(declared)
    }
}

/// Loads a model file and its manifest (when there is one), checking the manifest against the
/// model and the model's declared memory against `limits` before decoding it. Both the archive
/// and a model directory load through here.
pub fn load_parts(
    model_bytes: &[u8],
    manifest_json: Option<&[u8]>,
    limits: &LoadLimits,
) -> Result<LoadedArtifact, ModelFileError> {
    let manifest = manifest_json.map(Manifest::parse).transpose()?;
    let declared = match &manifest {
        Some(m) => m.check(model_bytes)?,
        None => DeclaredModel::read(model_bytes)?,
    };
    let model = ModelPayload::from_bytes_within(model_bytes, limits)?;
    Ok(LoadedArtifact {
        model,
        manifest,
        manifest_json: manifest_json.map(<[u8]>::to_vec),
        format_version: declared.header.version,
    })
}

/// Loads `model.tar.gz` or bare `model.rcf` bytes (a forest or a detector) within `limits`.
pub fn load_within(bytes: &[u8], limits: &LoadLimits) -> Result<LoadedArtifact, ModelFileError> {
    if is_archive(bytes) {
        let files = unpack_files(bytes, limits)?;
        load_parts(&files.model, files.manifest.as_deref(), limits)
    } else {
        load_parts(bytes, None, limits)
    }
}

/// Whether `bytes` are gzip-compressed (a `model.tar.gz`) rather than a bare model file.
pub fn is_archive(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Reads `model.tar.gz` bytes: the forest and its manifest (if present), within the default
/// [`LoadLimits`]; see [`unpack_files`] and [`load_parts`].
pub fn unpack(bytes: &[u8]) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    let files = unpack_files(bytes, &LoadLimits::default())?;
    forest_of(load_parts(&files.model, files.manifest.as_deref(), &LoadLimits::default())?)
}

/// Reads a model from either artifact bytes (`model.tar.gz`) or bare model-file bytes
/// (`model.rcf`) within the default [`LoadLimits`].
pub fn read_any(bytes: &[u8]) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    read_any_within(bytes, &LoadLimits::default())
}

/// [`read_any`] within `limits`.
pub fn read_any_within(bytes: &[u8], limits: &LoadLimits) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    forest_of(load_within(bytes, limits)?)
}

fn forest_of(loaded: LoadedArtifact) -> Result<(Forest, Option<Manifest>), ModelFileError> {
    Ok((loaded.model.into_forest()?, loaded.manifest))
}
