//! `rcf train --input … --output …`: trains on CSV or JSON Lines from a file, S3 object or stdin
//! in one streaming pass (`Forest::fit`, bounded memory) and writes the same `model.tar.gz` as the
//! SageMaker container, atomically.

use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use clap::Args;
use rcf_core::artifact::{pack, pack_compact, Manifest, TrainingStats};
use rcf_core::ForestBuilder;

use super::table::{batch_rows, Columns, Format, TableReader};
use crate::storage::guard::{refuse_overwrite, Source};
use crate::storage::{self, Location};
use crate::training::fit_streaming;

/// Flags of offline training.
#[derive(Args, Debug, Clone)]
pub struct OfflineTrainArgs {
    /// Training rows: a path, s3://bucket/key, or - for stdin (CSV or JSON Lines).
    /// Without --input, `rcf train` follows SageMaker's training contract instead.
    #[arg(long)]
    pub input: Option<String>,
    /// Where to write model.tar.gz: a path (a directory gets model.tar.gz inside) or s3://bucket/key.
    #[arg(long)]
    pub output: Option<String>,
    /// Number of trees.
    #[arg(long, default_value_t = 100)]
    pub num_trees: usize,
    /// Points sampled per tree.
    #[arg(long, default_value_t = 256)]
    pub sample_size: usize,
    /// Consecutive rows joined into one point (1 = rows are independent).
    #[arg(long, default_value_t = 1)]
    pub shingle_size: usize,
    /// Time decay λ of the samplers when the model keeps learning (default 1/(10·sample size)).
    #[arg(long)]
    pub time_decay: Option<f64>,
    /// Seed: the same data and flags give the same model.
    #[arg(long, default_value_t = crate::sagemaker::train::SEED)]
    pub seed: u64,
    /// Label column (header name or 1-based number); dropped from the features.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Identifier column, e.g. a timestamp (header name or 1-based number); not a feature. Repeatable.
    #[arg(long = "id-column")]
    pub id_columns: Vec<String>,
    /// Input format (default: from the file extension, else from the first byte).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the model without its trees (less than half the bytes for streaming models); they are
    /// regrown from the saved samples on load, so scores match statistically, not bit for bit.
    #[arg(long)]
    pub compact: bool,
}

/// Metadata key under which the training columns are stored in the model.
pub const COLUMNS_KEY: &str = "columns";

/// The columns a model was trained on, stored in its metadata so scoring can name attribution
/// columns and set the same identifier/label columns aside.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default)]
pub struct TrainedColumns {
    /// Feature names.
    pub features: Vec<String>,
    /// Identifier column names.
    pub ids: Vec<String>,
    /// Label column name.
    pub label: Option<String>,
}

pub fn run(args: OfflineTrainArgs) -> anyhow::Result<()> {
    let input_text = args.input.as_deref().expect("offline training has --input");
    let output_text = args.output.as_deref().ok_or_else(|| {
        anyhow!("rcf train --input needs --output: where to write model.tar.gz (a path or s3://bucket/key)")
    })?;
    let input_location = Location::parse(input_text)?;
    let mut output = Location::parse(output_text)?;
    if let Location::Local(path) = &output {
        if path.is_dir() || output_text.ends_with('/') {
            output = Location::Local(path.join("model.tar.gz"));
        }
    }
    if output == Location::Std {
        anyhow::bail!("--output -: the model is binary; give a path or s3://bucket/key");
    }
    refuse_overwrite("--output", &output, &[Source::input("--input", &input_location)])?;
    let stop = super::stop_flag()?;
    let started = std::time::Instant::now();
    let input = storage::open(&input_location)?;
    let name = input.name.clone();
    let (reader, bar) = super::with_progress(input, "training on");
    let columns = Columns { label: args.label_column.clone(), ids: args.id_columns.clone(), if_present: false };
    let mut table = TableReader::open(reader, &name, args.format, &columns)?;
    let dim = table.dim();
    let mut builder = ForestBuilder::new(dim)
        .num_trees(args.num_trees)
        .sample_size(args.sample_size)
        .shingle_size(args.shingle_size)
        .output_after(1)
        .seed(args.seed);
    if let Some(lambda) = args.time_decay {
        builder = builder.time_decay(lambda);
    }
    let config = builder.config().map_err(|e| anyhow!("invalid forest configuration: {e}"))?;
    check_forest_memory(&config)?;
    let trained_columns = TrainedColumns {
        features: table.feature_names.clone(),
        ids: table.id_names.clone(),
        label: table.label_name.clone(),
    };

    let stop_reader = &stop;
    let bar_reader = bar.clone();
    let chunk_rows = batch_rows("", None, dim)?;
    let fitted = fit_streaming(config, args.seed, move |emit| {
        let mut values = Vec::with_capacity(chunk_rows * dim);
        loop {
            super::check_stop(stop_reader).map_err(|e| e.to_string())?;
            values.clear();
            let n = table.read_batch(chunk_rows, &mut values, None).map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok(table.rows());
            }
            for row in values.chunks_exact(dim) {
                emit(row)?;
            }
            bar_reader.set_message(format!("{} rows", table.rows()));
        }
    })?;
    bar.finish_and_clear();
    super::check_stop(&stop)?;
    if fitted.records == 0 {
        anyhow::bail!("{name}: no data rows; nothing to train on");
    }
    let scores = fitted.training_scores()?;
    let stats = TrainingStats::from_scores(fitted.records, &scores);
    let records = fitted.records;
    let mut forest = fitted.forest;
    let created_by = format!("rcf-serve {}", env!("CARGO_PKG_VERSION"));
    forest.metadata_mut().insert("trained_by".into(), created_by.clone());
    forest.metadata_mut().insert(COLUMNS_KEY.into(), serde_json::to_string(&trained_columns)?);

    let mut manifest = Manifest::describe(&forest, &[], &created_by);
    let c = forest.config();
    manifest.hyperparameters = BTreeMap::from([
        ("feature_dim".to_string(), dim.to_string()),
        ("num_trees".to_string(), c.num_trees.to_string()),
        ("num_samples_per_tree".to_string(), c.sample_size.to_string()),
        ("shingle_size".to_string(), c.shingle_size.to_string()),
        ("time_decay".to_string(), c.time_decay.to_string()),
        ("seed".to_string(), c.seed.to_string()),
    ]);
    manifest.training = Some(stats.clone());
    let bytes = if args.compact { pack_compact(&forest, &manifest) } else { pack(&forest, &manifest) };
    storage::write_all(&output, &bytes).with_context(|| format!("writing the model to {output}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "rcf: trained on {records} rows × {dim} features in {elapsed:.2} s ({:.0} rows/s); training scores mean {:.4}, std {:.4}; wrote {output} ({} bytes)",
        records as f64 / elapsed.max(1e-9),
        stats.score_mean,
        stats.score_std,
        bytes.len()
    );
    Ok(())
}

/// Refuses settings whose forest would outgrow the model memory budget once its samples fill: such
/// a model could not be loaded again anyway, and refusing now beats running out of memory later.
pub(crate) fn check_forest_memory(config: &rcf_core::ForestConfig) -> anyhow::Result<()> {
    crate::sagemaker::model_io::load_limits()?
        .check_model(config, 0)
        .map_err(|e| anyhow!("these settings build a forest too large to train or load: {e}"))
}
