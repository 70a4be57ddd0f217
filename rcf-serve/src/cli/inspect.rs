//! `rcf inspect MODEL`: configuration, sizes, training statistics and format version, as JSON.

use clap::Args;
use serde_json::json;

use crate::sagemaker::model_io::load_model;
use crate::storage::Location;

/// Flags of `rcf inspect`.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// Model: model.tar.gz, model.rcf or a model directory; a path or s3:// URI.
    pub model: String,
}

pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let location = Location::parse(&args.model)?;
    let source = load_model(&location)?;
    let forest = &source.model.forest;
    let manifest = source.model.manifest.as_ref();
    let c = forest.config();
    let metadata: serde_json::Map<String, serde_json::Value> = forest
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::from_str(v).unwrap_or_else(|_| json!(v))))
        .collect();
    let report = json!({
        "source": source.model.source,
        "kind": source.kind,
        "model_format_version": source.model.format_version,
        "build_format_version": rcf_core::FORMAT_VERSION,
        "artifact_version": manifest.map(|m| m.artifact_version),
        "model_checksum": manifest.map(|m| m.model_checksum.clone()),
        "created_by": manifest.map(|m| m.created_by.clone()),
        "config": {
            "feature_dim": c.input_dims,
            "shingle_size": c.shingle_size,
            "dimensions": c.dimensions(),
            "num_trees": c.num_trees,
            "sample_size": c.sample_size,
            "time_decay": c.time_decay,
            "output_after": c.output_after,
            "initial_accept_fraction": c.initial_accept_fraction,
            "seed": c.seed,
        },
        "sizes": {
            "file_bytes": source.model.file_bytes,
            "heap_bytes": forest.heap_bytes(),
            "stored_points": forest.stored_points(),
            "points_seen": forest.points_seen(),
        },
        "training": manifest.and_then(|m| m.training.clone()).map(|t| json!({
            "records": t.records,
            "score_mean": t.score_mean,
            "score_std": t.score_std,
            "three_sigma_threshold": t.three_sigma_threshold(),
        })),
        "hyperparameters": manifest.map(|m| m.hyperparameters.clone()),
        "metadata": metadata,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
