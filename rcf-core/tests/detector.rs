//! The thresholded detector: spikes graded, few false alarms, explanations, imputation and
//! forecasting quality, agreement with krcflib's BasicTRCF, and robustness.

mod common;

use common::*;
use proptest::prelude::*;
use rcf_core::detector::{Detector, DetectorBuilder, DetectorError, FillMethod, Suppression, Transform, Transformer};

fn reference_detector(transform: Transform) -> Detector {
    DetectorBuilder::new(1).shingle_size(8).num_trees(50).sample_size(256).transform(transform).seed(5).build().unwrap()
}

struct Flags {
    spikes_graded: usize,
    spikes: usize,
    normal_flagged: usize,
    normal: usize,
    spike_relative_indices: Vec<i64>,
}

fn run_reference(transform: Transform, points: usize) -> Flags {
    let stream = reference_stream(points, 1);
    let mut detector = reference_detector(transform);
    let mut f = Flags { spikes_graded: 0, spikes: 0, normal_flagged: 0, normal: 0, spike_relative_indices: vec![] };
    for (t, p) in stream.iter().enumerate() {
        let d = detector.process(p, t as i64).unwrap();
        if t < 1000 {
            continue;
        }
        if is_spike(t) {
            f.spikes += 1;
            f.spikes_graded += (d.grade > 0.0) as usize;
            f.spike_relative_indices.push(d.relative_index);
        } else {
            f.normal += 1;
            f.normal_flagged += (d.grade > 0.0) as usize;
        }
    }
    f
}

#[test]
fn reference_stream_spikes_are_graded_and_false_alarms_stay_below_a_tenth_of_a_percent() {
    for transform in [Transform::None, Transform::Normalize] {
        let f = run_reference(transform, 50_000);
        println!(
            "{transform:?}: spikes graded {}/{}, normal flagged {}/{}",
            f.spikes_graded, f.spikes, f.normal_flagged, f.normal
        );
        assert_eq!(f.spikes_graded, f.spikes, "{transform:?}");
        // Under 0.1 %: the corrector (noise, similar context, echoes, continuations) leaves
        // only alarms that are news.
        assert!((f.normal_flagged as f64) < 0.001 * f.normal as f64, "{transform:?}");
        assert!(f.spike_relative_indices.iter().all(|&i| i == 0), "{:?}", f.spike_relative_indices);
    }
}

#[test]
fn flagged_points_agree_with_krcflib_basic_trcf() {
    use rcflib::rcf::RCFOptionsBuilder;
    use rcflib::trcf::basictrcf::{BasicTRCFBuilder, TRCFOptionsBuilder};
    use rcflib::trcf::types::TransformMethod;
    let stream = reference_stream(50_000, 1);
    let mut ours = reference_detector(Transform::None);
    let mut theirs = BasicTRCFBuilder::new(1, 8)
        .tree_capacity(256)
        .number_of_trees(50)
        .random_seed(5)
        .transform_method(TransformMethod::NONE)
        .build()
        .unwrap();
    let (mut both, mut only_ours, mut only_theirs, mut spikes_both) = (0, 0, 0, 0);
    for (t, p) in stream.iter().enumerate() {
        let a = ours.process(p, t as i64).unwrap().grade > 0.0;
        let b = theirs.process(p, t as u64).unwrap().anomaly_grade > 0.0;
        if t < 1000 {
            continue;
        }
        match (a, b) {
            (true, true) => both += 1,
            (true, false) => only_ours += 1,
            (false, true) => only_theirs += 1,
            _ => {}
        }
        spikes_both += (is_spike(t) && a && b) as usize;
    }
    println!("flagged by both {both}, only rcf {only_ours}, only krcflib {only_theirs}; spikes flagged by both {spikes_both}/10");
    assert!(spikes_both >= 8, "the two detectors agree on too few spikes");
    assert!(only_ours <= both, "rcf raises more alarms of its own ({only_ours}) than the two share ({both})");
}

#[test]
fn echoes_of_an_anomaly_in_the_shingle_are_suppressed() {
    let stream = reference_stream(6000, 1);
    let mut detector = reference_detector(Transform::None);
    let mut suppressed_after_spike = 0;
    for (t, p) in stream.iter().enumerate() {
        let d = detector.process(p, t as i64).unwrap();
        if t == 2500 {
            assert!(d.grade > 0.0 && d.start_of_anomaly);
            assert!(d.expected_values.as_ref().unwrap()[0] < p[0] - 8.0, "expected {:?} vs {p:?}", d.expected_values);
        }
        if (2501..2508).contains(&t) {
            assert_eq!(d.grade, 0.0, "echo at {t}: {d:?}");
            suppressed_after_spike += (d.suppression == Suppression::EarlierAnomalyInShingle) as usize;
        }
    }
    assert!(suppressed_after_spike > 0, "the echo never even looked anomalous");
}

#[test]
fn timestamps_must_increase_and_nan_is_rejected_by_default() {
    let mut detector = reference_detector(Transform::None);
    detector.process(&[1.0], 10).unwrap();
    assert_eq!(detector.process(&[1.0], 10), Err(DetectorError::TimestampNotIncreasing { previous: 10, found: 10 }));
    assert!(matches!(detector.process(&[1.0], 5), Err(DetectorError::TimestampNotIncreasing { .. })));
    assert!(detector.process(&[f32::NAN], 11).unwrap_err().to_string().contains("index 0"));
    let err = detector.process_series(&[1.0, 2.0, f32::INFINITY], Some(&[20, 21, 22])).unwrap_err();
    assert_eq!(err.to_string(), "row 2: value at index 0 is inf; only finite numbers are accepted");
}

fn seasonal(points: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64(seed);
    (0..points)
        .map(|t| (20.0 + 10.0 * (2.0 * std::f64::consts::PI * t as f64 / 24.0).sin() + 0.5 * rng.normal()) as f32)
        .collect()
}

#[test]
fn forest_imputation_beats_previous_value_and_linear_interpolation() {
    let series = seasonal(6000, 3);
    let mut rng = SplitMix64(99);
    let mut errors = [0.0f64; 3]; // forest, previous, linear
    let mut count = 0;
    let mut detector =
        DetectorBuilder::new(1).shingle_size(24).num_trees(50).seed(2).fill(FillMethod::Forest).build().unwrap();
    for t in 0..series.len() {
        let removed = t > 1000 && t + 1 < series.len() && rng.uniform() < 0.1;
        if removed {
            let filled = detector.impute(&[f32::NAN]).unwrap()[0];
            let previous = series[t - 1];
            let linear = (series[t - 1] + series[t + 1]) / 2.0;
            let actual = series[t];
            errors[0] += ((filled - actual) as f64).powi(2);
            errors[1] += ((previous - actual) as f64).powi(2);
            errors[2] += ((linear - actual) as f64).powi(2);
            count += 1;
            detector.process(&[f32::NAN], t as i64).unwrap();
        } else {
            detector.process(&[series[t]], t as i64).unwrap();
        }
    }
    let rmse: Vec<f64> = errors.iter().map(|e| (e / count as f64).sqrt()).collect();
    println!(
        "imputation RMSE over {count} removed values: forest {:.3}, previous {:.3}, linear {:.3}",
        rmse[0], rmse[1], rmse[2]
    );
    assert!(rmse[0] < rmse[1] && rmse[0] < rmse[2]);
}

#[test]
fn forecasts_beat_seasonal_naive_and_intervals_cover_ninety_percent() {
    let series = seasonal(8000, 4);
    let horizon = 24;
    let mut detector =
        DetectorBuilder::new(1).shingle_size(24).num_trees(50).seed(8).forecast_horizon(horizon).build().unwrap();
    let (mut sq_forest, mut sq_naive, mut covered, mut total) = (0.0f64, 0.0f64, 0usize, 0usize);
    for t in 0..series.len() {
        if t >= 4000 && t % horizon == 0 && t + horizon <= series.len() {
            let forecast = detector.forecast(horizon, 0.9).unwrap();
            for h in 0..horizon {
                let actual = series[t + h];
                let naive = series[t + h - 24];
                sq_forest += ((forecast.values[h] - actual) as f64).powi(2);
                sq_naive += ((naive - actual) as f64).powi(2);
                covered += (forecast.lower[h] <= actual && actual <= forecast.upper[h]) as usize;
                total += 1;
            }
        }
        detector.process(&[series[t]], t as i64).unwrap();
    }
    let (rmse, naive) = ((sq_forest / total as f64).sqrt(), (sq_naive / total as f64).sqrt());
    let coverage = covered as f64 / total as f64;
    println!("horizon-24 RMSE forest {rmse:.3} vs seasonal naive {naive:.3}; 90% interval coverage {coverage:.3}");
    assert!(rmse < naive);
    assert!((0.85..=0.95).contains(&coverage));
}

#[test]
fn timestamp_gaps_are_filled_in_streaming_impute_mode() {
    let mut detector = DetectorBuilder::new(1).shingle_size(4).fill(FillMethod::Linear).seed(1).build().unwrap();
    for t in 0..100 {
        detector.process(&[t as f32], t * 60).unwrap();
    }
    let d = detector.process(&[105.0], 105 * 60).unwrap();
    assert_eq!(d.imputed_values, 5);
    assert_eq!(detector.inputs_seen(), 106);
    assert!(d.confidence < 1.0);
}

#[test]
fn detector_round_trips_through_the_model_file() {
    let stream = reference_stream(3000, 1);
    let mut original = reference_detector(Transform::Normalize);
    for (t, p) in stream.iter().take(2000).enumerate() {
        original.process(p, t as i64).unwrap();
    }
    let mut restored = Detector::from_bytes(&original.to_bytes()).unwrap();
    assert!(rcf_core::Forest::from_bytes(&original.to_bytes()).is_err());
    for (t, p) in stream.iter().enumerate().skip(2000) {
        assert_eq!(original.process(p, t as i64).unwrap(), restored.process(p, t as i64).unwrap());
    }
}

#[test]
fn detector_files_of_older_formats_are_refused_with_a_clear_error() {
    let mut detector = reference_detector(Transform::None);
    for (t, p) in reference_stream(300, 1).iter().enumerate() {
        detector.process(p, t as i64).unwrap();
    }
    let mut bytes = detector.to_bytes();
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 4);
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    let message = Detector::from_bytes(&bytes).unwrap_err().to_string();
    assert!(message.contains("format version 3") && message.contains("version 4"), "{message}");
}

/// A seasonal series whose every period ends in the same tall spike, then one spike twice as tall.
fn recurring_spikes(points: usize) -> Vec<f32> {
    (0..points)
        .map(|t| {
            let base = (t as f32 * std::f32::consts::TAU / 50.0).sin() + 0.05 * ((t * 7919 % 13) as f32 - 6.0);
            let spike = if t % 100 == 99 {
                if t == points - 1 {
                    16.0
                } else {
                    8.0
                }
            } else {
                0.0
            };
            base + spike
        })
        .collect()
}

#[test]
fn recurring_spikes_stop_being_news_but_a_new_height_is_reported() {
    let series = recurring_spikes(6000);
    let run = |support: f64| {
        let mut detector = DetectorBuilder::new(1).seed(3).similar_context_suppression(support).build().unwrap();
        let out = detector.process_series(&series, None).unwrap();
        let late_spikes: Vec<_> =
            out.iter().enumerate().filter(|(t, _)| t % 100 == 99 && *t >= 3000).map(|(_, d)| d).collect();
        (
            late_spikes.iter().filter(|d| d.grade > 0.0).count(),
            late_spikes.iter().filter(|d| d.suppression == Suppression::SimilarContext).count(),
            out.last().unwrap().grade,
        )
    };
    let (graded, similar, last) = run(0.1);
    let (graded_without, similar_without, _) = run(0.0);
    println!("late recurring spikes graded: {graded} with the check ({similar} as similar context), {graded_without} without");
    assert!(similar >= 10 && graded <= 2, "a spike seen thirty times is still reported");
    assert!(last > 0.0, "a spike twice as tall as ever seen was suppressed");
    assert_eq!(similar_without, 0);
    assert!(graded_without > graded, "the check changed nothing");
}

/// A seasonal series that moves up by two amplitudes at `shift` and stays there.
fn level_shift(points: usize, shift: usize) -> Vec<f32> {
    (0..points)
        .map(|t| {
            let noise = ((t * 7919) % 101) as f32 / 101.0 - 0.5;
            3.0 * (t as f32 * std::f32::consts::TAU / 96.0).sin() + noise + if t >= shift { 6.0 } else { 0.0 }
        })
        .collect()
}

#[test]
fn a_level_shift_is_reported_at_its_start_and_then_taken_as_drift() {
    let series = level_shift(8000, 4000);
    let mut detector = DetectorBuilder::new(1).seed(3).build().unwrap();
    let out = detector.process_series(&series, None).unwrap();
    let graded: Vec<usize> = (1000..out.len()).filter(|&t| out[t].grade > 0.0).collect();
    let drift = out.iter().filter(|d| d.suppression == Suppression::DataDrift).count();
    println!("level shift: graded {graded:?}, {drift} inputs taken as drift");
    assert_eq!(graded.first(), Some(&4000), "the shift itself is reported first");
    assert!(drift > 0, "drift was never recognised");
    // 9 alarms when written; without the trigger on new inputs after an anomaly it raised 11, and
    // without the drift rule as well 28.
    assert!(graded.len() <= 10, "{} alarms for one level shift", graded.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn transforms_invert_exactly_enough(
        history in prop::collection::vec(-1e4f32..1e4, 1..50),
        x in -1e4f32..1e4,
        method in prop_oneof![Just(Transform::None), Just(Transform::Normalize), Just(Transform::Difference),
                              Just(Transform::NormalizeDifference), Just(Transform::SubtractMovingAverage)],
    ) {
        let mut transformer = Transformer::new(method, 1, 0.01);
        for v in &history {
            transformer.update(&[*v]);
        }
        let back = transformer.invert(&transformer.apply(&[x]))[0];
        prop_assert!((back - x).abs() <= 1e-3 * (1.0 + x.abs()), "{back} vs {x}");
    }

    #[test]
    fn arbitrary_streams_never_panic(
        values in prop::collection::vec(prop_oneof![Just(f32::NAN), Just(0.0f32), Just(1e30f32), Just(-1e30f32), -5.0f32..5.0], 1..300),
        steps in prop::collection::vec(-2i64..5, 1..300),
        fill in prop_oneof![Just(FillMethod::Reject), Just(FillMethod::Previous), Just(FillMethod::Linear), Just(FillMethod::Forest), Just(FillMethod::Zero)],
    ) {
        let mut detector = DetectorBuilder::new(1).shingle_size(4).num_trees(10).sample_size(32).fill(fill).seed(3).build().unwrap();
        let mut ts = 0i64;
        for (i, v) in values.iter().enumerate() {
            ts += steps[i % steps.len()];
            if let Ok(d) = detector.process(&[*v], ts) {
                prop_assert!(d.score.is_finite() && (0.0..=1.0).contains(&d.grade));
            }
        }
        prop_assert!(detector.check_consistency().is_ok());
    }
}

#[test]
fn a_series_with_a_bad_row_changes_nothing() {
    let mut detector = reference_detector(Transform::None);
    detector.process_series(&[1.0, 2.0, 3.0], None).unwrap();
    let before = detector.clone();
    assert!(detector.process_series(&[4.0, 5.0, f32::NAN], None).is_err());
    assert!(detector.process_series(&[4.0, 5.0], Some(&[10, 9])).is_err());
    assert_eq!(detector, before);
    assert!(detector.impute(&[1.0, 2.0]).is_err());
    let forest = rcf_core::ForestBuilder::new(1).seed(1).build().unwrap();
    assert_eq!(forest.forecast(3, 0.9).unwrap_err().to_string(), "forecasting needs a shingle size of at least 2");
}
