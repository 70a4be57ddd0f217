"""Every bad input raises the documented exception, with a message naming what and where."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

import rcf
from rcf import _rcf

METHODS = ["anomaly_score", "score_samples", "decision_function", "predict", "attribution", "update", "score_update"]


@pytest.mark.parametrize("method", METHODS + ["fit"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_value_names_row_and_column(fitted, blobs, method, bad):
    X = blobs[:10].copy()
    X[6, 2] = bad
    model = rcf.RandomCutForest(num_trees=10, random_state=0) if method == "fit" else fitted
    with pytest.raises(ValueError, match=r"row 6, column 2: value is (NaN|inf|-inf)") as info:
        getattr(model, method)(X)
    assert isinstance(info.value, rcf.InvalidInputError)
    assert (info.value.row, info.value.column) == (6, 2)


def test_bad_value_in_dataframe_names_the_column(blobs):
    df = pd.DataFrame(blobs[:50], columns=["cpu", "mem", "disk"])
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(df)
    df.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 3, column 1 \('mem'\): value is NaN"):
        model.anomaly_score(df)


def test_rows_are_all_checked_before_any_is_inserted(fitted, blobs):
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(blobs)
    before = model.forest_.to_bytes()
    X = blobs[:10].copy()
    X[9, 0] = np.nan
    with pytest.raises(ValueError):
        model.update(X)
    with pytest.raises(ValueError):
        model.score_update(X)
    assert model.forest_.to_bytes() == before


def test_float64_too_large_for_float32_is_rejected(fitted):
    with pytest.raises(ValueError, match=r"row 0, column 1: value is inf"):
        with np.errstate(over="ignore"):
            fitted.anomaly_score([[0.0, 1e300, 0.0]])


@pytest.mark.parametrize("method", METHODS)
def test_wrong_width_raises_value_error(fitted, blobs, method):
    with pytest.raises(ValueError, match="X has 2 features, but RandomCutForest is expecting 3 features"):
        getattr(fitted, method)(blobs[:5, :2])


def test_one_dimensional_input_to_a_multi_feature_model_explains_itself(fitted):
    with pytest.raises(ValueError, match=r"1-D.*expects 3 features.*reshape\(1, -1\)"):
        fitted.anomaly_score(np.zeros(3))


def test_ragged_list_names_the_row():
    with pytest.raises(ValueError, match="row 2 has 1 values, but row 0 has 2"):
        rcf.RandomCutForest().fit([[1.0, 2.0], [3.0, 4.0], [5.0]])


def test_non_numeric_cell_is_a_type_error_naming_row_and_column():
    with pytest.raises(TypeError, match=r"row 1, column 0: 'abc' is not a number"):
        rcf.RandomCutForest().fit([[1.0, 2.0], ["abc", 4.0]])
    with pytest.raises(TypeError, match=r"row 2, column 'b': 'x' is not a number"):
        rcf.RandomCutForest().fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, "x"]}))


@pytest.mark.parametrize("bad", [None, "1,2,3", 3.5, {"a": [1, 2]}, {1, 2}])
def test_not_array_like_is_a_type_error(bad):
    with pytest.raises(TypeError, match="X must be array-like"):
        rcf.RandomCutForest().fit(bad)


def test_datetime_input_is_a_type_error():
    with pytest.raises(TypeError, match="only real numbers"):
        rcf.RandomCutForest().fit(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"))


def test_sparse_input_is_a_type_error():
    with pytest.raises(TypeError, match="sparse input is not supported"):
        rcf.RandomCutForest().fit(sp.csr_matrix(np.eye(3)))


def test_complex_input_is_a_value_error():
    with pytest.raises(ValueError, match="Complex data not supported"):
        rcf.RandomCutForest().fit(np.ones((5, 2), dtype=complex))


def test_empty_input_is_a_value_error():
    with pytest.raises(ValueError, match="0 sample"):
        rcf.RandomCutForest().fit(np.empty((0, 3)))


def test_fewer_rows_than_shingle_is_a_value_error():
    with pytest.raises(ValueError, match="at least shingle_size=4 rows, got 3"):
        rcf.RandomCutForest(shingle_size=4).fit(np.zeros((3, 1)))


@pytest.mark.parametrize("method", METHODS[:5])
def test_not_fitted_error_before_fit(method):
    with pytest.raises(NotFittedError):
        getattr(rcf.RandomCutForest(), method)([[1.0]])


@pytest.mark.parametrize(
    "params, error, pattern",
    [
        ({"num_trees": 0}, ValueError, r"invalid num_trees: 0 \(between 1 and 10000\)"),
        ({"num_trees": 20_000}, ValueError, "invalid num_trees: 20000"),
        ({"num_trees": 2.5}, TypeError, "num_trees must be an int"),
        ({"sample_size": -3}, ValueError, r"invalid sample_size: -3 \(between 1 and 16384\)"),
        ({"shingle_size": "4"}, TypeError, "shingle_size must be an int"),
        ({"time_decay": -0.1}, ValueError, "invalid time_decay"),
        ({"time_decay": "fast"}, TypeError, "time_decay must be a number"),
        ({"initial_accept_fraction": 0.0}, ValueError, "invalid initial_accept_fraction"),
        ({"contamination": 0.7}, ValueError, r"invalid contamination: 0.7 \(a number in \(0, 0.5\]\)"),
        ({"contamination": "high"}, TypeError, "contamination must be 'auto'"),
        ({"n_jobs": 0}, ValueError, "n_jobs must not be 0"),
        ({"random_state": -1}, ValueError, "random_state must be in"),
    ],
)
def test_invalid_parameters(params, error, pattern):
    with pytest.raises(error, match=pattern):
        rcf.RandomCutForest(**params).fit(np.zeros((10, 1)))


def test_native_forest_rejects_wrong_width_and_layout():
    forest = _rcf.Forest(3, seed=1)
    with pytest.raises(ValueError, match="X has 2 features per row, but the forest expects 3"):
        forest.update(np.zeros((4, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        forest.update(np.zeros((4, 3), dtype=np.float32, order="F"))
    with pytest.raises(TypeError):
        forest.update(np.zeros((4, 3), dtype=np.float64))


def test_rust_panic_becomes_runtime_error_not_a_crash():
    with pytest.raises(RuntimeError, match="internal error in rcf .*deliberate panic"):
        _rcf._panic_for_testing()
    # the interpreter and the module still work
    assert _rcf.Forest(1, seed=0).points_seen == 0
