//! Response encoders, one per accept type. Without attribution the bytes are exactly the built-in's
//! shapes: `{"scores":[{"score":s},…]}`, `{"score":s}` lines, one recordIO Record per input with the
//! score as a Float32Tensor under label `score`, or one score per CSV line. Line formats separate
//! records with `\n` and have no trailing newline (batch transform's `AssembleWith=Line` adds it).

use rcf_core::DiVector;
use serde::Serialize;

use super::proto::{Record, Value};
use super::recordio::write_records;
use super::OutputFormat;

/// Most bytes one record's score takes in any format (JSON: `{"score":-1.7976931348623157e308},`;
/// recordIO: frame header, padding and the `score` label).
pub const SCORE_BYTES: u64 = 48;
/// Most bytes one attribution value takes in any format (a float of at most 24 characters and a
/// separator; CSV switches to exponent notation outside 1e-5..1e16 to keep this true).
pub const ATTRIBUTION_VALUE_BYTES: u64 = 26;
/// Most bytes of attribution framing per record (`,"attribution":{"high":[…],"low":[…]}`, labels).
pub const ATTRIBUTION_RECORD_BYTES: u64 = 64;

/// An upper bound of the response size for `rows` records of which `attributed` carry attribution
/// over `dims` dimensions, in any format; computed before scoring so that the response is bounded.
pub fn response_bound(rows: usize, attributed: usize, dims: usize) -> u64 {
    let values = (dims as u64).saturating_mul(2 * ATTRIBUTION_VALUE_BYTES);
    let per_attribution = ATTRIBUTION_RECORD_BYTES.saturating_add(values);
    (rows as u64).saturating_mul(SCORE_BYTES).saturating_add((attributed as u64).saturating_mul(per_attribution))
}

/// A CSV number: Rust's shortest round-trip text, in exponent form outside 1e-5..1e16 so that
/// tiny or huge values stay short.
fn push_csv_number(out: &mut String, v: f64) {
    use std::fmt::Write;
    let a = v.abs();
    let _ =
        if a == 0.0 || (1e-5..1e16).contains(&a) || !a.is_finite() { write!(out, "{v}") } else { write!(out, "{v:e}") };
}

#[derive(Serialize)]
struct ScoreOut<'a> {
    score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribution: Option<AttributionOut<'a>>,
}

#[derive(Serialize)]
struct AttributionOut<'a> {
    high: &'a [f64],
    low: &'a [f64],
}

#[derive(Serialize)]
struct ScoresOut<'a> {
    scores: Vec<ScoreOut<'a>>,
}

fn entries<'a>(scores: &[f64], attributions: &'a [Option<DiVector>]) -> Vec<ScoreOut<'a>> {
    scores
        .iter()
        .enumerate()
        .map(|(i, &score)| ScoreOut {
            score,
            attribution: attributions
                .get(i)
                .and_then(Option::as_ref)
                .map(|a| AttributionOut { high: &a.high, low: &a.low }),
        })
        .collect()
}

/// Encodes `scores` (and, where present, per-record attribution) in `format`.
pub fn encode(format: OutputFormat, scores: &[f64], attributions: &[Option<DiVector>]) -> Vec<u8> {
    match format {
        OutputFormat::Json => serde_json::to_vec(&ScoresOut { scores: entries(scores, attributions) })
            .unwrap_or_else(|_| b"{\"scores\":[]}".to_vec()),
        OutputFormat::JsonLines => {
            let mut out = Vec::with_capacity(scores.len() * 24);
            for (i, entry) in entries(scores, attributions).iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                // Serializing plain numbers into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, entry);
            }
            out
        }
        OutputFormat::Csv => {
            let mut out = String::with_capacity(scores.len() * 20);
            for (i, &score) in scores.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                push_csv_number(&mut out, score);
                if let Some(Some(a)) = attributions.get(i) {
                    for &v in a.high.iter().chain(&a.low) {
                        out.push(',');
                        push_csv_number(&mut out, v);
                    }
                }
            }
            out.into_bytes()
        }
        OutputFormat::RecordIo => {
            let records: Vec<Record> = scores
                .iter()
                .enumerate()
                .map(|(i, &score)| {
                    let mut record = Record::default();
                    record.label.insert("score".into(), Value::float32(vec![score as f32]));
                    if let Some(Some(a)) = attributions.get(i) {
                        record.label.insert(
                            "attribution_high".into(),
                            Value::float32(a.high.iter().map(|&v| v as f32).collect()),
                        );
                        record.label.insert(
                            "attribution_low".into(),
                            Value::float32(a.low.iter().map(|&v| v as f32).collect()),
                        );
                    }
                    record
                })
                .collect();
            write_records(&records)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shapes_match_the_built_in() {
        let s = [0.5, 2.25];
        assert_eq!(encode(OutputFormat::Json, &s, &[]), br#"{"scores":[{"score":0.5},{"score":2.25}]}"#);
        assert_eq!(encode(OutputFormat::JsonLines, &s, &[]), b"{\"score\":0.5}\n{\"score\":2.25}");
        assert_eq!(encode(OutputFormat::Csv, &s, &[]), b"0.5\n2.25");
    }

    #[test]
    fn attribution_is_added_only_where_asked() {
        let a = vec![None, Some(DiVector { high: vec![1.0], low: vec![1.25] })];
        assert_eq!(
            encode(OutputFormat::Json, &[0.5, 2.25], &a),
            br#"{"scores":[{"score":0.5},{"score":2.25,"attribution":{"high":[1.0],"low":[1.25]}}]}"#
        );
        assert_eq!(encode(OutputFormat::Csv, &[0.5, 2.25], &a), b"0.5\n2.25,1,1.25");
    }

    #[test]
    fn the_response_bound_holds_for_extreme_values_in_every_format() {
        let extremes =
            [0.0, -0.0, 1e-300, -1e-300, 1e-5, 9.999999999999998e15, f64::MAX, f64::MIN, 1.0 / 3.0, f64::MIN_POSITIVE];
        let dims = extremes.len();
        let scores: Vec<f64> = extremes.to_vec();
        let a = DiVector { high: extremes.to_vec(), low: extremes.iter().rev().copied().collect() };
        let attributions: Vec<Option<DiVector>> = scores.iter().map(|_| Some(a.clone())).collect();
        for format in [OutputFormat::Json, OutputFormat::JsonLines, OutputFormat::Csv, OutputFormat::RecordIo] {
            let bytes = encode(format, &scores, &attributions).len() as u64;
            let bound = response_bound(scores.len(), scores.len(), dims);
            assert!(bytes <= bound, "{format:?}: {bytes} bytes over the bound of {bound}");
            let plain = encode(format, &scores, &[]).len() as u64;
            assert!(plain <= response_bound(scores.len(), 0, dims), "{format:?} without attribution");
        }
        let mut csv = String::new();
        push_csv_number(&mut csv, 1e-300);
        assert_eq!(csv, "1e-300");
    }
}
