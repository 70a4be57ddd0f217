//! SageMaker's training contract: read `/opt/ml/input`, fit the forest with the built-in's batch
//! semantics, score the optional test channel, write `/opt/ml/model`, and on any error write
//! `/opt/ml/output/failure` and exit non-zero.

pub mod channels;
pub mod hyperparameters;
pub mod metrics;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use rcf_core::artifact::{Manifest, TrainingStats};
use rcf_core::{Forest, ForestBuilder};

use crate::storage::local::write_atomic;
use crate::training::{chunk_rows, fit_streaming};
use serde::Deserialize;

use super::model_io::write_model_dir;
use super::paths::SageMakerPaths;
use channels::{parse_input_config, Channel};
use hyperparameters::{EvalMetric, Hyperparameters};

/// Seed of every model trained here: the same data and hyperparameters give the same model.
pub const SEED: u64 = 0x5EED_0FC0_FFEE;
/// Most test records kept for the metrics (a score and a label each).
const MAX_TEST_RECORDS: usize = 50_000_000;

#[derive(Deserialize)]
struct ResourceConfig {
    current_host: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
}

/// `rcf train` without `--input`.
pub fn run() -> anyhow::Result<()> {
    let paths = SageMakerPaths::from_env();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing the SIGTERM handler")?;
    }
    let result = train(&paths, &stop);
    if let Err(error) = &result {
        let mut reason = format!("{error:#}");
        if reason.len() > 1024 {
            let mut cut = 1021;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
            reason.push_str("...");
        }
        if let Err(e) = write_atomic(&paths.failure(), reason.as_bytes()) {
            eprintln!("rcf: could not write {}: {e:#}", paths.failure().display());
        }
    }
    result
}

/// Largest configuration file read (SageMaker's are a few KiB; hyperparameters are limited to
/// 100 keys of 256 characters).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads `/opt/ml/input/config/<name>`, at most [`MAX_CONFIG_BYTES`] of it; `None` when it is absent.
fn read_config(paths: &SageMakerPaths, name: &str) -> anyhow::Result<Option<String>> {
    use std::io::Read;
    let path = paths.config(name);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow!("cannot read {}: {e}", path.display())),
    };
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        bail!("{} is larger than {MAX_CONFIG_BYTES} bytes, the most a configuration file may hold", path.display());
    }
    Ok(Some(text))
}

fn train(paths: &SageMakerPaths, stop: &AtomicBool) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut host = "algo-1".to_string();
    if let Some(text) = read_config(paths, "resourceconfig.json")? {
        let rc: ResourceConfig =
            serde_json::from_str(&text).map_err(|e| anyhow!("resourceconfig.json is not valid ({e})"))?;
        if rc.hosts.len() > 1 {
            bail!(
                "distributed training is not supported yet: resourceconfig.json lists {} hosts ({}); use instance_count=1",
                rc.hosts.len(),
                rc.hosts.join(", ")
            );
        }
        host = rc.current_host.unwrap_or(host);
    }
    let hp_text = read_config(paths, "hyperparameters.json")?.unwrap_or_else(|| "{}".into());
    let hp = Hyperparameters::parse(&hp_text).map_err(|e| anyhow!(e))?;
    let input_text = read_config(paths, "inputdataconfig.json")?
        .ok_or_else(|| anyhow!("missing {}", paths.config("inputdataconfig.json").display()))?;
    let channels = parse_input_config(&input_text).map_err(|e| anyhow!(e))?;
    for name in channels.keys() {
        if name != "train" && name != "test" {
            bail!("unknown channel {name:?}; RCF reads the channels \"train\" (required) and \"test\" (optional)");
        }
    }
    let train_config = channels.get("train").ok_or_else(|| anyhow!("the \"train\" channel is required"))?;
    let train_channel = Channel::open("train", train_config, &paths.data(), 0).map_err(|e| anyhow!(e))?;
    let test_channel = match channels.get("test") {
        Some(c) => Some(Channel::open("test", c, &paths.data(), 1).map_err(|e| anyhow!(e))?),
        None => None,
    };
    for (channel, wanted) in [(Some(train_config), "ShardedByS3Key"), (channels.get("test"), "FullyReplicated")] {
        if let Some(dist) = channel.and_then(|c| c.s3_distribution_type.as_deref()) {
            if dist != wanted {
                tracing::warn!("S3DistributionType {dist} where the built-in RCF requires {wanted}; accepted");
            }
        }
    }
    check_memory(&hp)?;
    tracing::info!(
        feature_dim = hp.feature_dim,
        num_trees = hp.num_trees,
        num_samples_per_tree = hp.num_samples_per_tree,
        "training from channel train ({} source(s){})",
        train_channel.sources.len(),
        if train_channel.pipe { ", Pipe mode" } else { "" }
    );

    let config = ForestBuilder::new(hp.feature_dim)
        .num_trees(hp.num_trees)
        .sample_size(hp.num_samples_per_tree)
        .output_after(1)
        .seed(SEED)
        .config()
        .map_err(|e| anyhow!("invalid forest configuration: {e}"))?;
    let channel = &train_channel;
    let fitted =
        fit_streaming(config, SEED, |emit| channel.read_rows(hp.feature_dim, false, stop, |row, _| emit(row)))?;
    let records = fitted.records;
    if records == 0 {
        bail!("channel train has no records ({} file(s) read)", train_channel.sources.len());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "#throughput_metric: host={host}, train throughput={:.3} records/second",
        records as f64 / elapsed.max(1e-9)
    );
    // The same statistics as `rcf train --input` and the Python package compute.
    let stats = TrainingStats::from_scores(records, &fitted.training_scores()?);
    let mut forest = fitted.forest;
    tracing::info!(records, "forest built; {} points stored, {} bytes", forest.stored_points(), forest.heap_bytes());

    forest.metadata_mut().insert("trained_by".into(), format!("rcf-serve {}", env!("CARGO_PKG_VERSION")));

    if let Some(test) = &test_channel {
        evaluate_test(&forest, test, &hp, &host, stop)?;
    } else {
        tracing::info!("test data is not provided");
    }
    if stop.load(Ordering::Relaxed) {
        bail!("training stopped by SIGTERM");
    }

    let mut details = Manifest::describe(&forest, &[], &format!("rcf-serve {}", env!("CARGO_PKG_VERSION")));
    details.hyperparameters = hp.raw.clone();
    details.training = Some(stats);
    write_model_dir(&paths.model(), &forest, &details)?;
    tracing::info!("model written to {}", paths.model().display());
    Ok(())
}

/// Refuses configurations whose sample cannot fit in memory, like the built-in's memory check.
fn check_memory(hp: &Hyperparameters) -> anyhow::Result<()> {
    let points = (hp.num_trees * hp.num_samples_per_tree) as u64;
    let needed = points * (hp.feature_dim as u64 * 4 * 2 + 96);
    tracing::info!("estimated memory needed to build the forest: {needed} bytes");
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    if let Some(available) = available {
        if needed > available {
            bail!(
                "the forest needs about {} MiB (num_trees {} × num_samples_per_tree {} × feature_dim {}) but only {} MiB are available; use a larger instance or smaller values",
                needed >> 20, hp.num_trees, hp.num_samples_per_tree, hp.feature_dim, available >> 20
            );
        }
    }
    Ok(())
}

fn evaluate_test(
    forest: &Forest,
    test: &Channel,
    hp: &Hyperparameters,
    host: &str,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let dim = hp.feature_dim;
    let chunk_values = chunk_rows(dim) * dim;
    let mut chunk: Vec<f32> = Vec::with_capacity(chunk_values);
    let mut scores: Vec<f64> = Vec::new();
    let mut labels: Vec<bool> = Vec::new();
    let flush = |chunk: &mut Vec<f32>, scores: &mut Vec<f64>| -> Result<(), String> {
        let s = forest.score_batch(chunk).map_err(|e| e.to_string())?;
        scores.extend(s);
        chunk.clear();
        Ok(())
    };
    test.read_rows(dim, true, stop, |row, label| {
        if labels.len() >= MAX_TEST_RECORDS {
            return Err(format!("the test channel has more than {MAX_TEST_RECORDS} records"));
        }
        chunk.extend_from_slice(row);
        labels.push(label == Some(1.0));
        if chunk.len() >= chunk_values {
            flush(&mut chunk, &mut scores)?;
        }
        Ok(())
    })
    .map_err(|e| anyhow!(e))?;
    flush(&mut chunk, &mut scores).map_err(|e| anyhow!(e))?;
    if labels.is_empty() {
        bail!("channel test has no records ({} file(s) read)", test.sources.len());
    }
    let m = metrics::evaluate(&scores, &labels);
    tracing::info!(records = m.records, mean = m.mean, std = m.std, threshold = m.threshold, "test channel scored");
    let line = |name: &str, value: f64| println!("#quality_metric: host={host}, test {name} <score>={value}");
    for metric in &hp.eval_metrics {
        match metric {
            EvalMetric::Accuracy => line("accuracy", m.accuracy),
            EvalMetric::PrecisionRecallFscore => {
                line("precision", m.positive.precision);
                line("recall", m.positive.recall);
                line("f1", m.positive.f1);
                line("precision_negative", m.negative.precision);
                line("recall_negative", m.negative.recall);
                line("f1_negative", m.negative.f1);
            }
        }
    }
    Ok(())
}
