"""ThresholdedRandomCutForest round trips (pickle, deepcopy, save/load) continue identically, and
rcf.load returns the right class by what the file holds."""

import copy
import json
import pickle
import tarfile
import zlib

import numpy as np
import pandas as pd
import pytest

import rcf


def _series(n=1600):
    t = np.arange(n)
    x = np.column_stack([np.sin(t / 9), np.cos(t / 13)]) + np.random.default_rng(5).normal(0, 0.05, (n, 2))
    x[1300, 0] += 4
    x[1450, 1] -= 4
    return pd.DataFrame(x, columns=["cpu", "mem"])


@pytest.fixture()
def trained():
    df = _series()
    d = rcf.ThresholdedRandomCutForest(
        shingle_size=4, num_trees=30, transform="normalize", fill="linear", forecast_horizon=6, random_state=11
    )
    d.process_series(df.iloc[:1200], timestamps=np.arange(1200) * 60)
    return d, df


def _continue_identically(a, b, df):
    rest = df.iloc[1200:]
    ts = 72000 + np.arange(len(rest)) * 60
    out_a, out_b = a.process_series(rest, timestamps=ts), b.process_series(rest, timestamps=ts)
    pd.testing.assert_frame_equal(out_a, out_b)
    assert out_a["grade"].max() > 0
    assert a.detector_.to_bytes() == b.detector_.to_bytes()
    fa, fb = a.forecast(6, as_frame=False), b.forecast(6, as_frame=False)
    for x, y in zip(fa, fb):
        np.testing.assert_array_equal(x, y)


def test_pickle_round_trip(trained):
    d, df = trained
    twin = pickle.loads(pickle.dumps(d))
    assert twin.get_params() == d.get_params()
    assert list(twin.feature_names_in_) == ["cpu", "mem"]
    _continue_identically(d, twin, df)


def test_deepcopy_round_trip(trained):
    d, df = trained
    twin = copy.deepcopy(d)
    assert twin.detector_ is not d.detector_
    _continue_identically(d, twin, df)


def test_native_detector_pickles_as_model_file_bytes(trained):
    d, _ = trained
    assert pickle.loads(pickle.dumps(d.detector_)).to_bytes() == d.detector_.to_bytes()


def test_save_load_round_trip(trained, tmp_path):
    d, df = trained
    path = tmp_path / "model.tar.gz"
    d.save(path)
    loaded = rcf.load(path)
    assert isinstance(loaded, rcf.ThresholdedRandomCutForest)
    assert loaded.get_params() == d.get_params()
    assert list(loaded.feature_names_in_) == ["cpu", "mem"]
    _continue_identically(d, loaded, df)


def test_artifact_layout_matches_random_cut_forest(trained, tmp_path):
    d, _ = trained
    path = tmp_path / "model.tar.gz"
    d.save(path)
    with tarfile.open(path, "r:gz") as tar:
        assert tar.getnames() == ["model.rcf", "manifest.json"]
        model = tar.extractfile("model.rcf").read()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert model[:8] == b"RCFMODEL" and model == d.detector_.to_bytes()
    assert manifest["artifact_version"] == 1 and manifest["model_format_version"] == 4  # detectors: version 4
    assert manifest["model_checksum"] == f"{zlib.crc32(model):08x}"
    assert (manifest["feature_dim"], manifest["shingle_size"], manifest["num_trees"]) == (2, 4, 30)
    assert manifest["hyperparameters"]["model_type"] == "thresholded"
    assert manifest["created_by"].startswith("rcf-py ")


def test_load_returns_the_class_the_file_holds(trained, tmp_path):
    d, df = trained
    forest = rcf.RandomCutForest(num_trees=10, random_state=0).fit(df.iloc[:500])
    assert type(rcf.loads(forest.to_bytes())) is rcf.RandomCutForest
    assert type(rcf.loads(d.to_bytes())) is rcf.ThresholdedRandomCutForest
    bare = rcf.loads(d.detector_.to_bytes())  # a bare model.rcf holding a detector
    assert type(bare) is rcf.ThresholdedRandomCutForest
    _continue_identically(d, bare, df)
    with pytest.raises(rcf.ModelFileError, match="detector"):
        rcf.RandomCutForest.from_bytes(d.to_bytes())
    with pytest.raises(rcf.ModelFileError, match="plain forest"):
        rcf.ThresholdedRandomCutForest.from_bytes(forest.to_bytes())


def test_damaged_detector_files_raise_model_file_error(trained):
    d, _ = trained
    good, bare = d.to_bytes(), d.detector_.to_bytes()
    flipped = bytearray(bare)
    flipped[len(flipped) // 2] ^= 0xFF
    for data in (good[: len(good) // 2], good[:20], bare[:100], bytes(flipped), b"\x1f\x8b junk"):
        with pytest.raises(rcf.ModelFileError):
            rcf.loads(data)
        with pytest.raises(rcf.ModelFileError):
            rcf.ThresholdedRandomCutForest.from_bytes(data)


def test_save_before_any_input_raises(tmp_path):
    with pytest.raises(Exception, match="no input yet"):
        rcf.TRCF().save(tmp_path / "m.tar.gz")
