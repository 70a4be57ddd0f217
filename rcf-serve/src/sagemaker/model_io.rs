//! Reading and atomically writing models: SageMaker's model directory (`model.rcf` +
//! `manifest.json`), and a single `model.tar.gz` or `model.rcf` from a path or an S3 object.

use std::path::Path;

use anyhow::{bail, Context};
use rcf_core::artifact::{
    is_archive, load_parts, load_within, LoadedArtifact, Manifest, MANIFEST_FILE, MAX_MANIFEST_BYTES, MAX_MODEL_BYTES,
    MODEL_FILE,
};
use std::io::Read;

use rcf_core::{check_header_prefix, Forest, LoadLimits, ModelFileError, MAGIC, MODEL_HEADER_LEN};

use crate::storage::Location;

use crate::storage::local::write_atomic;

/// Writes `model.rcf` then `manifest.json` into `dir` — the same two files, with the same
/// contents, as `rcf_core::artifact::pack` puts into model.tar.gz. The manifest's format version
/// and checksum are computed from the bytes written; hyperparameters and statistics come from `details`.
pub fn write_model_dir(dir: &Path, forest: &Forest, details: &Manifest) -> anyhow::Result<()> {
    let model = forest.to_bytes();
    let mut manifest = Manifest::describe(forest, &model, &details.created_by);
    manifest.hyperparameters = details.hyperparameters.clone();
    manifest.training = details.training.clone();
    let json = serde_json::to_vec_pretty(&manifest).context("serializing the manifest")?;
    write_atomic(&dir.join(MODEL_FILE), &model)?;
    write_atomic(&dir.join(MANIFEST_FILE), &json)
}

/// Environment variable setting the memory budget of a model load, in MiB (default
/// [`rcf_core::DEFAULT_MAX_MODEL_MEMORY_BYTES`], 2048).
pub const MEMORY_BUDGET_ENV: &str = "RCF_MAX_MODEL_MEMORY_MB";

/// The load budget: `RCF_MAX_MODEL_MEMORY_MB` when set, else the default.
pub fn load_limits() -> anyhow::Result<LoadLimits> {
    match std::env::var(MEMORY_BUDGET_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(LoadLimits::default()),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(mib) if mib > 0 => Ok(LoadLimits::from_mib(mib)),
            _ => bail!("{MEMORY_BUDGET_ENV}={text:?}: expected a whole number of MiB, at least 1"),
        },
        Err(e) => bail!("{MEMORY_BUDGET_ENV}: {e}"),
    }
}

/// A model read from a SageMaker model directory.
pub struct LoadedModel {
    /// The forest.
    pub forest: Forest,
    /// Its manifest, when one was present.
    pub manifest: Option<Manifest>,
    /// Which file it came from.
    pub source: String,
    /// Format version of the model file (from its header).
    pub format_version: u32,
    /// Bytes of the file read (the archive for model.tar.gz).
    pub file_bytes: u64,
}

impl LoadedModel {
    fn new(loaded: LoadedArtifact, source: String, file_bytes: u64) -> anyhow::Result<Self> {
        let forest = loaded.model.into_forest().with_context(|| format!("loading {source}"))?;
        Ok(LoadedModel { forest, manifest: loaded.manifest, source, format_version: loaded.format_version, file_bytes })
    }
}

/// Loads the model from `dir`: `model.rcf` (checked against `manifest.json` when present), or a
/// `model.tar.gz` placed there as is.
pub fn load_model_dir(dir: &Path) -> anyhow::Result<LoadedModel> {
    let limits = load_limits()?;
    let model_path = dir.join(MODEL_FILE);
    if model_path.is_file() {
        return load_model_file(&model_path, &limits);
    }
    let archive = dir.join("model.tar.gz");
    if archive.is_file() {
        let bytes = read_model_bytes(&Location::Local(archive.clone()), &limits)?;
        let loaded = load_within(&bytes, &limits).with_context(|| format!("loading {}", archive.display()))?;
        return LoadedModel::new(loaded, archive.display().to_string(), bytes.len() as u64);
    }
    bail!("no model in {}: expected {MODEL_FILE} (with {MANIFEST_FILE}) or model.tar.gz", dir.display())
}

/// Loads a bare `model.rcf` file, checked against a `manifest.json` beside it when there is one
/// (the same checks as inside model.tar.gz: [`load_parts`]).
pub fn load_model_file(model_path: &Path, limits: &LoadLimits) -> anyhow::Result<LoadedModel> {
    let bytes = read_model_bytes(&Location::Local(model_path.to_path_buf()), limits)?;
    let manifest_path = model_path.with_file_name(MANIFEST_FILE);
    let manifest = if manifest_path.is_file() { Some(read_manifest(&manifest_path)?) } else { None };
    let loaded = load_parts(&bytes, manifest.as_deref(), limits).with_context(|| {
        let beside = if manifest.is_some() { format!(" with {}", manifest_path.display()) } else { String::new() };
        format!("loading {}{beside}", model_path.display())
    })?;
    LoadedModel::new(loaded, model_path.display().to_string(), bytes.len() as u64)
}

/// The bytes of a `manifest.json`, at most [`MAX_MANIFEST_BYTES`] (its size is checked before it is read).
fn read_manifest(path: &Path) -> anyhow::Result<Vec<u8>> {
    crate::storage::read_all(&Location::Local(path.to_path_buf()), MAX_MANIFEST_BYTES)
        .with_context(|| format!("{MANIFEST_FILE} is read up to {MAX_MANIFEST_BYTES} bytes"))
}

/// The bytes of a model file or `model.tar.gz` at `location`, within the budget. The first bytes
/// are looked at before the rest is read: a stream that is neither, or a model file whose header
/// declares more than the budget, is refused at once (a link to `/dev/zero` is not read for 2 GiB).
fn read_model_bytes(location: &Location, limits: &LoadLimits) -> anyhow::Result<Vec<u8>> {
    let limit = limits.max_memory_bytes.min(MAX_MODEL_BYTES);
    let input = crate::storage::open(location)?;
    if let Some(len) = input.len.filter(|&l| l > limit) {
        bail!("{location}: {len} bytes is larger than the {limit} bytes accepted (raise {MEMORY_BUDGET_ENV} in MiB)");
    }
    let name = input.name.clone();
    let mut reader = input.reader.take(limit + 1);
    let mut bytes = Vec::new();
    (&mut reader).take(MODEL_HEADER_LEN as u64).read_to_end(&mut bytes).with_context(|| format!("reading {name}"))?;
    if bytes.starts_with(MAGIC) {
        let header =
            check_header_prefix(&bytes, None).with_context(|| format!("{location}: not a valid model file"))?;
        limits.check("the payload this model file's header declares", header.payload_len as u64)?;
    } else if !is_archive(&bytes) {
        bail!(
            "{location}: not a model; expected model.tar.gz (as written by rcf train or SageMaker) or model.rcf              (which starts with RCFMODEL)"
        );
    }
    reader.read_to_end(&mut bytes).with_context(|| format!("reading {name}"))?;
    if bytes.len() as u64 > limit {
        bail!("{location}: larger than the {limit} bytes accepted (raise {MEMORY_BUDGET_ENV} in MiB)");
    }
    Ok(bytes)
}

/// A model as the offline CLI reads it, with what `rcf inspect` reports about the file.
pub struct ModelSource {
    /// The model.
    pub model: LoadedModel,
    /// `model.tar.gz`, `model.rcf` or `model directory`.
    pub kind: &'static str,
}

/// Loads a model from a local path (model.tar.gz, model.rcf, or a model directory), an
/// `s3://` object, or `-` (stdin), within [`load_limits`].
pub fn load_model(location: &crate::storage::Location) -> anyhow::Result<ModelSource> {
    use crate::storage::Location;
    let limits = load_limits()?;
    if let Location::Local(path) = location {
        if path.is_dir() {
            return Ok(ModelSource { model: load_model_dir(path)?, kind: "model directory" });
        }
        if path.file_name().is_some_and(|n| n == MODEL_FILE) || path.extension().is_some_and(|e| e == "rcf") {
            return Ok(ModelSource { model: load_model_file(path, &limits)?, kind: "model.rcf" });
        }
    }
    let bytes = read_model_bytes(location, &limits)?;
    let archive = is_archive(&bytes);
    let loaded = load_within(&bytes, &limits).map_err(|e| match e {
        ModelFileError::OverBudget { .. } | ModelFileError::Manifest(_) => anyhow::anyhow!("{location}: {e}"),
        e => anyhow::anyhow!(
            "{location}: not a model ({e}); expected model.tar.gz (as written by rcf train or SageMaker) or model.rcf"
        ),
    })?;
    let model = LoadedModel::new(loaded, location.to_string(), bytes.len() as u64)?;
    Ok(ModelSource { model, kind: if archive { "model.tar.gz" } else { "model.rcf" } })
}
