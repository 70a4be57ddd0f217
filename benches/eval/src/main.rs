//! `rcf-eval`: per-point anomaly scores of `rcf` (under its documented presets) and of AWS's
//! `krcflib` (with its defaults) for the detection-quality harness in `benches/eval/python`.
//!
//! * `rcf-eval series --input S.csv --output OUT.csv` reads a `timestamp,value` series and writes
//!   one score column per detector, streaming (each point is scored, then learnt).
//! * `rcf-eval matrix --input X.npy --output SCORES.npy` fits the `tabular` preset on all rows and
//!   scores every row.
//! * `rcf-eval presets` prints the presets.
//!
//! The presets are fixed (see `benches/eval/README.md` for how they were chosen); nothing here
//! sees a label.

mod npy;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use rcf_core::{Forest, ForestBuilder};
use rcflib::rcf::{RCFBuilder, RCFOptionsBuilder};
use rcflib::trcf::basictrcf::BasicTRCFBuilder;

/// The `time_series` preset of `rcf`: shingle 8 (the shingle size of AWS's TRCF examples and of
/// OpenSearch anomaly detection), otherwise rcf's defaults (100 trees, 256 samples, time decay
/// 1/(10·256), output after 64 points), streaming: score, then update.
pub const TS_SHINGLE: usize = 8;
pub const TS_TREES: usize = 100;
pub const TS_SAMPLE: usize = 256;
/// krcflib is given the same shingle size (its builder has no default one); every other option
/// is krcflib's default (50 trees, 256 samples, time decay 0.1/256, initial accept 0.125).
pub const KRCF_SHINGLE: usize = 8;
/// The `tabular` preset: 100 trees, each an independent uniform sample of min(256, n) rows
/// (time decay 0), columns min-max scaled to [0, 1]; every row is then scored against the forest.
pub const TAB_TREES: usize = 100;
pub const TAB_SAMPLE: usize = 256;

const SERIES_DETECTORS: &[(&str, &str)] = &[
    ("rcf_raw", "rcf raw score, time_series preset (shingle 8, 100 trees, 256 samples)"),
    ("rcf_raw_s1", "rcf raw score, the published AWS baseline's configuration (shingle 1, 100 trees, 256 samples); reference only"),
    ("rcf_trcf", "rcf_core::detector::Detector with its defaults (AWS TRCF defaults: shingle 8, 50 trees, no transform); anomaly grade"),
    ("krcflib", "krcflib 4.0.2 raw score, its defaults, shingle 8"),
    ("krcflib_trcf", "krcflib 4.0.2 BasicTRCF with its defaults (NORMALIZE transform), shingle 8; anomaly grade"),
];

#[derive(Parser)]
#[command(name = "rcf-eval", about = "Per-point anomaly scores for the rcf evaluation harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score a `timestamp,value` series with streaming detectors.
    Series {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// Comma-separated detectors (see `presets`); default: all that are built in.
        #[arg(long)]
        detectors: Option<String>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Fit the tabular preset on all rows of a matrix (.npy f4/f8 or headerless numeric .csv)
    /// and score every row; writes .npy (f8) or, for any other extension, one score per line.
    Matrix {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Threads for scoring (rayon); results do not depend on it.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Print the presets and detectors as JSON.
    Presets,
}

fn available() -> Vec<&'static str> {
    SERIES_DETECTORS.iter().map(|(n, _)| *n).filter(|n| cfg!(feature = "detector") || *n != "rcf_trcf").collect()
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("rcf-eval: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Presets => {
            let dets: Vec<String> = SERIES_DETECTORS
                .iter()
                .map(|(n, d)| {
                    let built = available().contains(n);
                    format!("    {{\"name\": \"{n}\", \"built\": {built}, \"description\": \"{d}\"}}")
                })
                .collect();
            println!(
                "{{\n  \"time_series\": {{\"shingle_size\": {TS_SHINGLE}, \"num_trees\": {TS_TREES}, \"sample_size\": {TS_SAMPLE}, \"time_decay\": \"1/(10*sample_size)\", \"mode\": \"score then update\"}},\n  \"tabular\": {{\"num_trees\": {TAB_TREES}, \"sample_size\": \"min({TAB_SAMPLE}, n)\", \"time_decay\": 0, \"scaling\": \"min-max per column\", \"mode\": \"fit on all rows, then score all rows\"}},\n  \"series_detectors\": [\n{}\n  ]\n}}",
                dets.join(",\n")
            );
            Ok(())
        }
        Command::Series { input, output, detectors, seed } => {
            let (timestamps, values) = read_series(&input)?;
            let wanted: Vec<String> = match detectors {
                Some(list) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                None => available().iter().map(|s| s.to_string()).collect(),
            };
            let mut columns = Vec::new();
            for name in &wanted {
                if !available().contains(&name.as_str()) {
                    return Err(format!("unknown or unbuilt detector {name:?}; available: {:?}", available()));
                }
                columns.push(score_series(name, &values, seed)?);
            }
            write_series(&output, &timestamps, &wanted, &columns)
        }
        Command::Matrix { input, output, seed, threads } => {
            let m = read_matrix(&input)?;
            let pool =
                rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build().map_err(|e| e.to_string())?;
            let scores = pool.install(|| score_tabular(&m, seed))?;
            if output.extension().is_some_and(|e| e == "npy") {
                npy::write_vector(&output, &scores)
            } else {
                let text: String = scores.iter().map(|s| format!("{s}\n")).collect();
                std::fs::write(&output, text).map_err(|e| format!("{}: {e}", output.display()))
            }
        }
    }
}

fn read_series(path: &Path) -> Result<(Vec<String>, Vec<f32>), String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let ts_col = headers.iter().position(|h| h == "timestamp").unwrap_or(0);
    let value_col = headers
        .iter()
        .position(|h| h == "value")
        .ok_or_else(|| format!("{}: no 'value' column in {headers:?}", path.display()))?;
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: row {i}: {e}", path.display()))?;
        ts.push(rec.get(ts_col).unwrap_or("").to_string());
        let v: f32 = rec
            .get(value_col)
            .unwrap_or("")
            .trim()
            .parse()
            .map_err(|e| format!("{}: row {i}: bad value: {e}", path.display()))?;
        if !v.is_finite() {
            return Err(format!("{}: row {i}: value is not finite", path.display()));
        }
        vals.push(v);
    }
    Ok((ts, vals))
}

fn write_series(path: &Path, ts: &[String], names: &[String], cols: &[Vec<f64>]) -> Result<(), String> {
    let mut w = csv::Writer::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut header = vec!["timestamp".to_string()];
    header.extend(names.iter().cloned());
    w.write_record(&header).map_err(|e| e.to_string())?;
    for (i, t) in ts.iter().enumerate() {
        let mut row = vec![t.clone()];
        row.extend(cols.iter().map(|c| format!("{}", c[i])));
        w.write_record(&row).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn score_series(name: &str, values: &[f32], seed: u64) -> Result<Vec<f64>, String> {
    let err = |e: &dyn std::fmt::Display| format!("{name}: {e}");
    match name {
        "rcf_raw" | "rcf_raw_s1" => {
            let shingle = if name == "rcf_raw" { TS_SHINGLE } else { 1 };
            let mut forest = ForestBuilder::new(1)
                .shingle_size(shingle)
                .num_trees(TS_TREES)
                .sample_size(TS_SAMPLE)
                .seed(seed)
                .build()
                .map_err(|e| err(&e))?;
            forest.score_update_batch(values).map_err(|e| err(&e))
        }
        #[cfg(feature = "detector")]
        "rcf_trcf" => {
            let mut detector = rcf_core::detector::DetectorBuilder::new(1).seed(seed).build().map_err(|e| err(&e))?;
            let out = detector.process_series(values, None).map_err(|e| err(&e))?;
            Ok(out.iter().map(|d| d.grade).collect())
        }
        "krcflib" => {
            let mut forest = RCFBuilder::new(1, KRCF_SHINGLE).random_seed(seed).build_default().map_err(|e| err(&e))?;
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(forest.score(&[*v]).map_err(|e| err(&e))?);
                forest.update(&[*v], 0).map_err(|e| err(&e))?;
            }
            Ok(out)
        }
        "krcflib_trcf" => {
            let mut trcf = BasicTRCFBuilder::new(1, KRCF_SHINGLE).random_seed(seed).build().map_err(|e| err(&e))?;
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                out.push(trcf.process(&[*v], i as u64).map_err(|e| err(&e))?.anomaly_grade as f64);
            }
            Ok(out)
        }
        other => Err(format!("unknown detector {other:?}")),
    }
}

fn read_matrix(path: &Path) -> Result<npy::Matrix, String> {
    if path.extension().is_some_and(|e| e == "npy") {
        return npy::read_matrix(path);
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut values, mut rows, mut cols) = (Vec::new(), 0usize, 0usize);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<Vec<f32>, _> = line.split(',').map(|s| s.trim().parse::<f32>()).collect();
        let row = match parsed {
            Ok(r) => r,
            Err(_) if i == 0 => continue, // header
            Err(e) => return Err(format!("{}: line {}: {e}", path.display(), i + 1)),
        };
        if rows > 0 && row.len() != cols {
            return Err(format!("{}: line {}: {} values, expected {cols}", path.display(), i + 1, row.len()));
        }
        cols = row.len();
        rows += 1;
        values.extend(row);
    }
    Ok(npy::Matrix { rows, cols, values })
}

/// Min-max scales each column to [0, 1] (constant columns become 0).
fn minmax_scale(m: &npy::Matrix) -> Vec<f32> {
    let (n, d) = (m.rows, m.cols);
    let mut lo = vec![f32::INFINITY; d];
    let mut hi = vec![f32::NEG_INFINITY; d];
    for row in m.values.chunks_exact(d) {
        for (j, &v) in row.iter().enumerate() {
            lo[j] = lo[j].min(v);
            hi[j] = hi[j].max(v);
        }
    }
    let mut out = Vec::with_capacity(n * d);
    for row in m.values.chunks_exact(d) {
        for (j, &v) in row.iter().enumerate() {
            let span = (hi[j] as f64) - (lo[j] as f64);
            out.push(if span > 0.0 { ((v as f64 - lo[j] as f64) / span) as f32 } else { 0.0 });
        }
    }
    out
}

fn score_tabular(m: &npy::Matrix, seed: u64) -> Result<Vec<f64>, String> {
    if m.rows == 0 || m.cols == 0 {
        return Err("empty matrix".into());
    }
    if let Some(i) = m.values.iter().position(|v| !v.is_finite()) {
        return Err(format!("non-finite value at row {}, column {}", i / m.cols, i % m.cols));
    }
    let x = minmax_scale(m);
    let mut forest: Forest = ForestBuilder::new(m.cols)
        .num_trees(TAB_TREES)
        .sample_size(TAB_SAMPLE)
        .time_decay(0.0)
        .output_after(1)
        .seed(seed)
        .build()
        .map_err(|e| e.to_string())?;
    forest.update_batch(&x).map_err(|e| e.to_string())?;
    forest.score_batch(&x).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minmax_scales_columns_and_zeroes_constants() {
        let m = npy::Matrix { rows: 3, cols: 2, values: vec![0.0, 5.0, 5.0, 5.0, 10.0, 5.0] };
        assert_eq!(minmax_scale(&m), vec![0.0, 0.0, 0.5, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn tabular_preset_ranks_an_outlier_first() {
        let mut values = Vec::new();
        for i in 0..300 {
            let t = i as f32 * 0.37;
            values.extend_from_slice(&[t.sin(), t.cos(), (t * 0.5).sin()]);
        }
        values.extend_from_slice(&[4.0, -4.0, 4.0]);
        let m = npy::Matrix { rows: 301, cols: 3, values };
        let s = score_tabular(&m, 3).unwrap();
        let top = s.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(top, 300);
        assert_eq!(s, score_tabular(&m, 3).unwrap(), "same seed, same scores");
    }

    #[test]
    fn every_series_detector_scores_every_row() {
        let values: Vec<f32> = (0..400).map(|i| (i as f32 * 0.2).sin() + if i == 350 { 8.0 } else { 0.0 }).collect();
        for name in available() {
            let s = score_series(name, &values, 1).unwrap();
            assert_eq!(s.len(), values.len(), "{name}");
            assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0), "{name}");
            let spike = s[350];
            let typical = s[300..340].iter().cloned().fold(0.0, f64::max);
            assert!(spike > typical || spike > 0.0, "{name}: spike {spike} vs {typical}");
        }
    }
}
