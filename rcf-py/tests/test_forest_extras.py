"""RandomCutForest.forecast, impute, near_neighbors and density (thin wrappers over rcf-core)."""

import numpy as np
import pandas as pd
import pytest

import rcf


@pytest.fixture(scope="module")
def seasonal():
    t = np.arange(3000)
    model = rcf.RandomCutForest(shingle_size=12, random_state=0)
    model.update(np.sin(2 * np.pi * t / 30))
    return model


def test_forecast_shapes_ordering_and_accuracy(seasonal):
    f = seasonal.forecast(24, coverage=0.9, as_frame=False)
    assert isinstance(f, rcf.Forecast) and f.value.shape == f.lower.shape == f.upper.shape == (24, 1)
    assert np.all(f.lower <= f.upper)
    truth = np.sin(2 * np.pi * (3000 + np.arange(24)) / 30)
    assert np.sqrt(np.mean((f.value[:, 0] - truth) ** 2)) < 0.2
    frame = seasonal.forecast(24)
    assert list(frame.columns) == ["value", "lower", "upper"] and len(frame) == 24
    before = seasonal.forest_.to_bytes()
    seasonal.forecast(5)
    assert seasonal.forest_.to_bytes() == before


def test_forecast_needs_shingling_and_valid_arguments(blobs, seasonal):
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(blobs)
    with pytest.raises(ValueError, match="shingle_size of at least 2"):
        model.forecast(3)
    with pytest.raises(ValueError, match="coverage"):
        seasonal.forecast(3, coverage=-0.1)
    with pytest.raises(TypeError):
        seasonal.forecast(2.5)


def test_impute_fills_nan_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    X = np.column_stack([x, 2 * x + 1])
    model = rcf.RandomCutForest(random_state=0).fit(pd.DataFrame(X, columns=["a", "b"]))
    rows = np.array([[0.5, np.nan], [np.nan, -3.0], [0.1234567891, 7.0]])
    out = model.impute(pd.DataFrame(rows, columns=["a", "b"])).to_numpy()
    assert out.shape == rows.shape and out.dtype == np.float64
    known = ~np.isnan(rows)
    np.testing.assert_array_equal(out[known], rows[known])  # untouched, bit for bit
    assert abs(out[0, 1] - 2.0) < 0.5 and abs(out[1, 0] + 2.0) < 0.5
    df = pd.DataFrame(rows, columns=["a", "b"], index=[10, 11, 12])
    framed = model.impute(df)
    assert list(framed.columns) == ["a", "b"] and list(framed.index) == [10, 11, 12]
    with pytest.raises(ValueError, match=r"row 0, column 1 \('b'\)"):
        model.impute(pd.DataFrame([[1.0, np.inf]], columns=["a", "b"]))


def test_impute_with_shingling_takes_one_row(seasonal):
    out = seasonal.impute([np.nan])
    assert out.shape == (1,) and abs(out[0] - np.sin(2 * np.pi * 3000 / 30)) < 0.3
    with pytest.raises(ValueError, match="one row"):
        seasonal.impute([[np.nan], [np.nan]])


def test_near_neighbors_and_density():
    X = np.random.default_rng(1).normal(size=(2000, 2))
    model = rcf.RandomCutForest(num_trees=50, random_state=0).fit(X)
    nn = model.near_neighbors([0.0, 0.0], k=5)
    assert isinstance(nn, rcf.Neighbors)
    assert nn.points.shape[1] == 2 and 1 <= len(nn.distances) <= 5
    assert np.all(np.diff(nn.distances) >= 0)
    np.testing.assert_allclose(nn.distances, np.linalg.norm(nn.points, axis=1), rtol=1e-5)
    assert np.all((nn.tree_fractions > 0) & (nn.tree_fractions <= 1))
    d = model.density([[0.0, 0.0], [4.0, 4.0], [10.0, -10.0]])
    assert d.shape == (3,) and d[0] > d[1] > d[2] >= 0
    with pytest.raises(ValueError):
        model.near_neighbors([0.0, np.nan])
    with pytest.raises(ValueError, match=r"invalid k: 0 \(between 1 and 10000\)"):
        model.near_neighbors([0.0, 0.0], k=0)
