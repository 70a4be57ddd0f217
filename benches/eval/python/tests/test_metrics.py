import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import harness


@pytest.mark.parametrize("seed", range(5))
def test_roc_and_pr_match_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.1
    s = np.round(rng.random(500) + y * 0.3, 1)
    assert harness.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert harness.pr_auc(y, s) == pytest.approx(average_precision_score(y, s))


def test_align_by_timestamp_reorders_and_keeps_duplicates_in_order():
    data = ["a", "b", "b", "c"]
    got = harness.align_by_timestamp(data, ["c", "b", "a", "b"], ["3", "1", "0", "2"], "x")
    assert list(got) == [0.0, 1.0, 2.0, 3.0]
