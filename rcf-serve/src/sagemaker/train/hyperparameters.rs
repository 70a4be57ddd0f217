//! Hyperparameters as the built-in RCF takes them: a string map (ints also accepted), with the
//! built-in's names and ranges. `_`-prefixed keys are the platform's and are ignored.

use std::collections::BTreeMap;

/// The test-channel metrics that can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalMetric {
    /// Fraction of test records labelled correctly.
    Accuracy,
    /// Precision, recall and F1 for both classes.
    PrecisionRecallFscore,
}

/// Validated hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperparameters {
    /// Values per record (required, 1..=10000).
    pub feature_dim: usize,
    /// Trees (50..=1000, default 100).
    pub num_trees: usize,
    /// Sample size per tree (1..=2048, default 256).
    pub num_samples_per_tree: usize,
    /// Metrics computed on the test channel (default both).
    pub eval_metrics: Vec<EvalMetric>,
    /// The map as given, for the manifest.
    pub raw: BTreeMap<String, String>,
}

const KNOWN: &str = "feature_dim, num_trees, num_samples_per_tree, eval_metrics, mini_batch_size";

fn as_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn int(name: &str, value: &serde_json::Value, min: u64, max: u64) -> Result<usize, String> {
    let parsed = match value {
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    };
    match parsed {
        Some(v) if (min..=max).contains(&v) => Ok(v as usize),
        _ => Err(format!("hyperparameter {name} must be a whole number between {min} and {max}, found {}", value)),
    }
}

fn eval_metrics(value: &serde_json::Value) -> Result<Vec<EvalMetric>, String> {
    let names: Vec<String> = match value {
        serde_json::Value::Array(items) => items.iter().map(as_text).collect(),
        serde_json::Value::String(s) if s.trim_start().starts_with('[') => serde_json::from_str::<Vec<String>>(s)
            .map_err(|e| format!("hyperparameter eval_metrics is not a JSON list of strings ({e}): {s:?}"))?,
        serde_json::Value::String(s) => {
            s.split(',').map(|p| p.trim().trim_matches(['"', '\'']).to_string()).filter(|p| !p.is_empty()).collect()
        }
        other => return Err(format!("hyperparameter eval_metrics must be a list of metric names, found {other}")),
    };
    let mut metrics = Vec::new();
    for name in names {
        let metric = match name.as_str() {
            "accuracy" => EvalMetric::Accuracy,
            "precision_recall_fscore" => EvalMetric::PrecisionRecallFscore,
            other => {
                return Err(format!(
                    "hyperparameter eval_metrics: unknown metric {other:?} (expected \"accuracy\" and/or \"precision_recall_fscore\")"
                ))
            }
        };
        if !metrics.contains(&metric) {
            metrics.push(metric);
        }
    }
    Ok(metrics)
}

impl Hyperparameters {
    /// Parses the contents of hyperparameters.json.
    pub fn parse(json: &str) -> Result<Hyperparameters, String> {
        let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(json)
            .map_err(|e| format!("hyperparameters.json is not a JSON object of name/value pairs ({e})"))?;
        let mut feature_dim = None;
        let mut hp = Hyperparameters {
            feature_dim: 0,
            num_trees: 100,
            num_samples_per_tree: 256,
            eval_metrics: vec![EvalMetric::Accuracy, EvalMetric::PrecisionRecallFscore],
            raw: BTreeMap::new(),
        };
        for (name, value) in &map {
            if name.starts_with('_') {
                continue;
            }
            match name.as_str() {
                "feature_dim" => feature_dim = Some(int(name, value, 1, 10_000)?),
                "num_trees" => hp.num_trees = int(name, value, 50, 1000)?,
                "num_samples_per_tree" => hp.num_samples_per_tree = int(name, value, 1, 2048)?,
                "eval_metrics" => hp.eval_metrics = eval_metrics(value)?,
                "mini_batch_size" => {
                    int(name, value, 1, u32::MAX as u64)?;
                }
                other => {
                    return Err(format!(
                        "unknown hyperparameter {other:?}; RCF accepts {KNOWN} (and ignores names starting with _)"
                    ))
                }
            }
            hp.raw.insert(name.clone(), as_text(value));
        }
        hp.feature_dim =
            feature_dim.ok_or("missing required hyperparameter feature_dim (values per record, 1 to 10000)")?;
        Ok(hp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_sdk_sends() {
        let hp = Hyperparameters::parse(
            r#"{"mini_batch_size":"1000","feature_dim":"1","num_samples_per_tree":"512","num_trees":"50",
                "eval_metrics":"[\"accuracy\", \"precision_recall_fscore\"]","_tuning_objective_metric":""}"#,
        )
        .unwrap();
        assert_eq!((hp.feature_dim, hp.num_trees, hp.num_samples_per_tree), (1, 50, 512));
        assert_eq!(hp.eval_metrics, vec![EvalMetric::Accuracy, EvalMetric::PrecisionRecallFscore]);
    }

    #[test]
    fn accepts_ints_and_comma_lists() {
        let hp = Hyperparameters::parse(r#"{"feature_dim":3,"eval_metrics":"accuracy"}"#).unwrap();
        assert_eq!((hp.feature_dim, hp.num_trees, hp.num_samples_per_tree), (3, 100, 256));
        assert_eq!(hp.eval_metrics, vec![EvalMetric::Accuracy]);
    }

    #[test]
    fn rejects_with_the_name() {
        assert!(Hyperparameters::parse(r#"{"feature_dim":"1","mini_batch_siz":"10"}"#)
            .unwrap_err()
            .contains("mini_batch_siz"));
        assert!(Hyperparameters::parse(r#"{"feature_dim":"abc"}"#).unwrap_err().contains("feature_dim"));
        assert!(Hyperparameters::parse(r#"{"feature_dim":"1","num_trees":"49"}"#)
            .unwrap_err()
            .contains("between 50 and 1000"));
        assert!(Hyperparameters::parse(r#"{"num_trees":"50"}"#).unwrap_err().contains("feature_dim"));
        assert!(Hyperparameters::parse(r#"{"feature_dim":"1","eval_metrics":"[\"auc\"]"}"#)
            .unwrap_err()
            .contains("auc"));
    }
}
