//! Property tests: structural invariants after arbitrary insert/delete sequences, sampler bounds,
//! model round trips, and no panics on arbitrary floats or arbitrary model bytes.

use proptest::prelude::*;
use rcf_core::{Forest, ForestBuilder, InputError};

/// Small coordinates make duplicates and ties frequent, which is where trees go wrong.
fn small_point(dims: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec((-3i8..=3).prop_map(|v| v as f32 * 0.5), dims)
}

fn any_float() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MAX),
        Just(f32::MIN),
        Just(f32::MIN_POSITIVE),
        Just(1e-45f32),
        Just(-0.0f32),
        any::<f32>(),
    ]
}

fn forest(dims: usize, shingle: usize, sample: usize, decay: f64, seed: u64) -> Forest {
    ForestBuilder::new(dims)
        .shingle_size(shingle)
        .num_trees(4)
        .sample_size(sample)
        .time_decay(decay)
        .output_after(1)
        .seed(seed)
        .build()
        .unwrap()
}

/// The round-trip tests' forest (2 inputs, shingle 3, 4 trees of 8) after `points`.
fn fed(points: &[Vec<f32>], seed: u64) -> Forest {
    let mut f = forest(2, 3, 8, 0.1, seed);
    for p in points {
        f.update(p).unwrap();
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With a tiny sample and a strong time decay, almost every update evicts a point, so this
    /// exercises insertion and deletion in every order, duplicates included.
    #[test]
    fn invariants_hold_after_any_updates(
        points in prop::collection::vec(small_point(3), 1..300),
        sample in 1usize..12,
        decay in prop_oneof![Just(0.0), Just(0.01), Just(0.8), Just(5.0)],
        seed in any::<u64>(),
    ) {
        let mut f = forest(3, 1, sample, decay, seed);
        for p in &points {
            f.update(p).unwrap();
            prop_assert!(f.check_consistency().is_ok(), "{:?}", f.check_consistency());
        }
        prop_assert!(f.stored_points() <= 4 * sample);
    }

    #[test]
    fn scores_are_finite_and_attribution_sums_to_score(
        points in prop::collection::vec(small_point(2), 2..200),
        query in small_point(2),
        seed in any::<u64>(),
    ) {
        let mut f = forest(2, 2, 16, 0.05, seed);
        for p in &points {
            f.update(p).unwrap();
        }
        let score = f.score(&query).unwrap();
        let attribution = f.attribution(&query).unwrap();
        prop_assert!(score.is_finite() && score >= 0.0);
        prop_assert!((attribution.total() - score).abs() <= 1e-9 + 1e-5 * score);
        prop_assert!(attribution.high.iter().chain(&attribution.low).all(|v| *v >= 0.0));
    }

    #[test]
    fn model_round_trip_continues_bit_identically(
        points in prop::collection::vec(small_point(2), 1..150),
        later in prop::collection::vec(small_point(2), 1..50),
        seed in any::<u64>(),
    ) {
        let mut original = fed(&points, seed);
        let mut restored = Forest::from_bytes(&original.to_bytes()).unwrap();
        prop_assert_eq!(&restored, &original);
        for p in &later {
            prop_assert_eq!(original.score_update(p).unwrap().to_bits(), restored.score_update(p).unwrap().to_bits());
        }
        prop_assert_eq!(original.to_bytes(), restored.to_bytes());
    }

    /// The compact form regrows the same forest every time and keeps every sample (its compact
    /// bytes come back unchanged).
    #[test]
    fn compact_round_trip_is_deterministic_and_keeps_the_samples(
        points in prop::collection::vec(small_point(2), 1..150),
        later in prop::collection::vec(small_point(2), 1..50),
        seed in any::<u64>(),
    ) {
        let original = fed(&points, seed);
        let compact = original.to_compact_bytes();
        let mut first = Forest::from_bytes(&compact).unwrap();
        let mut second = Forest::from_bytes(&compact).unwrap();
        prop_assert!(first.check_consistency().is_ok());
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(first.to_compact_bytes(), compact);
        for p in &later {
            prop_assert_eq!(first.score_update(p).unwrap().to_bits(), second.score_update(p).unwrap().to_bits());
        }
        prop_assert!(first.check_consistency().is_ok());
    }

    #[test]
    fn arbitrary_floats_never_panic(values in prop::collection::vec(any_float(), 1..120), seed in any::<u64>()) {
        let mut f = forest(2, 1, 8, 0.1, seed);
        for pair in values.chunks(2) {
            let result = f.score_update(pair);
            match (pair.len(), pair.iter().position(|v| !v.is_finite())) {
                (1, _) => { let is_length_error = matches!(result, Err(InputError::WrongLength { .. })); prop_assert!(is_length_error) }
                (_, Some(index)) => {
                    let names_index = matches!(result, Err(InputError::NonFinite { index: i, .. }) if i == index);
                    prop_assert!(names_index);
                }
                (_, None) => prop_assert!(result.unwrap().is_finite()),
            }
        }
        prop_assert!(f.check_consistency().is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_loader(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        prop_assert!(Forest::from_bytes(&bytes).is_err());
        let _ = rcf_core::artifact::read_any(&bytes);
    }

    /// Valid header and checksum around a mutated payload: the structural checks must catch it.
    #[test]
    fn corrupted_payload_with_valid_checksum_is_rejected_or_consistent(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        seed in any::<u64>(),
        compact in any::<bool>(),
    ) {
        let mut f = forest(2, 1, 8, 0.1, seed);
        for t in 0..60 {
            f.update(&[(t % 7) as f32, (t % 5) as f32]).unwrap();
        }
        let bytes = if compact { f.to_compact_bytes() } else { f.to_bytes() };
        let mut payload = bytes[32..].to_vec();
        for (at, value) in flips {
            let i = at.index(payload.len());
            payload[i] ^= value | 1;
        }
        let mut forged = bytes[..32].to_vec();
        forged[16..24].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        forged[24..28].copy_from_slice(&crc32fast_hash(&payload).to_le_bytes());
        forged.extend_from_slice(&payload);
        if let Ok(mut loaded) = Forest::from_bytes(&forged) {
            // Whatever decoded passed every structural check, so it must work.
            prop_assert!(loaded.check_consistency().is_ok());
            for t in 0..30 {
                loaded.score_update(&[t as f32, 1.0]).unwrap();
            }
        }
    }
}

/// CRC-32 (IEEE), bit by bit: an independent check of the header's checksum.
fn crc32fast_hash(data: &[u8]) -> u32 {
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
fn fit_on_no_rows_gives_an_empty_forest_that_scores_zero() {
    let empty =
        Forest::fit(ForestBuilder::new(2).num_trees(3).seed(1).config().unwrap(), Vec::<Vec<f32>>::new()).unwrap();
    assert_eq!(empty.stored_points(), 0);
    assert_eq!(empty.score(&[1.0, 2.0]).unwrap(), 0.0);
}
