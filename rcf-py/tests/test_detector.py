"""rcf.ThresholdedRandomCutForest: grades on a stream with injected spikes, process vs process_series,
outputs (DataFrame / structured array), errors, forecasts and imputation."""

import doctest

import numpy as np
import pandas as pd
import pytest

import rcf
import rcf._detector

SPIKES = [1200, 1650, 2100, 2550]


def spiky_series(n=3000, seed=3):
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / 60) + np.random.default_rng(seed).normal(0, 0.05, n)
    for s in SPIKES:
        if s < n:
            x[s] += 3.0
    return x


def detector(**kw):
    kw.setdefault("shingle_size", 8)
    kw.setdefault("random_state", 0)
    return rcf.ThresholdedRandomCutForest(**kw)


def test_docstring_examples():
    result = doctest.testmod(rcf._detector, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_alias_and_public_names_documented():
    assert rcf.TRCF is rcf.ThresholdedRandomCutForest
    cls = rcf.ThresholdedRandomCutForest
    public = [getattr(cls, m) for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m))]
    public += [rcf.AnomalyDescriptor, rcf.Forecast, rcf.Neighbors]
    assert [p for p in public if not (p.__doc__ or "").strip()] == []


def test_flags_every_spike_and_few_normal_points():
    x = spiky_series()
    out = detector().process_series(x)
    graded = out["grade"].to_numpy() > 0
    for s in SPIKES:
        assert graded[s], f"spike at {s} not graded"
        assert out["relative_index"].iloc[s] == 0  # the anomaly starts at this very input
        assert out["start_of_anomaly"].iloc[s]
        assert out["expected_x0"].iloc[s] < x[s] - 2.0  # expected: the sine, not the spike
        assert out["attribution_x0"].iloc[s] == pytest.approx(out["score"].iloc[s])
    near_spike = np.zeros(len(x), bool)
    for s in SPIKES:
        near_spike[s : s + 8] = True
    warm = np.arange(len(x)) >= 256
    normal_flagged = graded & ~near_spike & warm
    assert normal_flagged.sum() <= 0.01 * (warm & ~near_spike).sum()
    assert ((out["grade"] >= 0) & (out["grade"] <= 1)).all()


def test_process_and_process_series_agree():
    x = spiky_series(n=1500)
    a, b = detector(shingle_size=4), detector(shingle_size=4)
    series = a.process_series(x[:1300])
    rows = [b.process(v).to_dict() for v in x[:1300]]
    one_by_one = pd.DataFrame(rows)
    pd.testing.assert_frame_equal(
        series.reset_index(drop=True), one_by_one.astype(series.dtypes.to_dict()), check_categorical=False
    )
    # and they keep agreeing, whichever way the rest arrives
    tail = a.process_series(x[1300:])
    assert [b.process(v).grade for v in x[1300:]] == tail["grade"].tolist()


def test_descriptor_fields():
    x = spiky_series()
    d = detector()
    d.process_series(x[:1200])
    spike = d.process(x[1200], timestamp=1200)
    assert spike.is_anomaly and spike.grade > 0 and spike["grade"] == spike.grade
    assert spike.timestamp == 1200 and spike.suppression == "none"
    assert spike.attribution.shape == (1, 2) and spike.attribution[0, 0] > spike.attribution[0, 1]
    assert spike.expected_values.shape == (1,) and spike.actual_values[0] == pytest.approx(x[1200], rel=1e-6)
    for t in range(1201, 1220):
        calm = d.process(x[t], timestamp=t)
    assert not calm.is_anomaly and calm.expected_values is None and calm.attribution is None


def test_dataframe_input_names_columns_and_keeps_index():
    t = np.arange(1200)
    df = pd.DataFrame(
        {"cpu": np.sin(t / 10), "mem": np.cos(t / 15)},
        index=pd.date_range("2024-01-01", periods=t.size, freq="1min"),
    )
    df.iloc[1000, 1] += 4
    out = detector(shingle_size=4).process_series(df)
    assert out.index.equals(df.index)
    assert list(out.columns) == [
        "timestamp", "score", "grade", "threshold", "confidence", "relative_index", "start_of_anomaly",
        "in_high_score_region", "suppression", "imputed_values",
        "expected_cpu", "expected_mem", "attribution_cpu", "attribution_mem",
    ]  # fmt: skip
    assert (out["timestamp"] == df.index).all()  # the DatetimeIndex is used as the timestamps
    row = out.iloc[1000]
    assert row.grade > 0 and row.attribution_mem > row.attribution_cpu
    assert set(out["suppression"].cat.categories) == set(rcf._detector.SUPPRESSIONS)


def test_structured_array_without_pandas():
    x = spiky_series(n=1500)
    arr = detector().process_series(x, as_frame=False)
    assert isinstance(arr, np.ndarray) and arr.dtype.names[:3] == ("timestamp", "score", "grade")
    assert arr.shape == (1500,) and arr["grade"][1200] > 0 and arr["suppression"][0] == "none"
    assert arr["timestamp"].tolist() == list(range(1500))
    frame = detector().process_series(x)
    np.testing.assert_array_equal(arr["score"], frame["score"].to_numpy())


def test_timestamps_continue_and_can_be_given():
    d = detector(shingle_size=2)
    assert d.process_series(np.zeros(3))["timestamp"].tolist() == [0, 1, 2]
    assert d.process(0.0).timestamp == 3
    assert d.process_series(np.zeros(2), timestamps=[10, 20])["timestamp"].tolist() == [10, 20]
    assert d.process_series(np.zeros(2))["timestamp"].tolist() == [21, 22]


def test_nan_with_reject_raises_value_error_naming_row_and_column():
    x = np.column_stack([np.arange(20.0), np.arange(20.0)])
    x[6, 1] = np.nan
    d = detector(shingle_size=2)
    with pytest.raises(ValueError, match=r"row 6, column 1.*NaN.*fill") as info:
        d.process_series(x)
    assert isinstance(info.value, rcf.InvalidInputError)
    assert (info.value.row, info.value.column) == (6, 1)
    assert d.inputs_seen_ == 0  # a failed series leaves the detector as it was
    named = detector(shingle_size=2)
    with pytest.raises(ValueError, match=r"row 6, column 1 \('b'\)"):
        named.process_series(pd.DataFrame(x, columns=["a", "b"]))
    with pytest.raises(ValueError, match=r"column 0.*NaN"):
        detector(shingle_size=2).process([np.nan, 1.0])


def test_timestamps_not_increasing_raise_value_error_saying_so():
    d = detector(shingle_size=2)
    d.process_series(np.zeros(5), timestamps=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="not after the previous timestamp 5"):
        d.process(1.0, timestamp=5)
    with pytest.raises(ValueError, match=r"row 2: timestamp 7 is not after the previous timestamp 8"):
        d.process_series(np.zeros(4), timestamps=[6, 8, 7, 9])
    assert d.inputs_seen_ == 5  # unchanged
    with pytest.raises(ValueError, match="timestamps has 3 values, but X has 4 rows"):
        d.process_series(np.zeros(4), timestamps=[10, 11, 12])


def test_other_bad_input():
    d = detector(shingle_size=2)
    d.process([1.0, 2.0])
    with pytest.raises(ValueError, match="2 features"):
        d.process_series(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="expecting 2"):
        d.process([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"column 1.*inf"):
        d.process([1.0, np.inf])
    with pytest.raises(TypeError):
        d.process("abc")
    with pytest.raises(TypeError):
        d.process_series(None)
    with pytest.raises(TypeError, match="timestamps must be integers or datetimes"):
        d.process_series(np.zeros((2, 2)), timestamps=[1.5, 2.5])


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"transform": "log"}, ValueError),
        ({"fill": "mean"}, ValueError),
        ({"fill": [1.0, float("nan")]}, ValueError),
        ({"fill": 3}, TypeError),
        ({"num_trees": 0}, ValueError),
        ({"shingle_size": 2.5}, TypeError),
        ({"z_factor": 0}, ValueError),
        ({"anomaly_rate": 0.9}, ValueError),
        ({"ignore_near_expected": (1.0,)}, ValueError),
        ({"noise_suppression": -1}, ValueError),
        ({"similar_context_suppression": 1.5}, ValueError),
        ({"similar_context_suppression": "high"}, TypeError),
        ({"random_state": -1}, ValueError),
    ],
)
def test_bad_parameters(kwargs, error):
    with pytest.raises(error):
        rcf.ThresholdedRandomCutForest(**kwargs)


def test_fixed_fill_must_match_features_and_forecast_horizon_needs_shingle():
    with pytest.raises(ValueError, match="fill has 1 values"):
        rcf.TRCF(fill=[0.0]).process([1.0, 2.0])
    with pytest.raises(ValueError, match="forecast_horizon"):
        rcf.TRCF(shingle_size=1, forecast_horizon=4).process(1.0)


@pytest.mark.parametrize("transform", ["none", "normalize", "difference", "normalize_difference", "subtract_moving_average"])
def test_every_transform_runs_and_grades_the_spike(transform):
    x = 10 + spiky_series(n=1500)
    out = detector(transform=transform).process_series(x)
    assert np.isfinite(out["score"]).all()
    assert out["grade"].iloc[1200:1208].max() > 0


@pytest.mark.parametrize("fill", ["zero", "previous", "linear", "forest", [0.5]])
def test_fill_methods_impute_nan_and_gaps(fill):
    x = spiky_series(n=800)
    x[500] = np.nan
    ts = np.arange(800) * 10
    ts[600:] += 30  # a gap of three missing steps before row 600
    d = detector(fill=fill)
    out = d.process_series(x, timestamps=ts)
    assert out["imputed_values"].iloc[500] == 1
    assert out["imputed_values"].iloc[600] == 3
    assert d.inputs_seen_ == 803
    assert np.isfinite(out["score"]).all()


def test_forecast_shapes_and_interval_ordering():
    t = np.arange(3000)
    x = np.column_stack([np.sin(2 * np.pi * t / 40), 5 + np.cos(2 * np.pi * t / 40)])
    d = detector(shingle_size=16, forecast_horizon=12)
    d.process_series(pd.DataFrame(x, columns=["a", "b"]))
    f = d.forecast(12, coverage=0.8, as_frame=False)
    assert isinstance(f, rcf.Forecast)
    assert f.value.shape == f.lower.shape == f.upper.shape == (12, 2)
    assert np.all(f.lower <= f.value) and np.all(f.value <= f.upper)
    truth = np.column_stack([np.sin(2 * np.pi * (3000 + np.arange(12)) / 40), 5 + np.cos(2 * np.pi * (3000 + np.arange(12)) / 40)])
    assert np.abs(f.value - truth).max() < 0.5
    frame = d.forecast(12, coverage=0.8)
    assert list(frame.columns) == ["value_a", "value_b", "lower_a", "lower_b", "upper_a", "upper_b"]
    assert frame.index.tolist() == list(range(1, 13)) and frame.index.name == "step"
    wide = d.forecast(12, coverage=0.99, as_frame=False)
    assert np.all(wide.upper - wide.lower >= f.upper - f.lower - 1e-6)
    one = detector(shingle_size=8)
    one.process_series(np.sin(t / 7))
    assert list(one.forecast(3).columns) == ["value", "lower", "upper"]
    assert one.forecast(0, as_frame=False).value.shape == (0, 1)


def test_forecast_errors():
    d = detector(shingle_size=1)
    d.process(1.0)
    with pytest.raises(ValueError, match="shingle_size of at least 2"):
        d.forecast(3)
    d = detector(shingle_size=4)
    with pytest.raises(Exception, match="no input yet"):
        d.forecast(3)
    d.process(1.0)
    with pytest.raises(ValueError, match="coverage"):
        d.forecast(3, coverage=1.5)
    with pytest.raises(ValueError, match="horizon"):
        d.forecast(-1)


def test_impute_fills_nan_only():
    t = np.arange(2000)
    x = np.column_stack([np.sin(t / 10), 3 * np.sin(t / 10) + 1])
    d = detector(shingle_size=4)
    d.process_series(x)
    before = d.detector_.to_bytes()
    row = np.array([np.sin(2000 / 10), np.nan])
    filled = d.impute(row)
    assert filled[0] == row[0]  # exactly the given value, not a float32 round trip
    assert abs(filled[1] - (3 * np.sin(2000 / 10) + 1)) < 0.5
    assert d.detector_.to_bytes() == before  # the detector is not changed
    np.testing.assert_array_equal(d.impute([0.25, 1.5]), [0.25, 1.5])
    s = d.impute(pd.Series([np.nan, 1.0], index=["a", "b"]))
    assert list(s.index) == ["a", "b"] and s["b"] == 1.0 and np.isfinite(s["a"])
    with pytest.raises(ValueError, match="3 values"):
        d.impute([1.0, 2.0, 3.0])
