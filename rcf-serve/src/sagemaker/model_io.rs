//! Reading and atomically writing models: SageMaker's model directory (`model.rcf` +
//! `manifest.json`), and a single `model.tar.gz` or `model.rcf` from a path or an S3 object.

use std::path::Path;

use anyhow::{bail, Context};
use rcf_core::artifact::{read_any, Manifest, MANIFEST_FILE, MODEL_FILE};
use rcf_core::Forest;

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

/// A model read from a SageMaker model directory.
pub struct LoadedModel {
    /// The forest.
    pub forest: Forest,
    /// Its manifest, when one was present.
    pub manifest: Option<Manifest>,
    /// Which file it came from.
    pub source: String,
}

/// Loads the model from `dir`: `model.rcf` (checked against `manifest.json` when present), or a
/// `model.tar.gz` placed there as is.
pub fn load_model_dir(dir: &Path) -> anyhow::Result<LoadedModel> {
    let model_path = dir.join(MODEL_FILE);
    if model_path.is_file() {
        return load_model_file(&model_path);
    }
    let archive = dir.join("model.tar.gz");
    if archive.is_file() {
        let bytes = std::fs::read(&archive).with_context(|| format!("reading {}", archive.display()))?;
        let (forest, manifest) = read_any(&bytes).with_context(|| format!("loading {}", archive.display()))?;
        return Ok(LoadedModel { forest, manifest, source: archive.display().to_string() });
    }
    bail!("no model in {}: expected {MODEL_FILE} (with {MANIFEST_FILE}) or model.tar.gz", dir.display())
}

/// Loads a bare `model.rcf` file, checked against a `manifest.json` beside it when there is one.
pub fn load_model_file(model_path: &Path) -> anyhow::Result<LoadedModel> {
    let bytes = std::fs::read(model_path).with_context(|| format!("reading {}", model_path.display()))?;
    let manifest_path = model_path.with_file_name(MANIFEST_FILE);
    let manifest = if manifest_path.is_file() {
        let text = std::fs::read(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a valid manifest", manifest_path.display()))?;
        let actual = format!("{:08x}", crc32fast::hash(&bytes));
        if manifest.model_checksum != actual {
            bail!(
                "{} has checksum {actual} but {} records {}; the model directory is inconsistent",
                model_path.display(),
                manifest_path.display(),
                manifest.model_checksum
            );
        }
        Some(manifest)
    } else {
        None
    };
    let forest = Forest::from_bytes(&bytes).with_context(|| format!("loading {}", model_path.display()))?;
    if let Some(m) = &manifest {
        if m.feature_dim != forest.config().input_dims {
            bail!("manifest feature_dim {} differs from the model's {}", m.feature_dim, forest.config().input_dims);
        }
    }
    Ok(LoadedModel { forest, manifest, source: model_path.display().to_string() })
}

/// A model as the offline CLI reads it, with what `rcf inspect` reports about the file.
pub struct ModelSource {
    /// The model.
    pub model: LoadedModel,
    /// Size of the file or object read (the archive for model.tar.gz).
    pub file_bytes: u64,
    /// `model.tar.gz`, `model.rcf` or `model directory`.
    pub kind: &'static str,
    /// Format version of the model file, from its header or the manifest.
    pub format_version: Option<u32>,
}

/// Loads a model from a local path (model.tar.gz, model.rcf, or a model directory), an
/// `s3://` object, or `-` (stdin).
pub fn load_model(location: &crate::storage::Location) -> anyhow::Result<ModelSource> {
    use crate::storage::Location;
    if let Location::Local(path) = location {
        if path.is_dir() {
            let model = load_model_dir(path)?;
            let file = Path::new(&model.source);
            let file_bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            let version = std::fs::read(file).ok().and_then(|b| header_version(&b));
            let version = version.or(model.manifest.as_ref().map(|m| m.model_format_version));
            return Ok(ModelSource { model, file_bytes, kind: "model directory", format_version: version });
        }
        if path.file_name().is_some_and(|n| n == MODEL_FILE) || path.extension().is_some_and(|e| e == "rcf") {
            let model = load_model_file(path)?;
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            return Ok(ModelSource { model, file_bytes: bytes.len() as u64, kind: "model.rcf", format_version: header_version(&bytes) });
        }
    }
    let bytes = crate::storage::read_all(location, rcf_core::artifact::MAX_MODEL_BYTES + (64 << 20))?;
    let (forest, manifest) = read_any(&bytes).map_err(|e| {
        anyhow::anyhow!("{location}: not a model ({e}); expected model.tar.gz (as written by rcf train or SageMaker) or model.rcf")
    })?;
    let archive = bytes.starts_with(&[0x1f, 0x8b]);
    let format_version = if archive { manifest.as_ref().map(|m| m.model_format_version) } else { header_version(&bytes) };
    Ok(ModelSource {
        model: LoadedModel { forest, manifest, source: location.to_string() },
        file_bytes: bytes.len() as u64,
        kind: if archive { "model.tar.gz" } else { "model.rcf" },
        format_version,
    })
}

/// The format version in a model file's header (magic `RCFMODEL`, then a little-endian u32).
fn header_version(bytes: &[u8]) -> Option<u32> {
    (bytes.len() >= 12 && &bytes[..8] == b"RCFMODEL").then(|| u32::from_le_bytes(bytes[8..12].try_into().unwrap()))
}
