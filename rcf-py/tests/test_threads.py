"""Threads: concurrent scoring is correct, scoring and updating can overlap, and the GIL is released."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import rcf


def test_threads_scoring_at_once_get_the_serial_results(fitted, blobs):
    chunks = [blobs[i * 100 : (i + 1) * 100] for i in range(16)]
    expected = [fitted.anomaly_score(c) for c in chunks]
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait() if i < 8 else None
        return [fitted.anomaly_score(c) for c in chunks[i % 16 :] + chunks[: i % 16]]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    for i, got in enumerate(results):
        for j, scores in enumerate(got):
            np.testing.assert_array_equal(scores, expected[(i + j) % 16])


def test_scoring_while_another_thread_updates(blobs):
    model = rcf.RandomCutForest(num_trees=20, random_state=0).fit(blobs)
    reference = rcf.RandomCutForest(num_trees=20, random_state=0).fit(blobs)
    errors = []

    def updater():
        try:
            for i in range(20):
                model.update(blobs[i * 50 : (i + 1) * 50])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def scorer():
        try:
            for _ in range(20):
                s = model.anomaly_score(blobs[:200])
                assert s.shape == (200,) and np.all(np.isfinite(s)) and np.all(s > 0)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=updater)] + [threading.Thread(target=scorer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reference.update(blobs[:1000])  # the same 20 updates, in order, without concurrency
    assert model.forest_.to_bytes() == reference.forest_.to_bytes()


def test_gil_is_released_during_rust_work():
    """A pure-Python thread keeps running while a long score_update call is inside Rust."""
    X = np.random.default_rng(0).normal(size=(60_000, 4))
    model = rcf.RandomCutForest(num_trees=50, random_state=0)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.02)
    start = time.perf_counter()
    model.score_update(X)
    end = time.perf_counter()
    stop.set()
    t.join()
    duration = end - start
    assert duration > 0.2, f"the call was too short ({duration:.3f}s) to tell"
    inside = [x for x in ticks if start + 0.05 < x < end - 0.05]
    # With the GIL held, the ticker could not run at all inside the call.
    assert len(inside) > 10, f"only {len(inside)} ticks during a {duration:.2f}s call"


def test_waiting_for_the_lock_does_not_hold_the_gil():
    """While one thread updates (exclusive lock), threads that score or read properties wait for the
    lock without holding the GIL: pure-Python code keeps running."""
    X = np.random.default_rng(0).normal(size=(60_000, 4))
    model = rcf.RandomCutForest(num_trees=50, random_state=0).fit(X[:1000])
    started = threading.Event()

    def writer():
        started.set()
        model.score_update(X)

    def reader():
        started.wait()
        time.sleep(0.02)
        model.anomaly_score(X[:10])
        model.forest_.points_seen

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.05)
    ticks, start = 0, time.perf_counter()
    while threads[0].is_alive() and time.perf_counter() - start < 30:
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    assert elapsed > 0.1, f"the update was too short ({elapsed:.3f}s) to tell"
    assert ticks > 20, f"main thread ran only {ticks} times in {elapsed:.2f}s"
