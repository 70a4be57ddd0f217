//! Hostile `rcf detect` arguments: each value outside rcf-core's limits is refused with the
//! parameter, the value and the range (the words Python uses too), never an abort; the bounds
//! themselves are accepted.

mod common;

use std::time::Duration;

use common::{rcf_command, run_bounded};
use rcf_core::limits::{self, Limit};

fn series(dir: &std::path::Path) -> std::path::PathBuf {
    let rows: String = (0..20).map(|t| format!("{t},{:.4}\n", (t as f64 / 5.0).sin())).collect();
    let path = dir.join("series.csv");
    std::fs::write(&path, format!("timestamp,v\n{rows}")).unwrap();
    path
}

/// Runs `rcf detect` on a short series with small defaults, overridden by `flag=value`.
fn detect(dir: &std::path::Path, flag: &str, value: &str) -> std::process::Output {
    let mut flags = vec![("--num-trees", "5"), ("--sample-size", "16"), ("--shingle-size", "2")];
    flags.retain(|(f, _)| *f != flag);
    flags.push((flag, value));
    let input = series(dir);
    let mut cmd = rcf_command();
    cmd.args(["detect", "--input", input.to_str().unwrap(), "--output", "-"]);
    cmd.args(flags.iter().map(|(f, v)| format!("{f}={v}")));
    run_bounded(&mut cmd, Duration::from_secs(120))
}

fn refused(dir: &std::path::Path, flag: &str, value: &str, limit: &Limit, shown: &str) {
    let out = detect(dir, flag, value);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "{flag}={value}: killed by a signal: {stderr}");
    assert!(!out.status.success(), "{flag}={value} accepted");
    assert!(!stderr.contains("panicked"), "{flag}={value}: {stderr}");
    let message = format!("invalid {}: {shown} ({})", limit.name, limit.expected);
    assert!(stderr.contains(&message), "{flag}={value}: expected {message:?} in {stderr}");
}

fn accepted(dir: &std::path::Path, flag: &str, value: &str) {
    let out = detect(dir, flag, value);
    assert!(out.status.success(), "{flag}={value} refused: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn detector_settings_outside_their_limits_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (value, shown) in [("0", "0"), ("0.7", "0.7"), ("1", "1"), ("-0.1", "-0.1"), ("NaN", "NaN"), ("inf", "inf")] {
        refused(d, "--anomaly-rate", value, &limits::ANOMALY_RATE, shown);
    }
    for value in ["1e-12", "0.01", "0.5"] {
        accepted(d, "--anomaly-rate", value);
    }
    refused(d, "--z-factor", "0", &limits::Z_FACTOR, "0");
    refused(d, "--z-factor", "1e300", &limits::Z_FACTOR, &1e300f64.to_string());
    accepted(d, "--z-factor", &limits::MAX_Z_FACTOR.to_string());
    let too_many = (rcf_core::MAX_TREES + 1).to_string();
    refused(d, "--num-trees", &too_many, &limits::NUM_TREES, &too_many);
    refused(d, "--num-trees", "1000000000", &limits::NUM_TREES, "1000000000");
    refused(d, "--sample-size", "1000000000", &limits::SAMPLE_SIZE, "1000000000");
    refused(d, "--shingle-size", "1000000000", &limits::SHINGLE_SIZE, "1000000000");
    refused(d, "--shingle-size", "0", &limits::SHINGLE_SIZE, "0");
    accepted(d, "--num-trees", &rcf_core::MAX_TREES.to_string());
}
