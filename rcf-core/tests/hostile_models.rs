//! Model files from untrusted bytes: arbitrary headers, truncated payloads, oversized declared
//! lengths and configurations declaring huge forests are refused with a `ModelFileError`, never
//! a panic, and what they declare is checked against the load budget before it is built.

use bincode::Options;
use proptest::prelude::*;
use rcf_core::artifact::{self, load_parts, load_within, Manifest};
use rcf_core::{Forest, ForestBuilder, ForestConfig, LoadLimits, ModelFileError, ModelPayload};

const SMALL_BUDGET: u64 = 32 << 20;

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_little_endian().with_varint_encoding()
}

/// A model file: the 32-byte header (magic, version, flags, length, CRC-32, reserved) and `payload`.
fn model_file(version: u32, declared_len: u64, checksum: Option<u32>, payload: &[u8]) -> Vec<u8> {
    let mut out = b"RCFMODEL".to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&declared_len.to_le_bytes());
    out.extend_from_slice(&checksum.unwrap_or_else(|| crc32fast::hash(payload)).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A payload of kind `tag` (0 forest, 1 detector, 2 compact forest) starting with `config`,
/// followed by `rest`.
fn payload(tag: u8, config: &ForestConfig, rest: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(codec().serialize(config).unwrap());
    out.extend_from_slice(rest);
    out
}

fn config(input_dims: usize, shingle: usize, trees: usize, samples: usize, cache: bool) -> ForestConfig {
    ForestBuilder::new(input_dims)
        .shingle_size(shingle)
        .num_trees(trees)
        .sample_size(samples)
        .bounding_box_cache(cache)
        .seed(9)
        .config()
        .unwrap()
}

fn small_forest(compact: bool) -> (Forest, Vec<u8>) {
    let mut forest = ForestBuilder::new(3).shingle_size(2).num_trees(8).sample_size(32).seed(4).build().unwrap();
    for t in 0..200 {
        let x = t as f32 * 0.1;
        forest.update(&[x.sin(), x.cos(), (t % 7) as f32]).unwrap();
    }
    let bytes = if compact { forest.to_compact_bytes() } else { forest.to_bytes() };
    (forest, bytes)
}

fn huge_config() -> impl Strategy<Value = ForestConfig> {
    (1usize..=65535, 1usize..=8, 1usize..=10_000, 1usize..=16_384, any::<bool>()).prop_map(
        |(dims, shingle, trees, samples, cache)| {
            let dims = (dims / shingle).max(1);
            config(dims, shingle, trees, samples, cache)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary header fields over arbitrary bytes: an error, never a panic or a model.
    #[test]
    fn arbitrary_headers_are_errors(
        version in 0u32..8,
        declared in prop_oneof![0u64..4096, Just(u64::MAX), any::<u64>()],
        checksum in proptest::option::of(any::<u32>()),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let bytes = model_file(version, declared, checksum, &body);
        prop_assert!(ModelPayload::from_bytes_within(&bytes, &LoadLimits::new(SMALL_BUDGET)).is_err());
        prop_assert!(load_within(&bytes, &LoadLimits::new(SMALL_BUDGET)).is_err());
    }

    /// A configuration declaring more than the budget is refused before the rest of the payload
    /// (here arbitrary, possibly claiming huge lengths) is decoded; one within the budget gets a
    /// decoding or consistency error instead.
    #[test]
    fn declared_configurations_are_checked_before_decoding(
        config in huge_config(),
        tag in 0u8..3,
        version in 1u32..=4,
        rest in proptest::collection::vec(any::<u8>(), 0..256),
        huge_length in any::<bool>(),
    ) {
        let mut tail = if huge_length { vec![0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] } else { vec![] };
        tail.extend(rest);
        let mut body = payload(tag, &config, &tail);
        if version == 1 {
            body.remove(0); // version 1 holds a bare forest, without a tag
        }
        let bytes = model_file(version, body.len() as u64, None, &body);
        let limits = LoadLimits::new(SMALL_BUDGET);
        let err = ModelPayload::from_bytes_within(&bytes, &limits).unwrap_err();
        let over = config.estimated_memory_bytes() + bytes.len() as u64 > SMALL_BUDGET;
        let old_detector = tag == 1 && (2..4).contains(&version);
        if over && !old_detector {
            prop_assert!(matches!(err, ModelFileError::OverBudget { .. }), "{err}");
        } else {
            prop_assert!(!matches!(err, ModelFileError::OverBudget { .. }), "{err}");
        }
    }

    /// Every prefix of a real model file, exact or compact, is an error.
    #[test]
    fn truncated_models_are_errors(compact in any::<bool>(), cut in 0.0f64..1.0) {
        let (_, bytes) = small_forest(compact);
        let cut = (bytes.len() as f64 * cut) as usize;
        prop_assert!(ModelPayload::from_bytes(&bytes[..cut]).is_err());
        // The same prefix with a header that matches it: the payload itself is cut short.
        if cut > 32 {
            let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
            let fixed = model_file(version, (cut - 32) as u64, None, &bytes[32..cut]);
            prop_assert!(ModelPayload::from_bytes(&fixed).is_err());
        }
    }

    /// One byte of a real payload changed (checksum fixed up): never a panic.
    #[test]
    fn corrupted_payloads_never_panic(
        compact in any::<bool>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let (_, bytes) = small_forest(compact);
        let mut body = bytes[32..].to_vec();
        let i = at.index(body.len());
        body[i] = byte;
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        let file = model_file(version, body.len() as u64, None, &body);
        let _ = ModelPayload::from_bytes_within(&file, &LoadLimits::new(SMALL_BUDGET));
    }

    /// Arbitrary bytes as model.tar.gz: an error, never a panic.
    #[test]
    fn arbitrary_archives_are_errors(mut body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        body.splice(0..0, [0x1f, 0x8b]);
        prop_assert!(load_within(&body, &LoadLimits::new(SMALL_BUDGET)).is_err());
    }
}

#[test]
fn over_budget_error_names_the_figures_and_the_setting() {
    let body = payload(2, &config(600, 1, 1000, 2048, true), &[]);
    let bytes = model_file(3, body.len() as u64, None, &body);
    let err = ModelPayload::from_bytes(&bytes).unwrap_err().to_string();
    assert!(err.contains("1000 trees × 2048 samples × 600 dimensions"), "{err}");
    assert!(err.contains("over the model memory budget of 2048 MiB"), "{err}");
    assert!(err.contains("RCF_MAX_MODEL_MEMORY_MB"), "{err}");
}

/// The forest's trees are counted while they are decoded: a payload claiming more trees than any
/// configuration allows is refused before they are built.
#[test]
fn more_trees_than_allowed_are_refused_while_decoding() {
    let config = config(3, 1, 8, 32, true);
    // Tag, config, an empty point store (dims, shingle step, capacity, four empty arrays), then
    // the trees' count.
    let mut hostile = payload(0, &config, &[3, 0, 0, 0, 0, 0, 0]);
    hostile.extend(codec().serialize(&(1u64 << 40)).unwrap());
    let file = model_file(2, hostile.len() as u64, None, &hostile);
    let err = ModelPayload::from_bytes(&file).unwrap_err().to_string();
    assert!(err.contains("at most 10000 elements"), "{err}");
}

/// A change that makes a manifest wrong.
type Change = fn(&mut Manifest);

#[test]
fn manifests_are_checked_against_the_model() {
    for compact in [false, true] {
        let (forest, bytes) = small_forest(compact);
        let good = Manifest::describe(&forest, &bytes, "test");
        let json = |m: &Manifest| serde_json::to_vec(m).unwrap();
        let limits = LoadLimits::default();
        let loaded = load_parts(&bytes, Some(&json(&good)), &limits).unwrap();
        assert_eq!(loaded.format_version, if compact { 3 } else { 2 });
        let cases: [(&str, Change); 6] = [
            ("the checksum is 00000000", |m| m.model_checksum = "00000000".into()),
            ("feature_dim is 4 in manifest.json but 3", |m| m.feature_dim = 4),
            ("shingle_size is 1 in manifest.json but 2", |m| m.shingle_size = 1),
            ("num_trees is 9 in manifest.json but 8", |m| m.num_trees = 9),
            ("num_samples_per_tree is 31 in manifest.json but 32", |m| m.num_samples_per_tree = 31),
            ("model_format_version is 4", |m| m.model_format_version = 4),
        ];
        for (expected, change) in cases {
            let mut bad = good.clone();
            change(&mut bad);
            let err = load_parts(&bytes, Some(&json(&bad)), &limits).unwrap_err();
            assert!(matches!(err, ModelFileError::Manifest(_)), "{err}");
            assert!(err.to_string().contains(expected), "{expected}: {err}");
            // The archive path checks the same.
            let archive = tar_gz(&[("model.rcf", &bytes), ("manifest.json", &json(&bad))]);
            let err = load_within(&archive, &limits).unwrap_err();
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
        assert!(load_parts(&bytes, Some(b"{not json"), &limits).is_err());
    }
}

#[test]
fn archives_written_by_pack_load_and_round_trip() {
    let (forest, _) = small_forest(false);
    let manifest = Manifest::describe(&forest, &[], "test");
    for archive in [artifact::pack(&forest, &manifest), artifact::pack_compact(&forest, &manifest)] {
        let (loaded, m) = artifact::read_any(&archive).unwrap();
        assert_eq!(loaded.config(), forest.config());
        assert_eq!(m.unwrap().num_trees, 8);
    }
}

/// A tar.gz of `files` (regular files, in order).
fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best()));
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        // Written raw: the builder refuses names such as `../x`, which a hostile archive may hold.
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        archive.append(&header, *data).unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

#[test]
fn archive_sizes_are_bounded_while_decompressing() {
    let limits = LoadLimits::new(1 << 20);
    // An entry declaring more than the budget is refused before it is read.
    let zeros = vec![0u8; 2 << 20];
    let err = load_within(&tar_gz(&[("model.rcf", &zeros)]), &limits).unwrap_err();
    assert!(matches!(err, ModelFileError::OverBudget { .. }), "{err}");
    assert!(err.to_string().contains("model.rcf inside model.tar.gz"), "{err}");
    // Skipped entries count towards the decompressed total.
    let err = load_within(&tar_gz(&[("padding", &vec![0u8; 4 << 20]), ("model.rcf", b"x")]), &limits).unwrap_err();
    assert!(err.to_string().contains("model.tar.gz, which decompresses to more than"), "{err}");
    // A manifest over its own limit.
    let big = vec![b' '; (1 << 20) + 1];
    let err = load_within(&tar_gz(&[("manifest.json", &big)]), &LoadLimits::default()).unwrap_err();
    assert!(err.to_string().contains("manifest.json inside model.tar.gz"), "{err}");
    // Too many entries.
    let many: Vec<(String, Vec<u8>)> = (0..100).map(|i| (format!("f{i}"), vec![])).collect();
    let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    let err = load_within(&tar_gz(&refs), &limits).unwrap_err();
    assert!(err.to_string().contains("more than 64 entries"), "{err}");
    // A second model.rcf.
    let (_, bytes) = small_forest(false);
    let err = load_within(&tar_gz(&[("model.rcf", &bytes), ("./model.rcf", &bytes)]), &limits).unwrap_err();
    assert!(err.to_string().contains("model.rcf appears twice"), "{err}");
    // Names elsewhere are skipped, never followed.
    let err = load_within(&tar_gz(&[("../model.rcf", &bytes)]), &limits).unwrap_err();
    assert!(err.to_string().contains("no model.rcf inside"), "{err}");
}
