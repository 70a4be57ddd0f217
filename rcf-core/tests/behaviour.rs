//! Behaviour of the public API: configuration errors, input errors, attribution, batch fit,
//! determinism, and the model file's error cases.

mod common;

use common::*;
use rcf_core::{ConfigError, Forest, ForestBuilder, InputError, ModelFileError, MAX_SAMPLE_SIZE};

fn trained(channels: usize, shingle: usize, points: usize) -> Forest {
    let mut forest =
        ForestBuilder::new(channels).shingle_size(shingle).num_trees(50).sample_size(128).seed(3).build().unwrap();
    for (t, p) in reference_stream(points, channels).iter().enumerate() {
        if !is_spike(t) {
            forest.update(p).unwrap();
        }
    }
    forest
}

#[test]
fn builder_defaults_follow_sagemaker_and_aws() {
    let config = ForestBuilder::new(4).seed(1).config().unwrap();
    assert_eq!((config.num_trees, config.sample_size, config.shingle_size), (100, 256, 1));
    assert_eq!(config.time_decay, 1.0 / 2560.0);
    assert_eq!(config.output_after, 64);
    assert_eq!(config.initial_accept_fraction, 1.0);
}

/// Trees address nodes with 16 bits: a tree filled to the largest sample size (and churned past it)
/// keeps every invariant and survives a round trip through the model file.
#[test]
fn largest_sample_size_fills_churns_and_round_trips() {
    let mut forest = ForestBuilder::new(2).num_trees(1).sample_size(MAX_SAMPLE_SIZE).seed(5).build().unwrap();
    let mut state = 1u64;
    for _ in 0..MAX_SAMPLE_SIZE + 4_000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (a, b) = ((state >> 40) as f32 / 1e4, (state >> 20 & 0xfffff) as f32 / 1e4);
        forest.update(&[a, b]).unwrap();
    }
    forest.check_consistency().unwrap();
    let loaded = Forest::from_bytes(&forest.to_bytes()).unwrap();
    loaded.check_consistency().unwrap();
    assert_eq!(loaded.score(&[1.0, 2.0]).unwrap(), forest.score(&[1.0, 2.0]).unwrap());
}

#[test]
fn builder_rejects_each_invalid_value_by_name() {
    let cases: Vec<(ForestBuilder, &str)> = vec![
        (ForestBuilder::new(0), "input_dims"),
        (ForestBuilder::new(2).shingle_size(0), "shingle_size"),
        (ForestBuilder::new(2).num_trees(0), "num_trees"),
        (ForestBuilder::new(2).num_trees(10_001), "num_trees"),
        (ForestBuilder::new(2).sample_size(0), "sample_size"),
        (ForestBuilder::new(2).sample_size(MAX_SAMPLE_SIZE + 1), "sample_size"),
        (ForestBuilder::new(2).time_decay(-1.0), "time_decay"),
        (ForestBuilder::new(2).time_decay(f64::NAN), "time_decay"),
        (ForestBuilder::new(2).initial_accept_fraction(0.0), "initial_accept_fraction"),
        (ForestBuilder::new(2).initial_accept_fraction(1.5), "initial_accept_fraction"),
        (ForestBuilder::new(300).shingle_size(300), "input_dims × shingle_size"),
    ];
    for (builder, field) in cases {
        match builder.build() {
            Err(ConfigError::OutOfRange { name, .. }) => assert_eq!(name, field),
            Ok(_) => panic!("{field}: invalid value accepted"),
        }
    }
}

#[test]
fn input_errors_name_the_problem() {
    let mut forest = ForestBuilder::new(3).seed(1).build().unwrap();
    assert_eq!(forest.update(&[1.0, 2.0]), Err(InputError::WrongLength { expected: 3, found: 2 }));
    assert!(matches!(forest.score(&[1.0, f32::NAN, 2.0]), Err(InputError::NonFinite { index: 1, .. })));
    let err = forest.score_batch(&[1.0, 2.0, 3.0, 4.0, f32::INFINITY, 6.0]).unwrap_err();
    assert_eq!(err.to_string(), "row 1: value at index 1 is inf; only finite numbers are accepted");
    assert!(matches!(forest.update_batch(&[1.0; 4]), Err(InputError::RaggedBatch { len: 4, row_len: 3 })));
    // A failed batch inserts nothing.
    assert!(forest.update_batch(&[1.0, 2.0, 3.0, f32::NAN, 0.0, 0.0]).is_err());
    assert_eq!(forest.points_seen(), 0);
}

#[test]
fn scores_are_zero_until_output_after_points() {
    let mut forest = ForestBuilder::new(1).shingle_size(4).output_after(10).seed(2).build().unwrap();
    let scores: Vec<f64> = (0..20).map(|t| forest.score_update(&[t as f32]).unwrap()).collect();
    // The first full shingle arrives with input 4; the forest has seen 10 points after input 13.
    assert!(scores[..13].iter().all(|&s| s == 0.0));
    assert!(scores[13..].iter().all(|&s| s > 0.0));
}

#[test]
fn attribution_total_equals_score_and_points_at_the_spiked_channel() {
    let forest = trained(3, 4, 5000);
    let mut probe = reference_stream(5001, 3)[5000].clone();
    let normal_score = forest.score(&probe).unwrap();
    probe[1] += 25.0;
    let score = forest.score(&probe).unwrap();
    let attribution = forest.attribution(&probe).unwrap();
    assert!(score > 1.5 * normal_score, "spike {score} vs normal {normal_score}");
    assert!((attribution.total() - score).abs() / score < 1e-5);
    let per_channel = attribution.fold_shingle(3).per_dimension();
    let top = per_channel.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(top, 1, "per-channel attribution {per_channel:?}");
    // The spike is upward: the high part dominates on that channel.
    let folded = attribution.fold_shingle(3);
    assert!(folded.high[1] > folded.low[1]);
    // Within the shingle, the newest position of channel 1, upwards, carries the most.
    let last = 3 * 3 + 1;
    let largest = attribution.high.iter().chain(&attribution.low).copied().fold(0.0, f64::max);
    assert_eq!(attribution.high[last], largest);
}

#[test]
fn fit_samples_min_of_rows_and_capacity_into_equal_disjoint_trees() {
    let config = ForestBuilder::new(2).num_trees(50).sample_size(512).seed(9).config().unwrap();
    let rows: Vec<[f32; 2]> = (0..4032).map(|i| [i as f32, (i % 97) as f32]).collect();
    let forest = Forest::fit(config, &rows).unwrap();
    forest.check_consistency().unwrap();
    // SageMaker's log for 4032 rows, 50 trees, 512 samples: 4000 sampled, 80 per tree.
    assert_eq!(forest.stored_points(), 4000);
    assert_eq!(forest.points_seen(), 4032);
    assert!(forest.score(&[100.0, 3.0]).unwrap() > 0.0);
    assert!(forest.score(&[1e6, -1e6]).unwrap() > 2.0 * forest.score(&[2000.0, 40.0]).unwrap());
}

#[test]
fn fit_reports_the_bad_row() {
    let config = ForestBuilder::new(2).seed(1).config().unwrap();
    let rows = vec![vec![1.0, 2.0], vec![3.0], vec![1.0, 1.0]];
    assert_eq!(Forest::fit(config, &rows).unwrap_err().to_string(), "row 1: expected 2 values per point, found 1");
}

#[test]
fn same_seed_same_scores_regardless_of_thread_count() {
    let stream = reference_stream(3000, 2);
    let build = || {
        let mut f = ForestBuilder::new(2).shingle_size(3).num_trees(30).sample_size(64).seed(77).build().unwrap();
        for p in &stream {
            f.update(p).unwrap();
        }
        f
    };
    let (a, b) = (build(), build());
    let queries: Vec<f32> = stream.iter().rev().take(500).flatten().copied().collect();
    let one =
        rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| a.score_batch(&queries)).unwrap();
    let two =
        rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| b.score_batch(&queries)).unwrap();
    assert_eq!(one, two);
    // The batch equals scoring the same inputs one at a time along the shingle.
    let mut stepwise = a.clone();
    let sequential: Vec<f64> = queries
        .chunks(2)
        .map(|q| {
            let s = stepwise.score(q).unwrap();
            stepwise.update(q).unwrap();
            s
        })
        .collect();
    // Only the first agrees exactly: later sequential scores see the points inserted before them.
    assert_eq!(one[0], sequential[0]);
}

#[test]
fn model_file_errors_are_specific() {
    let forest = trained(1, 2, 500);
    let bytes = forest.to_bytes();
    assert_eq!(Forest::from_bytes(b"PK\x03\x04 not a model").unwrap_err(), ModelFileError::NotAModel);
    assert!(matches!(Forest::from_bytes(&bytes[..bytes.len() - 10]), Err(ModelFileError::Truncated { .. })));
    assert!(matches!(Forest::from_bytes(&bytes[..20]), Err(ModelFileError::Truncated { .. })));
    let mut corrupted = bytes.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0x40;
    assert!(matches!(Forest::from_bytes(&corrupted), Err(ModelFileError::Checksum { .. })));
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&99u32.to_le_bytes());
    assert_eq!(Forest::from_bytes(&newer).unwrap_err(), ModelFileError::NewerVersion { found: 99, supported: 4 });
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(Forest::from_bytes(&trailing), Err(ModelFileError::Inconsistent(_))));
    assert_eq!(Forest::from_bytes(&bytes).unwrap(), forest);
}

#[test]
fn artifact_round_trip_keeps_model_and_manifest() {
    use rcf_core::artifact::{pack, read_any, unpack, Manifest, TrainingStats};
    let forest = trained(2, 1, 800);
    let mut manifest = Manifest::describe(&forest, &[], "test");
    manifest.training = Some(TrainingStats { records: 800, score_mean: 0.8, score_std: 0.1 });
    manifest.hyperparameters.insert("num_trees".into(), "50".into());
    let bytes = pack(&forest, &manifest);
    let (loaded, loaded_manifest) = unpack(&bytes).unwrap();
    assert_eq!(loaded, forest);
    let loaded_manifest = loaded_manifest.unwrap();
    assert_eq!(loaded_manifest.training, manifest.training);
    assert_eq!(loaded_manifest.model_checksum, format!("{:08x}", crc32(&forest.to_bytes())));
    assert_eq!((loaded_manifest.feature_dim, loaded_manifest.num_trees), (2, 50));
    assert_eq!(read_any(&forest.to_bytes()).unwrap().0, forest);
    assert!(unpack(&bytes[..bytes.len() / 2]).is_err());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn forest_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Forest>();
}

/// The compact file keeps the samples and regrows the trees: less than half the bytes, loads to a
/// consistent forest that scores like the original (same normal level, same spikes stand out).
#[test]
fn compact_file_is_under_half_the_size_and_scores_alike() {
    let stream = reference_stream(30_000, 1);
    let mut original = ForestBuilder::new(1).shingle_size(8).seed(17).build().unwrap();
    for p in &stream[..20_000] {
        original.update(p).unwrap();
    }
    let (exact, compact) = (original.to_bytes(), original.to_compact_bytes());
    assert!(compact.len() * 2 < exact.len(), "compact {} bytes vs exact {}", compact.len(), exact.len());
    let mut regrown = Forest::from_bytes(&compact).unwrap();
    regrown.check_consistency().unwrap();
    let (mut normal, mut spikes) = ((0.0, 0.0, 0usize), (0.0, 0.0, 0usize));
    for (t, p) in stream.iter().enumerate().skip(20_000) {
        let (a, b) = (original.score_update(p).unwrap(), regrown.score_update(p).unwrap());
        let bucket = if (t.saturating_sub(7)..=t).any(is_spike) { &mut spikes } else { &mut normal };
        *bucket = (bucket.0 + a, bucket.1 + b, bucket.2 + 1);
    }
    let (normal_a, normal_b) = (normal.0 / normal.2 as f64, normal.1 / normal.2 as f64);
    let (spike_a, spike_b) = (spikes.0 / spikes.2 as f64, spikes.1 / spikes.2 as f64);
    assert!((normal_b / normal_a - 1.0).abs() < 0.02, "normal mean {normal_a} vs regrown {normal_b}");
    assert!((spike_b / spike_a - 1.0).abs() < 0.05, "spike mean {spike_a} vs regrown {spike_b}");
    assert!(spike_b > 1.5 * normal_b, "spikes stand out after regrowth");
}

#[test]
fn version_1_files_still_load() {
    let forest = trained(1, 2, 300);
    let v2 = forest.to_bytes();
    // A version-2 payload is the enum tag (one varint byte, 0 = forest) followed by the version-1
    // payload, the bare forest.
    assert_eq!(v2[32], 0);
    let payload = &v2[33..];
    let mut v1 = v2[..32].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    v1[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    v1[24..28].copy_from_slice(&crc32(payload).to_le_bytes());
    v1.extend_from_slice(payload);
    assert_eq!(Forest::from_bytes(&v1).unwrap(), forest);
}

#[test]
fn without_the_box_cache_very_deep_trees_score_identically() {
    // Points halving towards 0: a random cut of their range leaves all but one or two of them on
    // one side, so the trees become chains far deeper than balanced trees (over 64 levels), the
    // case where a walk with a fixed-size stack would have to fall back to a growable one.
    let build = |cache: bool| {
        ForestBuilder::new(1)
            .num_trees(4)
            .sample_size(256)
            .time_decay(0.0)
            .seed(2)
            .bounding_box_cache(cache)
            .build()
            .unwrap()
    };
    let (mut cached, mut lean) = (build(true), build(false));
    for k in 0..146 {
        // 2^-k exactly, subnormal past k = 126 (powi would round those to 0).
        let p = [if k <= 126 { f32::from_bits((127 - k) << 23) } else { f32::from_bits(1 << (149 - k)) }];
        cached.update(&p).unwrap();
        lean.update(&p).unwrap();
    }
    assert_eq!(lean.stored_points(), 146);
    for probe in [1.5, 0.75, 0.3, 2f32.powi(-60) * 0.75, f32::from_bits(3 << 5)] {
        assert_eq!(cached.score(&[probe]).unwrap().to_bits(), lean.score(&[probe]).unwrap().to_bits(), "{probe}");
        assert_eq!(cached.attribution(&[probe]).unwrap(), lean.attribution(&[probe]).unwrap(), "{probe}");
    }
    lean.check_consistency().unwrap();
}

#[test]
fn without_the_box_cache_results_are_bit_identical_and_memory_is_smaller() {
    let stream = reference_stream(6000, 3);
    let build = |cache: bool| {
        ForestBuilder::new(3)
            .shingle_size(4)
            .num_trees(20)
            .sample_size(64)
            .seed(11)
            .bounding_box_cache(cache)
            .build()
            .unwrap()
    };
    let (mut cached, mut lean) = (build(true), build(false));
    for p in &stream {
        let (a, b) = (cached.score_update(p).unwrap(), lean.score_update(p).unwrap());
        assert_eq!(a.to_bits(), b.to_bits());
    }
    let probe = [30.0, -4.0, 2.0];
    assert_eq!(cached.attribution(&probe).unwrap(), lean.attribution(&probe).unwrap());
    assert!(lean.heap_bytes() * 2 < cached.heap_bytes(), "{} vs {}", lean.heap_bytes(), cached.heap_bytes());
    lean.check_consistency().unwrap();
    let restored = Forest::from_bytes(&lean.to_bytes()).unwrap();
    assert_eq!(restored.score(&probe).unwrap(), lean.score(&probe).unwrap());
    // The compact form regrows every tree by insertion, so the lean trees rebuild their leaf order
    // as they grow; the loader's consistency check compares it with one computed from scratch.
    let mut regrown = Forest::from_bytes(&lean.to_compact_bytes()).unwrap();
    regrown.check_consistency().unwrap();
    assert!(regrown.score_update(&probe).unwrap() > 1.0);
    regrown.check_consistency().unwrap();
}

/// Batch scoring and attribution walk the forest tree by tree over blocks of rows; each row's
/// result must still be exactly what it gets alone, with and without the box cache, across block
/// and group boundaries, and for rows that repeat sampled points.
#[test]
fn batch_results_equal_one_at_a_time_bit_for_bit() {
    for cache in [true, false] {
        let mut forest =
            ForestBuilder::new(3).num_trees(13).sample_size(64).bounding_box_cache(cache).seed(9).build().unwrap();
        let stream = reference_stream(2_000, 3);
        for p in &stream {
            forest.update(p).unwrap();
        }
        // 601 rows: not a multiple of any block or group size; the last 100 are recent (mostly sampled) points.
        let scaled = reference_stream(501, 3).into_iter().map(|p| p.iter().map(|v| v * 1.5).collect::<Vec<_>>());
        let queries: Vec<f32> = scaled.chain(stream[1_900..].iter().cloned()).flatten().collect();
        let batch = forest.score_batch(&queries).unwrap();
        let single: Vec<f64> = queries.chunks(3).map(|q| forest.score(q).unwrap()).collect();
        assert_eq!(batch.len(), 601);
        assert!(batch.iter().zip(&single).all(|(a, b)| a.to_bits() == b.to_bits()), "cache {cache}");
        assert!(batch.iter().any(|&s| s > 1.5), "the scaled rows include anomalies");
        let attributions = forest.attribution_batch(&queries).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(queries.chunks(3).zip(&attributions).all(|(q, a)| {
            let one = forest.attribution(q).unwrap();
            bits(&one.high) == bits(&a.high) && bits(&one.low) == bits(&a.low)
        }));
    }
}
