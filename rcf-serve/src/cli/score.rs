//! `rcf score`: streams rows from a file, S3 object or stdin through a trained model in batches
//! (scored in parallel, written in input order), with optional attribution columns. Memory is
//! bounded by the batch size, whatever the input size.

use std::io::Write;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use rcf_core::{DiVector, Forest};

use super::table::{batch_rows, Columns, Format, RowMeta, TableReader};
use super::train::{TrainedColumns, COLUMNS_KEY};
use crate::sagemaker::model_io::load_model;
use crate::storage::guard::{refuse_overwrite, Source};
use crate::storage::{self, Location, Output};

/// Flags of `rcf score`.
#[derive(Args, Debug, Clone)]
pub struct ScoreArgs {
    /// Model: model.tar.gz or model.rcf, a path or s3:// URI.
    #[arg(long)]
    pub model: String,
    /// Rows to score: a path, s3://bucket/key, or - for stdin (CSV or JSON Lines).
    #[arg(long)]
    pub input: String,
    /// Where to write the scores: a path, s3://bucket/key, or - for stdout.
    #[arg(long, default_value = "-")]
    pub output: String,
    /// Add per-feature attribution columns (high_<feature>…, low_<feature>…; they sum to the score).
    #[arg(long)]
    pub attribution: bool,
    /// Input format (default: from the file extension, else from the first byte).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Output format (default: the input's format).
    #[arg(long, value_enum)]
    pub output_format: Option<Format>,
    /// Label column (header name or 1-based number): not a feature, copied to the output.
    /// Default: the model's training label column, if the input has it.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Identifier column (header name or 1-based number): not a feature, copied to the output.
    /// Repeatable. Default: the model's training identifier columns, if the input has them.
    #[arg(long = "id-column")]
    pub id_columns: Vec<String>,
    /// Rows scored together (memory is bounded by this). Default 4096, fewer for very wide
    /// models: a batch holds at most 16 M values (rows × the model's dimensions).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch_size: Option<u32>,
}

/// One batch read from the input.
struct Batch {
    values: Vec<f32>,
    metas: Vec<RowMeta>,
}

/// Where scored rows go: a CSV writer or JSON Lines, over the (uncommitted) output.
#[allow(clippy::large_enum_variant)] // one per run; boxing the writer buys nothing
enum Sink {
    Csv(csv::Writer<Box<dyn Output>>),
    Jsonl(Box<dyn Output>),
}

/// Writes scored rows in CSV or JSON Lines.
struct RowWriter {
    sink: Sink,
    line: Vec<u8>,
    id_names: Vec<String>,
    label_name: Option<String>,
    features: Vec<String>,
}

impl RowWriter {
    fn header(&mut self, attribution: bool) -> anyhow::Result<()> {
        let Sink::Csv(csv) = &mut self.sink else { return Ok(()) };
        let mut fields: Vec<String> = self.id_names.clone();
        fields.extend(self.label_name.clone());
        fields.push("score".into());
        if attribution {
            fields.extend(self.features.iter().map(|f| format!("high_{f}")));
            fields.extend(self.features.iter().map(|f| format!("low_{f}")));
        }
        csv.write_record(&fields).context("writing the scores")
    }

    fn rows(&mut self, metas: &[RowMeta], scores: &[f64], attributions: Option<&[DiVector]>) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Csv(csv) => {
                let mut number = ryu_buffer();
                for (i, meta) in metas.iter().enumerate() {
                    for id in &meta.ids {
                        csv.write_field(id)?;
                    }
                    if self.label_name.is_some() {
                        csv.write_field(meta.label.as_deref().unwrap_or(""))?;
                    }
                    csv.write_field(number.format(scores[i]))?;
                    if let Some(a) = attributions {
                        for v in a[i].high.iter().chain(&a[i].low) {
                            csv.write_field(number.format(*v))?;
                        }
                    }
                    csv.write_record(None::<&[u8]>).context("writing the scores")?;
                }
                Ok(())
            }
            Sink::Jsonl(out) => {
                self.line.clear();
                for (i, meta) in metas.iter().enumerate() {
                    let mut object = serde_json::Map::new();
                    for (name, value) in self.id_names.iter().zip(&meta.ids) {
                        object.insert(name.clone(), json_value(value));
                    }
                    if let (Some(name), Some(label)) = (&self.label_name, &meta.label) {
                        object.insert(name.clone(), json_value(label));
                    }
                    object.insert("score".into(), serde_json::json!(scores[i]));
                    if let Some(a) = attributions {
                        object.insert("attribution".into(), serde_json::json!({"high": a[i].high, "low": a[i].low}));
                    }
                    serde_json::to_writer(&mut self.line, &object)?;
                    self.line.push(b'\n');
                }
                out.write_all(&self.line).context("writing the scores")
            }
        }
    }

    /// Flushes and makes the output visible.
    fn commit(self) -> anyhow::Result<()> {
        match self.sink {
            Sink::Csv(csv) => csv.into_inner().map_err(|e| anyhow!("writing the scores: {}", e.error()))?.commit(),
            Sink::Jsonl(out) => out.commit(),
        }
    }
}

/// Shortest round-trip formatting of floats, reusing one buffer.
struct NumberBuffer(String);

fn ryu_buffer() -> NumberBuffer {
    NumberBuffer(String::with_capacity(32))
}

impl NumberBuffer {
    fn format(&mut self, v: f64) -> &str {
        use std::fmt::Write as _;
        self.0.clear();
        let _ = write!(self.0, "{v}");
        &self.0
    }
}

/// An identifier as JSON: numbers stay numbers, everything else is a string.
fn json_value(text: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Number(_)) => v,
        _ => serde_json::Value::String(text.to_string()),
    }
}

/// Scores a batch as the continuation of the previous ones: with shingling, the last
/// `shingle_size − 1` rows of the previous batch are fed first so shingles span batch boundaries.
struct Scorer<'a> {
    forest: &'a Forest,
    carry: Vec<f32>,
    attribution: bool,
}

impl Scorer<'_> {
    fn score(&mut self, values: &[f32]) -> anyhow::Result<(Vec<f64>, Option<Vec<DiVector>>)> {
        let config = self.forest.config();
        let (dim, keep) = (config.input_dims, config.shingle_size - 1);
        let skip = self.carry.len() / dim;
        let joined;
        let inputs = if skip == 0 {
            values
        } else {
            joined = [self.carry.as_slice(), values].concat();
            &joined
        };
        let mut scores = self.forest.score_batch(inputs).map_err(|e| anyhow!("scoring: {e}"))?;
        scores.drain(..skip);
        let attributions = if self.attribution {
            let mut a = self.forest.attribution_batch(inputs).map_err(|e| anyhow!("attribution: {e}"))?;
            a.drain(..skip);
            Some(a.into_iter().map(|d| d.fold_shingle(dim)).collect())
        } else {
            None
        };
        if keep > 0 {
            let rows = inputs.len() / dim;
            let from = rows.saturating_sub(keep) * dim;
            self.carry = inputs[from..].to_vec();
        }
        Ok((scores, attributions))
    }
}

pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let stop = super::stop_flag()?;
    let started = std::time::Instant::now();
    let model_location = Location::parse(&args.model)?;
    let input_location = Location::parse(&args.input)?;
    let output_location = Location::parse(&args.output)?;
    if model_location == Location::Std && input_location == Location::Std {
        bail!("--model - and --input - both read stdin; give one of them as a path or s3:// URI");
    }
    refuse_overwrite(
        "--output",
        &output_location,
        &[Source::model("--model", &model_location), Source::input("--input", &input_location)],
    )?;
    let model = load_model(&model_location)?.model;
    let forest = model.forest;
    let trained: Option<TrainedColumns> = forest.metadata().get(COLUMNS_KEY).and_then(|t| serde_json::from_str(t).ok());
    let columns = if args.label_column.is_none() && args.id_columns.is_empty() {
        let t = trained.clone().unwrap_or_default();
        Columns { label: t.label, ids: t.ids, if_present: true }
    } else {
        Columns { label: args.label_column.clone(), ids: args.id_columns.clone(), if_present: false }
    };

    let input = storage::open(&input_location)?;
    let name = input.name.clone();
    let (reader, bar) = super::with_progress(input, "scoring");
    let mut table = TableReader::open(reader, &name, args.format, &columns)?;
    let dim = forest.config().input_dims;
    if table.dim() != dim {
        let trained_names = trained.as_ref().map(|t| format!(" ({})", t.features.join(", "))).unwrap_or_default();
        bail!(
            "{name}: found {} feature columns ({}) but the model expects {dim}{trained_names}; set label/identifier columns aside with --label-column / --id-column",
            table.dim(),
            table.feature_names.join(", ")
        );
    }
    let features = if table.has_header {
        table.feature_names.clone()
    } else {
        trained
            .as_ref()
            .map(|t| t.features.clone())
            .filter(|f| f.len() == dim)
            .unwrap_or_else(|| table.feature_names.clone())
    };
    let output_format = args.output_format.unwrap_or(table.format);
    let out = storage::create(&output_location)?;
    let sink = match output_format {
        Format::Csv => {
            Sink::Csv(csv::WriterBuilder::new().has_headers(false).buffer_capacity(1 << 16).from_writer(out))
        }
        Format::Jsonl => Sink::Jsonl(out),
    };
    let mut writer = RowWriter {
        sink,
        line: Vec::new(),
        id_names: table.id_names.clone(),
        label_name: table.label_name.clone(),
        features,
    };
    writer.header(args.attribution)?;

    let batch_rows = batch_rows("--batch-size", args.batch_size.map(|b| b as usize), forest.config().dimensions())?;
    let (tx, rx) = sync_channel::<anyhow::Result<Batch>>(2);
    let mut scorer = Scorer { forest: &forest, carry: Vec::new(), attribution: args.attribution };
    let mut rows = 0u64;
    // The reader thread is not joined: on an error or a signal it may be blocked on stdin, and it
    // stops by itself once the channel closes.
    let bar_reader = bar.clone();
    std::thread::spawn(move || loop {
        let mut batch = Batch { values: Vec::with_capacity(batch_rows * dim), metas: Vec::with_capacity(batch_rows) };
        match table.read_batch(batch_rows, &mut batch.values, Some(&mut batch.metas)) {
            Ok(0) => break,
            Ok(_) => {
                bar_reader.set_message(format!("{} rows", table.rows()));
                if tx.send(Ok(batch)).is_err() {
                    break;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                break;
            }
        }
    });
    loop {
        super::check_stop(&stop)?;
        let batch = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(batch) => batch?,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let (scores, attributions) = scorer.score(&batch.values)?;
        writer.rows(&batch.metas, &scores, attributions.as_deref())?;
        rows += batch.metas.len() as u64;
    }
    bar.finish_and_clear();
    super::check_stop(&stop)?;
    if rows == 0 {
        bail!("{name}: no data rows to score");
    }
    writer.commit().with_context(|| format!("writing {output_location}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "rcf: scored {rows} rows in {elapsed:.2} s ({:.0} records/s); wrote {}",
        rows as f64 / elapsed.max(1e-9),
        if output_location == Location::Std { "stdout".to_string() } else { output_location.to_string() }
    );
    Ok(())
}
