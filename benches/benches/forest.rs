//! Criterion benchmarks of score, update, score+update and attribution on workloads a and b of
//! `rcf-algorithm.md` §5.1, for rcf and for krcflib 4.0.2 side by side (same group, same stream,
//! same parameters). Each forest is first warmed on `WARM` stream points; measured iterations then
//! walk on through the stream (updates keep the forest in its steady state).
//!
//! The measurement is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time:
//! on a shared, contended machine wall time mostly measures the neighbours (`rcf-algorithm.md` §5.1).
//!
//! ```text
//! cargo bench -p rcf-benches --bench forest
//! cargo bench -p rcf-benches --bench forest -- 'a/score'     # one group
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rcf_benches::criterion_cpu::ThreadCpuTime;
use rcf_benches::models::{build_krcf_small, build_rcf, workload, Detector};

use rcf_benches::stream::reference_stream;

/// Points inserted before measuring.
const WARM: usize = 20_000;
/// Length of the stream the measured iterations cycle through after the warm-up.
const STREAM: usize = 100_000;

/// Feeds `d` the warm-up, then returns a closure-friendly cursor over the rest of the stream.
fn warm<D: Detector>(mut d: D, data: &[f32], dims: usize) -> D {
    for row in data[..WARM * dims].chunks_exact(dims) {
        d.update(row);
    }
    d
}

struct Cursor<'a> {
    data: &'a [f32],
    dims: usize,
    next: usize,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [f32], dims: usize) -> Self {
        Cursor { data, dims, next: WARM }
    }
    fn row(&mut self) -> &'a [f32] {
        let rows = self.data.len() / self.dims;
        let t = self.next;
        self.next = if t + 1 >= rows { WARM } else { t + 1 };
        &self.data[t * self.dims..(t + 1) * self.dims]
    }
}

/// Benchmarks one operation for both implementations in one group (`{wl}/{op}/rcf`, `…/krcflib`).
/// The body gets a forest warmed on the stream and the next stream input; it calls the
/// [`Detector`] methods by path, since `Forest`'s inherent methods of the same names return `Result`.
macro_rules! bench_op {
    ($c:expr, $wl:expr, $op:literal, $data:expr, $dims:expr, |$d:ident, $row:ident| $body:expr) => {{
        let p = workload($wl);
        let mut group = $c.benchmark_group(format!("{}/{}", $wl, $op));
        group.throughput(Throughput::Elements(1));
        {
            let mut $d = warm(build_rcf(&p), $data, $dims);
            let mut cur = Cursor::new($data, $dims);
            group.bench_function(BenchmarkId::from_parameter("rcf"), |b| {
                b.iter(|| {
                    let $row = cur.row();
                    $body
                })
            });
        }
        {
            let mut $d = warm(build_krcf_small(&p), $data, $dims);
            let mut cur = Cursor::new($data, $dims);
            group.bench_function(BenchmarkId::from_parameter("krcflib"), |b| {
                b.iter(|| {
                    let $row = cur.row();
                    $body
                })
            });
        }
        group.finish();
    }};
}

#[allow(unused_mut)]
fn forest(c: &mut Criterion<ThreadCpuTime>) {
    for wl in ["a", "b"] {
        let dims = workload(wl).input_dims;
        let data = reference_stream(STREAM, dims);
        bench_op!(c, wl, "score", &data, dims, |d, row| Detector::score(&d, row));
        bench_op!(c, wl, "update", &data, dims, |d, row| Detector::update(&mut d, row));
        bench_op!(c, wl, "score_update", &data, dims, |d, row| {
            let s = Detector::score(&d, row);
            Detector::update(&mut d, row);
            s
        });
        bench_op!(c, wl, "attribution", &data, dims, |d, row| Detector::attribution_total(&d, row));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = forest
}
criterion_main!(benches);
