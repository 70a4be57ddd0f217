"""Streaming: score_update, update and partial_fit."""

import numpy as np
import pandas as pd

import rcf


def test_score_update_equals_score_then_update_per_row(stream):
    batch = rcf.RandomCutForest(num_trees=20, sample_size=64, shingle_size=4, random_state=9)
    loop = rcf.RandomCutForest(num_trees=20, sample_size=64, shingle_size=4, random_state=9)
    got = batch.score_update(stream[:600])
    loop.update(stream[:1])
    expected = [0.0]
    for x in stream[1:600]:
        expected.append(loop.anomaly_score([x])[0])
        loop.update([x])
    np.testing.assert_array_equal(got, np.asarray(expected))
    assert batch.forest_.to_bytes() == loop.forest_.to_bytes()


def test_score_update_finds_the_spike(stream):
    scores = rcf.RandomCutForest(shingle_size=8, random_state=0).score_update(stream)
    assert scores.argmax() in range(1500, 1508)


def test_partial_fit_is_update(stream):
    a = rcf.RandomCutForest(num_trees=10, random_state=1).partial_fit(stream[:500])
    b = rcf.RandomCutForest(num_trees=10, random_state=1).update(stream[:500])
    assert a.forest_.to_bytes() == b.forest_.to_bytes()
    assert a.forest_.points_seen == 500


def test_streaming_after_fit_continues_the_model(blobs):
    model = rcf.RandomCutForest(num_trees=20, random_state=0).fit(blobs)
    seen = model.forest_.points_seen
    model.update(blobs[:10])
    assert model.forest_.points_seen == seen + 10
    scores = model.score_update(blobs[10:20])
    assert scores.shape == (10,) and np.all(scores > 0)


def test_streaming_dataframe_keeps_feature_names(blobs):
    df = pd.DataFrame(blobs[:300], columns=["a", "b", "c"])
    model = rcf.RandomCutForest(num_trees=10, random_state=0)
    model.score_update(df)
    assert list(model.feature_names_in_) == ["a", "b", "c"]


def test_streaming_only_model_has_no_threshold_until_fit(stream):
    import pytest
    from sklearn.exceptions import NotFittedError

    model = rcf.RandomCutForest(num_trees=10, random_state=0)
    model.score_update(stream[:500])
    with pytest.raises(NotFittedError, match="no threshold"):
        model.predict(stream[:5])
    assert model.anomaly_score(stream[:5]).shape == (5,)
