"""Hostile arguments: every size-like or range-like parameter is bounded before anything is allocated.

Each case runs in a child interpreter capped at 4 GiB of address space, so an abort (a failed huge
allocation) shows up as a failed exit status instead of killing the test run. Thread counts are read
from /proc/self/task; the CLI (`RCF_BIN`, set by rcf-py/scripts/test.sh) must accept exactly the
values Python accepts.
"""

import math
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rcf
from rcf import _rcf

MEMORY_CAP = int(os.environ.get("RCF_TEST_MEMORY_CAP", 4 << 30))
CHILD_TIMEOUT = 120  # seconds; every child finishes in a few


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_child(code, timeout=CHILD_TIMEOUT):
    """Runs `code` in a fresh interpreter under the memory cap; returns (returncode, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
    )
    return proc.returncode, proc.stdout, proc.stderr


PRELUDE = """
import numpy as np, rcf
from rcf import _rcf
series = np.sin(np.arange(300) / 5.0)
def trcf(**kw):
    d = rcf.ThresholdedRandomCutForest(num_trees=10, sample_size=32, random_state=0, **kw)
    d.process_series(series)
    return d
def forest(**kw):
    return rcf.RandomCutForest(num_trees=10, sample_size=32, random_state=0, **kw).fit(series)
"""

BIG = 10**9
HUGE = 10**30

# (call, the message it must raise as ValueError)
CASES = [
    ("rcf.TRCF(forecast_horizon=BIG).process(1.0)", r"invalid forecast_horizon: 1000000000 \(between 1 and 10000\)"),
    ("_rcf.Detector(1, forecast_horizon=BIG)", r"invalid forecast_horizon: 1000000000 \(between 1 and 10000\)"),
    ("rcf.TRCF(forecast_horizon=HUGE).process(1.0)", r"invalid forecast_horizon: 10{30} \(between 1 and 10000\)"),
    ("rcf.TRCF(forecast_horizon=100).process(np.zeros(1000))",
     r"invalid forecast_horizon × input_dims: 100000 \(between 1 and 16384\)"),
    ("trcf(shingle_size=4).forecast(BIG)", r"invalid horizon: 1000000000 \(between 0 and 10000\)"),
    ("trcf(shingle_size=4).detector_.forecast(BIG, 0.9)", r"invalid horizon: 1000000000 \(between 0 and 10000\)"),
    ("forest(shingle_size=4).forecast(HUGE)", r"invalid horizon: 10{30} \(between 0 and 10000\)"),
    ("forest(shingle_size=4).forest_.forecast(BIG, 0.9)", r"invalid horizon: 1000000000 \(between 0 and 10000\)"),
    ("rcf.RandomCutForest(shingle_size=2, num_trees=5).update(np.zeros((3, 500))).forecast(5000)",
     r"invalid horizon × input_dims: 2500000 \(between 0 and 1048576\)"),
    ("forest(shingle_size=4).forecast(3, coverage=2.0)", r"invalid coverage: 2 \(a number in \[0, 1\]\)"),
    ("forest().near_neighbors(series[:1], k=HUGE)", r"invalid k: 10{30} \(between 1 and 10000\)"),
    ("forest().forest_.near_neighbours(np.zeros(1, dtype=np.float32), BIG)", r"invalid k: 1000000000"),
    ("rcf.RandomCutForest(num_trees=BIG).fit(series)", r"invalid num_trees: 1000000000 \(between 1 and 10000\)"),
    ("rcf.RandomCutForest(sample_size=HUGE).fit(series)", r"invalid sample_size: 10{30} \(between 1 and 16384\)"),
    ("rcf.RandomCutForest(shingle_size=BIG).update(series)",
     r"invalid shingle_size: 1000000000 \(between 1 and 65535\)"),
    ("rcf.RandomCutForest(shingle_size=10_000).update(np.zeros((3, 10)))",
     r"invalid input_dims × shingle_size: 100000"),
    ("rcf.RandomCutForest(output_after=HUGE).update(series)",
     r"invalid output_after: 10{30} \(between 0 and 4294967295\)"),
    ("_rcf.Forest(1, output_after=2**40)", r"invalid output_after: 1099511627776"),
    ("rcf.TRCF(num_trees=BIG).process(1.0)", r"invalid num_trees: 1000000000"),
    ("rcf.TRCF(sample_size=BIG).process(1.0)", r"invalid sample_size: 1000000000"),
    ("rcf.TRCF(shingle_size=HUGE).process(1.0)", r"invalid shingle_size: 10{30}"),
    ("rcf.TRCF(output_after=-5).process(1.0)", r"invalid output_after: -5"),
    ("rcf.TRCF(anomaly_rate=0.7).process(1.0)", r"invalid anomaly_rate: 0.7 \(a number in \(0, 0.5\]\)"),
    ("_rcf.Detector(1, anomaly_rate=0.7)", r"invalid anomaly_rate: 0.7 \(a number in \(0, 0.5\]\)"),
    ("rcf.TRCF(z_factor=1e300).process(1.0)", r"invalid z_factor: 1000000000000000000000000000000000000000000"),
    ("_rcf.Detector(1, similar_context_suppression=5.0)",
     r"invalid similar_context_suppression: 5 \(a number in \[0, 1\]\)"),
    ("_rcf.Detector(1, noise_suppression=float('nan'))", r"invalid noise_suppression: NaN"),
    ("rcf.RandomCutForest(time_decay=float('inf')).fit(series)",
     r"invalid time_decay: inf \(a finite number ≥ 0\)"),
    ("rcf.RandomCutForest(contamination=0.9).fit(series)", r"invalid contamination: 0.9 \(a number in \(0, 0.5\]\)"),
    # A shingled attribution holds every shingled dimension of every row: 1000 rows × 60000 here.
    ("rcf.RandomCutForest(shingle_size=60_000, num_trees=1, sample_size=1).update(np.zeros(60_000))"
     ".attribution(np.zeros(1000), fold_shingle=False)",
     r"invalid rows × input_dims × shingle_size: 60000000 \(between 0 and 16777216\)"),
    ("rcf.RandomCutForest(shingle_size=60_000, num_trees=1, sample_size=1).update(np.zeros(60_000))"
     ".forest_.attribution(np.zeros((1000, 1), dtype=np.float32))",
     r"invalid rows × input_dims × shingle_size: 60000000"),
    # One tree of 16384 samples over 655 × 100 shingled dimensions would need about 8 GiB once full.
    ("rcf.RandomCutForest(shingle_size=655, num_trees=1, sample_size=16384).update(np.zeros((3, 100)))",
     r"too large for the memory budget: .* over the model memory budget of 2048 MiB"),
    ("rcf.TRCF(shingle_size=655, num_trees=1, sample_size=16384).process(np.zeros(100))",
     r"too large for the memory budget"),
    ("import itertools; rcf.TRCF(fill=itertools.count()).process(1.0)", r"fill has more than 65535 values"),
    ("import itertools; rcf.TRCF(ignore_near_expected=itertools.count()).process(1.0)",
     r"ignore_near_expected must be a pair"),
    ("import rcf.plot; rcf.plot.series([1.0, 2.0], [0.0, 1.0], figsize=(1e6, 1e6))", r"invalid figsize"),
]


@pytest.mark.parametrize("call, message", CASES, ids=[c for c, _ in CASES])
def test_hostile_argument_is_a_value_error_naming_the_range(call, message):
    code = PRELUDE + f"""
BIG, HUGE = {BIG}, {HUGE}
try:
    {call}
except ValueError as e:
    print("ValueError:", e)
else:
    print("accepted")
"""
    rc, out, err = run_child(code)
    assert rc == 0, f"child died (status {rc}): {err[-2000:]}"
    assert "ValueError:" in out, out
    assert re.search(message, out), out


def test_largest_allowed_horizon_is_accepted():
    limit = _rcf.LIMITS["horizon"]["max"]
    model = rcf.RandomCutForest(num_trees=5, sample_size=16, shingle_size=2, random_state=0)
    model.update(np.sin(np.arange(50) / 3.0))
    f = model.forecast(limit, as_frame=False)
    assert f.value.shape == (limit, 1)
    with pytest.raises(ValueError, match=f"invalid horizon: {limit + 1}"):
        model.forecast(limit + 1)


def test_limits_are_rcf_cores_and_python_states_none_of_its_own():
    limits = _rcf.LIMITS
    assert limits["forecast_horizon"]["max"] == 10_000
    assert limits["anomaly_rate"]["min"] == 0.0 and not limits["anomaly_rate"]["min_inclusive"]
    assert limits["anomaly_rate"]["max"] == 0.5 and limits["anomaly_rate"]["max_inclusive"]
    for name, limit in limits.items():
        finite = math.isfinite(limit["max"])
        outside = limit["max"] + 1 if limit["integer"] else (limit["max"] * 2 if finite else math.inf)
        with pytest.raises(ValueError) as info:
            _rcf.check_parameter(name, outside)
        message = str(info.value)
        assert message.startswith(f"invalid {name}: ") and message.endswith(f"({limit['expected']})"), message
        inside = limit["max"] if finite else limit["min"] + 1
        assert _rcf.check_parameter(name, inside) == inside
    with pytest.raises(TypeError, match="num_trees must be an int"):
        _rcf.check_parameter("num_trees", 2.5)
    with pytest.raises(TypeError, match="num_trees must be an int"):
        _rcf.check_parameter("num_trees", True)


# ---------------------------------------------------------------------------------------------- threads

THREADS = """
import os, numpy as np, rcf
from rcf import _rcf
def threads():
    return len(os.listdir("/proc/self/task"))
X = np.random.default_rng(0).normal(size=(2000, 2))
model = rcf.RandomCutForest(num_trees=8, sample_size=64, random_state=0).fit(X)
before = threads()
"""


def test_huge_n_jobs_uses_at_most_one_thread_per_core():
    rc, out, err = run_child(THREADS + """
model.set_params(n_jobs=10**6).anomaly_score(X)
model.set_params(n_jobs=10**30).anomaly_score(X)
model.set_params(n_jobs=-10**30).anomaly_score(X)
rcf.RandomCutForest(num_trees=8, n_jobs=10**6, random_state=0).fit(X)
print(before, threads(), os.cpu_count())
""")
    assert rc == 0, err[-2000:]
    before, after, cpus = map(int, out.split())
    # The pools for every core and for one thread, at most.
    assert after - before <= cpus + 1, out


def test_many_distinct_n_jobs_keep_a_bounded_number_of_threads():
    rc, out, err = run_child(THREADS + """
import time
counts = []
for round in range(3):
    for n in list(range(1, 40)) + [-k for k in range(2, 40)]:
        model.set_params(n_jobs=n).anomaly_score(X[:50])
    counts.append(threads())
# Threads of dropped pools exit once idle: wait (bounded) for them to go.
deadline = time.monotonic() + 10
while threads() > counts[0] and time.monotonic() < deadline:
    time.sleep(0.05)
print(before, threads(), max(counts), os.cpu_count(), _rcf.MAX_POOLS)
""")
    assert rc == 0, err[-2000:]
    before, settled, peak, cpus, pools = map(int, out.split())
    assert peak - before <= pools * cpus, out
    assert settled - before <= pools * cpus, out


# ---------------------------------------------------------------------------------------------- interrupts

def test_a_long_forecast_stops_on_ctrl_c():
    """The largest forecast over the largest forest runs for a long time; Ctrl-C must end it."""
    code = """
import sys, time, numpy as np, rcf
model = rcf.RandomCutForest(num_trees=10_000, sample_size=8, shingle_size=4, random_state=0)
model.update(np.sin(np.arange(40) / 3.0))
print("ready", flush=True)
start = time.monotonic()
try:
    model.forecast(10_000)
except KeyboardInterrupt:
    print(f"interrupted after {time.monotonic() - start:.2f}s", flush=True)
else:
    print("finished", flush=True)
"""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_cap_memory)
    try:
        assert proc.stdout.readline().strip() == "ready"
        # Let the forecast get going inside Rust, then interrupt it.
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    assert out.startswith("interrupted after"), out


# ---------------------------------------------------------------------------------------------- CLI agreement

@pytest.fixture(scope="module")
def rcf_bin():
    path = os.environ.get("RCF_BIN")
    assert path and os.access(path, os.X_OK), "set RCF_BIN to the rcf binary (rcf-py/scripts/test.sh does)"
    return path


def _python_accepts(**kwargs):
    params = {"num_trees": 5, "sample_size": 16, "shingle_size": 2, **kwargs}
    try:
        rcf.TRCF(**params).process(1.0)
    except ValueError as e:
        return False, str(e)
    return True, ""


@pytest.mark.parametrize(
    "flag, name, values",
    [
        ("--anomaly-rate", "anomaly_rate",
         ["0", "1e-12", "0.01", "0.5", "0.5000001", "0.7", "1", "-0.1", "NaN", "inf"]),
        ("--z-factor", "z_factor", ["0", "1e-9", "3", "100", "100.5", "-1", "NaN"]),
        ("--shingle-size", "shingle_size", ["0", "1", "65535", "65536"]),
        ("--num-trees", "num_trees", ["0", "1", "10000", "10001"]),
        ("--sample-size", "sample_size", ["0", "1", "16384", "16385"]),
    ],
)
def test_cli_and_python_accept_the_same_values(rcf_bin, tmp_path, flag, name, values):
    series = tmp_path / "series.csv"
    series.write_text("timestamp,v\n" + "".join(f"{t},{math.sin(t / 5):.4f}\n" for t in range(20)))
    for text in values:
        value = float(text) if name in ("anomaly_rate", "z_factor") else int(text)
        py_ok, py_error = _python_accepts(**{name: value})
        flags = {"--num-trees": "5", "--sample-size": "16", "--shingle-size": "2", flag: text}
        proc = subprocess.run(
            [rcf_bin, "detect", "--input", str(series), "--output", "-"] + [f"{k}={v}" for k, v in flags.items()],
            capture_output=True, text=True, timeout=CHILD_TIMEOUT, preexec_fn=_cap_memory,
        )
        cli_ok = proc.returncode == 0
        assert "panicked" not in proc.stderr
        assert cli_ok == py_ok, f"{flag} {text}: CLI {'accepts' if cli_ok else 'rejects'} ({proc.stderr.strip()}), " \
                                f"Python {'accepts' if py_ok else 'rejects: ' + py_error}"
        if not py_ok:
            # The same words: the parameter, the value and the range, from the same check.
            assert py_error in proc.stderr, (py_error, proc.stderr)
