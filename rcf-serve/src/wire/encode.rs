//! Response encoders, one per accept type. Without attribution the bytes are exactly the built-in's
//! shapes: `{"scores":[{"score":s},…]}`, `{"score":s}` lines, one recordIO Record per input with the
//! score as a Float32Tensor under label `score`, or one score per CSV line. Line formats separate
//! records with `\n` and have no trailing newline (batch transform's `AssembleWith=Line` adds it).

use rcf_core::DiVector;
use serde::Serialize;

use super::proto::{Record, Value};
use super::recordio::write_records;
use super::OutputFormat;

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
                out.push_str(&score.to_string());
                if let Some(Some(a)) = attributions.get(i) {
                    for v in a.high.iter().chain(&a.low) {
                        out.push(',');
                        out.push_str(&v.to_string());
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
                        record.label.insert("attribution_high".into(), Value::float32(a.high.iter().map(|&v| v as f32).collect()));
                        record.label.insert("attribution_low".into(), Value::float32(a.low.iter().map(|&v| v as f32).collect()));
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
}
