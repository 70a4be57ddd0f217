//! Hostile uses of the offline CLI, driving the real binary under an address-space cap: outputs
//! that are the inputs or the model (directly, through links, through stdin), planted symlinks
//! at predictable temporary names, SIGKILL in the middle of a write, inputs without newlines,
//! multi-line or CR-separated CSV records, and out-of-range sizes. Every case checks that rcf
//! exits with an error (no signal, no panic) naming the limit or the clash.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{rcf_command, run_bounded};

const LIMIT: Duration = Duration::from_secs(120);

fn rcf_in(dir: &Path, args: &[&str]) -> Output {
    run_bounded(
        rcf_command().args(args).current_dir(dir).env("RUST_LOG", "warn").env_remove("RCF_MAX_LINE_BYTES"),
        LIMIT,
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit status 1 (an error, not a signal or an abort), no panic, and `expected` in the message.
fn fails_cleanly(out: &Output, expected: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(1), "expected an error exit, got {:?}:\n{text}", out.status);
    assert!(!text.contains("panicked"), "panicked:\n{text}");
    for e in expected {
        assert!(text.contains(e), "expected {e:?} in:\n{text}");
    }
}

fn succeeds(out: &Output) {
    assert!(out.status.success(), "rcf failed:\n{}", stderr(out));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `n` rows `id,a,b,c`.
fn table(n: usize) -> String {
    let mut t = String::from("id,a,b,c\n");
    for i in 0..n {
        let x = i as f64 * 0.1;
        t.push_str(&format!("r{i},{:.3},{:.3},{}\n", x.sin(), x.cos(), i % 7));
    }
    t
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Dir { dir: tempfile::tempdir().unwrap() }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn run(&self, args: &[&str]) -> Output {
        rcf_in(self.dir.path(), args)
    }
    /// A small model trained on `data.csv`.
    fn model(&self) -> (PathBuf, PathBuf) {
        let data = self.file("data.csv", &table(300));
        let model = self.path("model.tar.gz");
        succeeds(&self.run(&[
            "train",
            "--input",
            s(&data),
            "--output",
            s(&model),
            "--id-column",
            "id",
            "--num-trees",
            "20",
            "--sample-size",
            "32",
        ]));
        (data, model)
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

#[test]
fn an_output_that_is_an_input_or_the_model_is_refused_however_it_is_named() {
    let d = Dir::new();
    let (data, model) = d.model();
    let data_bytes = std::fs::read(&data).unwrap();
    let model_bytes = std::fs::read(&model).unwrap();
    let link = d.path("link.csv");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let hard = d.path("hard.csv");
    std::fs::hard_link(&data, &hard).unwrap();
    std::fs::create_dir(d.path("sub")).unwrap();
    let detour = d.path("sub/../data.csv");
    let clash = "is the same file as --input";
    for output in [s(&data), "data.csv", "./data.csv", s(&link), "link.csv", s(&hard), s(&detour)] {
        for input in [s(&data), "data.csv"] {
            let out = d.run(&["score", "--model", s(&model), "--input", input, "--output", output]);
            fails_cleanly(&out, &[clash, output, "Choose another output path"]);
        }
    }
    // The model, given as a file or as a directory holding it.
    let out = d.run(&["score", "--model", "model.tar.gz", "--input", s(&data), "--output", s(&model)]);
    fails_cleanly(&out, &["is the same file as --model model.tar.gz"]);
    let model_dir = d.path("m");
    std::fs::create_dir(&model_dir).unwrap();
    std::fs::copy(&model, model_dir.join("model.tar.gz")).unwrap();
    let inner = model_dir.join("model.tar.gz");
    fails_cleanly(
        &d.run(&["score", "--model", s(&model_dir), "--input", s(&data), "--output", s(&inner)]),
        &["is the same file as --model"],
    );
    let beside = model_dir.join("model.rcf");
    fails_cleanly(
        &d.run(&["score", "--model", s(&model_dir), "--input", s(&data), "--output", s(&beside)]),
        &["is the same file as --model"],
    );
    // Training and detection over their own input.
    for output in [s(&data), s(&link), s(&hard)] {
        let out =
            d.run(&["train", "--input", s(&data), "--output", output, "--num-trees", "20", "--sample-size", "32"]);
        fails_cleanly(&out, &[clash]);
    }
    let series = d.file("series.csv", "timestamp,v\n1,1\n2,2\n3,3\n");
    fails_cleanly(&d.run(&["detect", "--input", "series.csv", "--output", s(&series)]), &[clash]);
    // Standard input redirected from the output file.
    let out = run_bounded(
        rcf_command()
            .args(["score", "--model", s(&model), "--input", "-", "--output", s(&data)])
            .stdin(std::fs::File::open(&data).unwrap()),
        LIMIT,
    );
    fails_cleanly(&out, &["is the same file as --input", "standard input"]);
    // Standard output redirected to the input file (opened without truncating it).
    let target = std::fs::OpenOptions::new().append(true).open(&data).unwrap();
    let out = rcf_command()
        .args(["score", "--model", s(&model), "--input", s(&data)])
        .stdin(Stdio::null())
        .stdout(target)
        .output()
        .unwrap();
    fails_cleanly(&out, &["--output - (standard output, redirected to it) is the same file as --input"]);

    assert_eq!(std::fs::read(&data).unwrap(), data_bytes, "the input is untouched");
    assert_eq!(std::fs::read(&model).unwrap(), model_bytes, "the model is untouched");
    assert!(!d.names().iter().any(|n| n.contains("rcf-partial")), "no temporary files: {:?}", d.names());
    // A different output still works.
    succeeds(&d.run(&["score", "--model", s(&model), "--input", "data.csv", "--output", "scores.csv"]));
    assert_eq!(std::fs::read_to_string(d.path("scores.csv")).unwrap().lines().count(), 301);
}

#[test]
fn symlinks_planted_at_predictable_temporary_names_do_not_redirect_the_write() {
    let d = Dir::new();
    let (data, model) = d.model();
    let victim = d.file("victim.txt", "precious");
    // The next process ids, as the old `.{name}.tmp-{pid}` naming would have used.
    let probe = Command::new("true").spawn().unwrap();
    let next = probe.id();
    let _ = { probe }.wait();
    for pid in next..next + 300 {
        for name in [format!(".out.csv.tmp-{pid}"), format!(".out.csv.tmp.{pid}")] {
            std::os::unix::fs::symlink(&victim, d.path(&name)).unwrap();
        }
    }
    let planted = d.names().len();
    succeeds(&d.run(&["score", "--model", s(&model), "--input", s(&data), "--output", "out.csv"]));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let out = d.path("out.csv");
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_file());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 301);
    assert_eq!(d.names().len(), planted + 1, "only out.csv was added");
}

#[test]
fn sigkill_during_a_write_keeps_the_old_output_and_leaves_only_a_clearly_named_partial_file() {
    let d = Dir::new();
    let (_, model) = d.model();
    let out = d.file("out.csv", "the previous scores\n");
    let mut child = rcf_command()
        .args(["score", "--model", s(&model), "--input", "-", "--output", s(&out), "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(table(2000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let partial = loop {
        if let Some(n) = d.names().into_iter().find(|n| n.starts_with(".out.csv.rcf-partial-")) {
            break n;
        }
        assert!(Instant::now() < deadline, "no temporary file appeared: {:?}", d.names());
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the previous scores\n");
    let left: Vec<String> = d.names().into_iter().filter(|n| n.starts_with('.')).collect();
    assert_eq!(left, std::slice::from_ref(&partial), "only the partial output is left");
    assert!(partial.len() >= ".out.csv.rcf-partial-".len() + 8, "an unpredictable suffix: {partial}");
}

#[test]
fn an_input_without_newlines_fails_at_the_line_limit_in_bounded_memory() {
    let d = Dir::new();
    let (_, model) = d.model();
    let big = d.path("big.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let chunk = vec![b'7'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&chunk).unwrap();
        }
    }
    let jsonl = d.path("big.jsonl");
    std::fs::hard_link(&big, &jsonl).unwrap();
    let expected = ["line 1: longer than 1048576 bytes", "RCF_MAX_LINE_BYTES"];
    // 512 MiB of address space: reading the 200 MB line whole (and growing a buffer for it) cannot fit.
    let capped = |args: &[&str]| {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--as={}", 512u64 << 20)).arg("--").arg(common::bin()).args(args).current_dir(d.dir.path());
        run_bounded(cmd.env_remove("RCF_MAX_LINE_BYTES"), LIMIT)
    };
    fails_cleanly(&capped(&["train", "--input", "big.csv", "--output", "m2.tar.gz"]), &expected);
    fails_cleanly(&capped(&["score", "--model", s(&model), "--input", "big.csv", "--output", "o.csv"]), &expected);
    fails_cleanly(&capped(&["score", "--model", s(&model), "--input", "big.jsonl", "--output", "o.jsonl"]), &expected);
    fails_cleanly(&capped(&["detect", "--input", "big.csv", "--output", "d.csv"]), &expected);
    assert!(!d.path("o.csv").exists() && !d.path("m2.tar.gz").exists());

    // The limit is configurable, within its range.
    let wide = d.file("wide.csv", &format!("a,b\n1,{}\n", "2".repeat(200)));
    let out = run_bounded(
        rcf_command()
            .args(["train", "--input", s(&wide), "--output", s(&d.path("w.tar.gz"))])
            .env("RCF_MAX_LINE_BYTES", "100"),
        LIMIT,
    );
    fails_cleanly(&out, &["wide.csv: line 2: longer than 100 bytes"]);
    let out = run_bounded(
        rcf_command()
            .args(["train", "--input", s(&wide), "--output", s(&d.path("w.tar.gz"))])
            .env("RCF_MAX_LINE_BYTES", "1"),
        LIMIT,
    );
    fails_cleanly(&out, &["RCF_MAX_LINE_BYTES=\"1\": expected a whole number of bytes from 64 to"]);
}

#[test]
fn a_csv_record_is_one_line_quoted_newlines_and_bare_carriage_returns_are_rejected() {
    let d = Dir::new();
    let (_, model) = d.model();
    let quoted = d.file("quoted.csv", "id,a,b,c\nr1,1,2,3\n\"r\n2\",1,2,3\nr3,1,2,3\n");
    let bare_cr = d.file("cr.csv", "id,a,b,c\nr1,1,2,3\r\nr2,1,2,3\rr3,1,2,3\n");
    let quote_msg = "quoted.csv: line 3: a quoted field is not closed on this line";
    let cr_msg = "cr.csv: line 3: a carriage return (CR) that is not part of a CRLF line ending";
    for (input, msg) in [(&quoted, quote_msg), (&bare_cr, cr_msg)] {
        fails_cleanly(&d.run(&["score", "--model", s(&model), "--input", s(input), "--output", "o.csv"]), &[msg]);
        fails_cleanly(&d.run(&["train", "--input", s(input), "--output", "m.tar.gz", "--id-column", "id"]), &[msg]);
    }
    assert!(!d.path("o.csv").exists());
    // CRLF files and quoted commas within a line are fine, and map one output line per input line.
    let crlf = d.file("crlf.csv", "id,a,b,c\r\n\"r,1\",1,2,3\r\nr2,1,2,3\r\n");
    succeeds(&d.run(&["score", "--model", s(&model), "--input", s(&crlf), "--output", "o.csv"]));
    let text = std::fs::read_to_string(d.path("o.csv")).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("\"r,1\","), "{text}");

    // The SageMaker training channels read CSV by the same rules.
    let ml = common::MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"2","num_trees":"50","num_samples_per_tree":"64"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"text/csv","TrainingInputMode":"File"}}"#)
        .data("train", "part-0.csv", b"1,2\n3,4\r5,6\n");
    let out = ml.train();
    assert!(!out.status.success());
    let failure = ml.failure().unwrap_or_default();
    assert!(failure.contains("line 2: a carriage return (CR)"), "{failure}");
}

#[test]
fn sizes_from_arguments_are_checked_before_anything_is_allocated() {
    let d = Dir::new();
    let data = d.file("data.csv", &table(50));
    for (flag, value, name) in [
        ("--num-trees", "100000000", "num_trees"),
        ("--sample-size", "1000000000", "sample_size"),
        ("--shingle-size", "4000000000", "shingle_size"),
    ] {
        let out = d.run(&["train", "--input", s(&data), "--output", "m.tar.gz", "--id-column", "id", flag, value]);
        fails_cleanly(&out, &["invalid forest configuration", name]);
    }
    let out = d.run(&["detect", "--input", s(&data), "--timestamp-column", "id", "--shingle-size", "4000000000"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let (_, model) = d.model();
    let out = d.run(&["score", "--model", s(&model), "--input", s(&data), "--batch-size", "100000000"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects it: {}", stderr(&out));
    assert!(stderr(&out).contains("--batch-size"));
}
