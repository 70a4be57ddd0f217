//! Reading and atomically writing the model directory (`model.rcf` + `manifest.json`).

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use rcf_core::artifact::{read_any, Manifest, MANIFEST_FILE, MODEL_FILE};
use rcf_core::Forest;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// then fsync of the directory. A crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(bytes).with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

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
        let bytes = std::fs::read(&model_path).with_context(|| format!("reading {}", model_path.display()))?;
        let manifest_path = dir.join(MANIFEST_FILE);
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
        return Ok(LoadedModel { forest, manifest, source: model_path.display().to_string() });
    }
    let archive = dir.join("model.tar.gz");
    if archive.is_file() {
        let bytes = std::fs::read(&archive).with_context(|| format!("reading {}", archive.display()))?;
        let (forest, manifest) = read_any(&bytes).with_context(|| format!("loading {}", archive.display()))?;
        return Ok(LoadedModel { forest, manifest, source: archive.display().to_string() });
    }
    bail!("no model in {}: expected {MODEL_FILE} (with {MANIFEST_FILE}) or model.tar.gz", dir.display())
}
