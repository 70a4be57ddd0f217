"""rcf.plot draws the flagged points and the attribution bars (matplotlib, Agg backend)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import rcf
import rcf.plot


def test_series_plot_marks_flagged_points(stream, tmp_path):
    scores = rcf.RandomCutForest(shingle_size=4, random_state=0).score_update(stream)
    threshold = 1.5
    fig = rcf.plot.series(stream, scores, threshold=threshold, title="spike")
    top, bottom = fig.axes
    flagged = int((scores > threshold).sum())
    assert flagged >= 1
    assert top.collections[0].get_offsets().shape[0] == flagged  # red dots on the series
    assert bottom.collections[0].get_offsets().shape[0] == flagged  # and on the scores
    assert top.get_title() == "spike"
    out = tmp_path / "series.png"
    fig.savefig(out)
    assert out.stat().st_size > 10_000


def test_series_plot_default_threshold_and_dataframe(stream):
    df = pd.DataFrame({"value": stream}, index=pd.date_range("2024-01-01", periods=len(stream), freq="min"))
    scores = rcf.RandomCutForest(shingle_size=4, random_state=0).score_update(df)
    fig = rcf.plot.series(df, scores)
    assert "anomalies flagged" in fig.axes[0].get_title()
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "value"


def test_series_plot_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="values has 3 rows but scores has 2"):
        rcf.plot.series([1.0, 2.0, 3.0], [0.1, 0.2])


def test_attribution_bar_chart(fitted, tmp_path):
    parts = fitted.attribution([[0.0, 6.0, -5.0]])
    fig = rcf.plot.attribution(parts, feature_names=["a", "b", "c"])
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 6  # high and low bar per feature
    np.testing.assert_allclose(heights[:3], parts[0, :, 0])
    np.testing.assert_allclose(heights[3:], -parts[0, :, 1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    fig.savefig(tmp_path / "why.png")


def test_attribution_bar_chart_from_dataframe_row(blobs):
    df = pd.DataFrame(blobs, columns=["x", "y", "z"])
    model = rcf.RandomCutForest(num_trees=10, random_state=0).fit(df)
    frame = model.attribution(pd.DataFrame([[5.0, 0.0, 0.0]], columns=["x", "y", "z"]))
    fig = rcf.plot.attribution(frame)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["x", "y", "z"]


def test_attribution_bar_chart_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"shape \(d, 2\)"):
        rcf.plot.attribution(np.zeros((3, 3)))
