"""Pickle, deepcopy, save/load: every round trip gives identical scores, now and after more updates."""

import copy
import io
import json
import os
import pickle
import tarfile

import numpy as np
import pandas as pd
import pytest

import rcf


def _same_model(a, b, X):
    np.testing.assert_array_equal(a.anomaly_score(X), b.anomaly_score(X))
    np.testing.assert_array_equal(a.attribution(X), b.attribution(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.offset_ == b.offset_
    params = lambda m: {k: v for k, v in m.get_params().items() if k != "random_state"}  # noqa: E731
    assert params(a) == params(b)
    # and they keep evolving identically
    np.testing.assert_array_equal(a.score_update(X), b.score_update(X))
    assert a.forest_.to_bytes() == b.forest_.to_bytes()


@pytest.fixture()
def model(blobs):
    return rcf.RandomCutForest(num_trees=25, shingle_size=2, random_state=4, contamination=0.02).fit(blobs)


def test_pickle_round_trip(model, blobs):
    _same_model(model, pickle.loads(pickle.dumps(model)), blobs[:300])


def test_deepcopy_and_copy_round_trip(model, blobs):
    twin = copy.deepcopy(model)
    assert twin.forest_ is not model.forest_
    _same_model(model, twin, blobs[:300])


def test_pickled_native_forest_is_model_file_bytes(model):
    forest = pickle.loads(pickle.dumps(model.forest_))
    assert forest.to_bytes() == model.forest_.to_bytes()


def test_save_load_round_trip(model, blobs, tmp_path):
    path = tmp_path / "model.tar.gz"
    model.save(path)
    loaded = rcf.load(path)
    assert loaded.get_params()["contamination"] == 0.02 and loaded.shingle_size == 2
    _same_model(model, loaded, blobs[:300])


def test_compact_save_is_smaller_and_scores_alike(model, blobs, tmp_path):
    exact, compact = tmp_path / "exact.tar.gz", tmp_path / "compact.tar.gz"
    model.save(exact)
    model.save(compact, compact=True)
    with tarfile.open(exact) as e, tarfile.open(compact) as c:
        exact_rcf, compact_rcf = e.extractfile("model.rcf").read(), c.extractfile("model.rcf").read()
        manifest = json.loads(c.extractfile("manifest.json").read())
    assert len(compact_rcf) < 0.8 * len(exact_rcf)  # fitted rows: the point store is most of either file
    assert manifest["model_format_version"] == int.from_bytes(compact_rcf[8:12], "little") == 3
    loaded, again = rcf.load(compact), rcf.load(compact)
    assert loaded.offset_ == model.offset_ and loaded.shingle_size == 2
    X = blobs[:300]
    # Regrown trees: the same model every load, close to (not equal to) the original's scores.
    np.testing.assert_array_equal(loaded.anomaly_score(X), again.anomaly_score(X))
    ours, theirs = model.anomaly_score(X), loaded.anomaly_score(X)
    # 25 trees: the level moves a few per cent with the trees' randomness (seed to seed as well).
    assert abs(theirs.mean() / ours.mean() - 1) < 0.1
    assert np.corrcoef(ours, theirs)[0, 1] > 0.8


def test_save_load_keeps_dataframe_feature_names(blobs, tmp_path):
    df = pd.DataFrame(blobs, columns=["a", "b", "c"])
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(df)
    model.save(str(tmp_path / "m.tar.gz"))
    loaded = rcf.load(str(tmp_path / "m.tar.gz"))
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    assert list(loaded.attribution(df.iloc[:2]).columns) == ["a", "b", "c"]


def test_artifact_layout_is_model_rcf_plus_manifest(model, tmp_path):
    path = tmp_path / "model.tar.gz"
    model.save(path)
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        model_bytes = tar.extractfile("model.rcf").read()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names == ["model.rcf", "manifest.json"]
    assert model_bytes[:8] == b"RCFMODEL"
    assert model_bytes == model.forest_.to_bytes()
    assert manifest["artifact_version"] == 1
    assert manifest["model_format_version"] == 2 and rcf.FORMAT_VERSION == 4  # exact models stay at version 2
    assert manifest["feature_dim"] == 3 and manifest["shingle_size"] == 2
    assert manifest["num_trees"] == 25 and manifest["num_samples_per_tree"] == 256
    assert manifest["hyperparameters"]["num_samples_per_tree"] == "256"
    assert manifest["training"]["records"] == 2000
    assert manifest["training"]["score_mean"] == pytest.approx(model.training_stats_["score_mean"])
    assert manifest["created_by"].startswith("rcf-py ")
    import zlib

    assert manifest["model_checksum"] == f"{zlib.crc32(model_bytes):08x}"


def test_load_bare_model_rcf_and_threshold_from_manifest_only(model, blobs, tmp_path):
    """A model file written by another tool carries no Python metadata: the threshold then comes
    from the manifest's training statistics (contamination 'auto')."""
    auto = rcf.RandomCutForest(num_trees=10, random_state=0).fit(blobs)
    forest = copy.deepcopy(auto.forest_)
    for key in list(forest.metadata()):
        forest.set_metadata(key, None)
    stats = auto.training_stats_
    data = forest.pack(created_by="test", training=(stats["records"], stats["score_mean"], stats["score_std"]))
    loaded = rcf.loads(data)
    assert loaded.offset_ == pytest.approx(auto.offset_)
    np.testing.assert_array_equal(loaded.predict(blobs[:100]), auto.predict(blobs[:100]))
    (tmp_path / "model.rcf").write_bytes(forest.to_bytes())
    bare = rcf.load(tmp_path / "model.rcf")
    np.testing.assert_array_equal(bare.anomaly_score(blobs[:100]), auto.anomaly_score(blobs[:100]))
    assert not hasattr(bare, "offset_")


def test_save_is_atomic_and_overwrites(model, blobs, tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"old")
    model.save(path)
    assert os.listdir(tmp_path) == ["model.tar.gz"]  # no temporary file left behind
    assert rcf.load(path).forest_.to_bytes() == model.forest_.to_bytes()


def test_failed_save_leaves_no_partial_file(model, tmp_path):
    with pytest.raises(FileNotFoundError):
        model.save(tmp_path / "missing-dir" / "model.tar.gz")
    assert os.listdir(tmp_path) == []


def test_fsspec_uri_round_trip(model, blobs):
    """The remote (s3://) code path, exercised through fsspec's in-memory filesystem."""
    import fsspec  # a test requirement: the s3 extra installs it

    model.save("memory://bucket/models/model.tar.gz")
    with fsspec.open("memory://bucket/models/model.tar.gz", "rb") as f:
        assert tarfile.open(fileobj=io.BytesIO(f.read()), mode="r:gz").getnames() == ["model.rcf", "manifest.json"]
    _same_model(model, rcf.load("memory://bucket/models/model.tar.gz"), blobs[:100])


def test_corrupted_truncated_and_foreign_files_raise_model_file_error(model, tmp_path):
    good = model.to_bytes()
    bare = model.forest_.to_bytes()
    flipped = bytearray(bare)
    flipped[len(flipped) // 2] ^= 0xFF
    cases = {
        "truncated artifact": good[: len(good) // 2],
        "truncated model": bare[:100],
        "corrupted model": bytes(flipped),
        "foreign bytes": b"hello world, not a model",
        "empty": b"",
    }
    for name, data in cases.items():
        with pytest.raises(rcf.ModelFileError):
            rcf.loads(data)
        (tmp_path / "m").write_bytes(data)
        with pytest.raises(ValueError):  # ModelFileError is a ValueError
            rcf.load(tmp_path / "m")


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        rcf.load(tmp_path / "nope.tar.gz")


def test_streaming_only_model_saves_and_loads(stream, tmp_path):
    model = rcf.RandomCutForest(num_trees=10, shingle_size=4, random_state=0)
    model.score_update(stream[:800])
    model.save(tmp_path / "s.tar.gz")
    loaded = rcf.load(tmp_path / "s.tar.gz")
    np.testing.assert_array_equal(loaded.score_update(stream[800:900]), model.score_update(stream[800:900]))
