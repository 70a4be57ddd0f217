//! Side-by-side comparison of rcf and krcflib 4.0.2 (AWS's Rust RCF) in one process, on the
//! reference stream of `rcf-algorithm.md` §5.1, with identical parameters.
//!
//! Rates are per CPU-second of the measuring thread ("cpu_adj", `rcf-algorithm.md` §5.1): on a
//! shared machine they are far steadier than wall time. Each pass feeds every point through
//! `op(p)` then `update(p)` and times both on the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`,
//! the schedstat run time at ns resolution; the clock's own cost is measured and subtracted).
//! The whole pass is also reported per schedstat CPU-second and per wall second. Figures are medians
//! over `--runs`; each `ratio` is the median of the per-run ratios rcf/krcflib (paired within a run).
//!
//! ```text
//! cargo run --release -p rcf-benches --bin compare -- --runs 3
//! cargo run --release -p rcf-benches --bin compare -- --scaling
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use rcf_benches::cpu::{measure_process, measure_thread, thread_clock_overhead_ns, thread_cpu_precise_ns, Span};
use rcf_benches::models::{build_krcf, build_krcf_small, build_rcf, krcf_size, workload, Detector, KrcfSmall, Params};
use rcf_benches::stream::{is_spike, reference_stream};
use rcf_core::Forest;
use rcflib::rcf::RCFSmall;

#[derive(Parser, Debug)]
#[command(about = "rcf vs krcflib 4.0.2 on the reference stream, per CPU-second")]
struct Args {
    /// Repetitions; every figure is the median over them.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Stream points per streaming pass.
    #[arg(long, default_value_t = 100_000)]
    points: usize,
    /// Workloads to run (a: 100 trees, 8 dims; b: 50 trees, 40 dims).
    #[arg(long, value_delimiter = ',', default_value = "a,b")]
    workloads: Vec<String>,
    /// Points of the attribution pass (attribution then update per point), from the stream's start.
    #[arg(long, default_value_t = 50_000)]
    attribution_points: usize,
    /// Points scored by `score_batch` with 1 and with 2 threads (0 skips).
    #[arg(long, default_value_t = 100_000)]
    batch_points: usize,
    /// Points of the krcflib bounding_box_cache_fraction=0 (memory-lean) pass, repeated `runs` times (0 skips).
    #[arg(long, default_value_t = 20_000)]
    lean_points: usize,
    /// Print only the scaling table (score+update cost as trees, sample size and dims vary).
    #[arg(long)]
    scaling: bool,
    /// Points per scaling cell (the first half warms the forest, the second half is timed).
    #[arg(long, default_value_t = 20_000)]
    scaling_points: usize,
}

fn main() {
    let args = Args::parse();
    println!(
        "# rcf vs krcflib 4.0.2 | runs={} points={} | loadavg {} | rates are per CPU-second of the thread (cpu_adj); ratio = rcf/krcflib | timer overhead {} ns subtracted per timed op",
        args.runs,
        if args.scaling { args.scaling_points } else { args.points },
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        timer_overhead(),
    );
    if args.scaling {
        scaling(&args);
        return;
    }
    for name in &args.workloads {
        compare_workload(name, &args);
    }
}

/// One streaming pass: for every row, `op(row)` then `update(row)`, each timed on the thread's CPU
/// clock (minus the clock's own cost) and on the wall clock; the whole pass also on schedstat.
struct Pass {
    n: usize,
    span: Span,
    op_cpu: Duration,
    update_cpu: Duration,
    values: Vec<f64>,
}

impl Pass {
    fn op_rate(&self) -> f64 {
        self.n as f64 / self.op_cpu.as_secs_f64()
    }
    fn update_rate(&self) -> f64 {
        self.n as f64 / self.update_cpu.as_secs_f64()
    }
    fn combined_rate(&self) -> f64 {
        self.n as f64 / (self.op_cpu + self.update_cpu).as_secs_f64()
    }
    /// Whole pass per schedstat CPU-second, timer calls included (the §5.1 figure).
    fn combined_schedstat_rate(&self) -> f64 {
        self.n as f64 / self.span.cpu.as_secs_f64()
    }
    fn combined_wall_rate(&self) -> f64 {
        self.n as f64 / self.span.wall.as_secs_f64()
    }
}

fn stream_pass<D: Detector>(d: &mut D, data: &[f32], dims: usize, op: impl Fn(&D, &[f32]) -> f64) -> Pass {
    let n = data.len() / dims;
    let overhead = timer_overhead();
    let mut values = Vec::with_capacity(n);
    let (mut op_ns, mut update_ns) = (0u64, 0u64);
    let ((), span) = measure_thread(|| {
        for row in data.chunks_exact(dims) {
            let c0 = thread_cpu_precise_ns();
            values.push(std::hint::black_box(op(d, row)));
            let c1 = thread_cpu_precise_ns();
            d.update(row);
            let c2 = thread_cpu_precise_ns();
            op_ns += (c1 - c0).saturating_sub(overhead);
            update_ns += (c2 - c1).saturating_sub(overhead);
        }
    });
    Pass { n, span, op_cpu: Duration::from_nanos(op_ns), update_cpu: Duration::from_nanos(update_ns), values }
}

fn timer_overhead() -> u64 {
    static OVERHEAD: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *OVERHEAD.get_or_init(thread_clock_overhead_ns)
}

fn score_pass<D: Detector>(d: &mut D, data: &[f32], dims: usize) -> Pass {
    stream_pass(d, data, dims, |d, row| d.score(row))
}

fn attribution_pass<D: Detector>(d: &mut D, data: &[f32], dims: usize) -> Pass {
    stream_pass(d, data, dims, |d, row| d.attribution_total(row))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Per-run figures of one implementation on one workload.
#[derive(Default)]
struct Figures {
    score: Vec<f64>,
    update: Vec<f64>,
    score_update: Vec<f64>,
    score_update_wall: Vec<f64>,
    score_update_schedstat: Vec<f64>,
    attribution: Vec<f64>,
    cpu_share: Vec<f64>,
}

impl Figures {
    fn record(&mut self, s: &Pass, a: &Pass) {
        self.score.push(s.op_rate());
        self.update.push(s.update_rate());
        self.score_update.push(s.combined_rate());
        self.score_update_wall.push(s.combined_wall_rate());
        self.score_update_schedstat.push(s.combined_schedstat_rate());
        self.attribution.push(a.op_rate());
        self.cpu_share.push(s.span.cpu_share());
    }
}

fn op_line(wl: &str, op: &str, ours: &[f64], theirs: &[f64]) {
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(o, t)| o / t).collect();
    let (lo, hi) = ratios.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    println!(
        "workload={wl} op={op} rcf_per_s={:.0} krcflib_per_s={:.0} ratio={:.2} ratio_range={lo:.2}-{hi:.2}",
        median(ours.to_vec()),
        median(theirs.to_vec()),
        median(ratios),
    );
}

/// Mean score over normal points (ready, outside any spike's shingle window) and at the spikes.
fn mean_scores(scores: &[f64], shingle: usize, output_ready_from: usize) -> (f64, f64) {
    let (mut normal, mut nn, mut spike, mut ns) = (0.0, 0usize, 0.0, 0usize);
    for (t, &s) in scores.iter().enumerate() {
        if t < output_ready_from {
            continue;
        }
        if is_spike(t) {
            spike += s;
            ns += 1;
        } else if !(0..shingle).any(|k| t >= k && is_spike(t - k)) {
            normal += s;
            nn += 1;
        }
    }
    (normal / nn.max(1) as f64, spike / ns.max(1) as f64)
}

fn max_rel_err(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / x.abs().max(1e-12)).fold(0.0, f64::max)
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            out[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    out
}

fn compare_workload(wl: &str, args: &Args) {
    let p = workload(wl);
    let dims = p.input_dims;
    let data = reference_stream(args.points, dims);
    let attr_data = &data[..args.attribution_points.min(args.points) * dims];
    let (mut ours, mut theirs) = (Figures::default(), Figures::default());
    let mut last: Option<(Forest, KrcfSmall, Pass, Pass, Pass, Pass)> = None;
    for run in 0..args.runs {
        // Alternate which implementation goes first so drift in machine load hits both alike.
        let rcf_run = || {
            let mut f = build_rcf(&p);
            let s = score_pass(&mut f, &data, dims);
            let mut f2 = build_rcf(&p);
            let a = attribution_pass(&mut f2, attr_data, dims);
            (f, s, a)
        };
        let krcf_run = || {
            let mut k = build_krcf_small(&p);
            let s = score_pass(&mut k, &data, dims);
            let mut k2 = build_krcf_small(&p);
            let a = attribution_pass(&mut k2, attr_data, dims);
            (k, s, a)
        };
        let ((f, fs, fa), (k, ks, ka)) = if run % 2 == 0 {
            let r = rcf_run();
            (r, krcf_run())
        } else {
            let k = krcf_run();
            (rcf_run(), k)
        };
        ours.record(&fs, &fa);
        theirs.record(&ks, &ka);
        last = Some((f, k, fs, fa, ks, ka));
    }
    op_line(wl, "score", &ours.score, &theirs.score);
    op_line(wl, "update", &ours.update, &theirs.update);
    op_line(wl, "score_update", &ours.score_update, &theirs.score_update);
    op_line(wl, "attribution", &ours.attribution, &theirs.attribution);
    println!(
        "workload={wl} op=score_update_schedstat rcf_per_s={:.0} krcflib_per_s={:.0} (whole pass incl. timer calls, schedstat CPU)",
        median(ours.score_update_schedstat.clone()),
        median(theirs.score_update_schedstat.clone()),
    );
    println!(
        "workload={wl} op=score_update_wall rcf_per_s={:.0} krcflib_per_s={:.0} rcf_cpu_share={:.2} krcflib_cpu_share={:.2}",
        median(ours.score_update_wall.clone()),
        median(theirs.score_update_wall.clone()),
        median(ours.cpu_share.clone()),
        median(theirs.cpu_share.clone()),
    );
    let Some((forest, krcf, fs, fa, ks, ka)) = last else { return };

    // Sanity: the two implementations should score alike (same algorithm, different RNGs).
    let ready = p.output_after + p.shingle_size - 1;
    let (rn, rs) = mean_scores(&fs.values, p.shingle_size, ready);
    let (kn, ks_) = mean_scores(&ks.values, p.shingle_size, ready);
    println!(
        "workload={wl} check=mean_score rcf_normal={rn:.4} krcflib_normal={kn:.4} normal_diff={:+.2}% rcf_spike={rs:.4} krcflib_spike={ks_:.4} spike_diff={:+.2}% spearman={:.4}",
        100.0 * (rn / kn - 1.0),
        100.0 * (rs / ks_ - 1.0),
        spearman(&fs.values[ready..], &ks.values[ready..]),
    );
    // The yardstick of issue 2: krcflib against itself with another seed.
    let mut other = build_krcf_small(&Params { seed: p.seed + 1, ..p });
    let other_scores: Vec<f64> = data
        .chunks_exact(dims)
        .map(|row| {
            let s = other.score(row);
            other.update(row);
            s
        })
        .collect();
    let (on, os) = mean_scores(&other_scores, p.shingle_size, ready);
    println!(
        "workload={wl} check=krcflib_seed_baseline krcflib_seed18_normal={on:.4} krcflib_seed18_spike={os:.4} spearman_krcflib_vs_krcflib={:.4} spearman_rcf_vs_krcflib_over_baseline={:.3}",
        spearman(&other_scores[ready..], &ks.values[ready..]),
        spearman(&fs.values[ready..], &ks.values[ready..]) / spearman(&other_scores[ready..], &ks.values[ready..]),
    );
    println!(
        "workload={wl} check=attribution_total_vs_score rcf_max_rel_err={:.1e} krcflib_max_rel_err={:.1e}",
        max_rel_err(&fs.values[ready..], &fa.values[ready..]),
        max_rel_err(&ks.values[ready..], &ka.values[ready..]),
    );

    model_size(wl, &forest, &krcf);
    compact_model(wl, &forest);
    batch(wl, &forest, &data, dims, args);
    lean(wl, &p, args);
}

fn model_size(wl: &str, forest: &Forest, krcf: &KrcfSmall) {
    let bytes = forest.to_bytes();
    let kbytes = bincode::serialize(&*krcf.0).expect("krcflib serializes");
    println!(
        "workload={wl} size rcf_to_bytes={} rcf_heap_bytes={} krcflib_size={} krcflib_bincode={} serialized_ratio={:.3} resident_ratio={:.3}",
        bytes.len(),
        forest.heap_bytes(),
        krcf_size(krcf),
        kbytes.len(),
        bytes.len() as f64 / kbytes.len() as f64,
        forest.heap_bytes() as f64 / krcf_size(krcf) as f64,
    );
    // Spans of a few ms are below the CPU meters' 4 ms resolution: report wall time (min, median).
    let reps = 11;
    let (mut load, mut kload, mut save, mut ksave) = (vec![], vec![], vec![], vec![]);
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for _ in 0..reps {
        let t = Instant::now();
        let f = Forest::from_bytes(std::hint::black_box(&bytes)).expect("rcf model loads");
        load.push(ms(t));
        assert_eq!(f.points_seen(), forest.points_seen());
        let t = Instant::now();
        let k = bincode::deserialize::<RCFSmall<u64, u64>>(std::hint::black_box(&kbytes)).expect("krcflib model loads");
        kload.push(ms(t));
        drop(k);
        let t = Instant::now();
        std::hint::black_box(forest.to_bytes());
        save.push(ms(t));
        let t = Instant::now();
        std::hint::black_box(bincode::serialize(&*krcf.0).expect("krcflib serializes"));
        ksave.push(ms(t));
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "workload={wl} load rcf_ms={:.2} krcflib_ms={:.2} rcf_min_ms={:.2} krcflib_min_ms={:.2} save rcf_ms={:.2} krcflib_ms={:.2} (wall, median of {reps}; rcf = checksum + decode + verify + rebuild, krcflib = bincode decode)",
        median(load.clone()),
        median(kload.clone()),
        min(&load),
        min(&kload),
        median(save),
        median(ksave),
    );
}

/// The compact file (trees regrown on load): its size and its load time, wall, as in `model_size`.
fn compact_model(wl: &str, forest: &Forest) {
    let bytes = forest.to_compact_bytes();
    let reps = 11;
    let mut load = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        let f = Forest::from_bytes(std::hint::black_box(&bytes)).expect("compact model loads");
        load.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(f.points_seen(), forest.points_seen());
    }
    let min = load.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "workload={wl} compact rcf_to_compact_bytes={} of_to_bytes={:.3} load_ms={:.2} load_min_ms={:.2} (wall, median of {reps}; checksum + decode + regrow every tree on the current rayon pool + verify)",
        bytes.len(),
        bytes.len() as f64 / forest.to_bytes().len() as f64,
        median(load),
        min,
    );
}

fn batch(wl: &str, forest: &Forest, data: &[f32], dims: usize, args: &Args) {
    let rows = args.batch_points.min(data.len() / dims);
    if rows == 0 {
        return;
    }
    let input = &data[..rows * dims];
    let mut results: [Vec<Span>; 2] = [vec![], vec![]];
    let mut scores: [Vec<f64>; 2] = [vec![], vec![]];
    for _ in 0..args.runs {
        for (i, threads) in [1usize, 2].into_iter().enumerate() {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool");
            // Warm the pool's threads before measuring.
            pool.install(|| rayon::join(|| (), || ()));
            let (s, span) = measure_process(|| pool.install(|| forest.score_batch(input).expect("valid batch")));
            results[i].push(span);
            scores[i] = s;
        }
    }
    let rate = |i: usize| median(results[i].iter().map(|s| rows as f64 / s.wall.as_secs_f64()).collect());
    let cpu_rate = |i: usize| median(results[i].iter().map(|s| rows as f64 / s.cpu.as_secs_f64()).collect());
    let ratios: Vec<f64> =
        results[0].iter().zip(&results[1]).map(|(a, b)| a.wall.as_secs_f64() / b.wall.as_secs_f64()).collect();
    println!(
        "workload={wl} op=score_batch points={rows} threads1_wall_per_s={:.0} threads2_wall_per_s={:.0} ratio={:.2} threads1_cpu_adj_per_s={:.0} threads2_cpu_adj_per_s={:.0} identical={}",
        rate(0),
        rate(1),
        median(ratios),
        cpu_rate(0),
        cpu_rate(1),
        scores[0] == scores[1],
    );
}

fn lean(wl: &str, p: &Params, args: &Args) {
    if args.lean_points == 0 {
        return;
    }
    let lp = Params { bounding_box_cache_fraction: 0.0, ..*p };
    let data = reference_stream(args.lean_points, p.input_dims);
    // Per run: [rcf combined, krcflib combined, rcf score, krcflib score, rcf update, krcflib update, ratio].
    let mut figures: Vec<[f64; 7]> = Vec::new();
    let (mut heap, mut size) = (0, 0);
    for _ in 0..args.runs.max(1) {
        let mut k = build_krcf_small(&lp);
        let theirs = score_pass(&mut k, &data, p.input_dims);
        let mut r = build_rcf(&lp);
        let ours = score_pass(&mut r, &data, p.input_dims);
        figures.push([
            ours.combined_rate(),
            theirs.combined_rate(),
            ours.op_rate(),
            theirs.op_rate(),
            ours.update_rate(),
            theirs.update_rate(),
            ours.combined_rate() / theirs.combined_rate(),
        ]);
        (heap, size) = (r.heap_bytes(), krcf_size(&k));
    }
    let m = |i: usize| median(figures.iter().map(|f| f[i]).collect());
    let (low, high) = figures.iter().fold((f64::INFINITY, 0f64), |(lo, hi), f| (lo.min(f[6]), hi.max(f[6])));
    println!(
        "workload={wl} op=memory_lean points={} rcf_score_update_per_s={:.0} krcflib_score_update_per_s={:.0} ratio={:.2} ratio_range={low:.2}-{high:.2} rcf_score_per_s={:.0} krcflib_score_per_s={:.0} rcf_update_per_s={:.0} krcflib_update_per_s={:.0} rcf_heap_bytes={heap} krcflib_size={size} (median of {} runs; rcf without its box cache, krcflib with bounding_box_cache_fraction 0)",
        args.lean_points,
        m(0),
        m(1),
        m(6),
        m(2),
        m(3),
        m(4),
        m(5),
        figures.len(),
    );
}

/// CPU µs per score+update over the second half of `points` (the first half warms the forest).
fn steady_cost<D: Detector>(d: &mut D, data: &[f32], dims: usize) -> f64 {
    let rows = data.len() / dims;
    let warm = rows / 2;
    for row in data[..warm * dims].chunks_exact(dims) {
        std::hint::black_box(d.score(row));
        d.update(row);
    }
    let pass = score_pass(d, &data[warm * dims..], dims);
    1e6 / pass.combined_rate()
}

/// Trees, sample size, channels and shingle size of one scaling cell.
type ForestShape = (usize, usize, usize, usize);

fn scaling(args: &Args) {
    // (varied, trees, sample, channels, shingle)
    let cells: Vec<(&str, usize, usize, usize, usize)> = vec![
        ("trees", 50, 256, 1, 8),
        ("trees", 100, 256, 1, 8),
        ("trees", 200, 256, 1, 8),
        ("sample", 100, 64, 1, 8),
        ("sample", 100, 256, 1, 8),
        ("sample", 100, 1024, 1, 8),
        ("dims", 100, 256, 1, 1),
        ("dims", 100, 256, 1, 8),
        ("dims", 100, 256, 5, 8),
        ("dims", 100, 256, 16, 8),
    ];
    // Cells that share a forest shape are measured once: (trees, sample, channels, shingle) → costs.
    let mut done: Vec<(ForestShape, (f64, f64))> = vec![];
    println!(
        "# score+update CPU µs per point over the second half of {} points; ratio = krcflib/rcf (speed-up)",
        args.scaling_points
    );
    for (varied, trees, sample, channels, shingle) in cells {
        let key = (trees, sample, channels, shingle);
        let (ours, theirs) = match done.iter().find(|(k, _)| *k == key) {
            Some(&(_, v)) => v,
            None => {
                let p = Params { shingle_size: shingle, ..Params::new(channels, trees, sample) };
                let data = reference_stream(args.scaling_points, channels);
                let (mut o, mut t) = (vec![], vec![]);
                for _ in 0..args.runs {
                    o.push(steady_cost(&mut build_rcf(&p), &data, channels));
                    t.push(steady_cost(&mut build_krcf(&p), &data, channels));
                }
                let v = (median(o), median(t));
                done.push((key, v));
                v
            }
        };
        println!(
            "scaling vary={varied} trees={trees} sample={sample} dims={} rcf_us={ours:.2} krcflib_us={theirs:.2} ratio={:.2}",
            channels * shingle,
            theirs / ours
        );
    }
}
