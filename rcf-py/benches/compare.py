"""rcf (Python package) against rrcf and scikit-learn's IsolationForest, on the same data in one run.

Not a test: prints throughput and ratios.

  python rcf-py/benches/compare.py [--stream-points 10000] [--rrcf-points 10000] [--rows 100000]

Needs the rcf wheel plus rrcf and scikit-learn (rcf-py/requirements-bench.txt).

1. Streaming: score-then-update over a shingled stream (shingle 8, one channel), rrcf with 40 trees
   of size 256 (its documented streaming loop: forget the oldest point, insert, codisp) against
   ``RandomCutForest.score_update`` with 40 trees (same size) and with the default 100.
2. Batch: fit and score 100k x 8 rows; IsolationForest(n_estimators=100, max_samples=256)
   ``score_samples`` against ``RandomCutForest(num_trees=100, sample_size=256).anomaly_score``, each
   on one thread and on every core.
3. Wrapper overhead: ``anomaly_score`` on a float64 array (validation + float32 conversion + the
   Rust call) against the native ``forest_.score`` on a ready float32 C array.
"""

import argparse
import os
import platform
import time

import numpy as np

import rcf


def best_of(repeats, fn):
    """(best wall seconds, best CPU seconds of this process, result). On a shared machine the CPU
    time of a single-threaded call is the fairer figure; both are printed."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def stream_data(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = np.sin(2 * np.pi * t / 100) + rng.normal(0, 0.1, n)
    values[rng.choice(n, size=max(1, n // 500), replace=False)] += 4.0
    return values


def rrcf_stream(values, shingle, num_trees, tree_size):
    import rrcf as rr

    forest = [rr.RCTree() for _ in range(num_trees)]
    scores = np.zeros(len(values))
    points = rr.shingle(values, size=shingle)
    start = time.perf_counter()
    for index, point in enumerate(points):
        total = 0.0
        for tree in forest:
            if len(tree.leaves) > tree_size:
                tree.forget_point(index - tree_size)
            tree.insert_point(point, index=index)
            total += tree.codisp(index)
        scores[index + shingle - 1] = total / num_trees
    return time.perf_counter() - start, len(values) - shingle + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stream-points", type=int, default=10_000)
    parser.add_argument("--rrcf-points", type=int, default=10_000, help="rrcf runs ~100 points/s: lower for a quick look")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=8)
    args = parser.parse_args()

    import sklearn
    from sklearn.ensemble import IsolationForest

    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# rcf {rcf.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}")

    # ---------------------------------------------------------------- 1. streaming
    shingle = 8
    values = stream_data(args.stream_points)
    print(f"\n## score-then-update over a {args.stream_points}-point stream, shingle {shingle}")
    rates = {}
    for trees in (40, 100):
        fresh = lambda: rcf.RandomCutForest(num_trees=trees, sample_size=256, shingle_size=shingle, random_state=0)  # noqa: E731
        wall, cpu, _ = best_of(3, lambda: fresh().score_update(values))
        rates[trees] = args.stream_points / cpu
        print(f"rcf score_update, {trees:3d} trees x 256: {args.stream_points / wall:10,.0f} points/s wall, {rates[trees]:10,.0f} per CPU-second")
    try:
        cpu0 = time.process_time()
        wall, n = rrcf_stream(values[: args.rrcf_points], shingle, 40, 256)
        cpu = time.process_time() - cpu0
        rrcf_rate = n / cpu
        print(f"rrcf,                  40 trees x 256: {n / wall:10,.0f} points/s wall, {rrcf_rate:10,.0f} per CPU-second ({wall:.0f} s for {n} points)")
        print(f"ratio rcf/rrcf per CPU-second (40 trees each): {rates[40] / rrcf_rate:,.0f}x;  rcf 100 trees vs rrcf 40 trees: {rates[100] / rrcf_rate:,.0f}x")
    except ImportError:
        print("rrcf is not installed (pip install -r rcf-py/requirements-bench.txt): no rrcf figure")

    # ---------------------------------------------------------------- 2. batch
    rng = np.random.default_rng(1)
    X = rng.normal(size=(args.rows, args.dims))
    print(f"\n## batch: fit and score {args.rows:,} x {args.dims} (float64 input), 100 trees x 256 samples")
    for jobs in (1, -1):
        label = "1 thread " if jobs == 1 else "all cores"
        model = rcf.RandomCutForest(num_trees=100, sample_size=256, random_state=0, n_jobs=jobs)
        fit_w, fit_c, _ = best_of(3, lambda: model.fit(X))
        score_w, score_c, _ = best_of(3, lambda: model.anomaly_score(X))
        iso = IsolationForest(n_estimators=100, max_samples=256, random_state=0, n_jobs=jobs)
        ifit_w, ifit_c, _ = best_of(3, lambda: iso.fit(X))
        iscore_w, iscore_c, _ = best_of(3, lambda: iso.score_samples(X))
        print(f"[{label}] fit: rcf {fit_w:.3f} s wall / {fit_c:.3f} s CPU (includes scoring the training rows for the threshold); "
              f"IsolationForest {ifit_w:.3f} s wall / {ifit_c:.3f} s CPU")
        print(f"[{label}] rcf anomaly_score:       {args.rows / score_w:10,.0f} rows/s wall, {args.rows / score_c:10,.0f} per CPU-second")
        print(f"[{label}] IsolationForest scoring: {args.rows / iscore_w:10,.0f} rows/s wall, {args.rows / iscore_c:10,.0f} per CPU-second")
        print(f"[{label}] ratio rcf/IsolationForest scoring throughput: {iscore_w / score_w:.2f}x wall, {iscore_c / score_c:.2f}x CPU")

    # ---------------------------------------------------------------- 3. overhead
    model = rcf.RandomCutForest(num_trees=100, sample_size=256, random_state=0, n_jobs=1).fit(X)
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    sub64, sub32 = X[:20_000], X32[:20_000]
    _, native_c, _ = best_of(5, lambda: model.forest_.score(sub32, n_jobs=1))
    _, wrapped32_c, _ = best_of(5, lambda: model.anomaly_score(sub32))
    _, wrapped64_c, _ = best_of(5, lambda: model.anomaly_score(sub64))
    print(f"\n## Python wrapper overhead, 20,000 x {args.dims}, one thread, CPU seconds (best of 5)")
    print(f"native forest_.score(float32 C): {native_c:.4f} s")
    print(f"anomaly_score(float32 C):        {wrapped32_c:.4f} s  ({100 * (wrapped32_c / native_c - 1):+.1f} %)")
    print(f"anomaly_score(float64):          {wrapped64_c:.4f} s  ({100 * (wrapped64_c / native_c - 1):+.1f} %, includes the float32 copy)")
    one, one32 = X[:1], X32[:1]
    single_w, _, _ = best_of(500, lambda: model.anomaly_score(one))
    native_one_w, _, _ = best_of(500, lambda: model.forest_.score(one32, n_jobs=1))
    print(f"one row: anomaly_score {single_w * 1e6:.0f} us, native {native_one_w * 1e6:.0f} us (best of 500, wall)")

if __name__ == "__main__":
    main()
