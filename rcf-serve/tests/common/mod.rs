//! Test harness: a temporary `/opt/ml` tree, the real `rcf` binary, and a real server on a free
//! loopback port. Everything talks to 127.0.0.1 only; every wait is bounded.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../../src/wire/proto.rs"]
pub mod proto;

use prost::Message;

pub const BIN: &str = env!("CARGO_BIN_EXE_rcf");

/// The binary under test: `RCF_BIN` when set (the hostile-input step of `scripts/test.sh` points
/// it at the release build), else this test build's.
pub fn bin() -> PathBuf {
    std::env::var_os("RCF_BIN").map_or_else(|| PathBuf::from(BIN), PathBuf::from)
}

/// Address-space cap for every `rcf` the harness starts (`RCF_TEST_MEMORY_CAP` bytes, default
/// 4 GiB): an unbounded allocation then fails fast as an abort the test sees, instead of
/// swapping the machine.
pub fn memory_cap() -> u64 {
    std::env::var("RCF_TEST_MEMORY_CAP").ok().and_then(|v| v.parse().ok()).unwrap_or(4 << 30)
}

/// `rcf` (see [`bin`]) started through `prlimit --as` (see [`memory_cap`]).
pub fn rcf_command() -> Command {
    rcf_command_limited(&[])
}

/// [`rcf_command`] with more `prlimit` limits, e.g. `--nofile=256`.
pub fn rcf_command_limited(limits: &[String]) -> Command {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={}", memory_cap())).args(limits).arg("--").arg(bin());
    cmd
}

/// A temporary SageMaker root.
pub struct MlTree {
    pub dir: tempfile::TempDir,
}

impl MlTree {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["input/config", "input/data", "model", "output"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        MlTree { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn model_dir(&self) -> PathBuf {
        self.root().join("model")
    }

    pub fn config(&self, name: &str, json: &str) -> &Self {
        std::fs::write(self.root().join("input/config").join(name), json).unwrap();
        self
    }

    pub fn data(&self, channel: &str, file: &str, bytes: &[u8]) -> &Self {
        let dir = self.root().join("input/data").join(channel);
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        self
    }

    pub fn failure(&self) -> Option<String> {
        std::fs::read_to_string(self.root().join("output/failure")).ok()
    }

    /// Runs `rcf train` against this tree (bounded by a 120 s timeout).
    pub fn train(&self) -> Output {
        run_bounded(rcf_command().arg("train").env("RCF_SAGEMAKER_ROOT", self.root()), Duration::from_secs(120))
    }
}

/// Runs a command to completion, killing it after `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn rcf");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("rcf did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out_thread.join().unwrap(), stderr: err_thread.join().unwrap() }
}

/// Dense training rows: `n` points of `dim` values around a smooth pattern, deterministic.
pub fn normal_rows(n: usize, dim: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..dim).map(|d| ((i * 7 + d * 13) % 100) as f64 / 10.0 + (i as f64 * 0.01).sin()).collect())
        .collect()
}

pub fn csv_of(rows: &[Vec<f64>]) -> String {
    rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\n")
}

pub fn dense64(values: &[f64]) -> proto::Value {
    proto::Value {
        kind: Some(proto::Kind::Float64Tensor(proto::Float64Tensor {
            values: values.to_vec(),
            keys: vec![],
            shape: vec![],
        })),
    }
}

pub fn record_with(features: proto::Value, label: Option<f64>) -> proto::Record {
    let mut r = proto::Record::default();
    r.features.insert("values".into(), features);
    if let Some(l) = label {
        r.label.insert("values".into(), dense64(&[l]));
    }
    r
}

/// RecordIO framing of `records` (magic, length, payload, padding).
pub fn recordio(records: &[proto::Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let payload = r.encode_to_vec();
        out.extend_from_slice(&0xCED7_230Au32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
        out.resize(out.len() + (4 - payload.len() % 4) % 4, 0);
    }
    out
}

/// Decodes a recordIO response into records.
pub fn read_recordio(mut bytes: &[u8]) -> Vec<proto::Record> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert_eq!(&bytes[..4], &0xCED7_230Au32.to_le_bytes(), "response frame magic");
        let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        out.push(proto::Record::decode(&bytes[8..8 + len]).expect("response record decodes"));
        let padded = 8 + len + (4 - len % 4) % 4;
        bytes = &bytes[padded.min(bytes.len())..];
    }
    out
}

/// A running `rcf serve` on 127.0.0.1 and a free port; killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: mpsc::Receiver<String>,
}

impl Server {
    pub fn start(model_dir: &Path, envs: &[(&str, &str)]) -> Server {
        Server::start_limited(model_dir, &[], envs)
    }

    /// [`Server::start`] under more `prlimit` limits (see [`rcf_command_limited`]).
    pub fn start_limited(model_dir: &Path, limits: &[String], envs: &[(&str, &str)]) -> Server {
        let mut cmd = rcf_command_limited(limits);
        cmd.args(["serve", "--host", "127.0.0.1", "--port", "0", "--model-dir"]).arg(model_dir);
        cmd.env_remove("SAGEMAKER_BIND_TO_PORT").env_remove("SAGEMAKER_MAX_PAYLOAD_IN_MB");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn rcf serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.split("listening on ").nth(1) {
                        break addr.trim().rsplit(':').next().unwrap().parse::<u16>().unwrap();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("rcf serve did not report its port within 30 s");
                }
            }
        };
        Server { child, port, log: rx }
    }

    /// Waits (bounded) until /ping answers 200.
    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.get("/ping").0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("/ping did not answer 200 within 30 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn agent() -> ureq::Agent {
        ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
    }

    pub fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        response(Self::agent().get(&self.url(path)).call())
    }

    /// POSTs to /invocations with the given headers.
    pub fn invoke(&self, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut req = Self::agent().post(&self.url("/invocations"));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        response(req.send_bytes(body))
    }

    pub fn request(&self, method: &str, path: &str) -> (u16, String, Vec<u8>) {
        response(Self::agent().request(method, &self.url(path)).call())
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn response(r: Result<ureq::Response, ureq::Error>) -> (u16, String, Vec<u8>) {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let ct = resp.header("content-type").unwrap_or("").to_string();
    let mut body = Vec::new();
    resp.into_reader().take(256 << 20).read_to_end(&mut body).unwrap();
    (status, ct, body)
}

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

pub fn scores_of(body: &[u8]) -> Vec<f64> {
    json(body)["scores"].as_array().expect("scores list").iter().map(|s| s["score"].as_f64().unwrap()).collect()
}

/// Trains a feature_dim=3 model from CSV in a fresh tree and returns the tree.
pub fn trained_tree(rows: usize) -> MlTree {
    let ml = MlTree::new();
    ml.config("hyperparameters.json", r#"{"feature_dim":"3","num_trees":"50","num_samples_per_tree":"64","mini_batch_size":"1000"}"#)
        .config("inputdataconfig.json", r#"{"train":{"ContentType":"text/csv;label_size=0","TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key"}}"#)
        .data("train", "part-0.csv", csv_of(&normal_rows(rows, 3)).as_bytes());
    let out = ml.train();
    assert!(
        out.status.success(),
        "training failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        ml.failure().unwrap_or_default()
    );
    ml
}
