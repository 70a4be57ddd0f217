//! Hostile model files against the real binary (under `prlimit --as`): gzip bombs, archives
//! whose model declares a huge forest (exact or compact), and manifests that do not describe
//! their model. `rcf inspect`, `rcf score` and `rcf serve` each refuse them with an error naming
//! the limit or the mismatch, and never abort or panic. Run them under a low cap too:
//! `RCF_TEST_MEMORY_CAP=1073741824 cargo test -p rcf-serve --test hostile_models`.

mod common;

use std::path::Path;
use std::process::{Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use bincode::Options;
use common::*;
use rcf_core::artifact::{Manifest, MANIFEST_FILE, MODEL_FILE};
use rcf_core::{Forest, ForestBuilder, ForestConfig};

fn rcf(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = rcf_command();
    cmd.args(args).env_remove("RCF_MAX_MODEL_MEMORY_MB");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run_bounded(&mut cmd, Duration::from_secs(120))
}

/// Exited on its own with a failure status (not a signal such as SIGABRT), without a panic.
fn assert_clean_failure(status: ExitStatus, stderr: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "killed by a signal: {stderr}");
    assert!(!status.success(), "succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    assert!(!stderr.contains("memory allocation"), "allocation failure: {stderr}");
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_little_endian().with_varint_encoding()
}

fn model_file(version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = b"RCFMODEL".to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A model file of kind `tag` (0 forest, 2 compact forest) whose configuration declares `config`,
/// followed by a payload that claims far more than it holds.
fn declaring(tag: u8, config: &ForestConfig) -> Vec<u8> {
    let mut payload = vec![tag];
    payload.extend(codec().serialize(config).unwrap());
    payload.extend([0xfc, 0xff, 0xff, 0xff, 0x7f]);
    payload.extend(vec![0u8; 64 << 10]);
    model_file(if tag == 2 { 3 } else { 2 }, &payload)
}

fn huge_config(cache: bool) -> ForestConfig {
    ForestBuilder::new(4096).num_trees(10_000).sample_size(16_384).bounding_box_cache(cache).seed(1).config().unwrap()
}

/// A manifest that describes `model` (checksum, format version and sizes from its bytes).
fn manifest_for(model: &[u8], config: &ForestConfig) -> Manifest {
    Manifest {
        artifact_version: 1,
        model_format_version: u32::from_le_bytes(model[8..12].try_into().unwrap()),
        model_checksum: format!("{:08x}", crc32fast::hash(model)),
        feature_dim: config.input_dims,
        shingle_size: config.shingle_size,
        num_trees: config.num_trees,
        num_samples_per_tree: config.sample_size,
        hyperparameters: Default::default(),
        training: None,
        created_by: "hostile".into(),
    }
}

/// A tar.gz of `files` (regular files; `declared` overrides a header's size, to lie about it).
fn tar_gz(files: &[(&str, &[u8], Option<u64>)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best()));
    for (name, data, declared) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_path(name).unwrap();
        if let Some(size) = declared {
            header.set_size(*size);
        }
        header.set_cksum();
        archive.append(&header, *data).unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

fn archive_of(model: &[u8], manifest: &Manifest) -> Vec<u8> {
    tar_gz(&[(MODEL_FILE, model, None), (MANIFEST_FILE, &serde_json::to_vec(manifest).unwrap(), None)])
}

fn small_forest() -> Forest {
    let mut forest = ForestBuilder::new(3).num_trees(20).sample_size(64).seed(7).build().unwrap();
    for row in normal_rows(300, 3) {
        forest.update(&row.iter().map(|&v| v as f32).collect::<Vec<_>>()).unwrap();
    }
    forest
}

/// Runs `rcf inspect` and `rcf score` on `path` and a server on a model directory holding it as
/// `model.tar.gz`; every one must fail cleanly with stderr containing each of `expected`.
fn refused_everywhere(archive: &[u8], envs: &[(&str, &str)], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.tar.gz");
    std::fs::write(&path, archive).unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, csv_of(&normal_rows(10, 3))).unwrap();
    let out_path = dir.path().join("scores.csv");
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let runs = [
        rcf(&["inspect", &p(&path)], envs),
        rcf(&["score", "--model", &p(&path), "--input", &p(&input), "--output", &p(&out_path)], envs),
    ];
    for out in runs {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_clean_failure(out.status, &stderr);
        for e in expected {
            assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
        }
    }
    assert!(!out_path.exists(), "score wrote output from a refused model");

    let model_dir = dir.path().join("model");
    std::fs::create_dir(&model_dir).unwrap();
    std::fs::copy(&path, model_dir.join("model.tar.gz")).unwrap();
    let (status, log) = serve_until_exit(&model_dir, envs);
    assert_clean_failure(status, &log);
    for e in expected {
        assert!(log.contains(e), "expected {e:?} in the server log: {log}");
    }
}

/// Starts `rcf serve` on `model_dir` (under the cap) and waits, bounded, for it to exit.
fn serve_until_exit(model_dir: &Path, envs: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut all: Vec<(&str, &str)> = envs.to_vec();
    all.push(("RUST_LOG", "info"));
    let mut server = Server::start(model_dir, &all);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "rcf serve kept running with a refused model");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(5)) {
        log.push_str(&line);
        log.push('\n');
    }
    (status, log)
}

#[test]
fn a_gzip_bomb_is_stopped_while_decompressing() {
    // 256 MiB of zeros (a few hundred KB compressed) against a 16 MiB budget: skipped entries count.
    let zeros = vec![0u8; 256 << 20];
    let forest = small_forest();
    let model = forest.to_bytes();
    let manifest = serde_json::to_vec(&manifest_for(&model, forest.config())).unwrap();
    let bomb = tar_gz(&[("padding.bin", &zeros, None), (MODEL_FILE, &model, None), (MANIFEST_FILE, &manifest, None)]);
    assert!(bomb.len() < 2 << 20);
    refused_everywhere(
        &bomb,
        &[("RCF_MAX_MODEL_MEMORY_MB", "16")],
        &["model.tar.gz, which decompresses to more than", "RCF_MAX_MODEL_MEMORY_MB"],
    );
    // The model entry itself too large for the budget: refused from its declared size.
    let bomb = tar_gz(&[(MODEL_FILE, &zeros, None)]);
    refused_everywhere(&bomb, &[("RCF_MAX_MODEL_MEMORY_MB", "16")], &["model.rcf inside model.tar.gz", "16 MiB"]);
}

#[test]
fn an_entry_declaring_more_than_the_default_budget_is_refused_before_reading() {
    let bomb = tar_gz(&[(MODEL_FILE, &[0u8; 4096], Some(3 << 30))]);
    refused_everywhere(&bomb, &[], &["model.rcf inside model.tar.gz", "over the model memory budget of 2048 MiB"]);
}

#[test]
fn archives_declaring_huge_forests_are_refused_before_they_are_built() {
    for (tag, cache) in [(0u8, true), (2, true), (2, false)] {
        let config = huge_config(cache);
        let model = declaring(tag, &config);
        let archive = archive_of(&model, &manifest_for(&model, &config));
        assert!(archive.len() < 100 << 10);
        refused_everywhere(
            &archive,
            &[],
            &[
                "10000 trees × 16384 samples × 4096 dimensions",
                "over the model memory budget of 2048 MiB",
                "RCF_MAX_MODEL_MEMORY_MB",
            ],
        );
    }
}

#[test]
fn a_lower_budget_refuses_a_model_the_default_loads() {
    let forest = small_forest();
    let model = forest.to_bytes();
    let archive = archive_of(&model, &manifest_for(&model, forest.config()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.tar.gz");
    std::fs::write(&path, &archive).unwrap();
    let ok = rcf(&["inspect", path.to_str().unwrap()], &[]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let tiny = ForestBuilder::new(3).num_trees(20).sample_size(64).seed(7).config().unwrap().estimated_memory_bytes();
    assert!(tiny < 1 << 20);
    // The model and its file fit in 1 MiB; 1 MiB is the smallest budget.
    let ok = rcf(&["inspect", path.to_str().unwrap()], &[("RCF_MAX_MODEL_MEMORY_MB", "1")]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let bad = rcf(&["inspect", path.to_str().unwrap()], &[("RCF_MAX_MODEL_MEMORY_MB", "lots")]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_clean_failure(bad.status, &stderr);
    assert!(stderr.contains("RCF_MAX_MODEL_MEMORY_MB=\"lots\": expected a whole number of MiB"), "{stderr}");
}

#[test]
fn manifests_that_do_not_describe_the_model_are_refused() {
    let forest = small_forest();
    let model = forest.to_bytes();
    let good = manifest_for(&model, forest.config());
    let mut wrong_checksum = good.clone();
    wrong_checksum.model_checksum = "deadbeef".into();
    let mut wrong_dim = good.clone();
    wrong_dim.feature_dim = 5;
    let mut wrong_trees = good.clone();
    wrong_trees.num_trees = 21;
    for (manifest, expected) in [
        (wrong_checksum, "the checksum is deadbeef in manifest.json"),
        (wrong_dim, "feature_dim is 5 in manifest.json but 3 in model.rcf"),
        (wrong_trees, "num_trees is 21 in manifest.json but 20 in model.rcf"),
    ] {
        refused_everywhere(&archive_of(&model, &manifest), &[], &["manifest.json does not match model.rcf", expected]);
        // The model directory (model.rcf beside manifest.json) is checked the same way.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MODEL_FILE), &model).unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), serde_json::to_vec(&manifest).unwrap()).unwrap();
        let out = rcf(&["inspect", dir.path().to_str().unwrap()], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_clean_failure(out.status, &stderr);
        assert!(stderr.contains(expected), "{stderr}");
        let (status, log) = serve_until_exit(dir.path(), &[]);
        assert_clean_failure(status, &log);
        assert!(log.contains(expected), "{log}");
    }
    // The consistent archive loads, and the server built from it is healthy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.tar.gz"), archive_of(&model, &good)).unwrap();
    let server = Server::start(dir.path(), &[]);
    server.wait_ready();
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv")], b"0.1,0.2,0.3\n");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.get("/ping").0, 200);
}

/// A model file's first bytes decide before the rest is read or inflated: an endless file and an
/// archive whose model entry is not a model are refused by their header, under a 256 MiB cap that
/// reading them whole (up to the 2 GiB budget) would break.
#[test]
fn a_model_is_refused_by_its_first_bytes_before_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let endless = dir.path().join("model.rcf");
    std::os::unix::fs::symlink("/dev/zero", &endless).unwrap();
    let zeros = vec![0u8; 64 << 20];
    let bomb = dir.path().join("zeros.tar.gz");
    std::fs::write(&bomb, tar_gz(&[(MODEL_FILE, &zeros, None)])).unwrap();
    for path in [&endless, &bomb] {
        let mut cmd = Command::new("prlimit");
        cmd.arg("--as=268435456").arg("--").arg(bin()).arg("inspect").arg(path).env_remove("RCF_MAX_MODEL_MEMORY_MB");
        let out = run_bounded(&mut cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_clean_failure(out.status, &stderr);
        assert!(stderr.contains("not a model") || stderr.contains("not a valid model"), "{stderr}");
    }
}
