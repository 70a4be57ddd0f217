//! Training and detection settings, and SageMaker configuration files, that would make rcf
//! allocate without bound: each is refused up front with an error naming the limit, never an abort.

mod common;

use std::process::Output;
use std::time::Duration;

use common::*;

fn assert_refused(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "expected a clean failure, got {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked") && !stderr.contains("memory allocation"), "{stderr}");
    assert!(stderr.contains(needle), "{stderr:?} should mention {needle:?}");
}

/// 300 rows of a timestamp and 100 values.
fn wide_series(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("timestamp");
    for i in 0..100 {
        text.push_str(&format!(",v{i}"));
    }
    text.push('\n');
    for r in 0..300 {
        text.push_str(&r.to_string());
        for i in 0..100 {
            text.push_str(&format!(",{}", (r * 7 + i) % 13));
        }
        text.push('\n');
    }
    let path = dir.join("wide.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn forests_too_large_for_the_model_budget_are_refused_before_training_or_detecting() {
    let dir = tempfile::tempdir().unwrap();
    let input = wide_series(dir.path());
    let limit = Duration::from_secs(60);
    let detect = run_bounded(
        rcf_command().arg("detect").arg("--input").arg(&input).arg("--output").arg(dir.path().join("d.csv")).args([
            "--shingle-size",
            "655",
            "--num-trees",
            "1",
            "--sample-size",
            "16384",
        ]),
        limit,
    );
    assert_refused(&detect, "over the model memory budget");
    let train = run_bounded(
        rcf_command().arg("train").arg("--input").arg(&input).arg("--output").arg(dir.path().join("m.tar.gz")).args([
            "--id-column",
            "timestamp",
            "--shingle-size",
            "600",
            "--num-trees",
            "1",
            "--sample-size",
            "16384",
        ]),
        limit,
    );
    assert_refused(&train, "RCF_MAX_MODEL_MEMORY_MB");
    assert!(!dir.path().join("d.csv").exists() && !dir.path().join("m.tar.gz").exists());
}

#[test]
fn an_oversized_sagemaker_configuration_file_fails_the_job_with_a_reason() {
    let ml = MlTree::new();
    let padding = " ".repeat(2 << 20);
    ml.config("hyperparameters.json", &format!(r#"{{"feature_dim":"3"{padding}}}"#))
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"text/csv"}}"#)
        .data("train", "part-0.csv", csv_of(&normal_rows(100, 3)).as_bytes());
    let out = ml.train();
    assert_eq!(out.status.code(), Some(1));
    let failure = ml.failure().expect("output/failure written");
    assert!(failure.contains("hyperparameters.json is larger than 1048576 bytes"), "{failure}");
}
