//! Criterion benchmarks of the thresholded detector (issue 8): `process` (score, grade, explain
//! and learn one input) and a 24-step `forecast`, for rcf's `Detector` and krcflib's `BasicTRCF`
//! side by side, on one channel of the reference stream with shingle 8, 50 trees, sample 256 and
//! no transform (the defaults both share). Measured in the benchmark thread's CPU time.
//!
//! ```text
//! cargo bench -p rcf-benches --bench detector
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rcf_benches::criterion_cpu::ThreadCpuTime;
use rcf_benches::stream::reference_stream;
use rcf_core::detector::{Detector, DetectorBuilder, Transform};
use rcflib::trcf::basictrcf::{BasicTRCF, BasicTRCFBuilder, TRCFOptionsBuilder};
use rcflib::trcf::types::TransformMethod;

const WARM: usize = 20_000;
const STREAM: usize = 60_000;
const SEED: u64 = 17;

fn ours() -> Detector {
    DetectorBuilder::new(1)
        .shingle_size(8)
        .num_trees(50)
        .sample_size(256)
        .transform(Transform::None)
        .seed(SEED)
        .build()
        .expect("valid")
}

fn theirs() -> BasicTRCF {
    use rcflib::rcf::RCFOptionsBuilder;
    BasicTRCFBuilder::new(1, 8)
        .number_of_trees(50)
        .tree_capacity(256)
        .random_seed(SEED)
        .transform_method(TransformMethod::NONE)
        .build()
        .expect("valid")
}

fn detector(c: &mut Criterion<ThreadCpuTime>) {
    let data: Vec<f32> = reference_stream(STREAM, 1);
    let mut group = c.benchmark_group("detector/process");
    group.throughput(Throughput::Elements(1));
    {
        let mut d = ours();
        for (t, v) in data[..WARM].iter().enumerate() {
            d.process(&[*v], t as i64).expect("valid");
        }
        let mut t = WARM;
        group.bench_function(BenchmarkId::from_parameter("rcf"), |b| {
            b.iter(|| {
                let out = d.process(&[data[t % STREAM]], t as i64).expect("valid").grade;
                t += 1;
                out
            })
        });
    }
    {
        let mut d = theirs();
        for (t, v) in data[..WARM].iter().enumerate() {
            d.process(&[*v], t as u64).expect("valid");
        }
        let mut t = WARM;
        group.bench_function(BenchmarkId::from_parameter("krcflib"), |b| {
            b.iter(|| {
                let out = d.process(&[data[t % STREAM]], t as u64).expect("valid").anomaly_grade;
                t += 1;
                out
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("detector/forecast_24");
    let mut d = ours();
    let mut k = theirs();
    for (t, v) in data[..WARM].iter().enumerate() {
        d.process(&[*v], t as i64).expect("valid");
        k.process(&[*v], t as u64).expect("valid");
    }
    group.bench_function(BenchmarkId::from_parameter("rcf"), |b| {
        b.iter(|| d.forecast(24, 0.9).expect("valid").values[23])
    });
    group.bench_function(BenchmarkId::from_parameter("krcflib"), |b| {
        b.iter(|| k.extrapolate(24).expect("valid").0.values[23])
    });
    group.finish();
}

fn config() -> Criterion<ThreadCpuTime> {
    Criterion::default()
        .with_measurement(ThreadCpuTime)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = detector }
criterion_main!(benches);
