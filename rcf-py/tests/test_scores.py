"""What the scores and attributions mean, and that every accepted input form gives the same answer."""

import numpy as np
import pandas as pd
import pytest

import rcf


def test_outlier_scores_higher_than_inliers(fitted):
    scores = fitted.anomaly_score([[0.0, 0.0, 0.0], [0.0, 7.0, 0.0]])
    assert scores[1] > 2 * scores[0]


def test_scoring_does_not_change_the_model(fitted, blobs):
    before = fitted.forest_.to_bytes()
    fitted.anomaly_score(blobs[:100])
    fitted.attribution(blobs[:100])
    assert fitted.forest_.to_bytes() == before


def test_attribution_sums_to_score(fitted, blobs):
    X = np.vstack([blobs[:30], [[0.0, -6.0, 2.0]]])
    parts = fitted.attribution(X)
    assert parts.shape == (31, 3, 2)
    np.testing.assert_allclose(parts.sum(axis=(1, 2)), fitted.anomaly_score(X), rtol=1e-6)


def test_attribution_names_feature_and_direction(fitted):
    parts = fitted.attribution([[0.0, -7.0, 0.0]])[0]
    assert parts.sum(axis=1).argmax() == 1
    assert parts[1, 1] > parts[1, 0]  # lower than expected


def test_attribution_with_shingle_folds_or_keeps_lags(stream):
    model = rcf.RandomCutForest(num_trees=30, shingle_size=4, random_state=0).fit(stream[:1400])
    X = stream[1400:1600]
    folded = model.attribution(X)
    lagged = model.attribution(X, fold_shingle=False)
    assert folded.shape == (200, 1, 2) and lagged.shape == (200, 4, 2)
    np.testing.assert_allclose(folded.sum(axis=(1, 2)), model.anomaly_score(X), rtol=1e-6)
    np.testing.assert_allclose(lagged.sum(axis=1), folded[:, 0, :], rtol=1e-9)


def test_attribution_dataframe_columns_and_index(blobs):
    df = pd.DataFrame(blobs, columns=["cpu", "mem", "disk"], index=pd.RangeIndex(100, 2100))
    model = rcf.RandomCutForest(num_trees=20, random_state=0).fit(df)
    frame = model.attribution(df.iloc[:5])
    assert list(frame.columns) == ["cpu", "mem", "disk"]
    assert list(frame.index) == [100, 101, 102, 103, 104]
    np.testing.assert_allclose(frame.sum(axis=1).to_numpy(), model.anomaly_score(df.iloc[:5]), rtol=1e-6)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert isinstance(model.attribution(blobs[:5]), np.ndarray)
    assert isinstance(model.attribution(df.iloc[:5], as_frame=False), np.ndarray)


def test_every_input_form_gives_identical_scores(fitted, blobs):
    X = blobs[:200]
    expected = fitted.anomaly_score(X)
    forms = {
        "float32 C": np.ascontiguousarray(X, dtype=np.float32),
        "float32 F": np.asfortranarray(X, dtype=np.float32),
        "float64 F": np.asfortranarray(X),
        "strided view": np.repeat(X, 2, axis=0)[::2],
        "list of lists": X.tolist(),
        "list of tuples": [tuple(r) for r in X.tolist()],
        "DataFrame": pd.DataFrame(X),
        "object array": X.astype(object),
    }
    for name, form in forms.items():
        np.testing.assert_array_equal(fitted.anomaly_score(form), expected, err_msg=name)


def test_one_dimensional_input_is_one_feature(stream):
    series = pd.Series(stream, name="value")
    a = rcf.RandomCutForest(num_trees=20, random_state=3).fit(stream)
    b = rcf.RandomCutForest(num_trees=20, random_state=3).fit(series)
    c = rcf.RandomCutForest(num_trees=20, random_state=3).fit(stream.reshape(-1, 1).tolist())
    assert a.n_features_in_ == b.n_features_in_ == c.n_features_in_ == 1
    assert list(b.feature_names_in_) == ["value"]
    np.testing.assert_array_equal(a.anomaly_score(stream[:100]), b.anomaly_score(series[:100]))
    np.testing.assert_array_equal(a.anomaly_score(stream[:100]), c.anomaly_score(stream[:100].tolist()))


def test_same_random_state_same_model(blobs):
    a = rcf.RandomCutForest(num_trees=20, random_state=11).fit(blobs)
    b = rcf.RandomCutForest(num_trees=20, random_state=11).fit(blobs)
    c = rcf.RandomCutForest(num_trees=20, random_state=12).fit(blobs)
    assert a.forest_.to_bytes() == b.forest_.to_bytes()
    assert not np.array_equal(a.anomaly_score(blobs[:50]), c.anomaly_score(blobs[:50]))


def test_scores_do_not_depend_on_n_jobs(blobs):
    one = rcf.RandomCutForest(num_trees=20, random_state=5, n_jobs=1).fit(blobs)
    all_ = rcf.RandomCutForest(num_trees=20, random_state=5, n_jobs=-1).fit(blobs)
    two = rcf.RandomCutForest(num_trees=20, random_state=5, n_jobs=2).fit(blobs)
    assert one.forest_.to_bytes() == all_.forest_.to_bytes() == two.forest_.to_bytes()
    np.testing.assert_array_equal(one.anomaly_score(blobs), all_.anomaly_score(blobs))
    np.testing.assert_array_equal(one.attribution(blobs[:100]), two.attribution(blobs[:100]))


def test_fit_with_fewer_rows_than_trees_still_scores():
    model = rcf.RandomCutForest(num_trees=50, random_state=0).fit([[1.0], [2.0], [3.0]])
    assert np.all(model.anomaly_score([[100.0]]) > 0)


def test_fit_scores_at_once_and_streaming_waits_for_output_after():
    X = np.random.default_rng(2).normal(size=(40, 2))
    assert np.all(rcf.RandomCutForest(num_trees=10, random_state=0).fit(X).anomaly_score(X) > 0)
    scores = rcf.RandomCutForest(num_trees=10, sample_size=64, random_state=0).score_update(X)
    assert np.all(scores[:16] == 0) and np.all(scores[16:] > 0)  # output_after = 64 // 4


def test_results_are_float64_arrays_owned_by_numpy(fitted, blobs):
    s = fitted.anomaly_score(blobs[:10])
    a = fitted.attribution(blobs[:10])
    assert s.dtype == np.float64 and a.dtype == np.float64
    assert s.flags.owndata or s.base is not None
    assert s.flags.writeable and a.flags.c_contiguous
