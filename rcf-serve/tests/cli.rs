//! The offline CLI on local files, driving the real binary: train → score → inspect → detect,
//! order preservation, attribution columns, stdin/stdout, JSON Lines, and bad inputs with their
//! exact messages.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{run_bounded, BIN};

fn rcf(args: &[&str]) -> Output {
    run_bounded(Command::new(BIN).args(args).env("RUST_LOG", "warn"), Duration::from_secs(120))
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "rcf failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails_with(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a failure mentioning {expected:?}; it succeeded");
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `n` rows `id,a,b,c` with a smooth pattern; row `outlier` (if any) is far off in column b.
fn table(n: usize, outlier: Option<usize>) -> String {
    let mut s = String::from("id,a,b,c\n");
    for i in 0..n {
        let t = i as f64 * 0.05;
        let b = if Some(i) == outlier { 40.0 } else { t.cos() * 2.0 };
        s.push_str(&format!("r{i},{:.4},{b:.4},{:.4}\n", t.sin(), (i % 10) as f64 / 10.0));
    }
    s
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture { dir: tempfile::tempdir().unwrap() }
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn train(&self, input: &Path, extra: &[&str]) -> PathBuf {
        let model = self.path("model.tar.gz");
        let mut args =
            vec!["train", "--input", path(input), "--output", path(&model), "--num-trees", "50", "--sample-size", "64"];
        args.extend_from_slice(extra);
        ok(&rcf(&args));
        model
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn train_score_inspect_round_trip_with_attribution() {
    let f = Fixture::new();
    let data = f.file("data.csv", &table(2000, Some(1500)));
    let model = f.train(&data, &["--id-column", "id"]);

    let report: serde_json::Value = serde_json::from_str(&ok(&rcf(&["inspect", path(&model)]))).unwrap();
    assert_eq!(report["kind"], "model.tar.gz");
    assert_eq!(report["config"]["feature_dim"], 3);
    assert_eq!(report["config"]["num_trees"], 50);
    // Models with their trees are written as format version 2, which this build reads.
    assert_eq!(report["model_format_version"], 2);
    assert!(report["build_format_version"].as_u64().unwrap() >= 2);
    assert_eq!(report["training"]["records"], 2000);
    assert!(report["training"]["score_mean"].as_f64().unwrap() > 0.0);
    assert!(report["sizes"]["heap_bytes"].as_u64().unwrap() > 0);
    assert_eq!(report["sizes"]["file_bytes"].as_u64().unwrap(), std::fs::metadata(&model).unwrap().len());
    assert_eq!(report["metadata"]["columns"]["features"], serde_json::json!(["a", "b", "c"]));

    let scores = f.path("scores.csv");
    ok(&rcf(&["score", "--model", path(&model), "--input", path(&data), "--output", path(&scores), "--attribution"]));
    let rows = csv_rows(&std::fs::read_to_string(&scores).unwrap());
    assert_eq!(rows[0], ["id", "score", "high_a", "high_b", "high_c", "low_a", "low_b", "low_c"]);
    assert_eq!(rows.len(), 2001);
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], format!("r{i}"), "output keeps input order");
        let score: f64 = row[1].parse().unwrap();
        let parts: f64 = row[2..].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((parts - score).abs() <= 1e-6 * score.max(1.0), "row {i}: attribution {parts} vs score {score}");
    }
    let best =
        rows[1..].iter().max_by(|a, b| a[1].parse::<f64>().unwrap().total_cmp(&b[1].parse::<f64>().unwrap())).unwrap();
    assert_eq!(best[0], "r1500", "the outlier scores highest");
    let high_b: f64 = best[3].parse().unwrap();
    assert!(high_b > 0.5 * best[1].parse::<f64>().unwrap(), "attribution points at column b (high): {best:?}");
}

#[test]
fn a_compact_model_is_version_3_and_still_finds_the_outlier() {
    let f = Fixture::new();
    let data = f.file("data.csv", &table(2000, Some(1500)));
    let model = f.train(&data, &["--id-column", "id", "--compact"]);
    let report: serde_json::Value = serde_json::from_str(&ok(&rcf(&["inspect", path(&model)]))).unwrap();
    assert_eq!(report["model_format_version"], 3);
    let scores = f.path("scores.csv");
    ok(&rcf(&["score", "--model", path(&model), "--input", path(&data), "--output", path(&scores)]));
    let rows = csv_rows(&std::fs::read_to_string(&scores).unwrap());
    let best =
        rows[1..].iter().max_by(|a, b| a[1].parse::<f64>().unwrap().total_cmp(&b[1].parse::<f64>().unwrap())).unwrap();
    assert_eq!(best[0], "r1500", "the outlier scores highest with regrown trees");
}

#[test]
fn scores_do_not_depend_on_the_batch_size_even_with_shingling() {
    let f = Fixture::new();
    let data = f.file("data.csv", &table(600, Some(300)));
    for shingle in ["1", "4"] {
        let model = f.train(&data, &["--id-column", "id", "--shingle-size", shingle]);
        let run = |batch: &str| {
            ok(&rcf(&[
                "score",
                "--model",
                path(&model),
                "--input",
                path(&data),
                "--output",
                "-",
                "--batch-size",
                batch,
            ]))
        };
        let whole = run("100000");
        assert_eq!(run("7"), whole, "shingle {shingle}: batch size 7 differs");
        assert_eq!(run("1"), whole, "shingle {shingle}: batch size 1 differs");
        assert_eq!(whole.lines().count(), 601);
    }
}

#[test]
fn training_is_deterministic_and_reads_stdin_and_json_lines() {
    let f = Fixture::new();
    let data = table(500, None);
    let a = f.file("a.csv", &data);
    let first = std::fs::read(f.train(&a, &["--id-column", "1"])).unwrap();
    let second = std::fs::read(f.train(&a, &["--id-column", "1"])).unwrap();
    assert_eq!(first, second, "same data and flags give the same model.tar.gz");

    // The same rows as JSON Lines on stdin, scored to stdout as JSON Lines.
    let jsonl: String = data
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            format!("{{\"id\":\"{}\",\"features\":[{},{},{}]}}\n", v[0], v[1], v[2], v[3])
        })
        .collect();
    let model = f.path("model.tar.gz");
    let mut child = Command::new(BIN)
        .args(["score", "--model", path(&model), "--input", "-", "--output", "-", "--id-column", "id"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = std::thread::spawn(move || stdin.write_all(jsonl.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feed.join().unwrap().unwrap();
    let text = ok(&out);
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 500);
    assert_eq!(lines[7]["id"], "r7");
    // Same scores as the CSV path.
    let csv_out = ok(&rcf(&["score", "--model", path(&model), "--input", path(&a)]));
    let csv_scores: Vec<f64> = csv_out.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    let json_scores: Vec<f64> = lines.iter().map(|l| l["score"].as_f64().unwrap()).collect();
    // serde_json's default float parser may be one ulp off; the model computed the same scores.
    assert!(
        csv_scores.iter().zip(&json_scores).all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs()),
        "JSON Lines scores differ from CSV"
    );
}

#[test]
fn a_model_rcf_file_and_a_headerless_csv_are_accepted() {
    let ml = common::trained_tree(400);
    let model_rcf = ml.model_dir().join("model.rcf");
    let f = Fixture::new();
    let data = f.file("plain.csv", &common::csv_of(&common::normal_rows(10, 3)));
    let out = ok(&rcf(&["score", "--model", path(&model_rcf), "--input", path(&data), "--attribution"]));
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["score", "high_f1", "high_f2", "high_f3", "low_f1", "low_f2", "low_f3"]);
    assert_eq!(rows.len(), 11);
    let report: serde_json::Value = serde_json::from_str(&ok(&rcf(&["inspect", path(&model_rcf)]))).unwrap();
    assert_eq!(report["kind"], "model.rcf");
    assert_eq!(report["training"]["records"], 400, "the manifest beside model.rcf is read");
}

#[test]
fn bad_inputs_fail_with_line_column_and_what_was_expected() {
    let f = Fixture::new();
    let data = f.file("data.csv", &table(300, None));
    let model = f.train(&data, &["--id-column", "id"]);
    let m = path(&model);

    let bad = f.file("bad.csv", "id,a,b,c\nx1,1,2,3\nx2,1,oops,3\n");
    let out = f.path("out.csv");
    fails_with(
        &rcf(&["score", "--model", m, "--input", path(&bad), "--output", path(&out)]),
        "bad.csv: line 3, column 3 (b): expected a number, found \"oops\"",
    );
    assert!(!out.exists(), "a failed run leaves no output");
    assert_eq!(f.names(), ["bad.csv", "data.csv", "model.tar.gz"], "and no temporary file");

    let ragged = f.file("ragged.csv", "id,a,b,c\nx1,1,2,3\nx2,1,2\n");
    fails_with(
        &rcf(&["score", "--model", m, "--input", path(&ragged)]),
        "ragged.csv: line 3: expected 4 columns (like the header), found 3",
    );
    let narrow = f.file("narrow.csv", "id,a,b\nx1,1,2\n");
    fails_with(
        &rcf(&["score", "--model", m, "--input", path(&narrow)]),
        "found 2 feature columns (a, b) but the model expects 3 (a, b, c)",
    );
    let inf = f.file("inf.csv", "id,a,b,c\nx1,1,2,1e40\n");
    fails_with(
        &rcf(&["score", "--model", m, "--input", path(&inf)]),
        "line 2, column 4 (c): expected a finite number within float32 range, found \"1e40\"",
    );
    fails_with(
        &rcf(&["score", "--model", path(&f.path("missing.tar.gz")), "--input", path(&data)]),
        "missing.tar.gz: no such file",
    );
    fails_with(&rcf(&["score", "--model", path(&data), "--input", path(&data)]), "not a model");
    fails_with(
        &rcf(&["train", "--input", path(&data), "--output", path(&f.path("m2")), "--label-column", "y"]),
        "--label-column \"y\": ",
    );
    let headerless = f.file("nohead.csv", "1,2,3\n4,5,6\n");
    fails_with(
        &rcf(&["train", "--input", path(&headerless), "--output", path(&f.path("m3.tar.gz")), "--id-column", "ts"]),
        "names a column, but",
    );
    fails_with(&rcf(&["train", "--input", path(&data)]), "needs --output");
    fails_with(&rcf(&["train", "--output", path(&f.path("m6"))]), "rcf train --output needs --input");
    fails_with(
        &rcf(&["train", "--input", path(&data), "--output", path(&f.path("m4")), "--num-trees", "0"]),
        "invalid forest configuration: invalid num_trees: 0",
    );
    fails_with(&rcf(&["score", "--model", m, "--input", "gs://bucket/key"]), "unsupported URI scheme");
    fails_with(&rcf(&["score", "--model", m, "--input", "s3://bucket-only"]), "expected s3://bucket/key");
    let empty = f.file("empty.csv", "");
    fails_with(
        &rcf(&["train", "--input", path(&empty), "--output", path(&f.path("m5"))]),
        "empty.csv: the input is empty",
    );
}

#[test]
fn detect_grades_a_spike_and_explains_it() {
    let f = Fixture::new();
    let mut series = String::from("timestamp,requests,errors\n");
    for t in 0..1500i64 {
        let base = 100.0 + 30.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
        let errors = if t == 1200 { 90.0 } else { 2.0 + (t % 3) as f64 };
        let ts = format!("2024-01-{:02} {:02}:00:00", 1 + t / 24 % 28, t % 24);
        let ts = if t / 24 >= 28 { format!("{}", 1_800_000_000 + t * 3600) } else { ts };
        series.push_str(&format!("{ts},{base:.1},{errors}\n"));
    }
    // Keep timestamps increasing: integers after the ISO part are all later than 2024-01-28.
    let input = f.file("series.csv", &series);
    let output = f.path("detections.csv");
    ok(&rcf(&["detect", "--input", path(&input), "--output", path(&output), "--shingle-size", "4"]));
    let rows = csv_rows(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(
        rows[0],
        [
            "timestamp",
            "requests",
            "errors",
            "score",
            "grade",
            "threshold",
            "confidence",
            "relative_index",
            "expected_requests",
            "expected_errors",
            "high_requests",
            "high_errors",
            "low_requests",
            "low_errors"
        ]
    );
    assert_eq!(rows.len(), 1501);
    assert_eq!(rows[1][0], "2024-01-01 00:00:00");
    let spike = &rows[1201];
    assert!(spike[4].parse::<f64>().unwrap() > 0.0, "the spike is graded: {spike:?}");
    assert!(
        spike[11].parse::<f64>().unwrap() > spike[10].parse::<f64>().unwrap(),
        "attributed to errors going up: {spike:?}"
    );
    assert!(spike[9].parse::<f64>().unwrap() < 20.0, "expected errors are normal: {spike:?}");
    let graded = rows[1..].iter().filter(|r| r[4].parse::<f64>().unwrap() > 0.0).count();
    assert!(graded < 30, "{graded} rows graded anomalous");

    let bad = f.file("bad.csv", "timestamp,v\n2024-01-01 00:00:00,1\nnot-a-time,2\n");
    fails_with(
        &rcf(&["detect", "--input", path(&bad)]),
        "bad.csv: line 3, column timestamp: expected a timestamp like 2024-03-04 13:00:00 or an integer, found \"not-a-time\"",
    );
    let back = f.file("back.csv", "timestamp,v\n5,1\n4,2\n");
    fails_with(
        &rcf(&["detect", "--input", path(&back)]),
        "back.csv: line 3: timestamp \"4\" is not after the previous one (\"5\")",
    );
}

#[test]
fn the_example_dataset_bursts_are_the_top_anomalies() {
    let f = Fixture::new();
    ok(&rcf(&["gen-example", "--output", path(f.dir.path())]));
    let data = f.path("egress.csv");
    let model = f.path("egress.tar.gz");
    ok(&rcf(&["train", "--input", path(&data), "--output", path(&model), "--id-column", "timestamp"]));
    let out = ok(&rcf(&["score", "--model", path(&model), "--input", path(&data), "--attribution"]));
    let rows = csv_rows(&out);
    assert_eq!(rows[0][0], "timestamp");
    let mut scored: Vec<(f64, &Vec<String>)> = rows[1..].iter().map(|r| (r[1].parse().unwrap(), r)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let truth = std::fs::read_to_string(f.path("bursts.csv")).unwrap();
    let burst_days: Vec<String> = truth.lines().skip(1).map(|l| l[..10].to_string()).collect();
    assert_eq!(burst_days.len(), 3);
    for day in &burst_days {
        assert!(
            scored[..6].iter().any(|(_, r)| r[0].starts_with(day.as_str())),
            "burst on {day} is not among the top 6: {:?}",
            scored[..6].iter().map(|(s, r)| (r[0].clone(), *s)).collect::<Vec<_>>()
        );
    }
}
