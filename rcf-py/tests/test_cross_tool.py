"""Models move between Python and the `rcf` binary unchanged: a model saved here scores the same in
`rcf score` and `rcf serve`, and a model trained by `rcf train` loads here with identical scores.

Needs the binary: `RCF_BIN` (set by rcf-py/scripts/test.sh). Without it these tests fail, on purpose.
"""

import os
import socket
import subprocess
import tarfile
import time
import urllib.request

import numpy as np
import pytest

import rcf


@pytest.fixture(scope="module")
def rcf_bin():
    path = os.environ.get("RCF_BIN")
    assert path and os.access(path, os.X_OK), "set RCF_BIN to the rcf binary (rcf-py/scripts/test.sh does)"
    return path


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 4))
    x[::97] += 6.0
    return x


def write_csv(path, x):
    np.savetxt(path, x, delimiter=",", fmt="%.9g")


def rcf_score(rcf_bin, model, csv):
    out = subprocess.run([rcf_bin, "score", "--model", str(model), "--input", str(csv), "--output", "-"],
                         check=True, capture_output=True, text=True).stdout.split()
    assert out[0] == "score"
    return np.array([float(v) for v in out[1:]])


def test_python_model_scores_identically_in_rcf_score(tmp_path, rcf_bin, rows):
    x = rows.astype(np.float32)
    model = rcf.RandomCutForest(num_trees=50, sample_size=64, random_state=5).fit(x)
    model.save(tmp_path / "model.tar.gz")
    write_csv(tmp_path / "x.csv", x)
    np.testing.assert_array_equal(rcf_score(rcf_bin, tmp_path / "model.tar.gz", tmp_path / "x.csv"), model.anomaly_score(x))


def test_rcf_train_model_loads_in_python_with_identical_scores(tmp_path, rcf_bin, rows):
    write_csv(tmp_path / "train.csv", rows)
    subprocess.run([rcf_bin, "train", "--input", str(tmp_path / "train.csv"), "--output", str(tmp_path / "m.tar.gz"),
                    "--num-trees", "50", "--sample-size", "64", "--seed", "9"], check=True, capture_output=True)
    model = rcf.load(tmp_path / "m.tar.gz")
    x = np.loadtxt(tmp_path / "train.csv", delimiter=",", dtype=np.float32)
    np.testing.assert_array_equal(model.anomaly_score(x), rcf_score(rcf_bin, tmp_path / "m.tar.gz", tmp_path / "train.csv"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_model_serves_identically_in_rcf_serve(tmp_path, rcf_bin, rows):
    x = rows[:50].astype(np.float32)
    model = rcf.RandomCutForest(num_trees=50, sample_size=64, random_state=5).fit(rows.astype(np.float32))
    model.save(tmp_path / "model.tar.gz")
    model_dir = tmp_path / "opt-ml-model"
    model_dir.mkdir()
    with tarfile.open(tmp_path / "model.tar.gz") as t:  # what SageMaker does with model.tar.gz
        t.extractall(model_dir, filter="data")
    port = free_port()
    server = subprocess.Popen([rcf_bin, "serve", "--model-dir", str(model_dir), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "rcf serve did not become healthy"
            time.sleep(0.1)
        body = "\n".join(",".join(f"{v:.9g}" for v in row) for row in x).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "text/csv", "Accept": "text/csv"})
        served = np.array([float(v) for v in urllib.request.urlopen(req, timeout=10).read().decode().split()])
        np.testing.assert_array_equal(served, model.anomaly_score(x))
    finally:
        server.terminate()
        server.wait(timeout=10)
