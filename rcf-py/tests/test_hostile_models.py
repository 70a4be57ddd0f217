"""Hostile model files: loads are bounded by the memory budget and checked against the manifest."""

import io
import json
import struct
import tarfile
import zlib

import numpy as np
import pytest

import rcf


def _varint(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfb" + struct.pack("<H", n)
    if n < 1 << 32:
        return b"\xfc" + struct.pack("<I", n)
    return b"\xfd" + struct.pack("<Q", n)


def _model_file(version, payload):
    return b"RCFMODEL" + struct.pack("<IIQII", version, 0, len(payload), zlib.crc32(payload), 0) + payload


def _declaring(input_dims, num_trees, sample_size):
    """A compact model file whose configuration declares a forest of this size (and holds nothing)."""
    config = (
        _varint(input_dims) + _varint(1) + _varint(num_trees) + _varint(sample_size)
        + struct.pack("<d", 1e-4) + _varint(1) + struct.pack("<d", 1.0) + _varint(7) + b"\x01"
    )
    return _model_file(3, b"\x02" + config + b"\xfc\xff\xff\xff\x7f" + bytes(1024))


def _tar_gz(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _manifest(model, **fields):
    manifest = {
        "artifact_version": 1,
        "model_format_version": int.from_bytes(model[8:12], "little"),
        "model_checksum": f"{zlib.crc32(model):08x}",
        "feature_dim": 3,
        "shingle_size": 1,
        "num_trees": 10,
        "num_samples_per_tree": 64,
        "created_by": "test",
    }
    manifest.update(fields)
    return json.dumps(manifest).encode()


@pytest.fixture()
def saved(tmp_path):
    X = np.random.default_rng(0).normal(size=(300, 3))
    model = rcf.RandomCutForest(num_trees=10, sample_size=64, random_state=0).fit(X)
    path = tmp_path / "model.tar.gz"
    model.save(str(path))
    with tarfile.open(path) as tar:
        return tar.extractfile("model.rcf").read(), json.loads(tar.extractfile("manifest.json").read())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model_checksum": "deadbeef"}, "the checksum is deadbeef in manifest.json"),
        ({"feature_dim": 5}, "feature_dim is 5 in manifest.json but 3 in model.rcf"),
        ({"num_trees": 11}, "num_trees is 11 in manifest.json but 10 in model.rcf"),
    ],
)
def test_a_manifest_that_does_not_describe_the_model_is_refused(saved, change, message):
    model, manifest = saved
    manifest.update(change)
    data = _tar_gz([("model.rcf", model), ("manifest.json", json.dumps(manifest).encode())])
    for load in (rcf.loads, rcf.RandomCutForest.from_bytes):
        with pytest.raises(rcf.ModelFileError, match=message):
            load(data)


def test_a_consistent_archive_still_loads(saved):
    model, manifest = saved
    data = _tar_gz([("model.rcf", model), ("manifest.json", json.dumps(manifest).encode())])
    loaded = rcf.loads(data)
    assert loaded.num_trees == 10
    assert rcf.RandomCutForest.from_bytes(data).num_trees == 10


@pytest.mark.parametrize("bare", [True, False])
def test_a_model_declaring_a_huge_forest_is_refused_before_it_is_built(bare):
    model = _declaring(4096, 10_000, 16_384)
    data = model if bare else _tar_gz(
        [("model.rcf", model), ("manifest.json", _manifest(model, feature_dim=4096, num_trees=10_000,
                                                            num_samples_per_tree=16_384))]
    )
    with pytest.raises(rcf.ModelFileError, match=r"10000 trees × 16384 samples × 4096 dimensions.*2048 MiB"):
        rcf.loads(data)
    with pytest.raises(rcf.ModelFileError, match="RCF_MAX_MODEL_MEMORY_MB"):
        rcf.ThresholdedRandomCutForest.from_bytes(data)


def test_the_budget_comes_from_the_environment(monkeypatch, tmp_path):
    model = _declaring(64, 100, 256)  # about 7 MiB declared
    rcf_error = pytest.raises(rcf.ModelFileError, match="over the model memory budget of 4 MiB")
    monkeypatch.setenv("RCF_MAX_MODEL_MEMORY_MB", "4")
    with rcf_error:
        rcf.loads(model)
    monkeypatch.setenv("RCF_MAX_MODEL_MEMORY_MB", "64")
    with pytest.raises(rcf.ModelFileError) as within:
        rcf.loads(model)  # within the budget: decoded, then refused for what it holds
    assert "budget" not in str(within.value)
    monkeypatch.setenv("RCF_MAX_MODEL_MEMORY_MB", "many")
    with pytest.raises(ValueError, match='RCF_MAX_MODEL_MEMORY_MB="many": expected a whole number of MiB'):
        rcf.loads(model)
    with pytest.raises(ValueError, match='RCF_MAX_MODEL_MEMORY_MB="many"'):
        rcf.RandomCutForest().fit([[1.0, 2.0]] * 10)


def test_a_gzip_bomb_is_stopped_while_decompressing(monkeypatch, tmp_path):
    bomb = _tar_gz([("padding", bytes(64 << 20)), ("model.rcf", b"x")])
    assert len(bomb) < 1 << 20
    monkeypatch.setenv("RCF_MAX_MODEL_MEMORY_MB", "8")
    with pytest.raises(rcf.ModelFileError, match="decompresses to more than"):
        rcf.loads(bomb)
    path = tmp_path / "bomb.tar.gz"
    path.write_bytes(bomb)
    with pytest.raises(rcf.ModelFileError, match="decompresses to more than"):
        rcf.load(str(path))
