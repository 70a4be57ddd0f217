//! `rcf detect`: runs the thresholded detector (`rcf_core::detector`) over a time series and
//! writes, per row, the timestamp, the values, score, grade, threshold, what was expected and the
//! attribution. One pass, one row at a time: memory does not grow with the series.

use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use rcf_core::detector::{DetectorBuilder, Transform};

use super::table::{Columns, Format, TableReader};
use crate::storage::guard::{refuse_overwrite, Source};
use crate::storage::{self, Location};

/// Input transforms (see `rcf_core::detector::Transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransformArg {
    /// Values as they are.
    None,
    /// (x − mean) / deviation, with discounted statistics.
    Normalize,
    /// x − previous x.
    Difference,
    /// Differences, normalised.
    NormalizeDifference,
    /// x − discounted moving average.
    SubtractMovingAverage,
}

impl From<TransformArg> for Transform {
    fn from(t: TransformArg) -> Transform {
        match t {
            TransformArg::None => Transform::None,
            TransformArg::Normalize => Transform::Normalize,
            TransformArg::Difference => Transform::Difference,
            TransformArg::NormalizeDifference => Transform::NormalizeDifference,
            TransformArg::SubtractMovingAverage => Transform::SubtractMovingAverage,
        }
    }
}

/// Flags of `rcf detect`.
#[derive(Args, Debug, Clone)]
pub struct DetectArgs {
    /// The series: a path, s3://bucket/key, or - (CSV with a timestamp column, or JSON Lines).
    #[arg(long)]
    pub input: String,
    /// Where to write one row of results per input row: a path, s3://bucket/key, or - for stdout.
    #[arg(long, default_value = "-")]
    pub output: String,
    /// Timestamp column (header name or 1-based number): 'YYYY-MM-DD HH:MM:SS' (ISO-8601, UTC) or integers.
    #[arg(long, default_value = "timestamp")]
    pub timestamp_column: String,
    /// Consecutive inputs joined into one point.
    #[arg(long, default_value_t = 8)]
    pub shingle_size: usize,
    /// Transform applied before the forest.
    #[arg(long, value_enum, default_value_t = TransformArg::Normalize)]
    pub transform: TransformArg,
    /// Number of trees.
    #[arg(long, default_value_t = 50)]
    pub num_trees: usize,
    /// Points sampled per tree.
    #[arg(long, default_value_t = 256)]
    pub sample_size: usize,
    /// Threshold z-factor in (0, 100] (default 3); see also --anomaly-rate.
    #[arg(long)]
    pub z_factor: Option<f64>,
    /// Expected anomaly rate in (0, 0.5], which sets the z-factor.
    #[arg(long, conflicts_with = "z_factor")]
    pub anomaly_rate: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = crate::sagemaker::train::SEED)]
    pub seed: u64,
    /// Input format (default: from the file extension, else from the first byte).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parses an integer timestamp or 'YYYY-MM-DD[ T]HH:MM[:SS[.fff]][Z]' / 'YYYY-MM-DD' (UTC) into seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let t = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00")).unwrap_or(t);
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut dp = date.split('-');
    let (y, m, d) = (dp.next()?.parse::<i64>().ok()?, dp.next()?.parse::<i64>().ok()?, dp.next()?.parse::<i64>().ok()?);
    if dp.next().is_some() || date.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut seconds = 0;
    if let Some(tm) = time {
        let tm = tm.split('.').next()?;
        let mut tp = tm.split(':');
        let h = tp.next()?.parse::<i64>().ok()?;
        let mi = tp.next()?.parse::<i64>().ok()?;
        let s = tp.next().map_or(Some(0), |s| s.parse::<i64>().ok())?;
        if tp.next().is_some() || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        seconds = h * 3600 + mi * 60 + s;
    }
    Some(days_from_civil(y, m, d) * 86_400 + seconds)
}

fn number(v: f64) -> String {
    v.to_string()
}

pub fn run(args: DetectArgs) -> anyhow::Result<()> {
    let stop = super::stop_flag()?;
    let input_location = Location::parse(&args.input)?;
    let output_location = Location::parse(&args.output)?;
    refuse_overwrite("--output", &output_location, &[Source::input("--input", &input_location)])?;
    let input = storage::open(&input_location)?;
    let name = input.name.clone();
    let (reader, bar) = super::with_progress(input, "detecting in");
    let columns = Columns { label: None, ids: vec![args.timestamp_column.clone()], if_present: false };
    let mut table = TableReader::open(reader, &name, args.format, &columns)?;
    let dim = table.dim();
    let mut builder = DetectorBuilder::new(dim)
        .shingle_size(args.shingle_size)
        .num_trees(args.num_trees)
        .sample_size(args.sample_size)
        .transform(args.transform.into())
        .seed(args.seed);
    if let Some(z) = args.z_factor {
        builder = builder.z_factor(z);
    }
    if let Some(rate) = args.anomaly_rate {
        builder = builder.anomaly_rate(rate);
    }
    // The builder checks every setting against rcf_core::limits, the ranges Python accepts too.
    let mut detector = builder.build().map_err(|e| anyhow!("invalid detector configuration: {e}"))?;
    super::train::check_forest_memory(detector.forest().config())?;

    let mut csv = csv::WriterBuilder::new().buffer_capacity(1 << 16).from_writer(storage::create(&output_location)?);
    let names = table.feature_names.clone();
    let mut header = vec![table.id_names[0].clone()];
    header.extend(names.iter().cloned());
    header.extend(["score", "grade", "threshold", "confidence", "relative_index"].map(String::from));
    header.extend(names.iter().map(|n| format!("expected_{n}")));
    header.extend(names.iter().map(|n| format!("high_{n}")));
    header.extend(names.iter().map(|n| format!("low_{n}")));
    csv.write_record(&header)?;

    let (mut values, mut metas) = (Vec::new(), Vec::new());
    let mut previous: Option<(i64, String)> = None;
    let (mut rows, mut anomalies) = (0u64, 0u64);
    loop {
        super::check_stop(&stop)?;
        values.clear();
        metas.clear();
        if table.read_batch(4096, &mut values, Some(&mut metas))? == 0 {
            break;
        }
        for (row, meta) in values.chunks_exact(dim).zip(&metas) {
            let text = &meta.ids[0];
            let ts = parse_timestamp(text).ok_or_else(|| {
                anyhow!(
                    "{name}: line {}, column {}: expected a timestamp like 2024-03-04 13:00:00 or an integer, found {text:?}",
                    meta.line,
                    header[0]
                )
            })?;
            if let Some((p, ptext)) = &previous {
                if ts <= *p {
                    bail!("{name}: line {}: timestamp {text:?} is not after the previous one ({ptext:?}); rows must be in time order", meta.line);
                }
            }
            let d = detector.process(row, ts).map_err(|e| anyhow!("{name}: line {}: {e}", meta.line))?;
            let mut record: Vec<String> = Vec::with_capacity(header.len());
            record.push(text.clone());
            record.extend(row.iter().map(|v| v.to_string()));
            record.extend([
                number(d.score),
                number(d.grade),
                number(d.threshold),
                number(d.confidence),
                d.relative_index.to_string(),
            ]);
            match &d.expected_values {
                Some(e) => record.extend(e.iter().map(|v| v.to_string())),
                None => record.extend(std::iter::repeat_n(String::new(), dim)),
            }
            match &d.attribution {
                Some(a) => {
                    let folded = a.fold_shingle(dim);
                    record.extend(folded.high.iter().chain(&folded.low).map(|v| number(*v)));
                }
                None => record.extend(std::iter::repeat_n(String::new(), 2 * dim)),
            }
            csv.write_record(&record)?;
            if d.grade > 0.0 {
                anomalies += 1;
            }
            previous = Some((ts, text.clone()));
            rows += 1;
        }
    }
    bar.finish_and_clear();
    if rows == 0 {
        bail!("{name}: no data rows");
    }
    let out = csv.into_inner().map_err(|e| anyhow!("writing the detections: {}", e.error()))?;
    out.commit().with_context(|| format!("writing {output_location}"))?;
    eprintln!("rcf: processed {rows} rows, {anomalies} graded anomalous");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn timestamps_parse_as_utc_seconds() {
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_timestamp("2024-03-04 13:00:00"), Some(1_709_557_200));
        assert_eq!(parse_timestamp("2024-03-04T13:00:00Z"), Some(1_709_557_200));
        assert_eq!(parse_timestamp("2024-03-04"), Some(1_709_510_400));
        assert_eq!(parse_timestamp("2024-13-04 00:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
