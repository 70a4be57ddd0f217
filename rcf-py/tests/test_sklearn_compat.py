"""scikit-learn's own estimator checks, and the sign conventions the docs promise."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import rcf

# Every check expected to fail, with the reason. xfail is strict: a check that starts passing fails
# the suite, so this list cannot go stale.
EXPECTED_FAILED_CHECKS = {
    "check_fit1d": (
        "by design 1-D input is one feature (a time series), as issue 6 specifies; scikit-learn "
        "expects fit to reject 1-D X"
    ),
}
# Skipped by scikit-learn itself, not by us: check_array_api_input runs only when the environment
# variable SCIPY_ARRAY_API=1 is set (array-API namespaces are not supported: input becomes NumPy).


@parametrize_with_checks(
    [rcf.RandomCutForest(num_trees=30, sample_size=64)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
    xfail_strict=True,
)
def test_sklearn_check(estimator, check):
    check(estimator)


def test_score_samples_is_minus_anomaly_score(fitted, blobs):
    np.testing.assert_array_equal(fitted.score_samples(blobs[:50]), -fitted.anomaly_score(blobs[:50]))


def test_decision_function_is_score_samples_minus_offset(fitted, blobs):
    np.testing.assert_allclose(fitted.decision_function(blobs[:50]), fitted.score_samples(blobs[:50]) - fitted.offset_)


def test_predict_flags_negative_decisions(fitted, blobs):
    X = np.vstack([blobs[:20], [[9.0, 9.0, 9.0]]])
    pred = fitted.predict(X)
    np.testing.assert_array_equal(pred, np.where(fitted.decision_function(X) < 0, -1, 1))
    assert pred[-1] == -1


def test_auto_threshold_is_mean_plus_three_std_of_training_scores(blobs):
    model = rcf.RandomCutForest(num_trees=30, random_state=0).fit(blobs)
    scores = model.anomaly_score(blobs)
    assert model.threshold_ == pytest.approx(scores.mean() + 3 * scores.std())
    assert model.offset_ == -model.threshold_


def test_contamination_flags_that_fraction_of_training_rows(blobs):
    model = rcf.RandomCutForest(num_trees=30, random_state=0, contamination=0.05).fit(blobs)
    assert (model.predict(blobs) == -1).sum() == pytest.approx(100, abs=2)


def test_get_set_params_round_trip():
    model = rcf.RandomCutForest(num_trees=7, shingle_size=3, contamination=0.1)
    params = model.get_params()
    assert params["num_trees"] == 7 and params["shingle_size"] == 3 and params["contamination"] == 0.1
    assert model.set_params(num_trees=9).num_trees == 9


def test_feature_names_in_from_dataframe(blobs):
    import pandas as pd
    df = pd.DataFrame(blobs, columns=["a", "b", "c"])
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(df)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert model.n_features_in_ == 3
