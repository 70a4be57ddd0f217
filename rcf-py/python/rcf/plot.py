"""Plots for a notebook: a series with its anomaly scores and flagged points, and the attribution of
one point as a bar chart. Needs matplotlib (``pip install 'rcf[plot]'``).

>>> import numpy as np, rcf, rcf.plot
>>> values = np.sin(np.arange(1000) / 20.0)
>>> values[700] = 3.0
>>> model = rcf.RandomCutForest(shingle_size=4, random_state=0)
>>> scores = model.score_update(values)
>>> fig = rcf.plot.series(values, scores)
>>> len(fig.axes)
2
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

__all__ = ["series", "attribution"]

#: Largest figure side in inches: at matplotlib's default 100 dots per inch, a 5,000-pixel side,
#: so a figure's canvas stays under 100 MB however many points or features it shows.
MAX_FIGURE_INCHES = 50.0


def _figsize(figsize: Any) -> tuple:
    """``figsize`` as two positive inch sizes of at most :data:`MAX_FIGURE_INCHES`, or ValueError."""
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"figsize must be a pair of numbers (width, height) in inches, got {figsize!r}") from None
    for v in (width, height):
        if not 0 < v <= MAX_FIGURE_INCHES:
            raise ValueError(f"invalid figsize: {figsize!r} (each side in (0, {MAX_FIGURE_INCHES:g}] inches)")
    return width, height


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("rcf.plot needs matplotlib: pip install 'rcf[plot]'") from None
    return plt


def series(
    values: Any,
    scores: Any,
    *,
    threshold: Optional[float] = None,
    index: Optional[Sequence[Any]] = None,
    title: Optional[str] = None,
    figsize: tuple = (12, 5),
) -> Any:
    """A time series (top) and its anomaly scores (bottom), with the points whose score exceeds the
    threshold marked in red on both.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, d), or a pandas Series/DataFrame
        The series; each column is drawn as a line (a DataFrame's index and column names are used).
    scores : array-like of shape (n,)
        Anomaly scores (higher = more anomalous), e.g. from ``RandomCutForest.score_update``.
    threshold : float, optional
        Scores above it are flagged. Default: mean + 3 standard deviations of the non-zero scores
        (or pass ``model.threshold_``).
    index : sequence, optional
        x-axis values (default: the pandas index, else 0..n-1).
    title : str, optional
    figsize : tuple, default (12, 5)
        Width and height in inches, each at most :data:`MAX_FIGURE_INCHES`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    figsize = _figsize(figsize)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    names = None
    if index is None and hasattr(values, "index"):
        index = np.asarray(values.index)
    if hasattr(values, "columns"):
        names = [str(c) for c in values.columns]
    elif hasattr(values, "name") and values.name is not None:
        names = [str(values.name)]
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v.reshape(-1, 1)
    if v.shape[0] != scores.shape[0]:
        raise ValueError(f"values has {v.shape[0]} rows but scores has {scores.shape[0]}")
    x = np.arange(len(scores)) if index is None else np.asarray(index)
    if threshold is None:
        warm = scores[scores > 0]
        threshold = float(warm.mean() + 3 * warm.std()) if warm.size else float("inf")
    flagged = scores > threshold

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=figsize, gridspec_kw={"height_ratios": [3, 2]})
    for j in range(v.shape[1]):
        top.plot(x, v[:, j], lw=1, label=names[j] if names else (f"x{j}" if v.shape[1] > 1 else None))
        top.scatter(x[flagged], v[flagged, j], color="red", s=25, zorder=3)
    if names or v.shape[1] > 1:
        top.legend(loc="upper left")
    top.set_ylabel("value")
    top.set_title(title or f"{int(flagged.sum())} anomalies flagged")
    bottom.plot(x, scores, color="tab:purple", lw=1, label="anomaly score")
    bottom.scatter(x[flagged], scores[flagged], color="red", s=25, zorder=3, label="flagged")
    if np.isfinite(threshold):
        bottom.axhline(threshold, color="red", ls="--", lw=1, label=f"threshold {threshold:.3g}")
    bottom.set_ylabel("anomaly score")
    bottom.legend(loc="upper left")
    fig.tight_layout()
    return fig


def attribution(
    parts: Any,
    *,
    feature_names: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
    ax: Any = None,
) -> Any:
    """A bar chart of one point's attribution: per feature, the part of its anomaly score due to a
    value higher than expected (up) and lower than expected (down).

    Parameters
    ----------
    parts : array-like of shape (d, 2) or (1, d, 2), or a pandas Series / one-row DataFrame
        One row of ``RandomCutForest.attribution``. A pandas object holds totals per feature
        (``as_frame=True``) and is drawn as one bar per feature.
    feature_names : sequence of str, optional
        Default: the pandas labels, else x0, x1, …
    title : str, optional
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, rcf, rcf.plot
    >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(500, 3)))
    >>> fig = rcf.plot.attribution(model.attribution([[0.0, 6.0, 0.0]])[0], feature_names=["a", "b", "c"])
    """
    plt = _pyplot()
    if hasattr(parts, "columns") or hasattr(parts, "index"):  # pandas: totals per feature
        row = parts.iloc[0] if hasattr(parts, "columns") else parts
        names = list(feature_names or [str(c) for c in row.index])
        high, low = np.asarray(row, dtype=np.float64), None
    else:
        arr = np.asarray(parts, dtype=np.float64)
        if arr.ndim == 3 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"expected one point's attribution of shape (d, 2), got {arr.shape}")
        high, low = arr[:, 0], arr[:, 1]
        names = list(feature_names or [f"x{i}" for i in range(arr.shape[0])])
    if len(names) != len(high):
        raise ValueError(f"{len(names)} feature names for {len(high)} features")
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(max(4, 0.6 * len(names) + 2), MAX_FIGURE_INCHES), 4))
    else:
        fig = ax.figure
    pos = np.arange(len(names))
    if low is None:
        ax.bar(pos, high, color="tab:purple", label="contribution")
        total = high.sum()
    else:
        ax.bar(pos, high, color="tab:red", label="higher than expected")
        ax.bar(pos, -low, color="tab:blue", label="lower than expected")
        total = high.sum() + low.sum()
        ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(pos)
    ax.set_xticklabels(names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center")
    ax.set_ylabel("share of the anomaly score")
    ax.set_title(title or f"attribution (anomaly score {total:.3g})")
    ax.legend()
    fig.tight_layout()
    return fig
