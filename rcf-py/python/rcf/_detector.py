"""`ThresholdedRandomCutForest`: the streaming detector with anomaly grades, a self-adjusting threshold,
explanations, missing-value filling and forecasts (after AWS's ThresholdedRandomCutForest)."""

from __future__ import annotations

import datetime
import itertools
import json
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from rcf import _rcf
from rcf._validation import as_2d, check_int, check_real, check_seed, is_pandas, name_column

_TRANSFORMS = ("none", "normalize", "difference", "normalize_difference", "subtract_moving_average")
_FILLS = ("reject", "zero", "previous", "linear", "forest")
_HYPER_PARAMS = "rcf-py.params"
_HYPER_FEATURES = "rcf-py.feature_names"
_HYPER_KIND = "model_type"
SUPPRESSIONS: Tuple[str, ...] = tuple(_rcf.SUPPRESSIONS)


class Forecast(NamedTuple):
    """A forecast as arrays of shape ``(horizon, n_features)``: the point forecast and the interval."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class AnomalyDescriptor:
    """What :meth:`ThresholdedRandomCutForest.process` says about one input.

    Attributes
    ----------
    timestamp : int or datetime-like
        The input's timestamp (as given, or the one assigned).
    score : float
        RCF's anomaly score (higher is more anomalous; 0 while the forest warms up).
    grade : float
        Anomaly grade in [0, 1]: 0 is normal, anything above 0 an anomaly.
    threshold : float
        The self-adjusting threshold the score was compared with.
    confidence : float
        Confidence in [0, 1] in the model's view of the data (low while warming up or after many
        imputed values).
    relative_index : int
        Where in the shingle the anomaly most likely started: 0 is this input, ``-k`` k inputs ago.
    start_of_anomaly : bool
        True when this input starts a new anomaly.
    in_high_score_region : bool
        True while scores stay above the threshold, reported or not.
    suppression : str
        Why a candidate (score above the threshold) was not reported: ``"none"``, ``"near_expected"``,
        ``"earlier_anomaly_in_shingle"``, ``"alert_once"``, ``"continuation"``, ``"similar_context"`` or ``"data_drift"``.
    imputed_values : int
        Values imputed for this input (its NaN values and the inputs of a timestamp gap before it).
    expected_values, actual_values : ndarray of shape (n_features,) or None
        What the model expected at ``relative_index``, and what arrived there (candidates only).
    attribution : ndarray of shape (n_features, 2) or None
        The score split by feature (summed over the shingle) and direction: ``[:, 0]`` higher than
        expected, ``[:, 1]`` lower (candidates only).
    feature_names : tuple of str
    """

    timestamp: Any
    score: float
    grade: float
    threshold: float
    confidence: float
    relative_index: int
    start_of_anomaly: bool
    in_high_score_region: bool
    suppression: str
    imputed_values: int
    expected_values: Optional[np.ndarray] = field(repr=False)
    actual_values: Optional[np.ndarray] = field(repr=False)
    attribution: Optional[np.ndarray] = field(repr=False)
    feature_names: Tuple[str, ...] = field(repr=False)

    @property
    def is_anomaly(self) -> bool:
        """``grade > 0``."""
        return self.grade > 0.0

    def to_dict(self) -> Dict[str, Any]:
        """The descriptor as one row of :meth:`ThresholdedRandomCutForest.process_series`: the same keys,
        with ``expected_<feature>`` and ``attribution_<feature>`` (``high + low``), NaN when not computed."""
        row = {k: getattr(self, k) for k in _SCALAR_COLUMNS}
        nan = float("nan")
        for j, name in enumerate(self.feature_names):
            row[f"expected_{name}"] = nan if self.expected_values is None else float(self.expected_values[j])
        for j, name in enumerate(self.feature_names):
            row[f"attribution_{name}"] = nan if self.attribution is None else float(self.attribution[j].sum())
        return row

    def __getitem__(self, key: str) -> Any:
        """Dict-style access to :meth:`to_dict`'s keys (``d["grade"]``, ``d["expected_cpu"]``)."""
        return self.to_dict()[key]


_SCALAR_COLUMNS = (
    "timestamp",
    "score",
    "grade",
    "threshold",
    "confidence",
    "relative_index",
    "start_of_anomaly",
    "in_high_score_region",
    "suppression",
    "imputed_values",
)


class ThresholdedRandomCutForest:
    """Streaming anomaly detector with grades, a self-adjusting threshold and explanations.

    A Random Cut Forest behind a streaming transform, a threshold that adapts to the stream's own
    scores, and a corrector that explains each anomaly, after AWS's ThresholdedRandomCutForest
    (TRCF). Each input gets an anomaly *grade* in [0, 1] (0 = normal), the threshold in force, the
    attribution of its score, where in the shingle the anomaly started, and the values the model
    expected there. Missing values (NaN) and gaps in the timestamps can be filled on the fly.
    All work runs in Rust with the GIL released. ``rcf.TRCF`` is the same class.

    The detector learns as it goes: there is no ``fit``. Feed it with :meth:`process` (one input) or
    :meth:`process_series` (many, in one call); each input is scored against what came before and
    then learnt. The number of features is fixed by the first input.

    Parameters
    ----------
    shingle_size : int, default=8
        Consecutive inputs joined into one point.
    num_trees : int, default=50
    sample_size : int, default=256
        Points kept per tree.
    time_decay : float or None, default=None
        Recency bias of the sample (``None``: ``1 / (10 * sample_size)``).
    output_after : int or None, default=None
        Points before scores are produced (``None``: the forest's default).
    random_state : int or None, default=None
        Seed of all randomness; the same seed and inputs give identical results.
    transform : str, default="none"
        How inputs are transformed before the forest sees them: ``"none"``, ``"normalize"``
        (``(x - mean) / deviation``), ``"difference"`` (``x - previous x``), ``"normalize_difference"``
        or ``"subtract_moving_average"``. Expected values and forecasts are in input units.
    z_factor : float, default=3.0
        The threshold sits this many deviations above the mean score, in (0, 100].
    lower_threshold : float, default=0.8
        The threshold never goes below this.
    anomaly_rate : float or None, default=None
        Expected fraction of anomalies in (0, 0.5]: sets ``z_factor`` to the normal quantile of
        ``1 - anomaly_rate`` (never below 2), overriding it.
    fill : str or list of float, default="reject"
        What to do with missing values (NaN) and gaps in the timestamps: ``"reject"`` (NaN raises
        ``ValueError``; gaps are ignored), ``"zero"``, ``"previous"``, ``"linear"`` (interpolate across
        a gap), ``"forest"`` (the forest's best estimate), or a list of fixed values, one per feature.
    alert_once : bool, default=False
        Report an anomaly once, not again while the scores stay high.
    ignore_near_expected : (float, float), default=(0.0, 0.0)
        ``(absolute, relative)``: do not report anomalies whose values are within ``absolute`` of the
        expected values, or within ``relative * |expected|``, in every feature.
    noise_suppression : float, default=1.0
        Do not report anomalies departing from the expected values by no more than this many times
        the larger of the stream's typical step-to-step change and the average step along the
        shingle since the anomaly (0 turns this off).
    similar_context_suppression : float, default=0.1
        Do not report an anomaly when at least this fraction of the (up to 50) sampled shingles
        nearest to its own hold values within that noise tolerance of its values: it has been seen
        before in a similar context (AWS TRCF's rule and value; 0 turns this off).
    forecast_horizon : int or None, default=None
        Keep calibrating forecasts of this many steps against what arrives, so that :meth:`forecast`
        intervals cover the stated fraction of later values. 1 to 10,000, and times the number of
        features at most 16,384 (rcf-core's limits, as for every parameter; see ``rcf._rcf.LIMITS``).

    Attributes
    ----------
    detector_ : rcf._rcf.Detector
        The native detector (after the first input).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names of the first DataFrame seen, if any; they name the output columns, and later
        DataFrames must have the same.

    Examples
    --------
    >>> import numpy as np, rcf
    >>> t = np.arange(2000)
    >>> series = np.sin(2 * np.pi * t / 50) + np.random.default_rng(0).normal(0, 0.05, t.size)
    >>> series[1500] += 4.0
    >>> detector = rcf.ThresholdedRandomCutForest(shingle_size=4, random_state=0)
    >>> result = detector.process_series(series)          # a DataFrame: one row per input
    >>> bool(result["grade"].iloc[1500] > 0)
    True
    >>> int((result["grade"] > 0).sum()) <= 20
    True
    >>> d = detector.process(np.sin(2 * np.pi * 2000 / 50))  # one more input
    >>> d.grade
    0.0
    """

    def __init__(
        self,
        shingle_size: int = 8,
        num_trees: int = 50,
        sample_size: int = 256,
        time_decay: Optional[float] = None,
        output_after: Optional[int] = None,
        random_state: Optional[int] = None,
        transform: str = "none",
        z_factor: float = 3.0,
        lower_threshold: float = 0.8,
        anomaly_rate: Optional[float] = None,
        fill: Any = "reject",
        alert_once: bool = False,
        ignore_near_expected: Tuple[float, float] = (0.0, 0.0),
        noise_suppression: float = 1.0,
        similar_context_suppression: float = 0.1,
        forecast_horizon: Optional[int] = None,
    ) -> None:
        self.shingle_size = shingle_size
        self.num_trees = num_trees
        self.sample_size = sample_size
        self.time_decay = time_decay
        self.output_after = output_after
        self.random_state = random_state
        self.transform = transform
        self.z_factor = z_factor
        self.lower_threshold = lower_threshold
        self.anomaly_rate = anomaly_rate
        self.fill = fill
        self.alert_once = alert_once
        self.ignore_near_expected = ignore_near_expected
        self.noise_suppression = noise_suppression
        self.similar_context_suppression = similar_context_suppression
        self.forecast_horizon = forecast_horizon
        self._check_params()

    _PARAMS = (
        "shingle_size",
        "num_trees",
        "sample_size",
        "time_decay",
        "output_after",
        "random_state",
        "transform",
        "z_factor",
        "lower_threshold",
        "anomaly_rate",
        "fill",
        "alert_once",
        "ignore_near_expected",
        "noise_suppression",
        "similar_context_suppression",
        "forecast_horizon",
    )

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor parameters (as scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def __repr__(self) -> str:
        defaults = ThresholdedRandomCutForest.__init__.__defaults__ or ()
        changed = [
            f"{k}={v!r}" for (k, v), d in zip(self.get_params().items(), defaults) if not _same(v, d)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ------------------------------------------------------------------ processing

    def process(self, x: Any, timestamp: Any = None) -> AnomalyDescriptor:
        """Processes one input: scores, grades and explains it, then learns it.

        Parameters
        ----------
        x : float, sequence of float, 1-D array, or pandas Series
            One input: a number for a one-feature stream, else one value per feature (a pandas
            Series is one row, its index the feature names). NaN values are filled per ``fill``.
        timestamp : int, datetime-like or None, default=None
            Must be later than the previous input's. ``None``: the previous timestamp + 1 (0 first).
            Datetimes (``datetime``, ``numpy.datetime64``, ``pandas.Timestamp``) are used as
            nanoseconds since the epoch. With a ``fill`` other than ``"reject"``, a gap of whole
            intervals before the timestamp is filled with imputed inputs.

        Returns
        -------
        AnomalyDescriptor

        Raises
        ------
        ValueError
            ``rcf.InvalidInputError`` for an infinite value, a NaN with ``fill="reject"`` (naming the
            column), or a timestamp not after the previous one; ``ValueError`` for a wrong number of
            values.

        Examples
        --------
        >>> import rcf
        >>> detector = rcf.ThresholdedRandomCutForest(shingle_size=2, random_state=0)
        >>> d = detector.process([1.0, 2.0], timestamp=10)
        >>> (d.timestamp, d.grade, d.suppression)
        (10, 0.0, 'none')
        >>> try:
        ...     detector.process([1.0, 2.0], timestamp=5)
        ... except ValueError as e:                      # rcf.InvalidInputError
        ...     print(e)
        timestamp 5 is not after the previous timestamp 10; timestamps must increase strictly
        """
        values, names = self._one_input(x)
        native = self._native(len(values), names)
        ts = None if timestamp is None else _timestamp_value(timestamp)
        with self._named_errors():
            columns = native.process(values, ts)
        return self._descriptor(columns, 0, timestamp if timestamp is not None else int(columns["timestamp"][0]))

    def process_series(self, X: Any, timestamps: Any = None, *, as_frame: Optional[bool] = None) -> Any:
        """Processes many inputs in order, in one call into Rust: the same results as calling
        :meth:`process` on each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,), or a pandas DataFrame/Series
            Consecutive inputs, one per row (1-D input is one feature). A DataFrame's column names
            become the feature names of the output columns.
        timestamps : array-like of int or datetime-like, of shape (n_samples,), optional
            Strictly increasing. Default: a DataFrame's or Series' ``DatetimeIndex`` if it has one,
            else the previous timestamp + 1, + 2, ...
        as_frame : bool or None, default=None
            ``None``: a pandas DataFrame when pandas is installed, else a NumPy structured array.

        Returns
        -------
        DataFrame or structured ndarray, one row per input
            Columns ``timestamp``, ``score``, ``grade``, ``threshold``, ``confidence``,
            ``relative_index``, ``start_of_anomaly``, ``in_high_score_region``, ``suppression``,
            ``imputed_values``, then ``expected_<feature>`` and ``attribution_<feature>`` (``high +
            low``, summed over the shingle) for each feature, NaN for rows whose score was below the
            threshold. A DataFrame keeps the index of a pandas input.

        Raises
        ------
        ValueError
            As :meth:`process`, naming the row. The detector is then left as it was before the call.

        Examples
        --------
        >>> import numpy as np, pandas as pd, rcf
        >>> t = np.arange(1000)
        >>> df = pd.DataFrame({"cpu": np.sin(t / 10), "mem": np.cos(t / 10)})
        >>> df.loc[800, "cpu"] += 5
        >>> out = rcf.TRCF(shingle_size=4, random_state=1).process_series(df)
        >>> list(out.columns[-4:])
        ['expected_cpu', 'expected_mem', 'attribution_cpu', 'attribution_mem']
        >>> row = out.loc[800]
        >>> bool(row.grade > 0), bool(row.attribution_cpu > row.attribution_mem)
        (True, True)
        """
        rows, names = self._rows(X)
        native = self._native(rows.shape[1], names)
        ts, datetimes = self._series_timestamps(X, timestamps, rows.shape[0])
        with self._named_errors():
            columns = native.process_series(rows, ts)
        index = X.index if is_pandas(X) else None
        return self._table(columns, as_frame, index, datetimes)

    # ------------------------------------------------------------------ forecasting and imputation

    def forecast(self, horizon: int, coverage: float = 0.9, *, as_frame: Optional[bool] = None) -> Any:
        """Forecasts the next ``horizon`` inputs, in input units, with intervals.

        With ``forecast_horizon`` set (and enough inputs seen), the intervals are calibrated on the
        detector's own past errors so that they cover ``coverage`` of later values; otherwise they are
        the spread of the trees' proposals. Needs ``shingle_size >= 2``. The detector is not changed.

        Parameters
        ----------
        horizon : int
            Steps to forecast: 0 to 10,000, and times the number of features at most 1,048,576. A
            long forecast stops with ``KeyboardInterrupt`` on Ctrl-C.
        coverage : float, default=0.9
            Fraction of later values the interval ``[lower, upper]`` should cover, in [0, 1].
        as_frame : bool or None, default=None
            ``None``: a DataFrame when pandas is installed, else a :class:`Forecast` of arrays.

        Returns
        -------
        DataFrame or Forecast
            The DataFrame is indexed by step (1..horizon) with columns ``value``, ``lower``, ``upper``
            for one feature, or ``value_<f>``, ``lower_<f>``, ``upper_<f>`` per feature ``f``.
            ``lower <= value <= upper``. :class:`Forecast` holds arrays of shape (horizon, n_features).

        Examples
        --------
        >>> import numpy as np, rcf
        >>> detector = rcf.TRCF(shingle_size=16, random_state=0)
        >>> _ = detector.process_series(np.sin(2 * np.pi * np.arange(2000) / 40))
        >>> f = detector.forecast(10, as_frame=False)
        >>> f.value.shape
        (10, 1)
        >>> bool(np.all((f.lower <= f.value) & (f.value <= f.upper)))
        True
        """
        native = self._fitted()
        h = check_int("horizon", horizon)
        c = check_real("coverage", coverage)
        value, lower, upper = native.forecast(h, c)
        return _forecast_output(Forecast(value.astype(np.float64), lower.astype(np.float64), upper.astype(np.float64)), self._names(), as_frame)

    def impute(self, x: Any) -> Any:
        """The next input ``x`` with its missing values (NaN) filled by the forest, given the recent
        inputs; the other values are returned unchanged. The detector is not changed.

        Parameters
        ----------
        x : sequence of float, 1-D array or pandas Series
            One input (one value per feature).

        Returns
        -------
        ndarray of shape (n_features,), float64, or a Series for a Series

        Examples
        --------
        >>> import numpy as np, rcf
        >>> t = np.arange(1500)
        >>> detector = rcf.TRCF(shingle_size=4, random_state=0)
        >>> _ = detector.process_series(np.column_stack([np.sin(t / 10), 2 * np.sin(t / 10)]))
        >>> filled = detector.impute([np.sin(1500 / 10), np.nan])
        >>> bool(abs(filled[1] - 2 * np.sin(1500 / 10)) < 0.3)
        True
        """
        native = self._fitted()
        values, _ = self._one_input(x)
        if values.shape[0] != self.n_features_in_:
            raise ValueError(f"x has {values.shape[0]} values, but {type(self).__name__} is expecting {self.n_features_in_}")
        with self._named_errors():
            filled = native.impute(values)
        original = np.asarray(x, dtype=np.float64).reshape(-1)
        out = np.where(np.isnan(original), filled.astype(np.float64), original)
        if is_pandas(x):
            return type(x)(out, index=x.index, name=getattr(x, "name", None))
        return out

    # ------------------------------------------------------------------ state

    @property
    def threshold_(self) -> float:
        """The current threshold on the anomaly score."""
        return float(self._fitted().threshold)

    @property
    def inputs_seen_(self) -> int:
        """Inputs processed so far, imputed ones included."""
        return int(self._fitted().inputs_seen)

    # ------------------------------------------------------------------ persistence

    def save(self, path: Any) -> None:
        """Writes the detector as ``model.tar.gz`` (``model.rcf`` + ``manifest.json``), the same
        artifact layout as :meth:`RandomCutForest.save`; :func:`rcf.load` reads it back as a
        ``ThresholdedRandomCutForest``. ``path`` is local (written atomically) or an fsspec URI.

        Examples
        --------
        >>> import os, tempfile, numpy as np, rcf
        >>> detector = rcf.TRCF(shingle_size=4, random_state=0)
        >>> _ = detector.process_series(np.sin(np.arange(500) / 10))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.tar.gz")
        >>> detector.save(path)
        >>> again = rcf.load(path)
        >>> type(again).__name__, again.process(0.5).score == detector.process(0.5).score
        ('ThresholdedRandomCutForest', True)
        """
        from rcf._io import write_bytes

        write_bytes(path, self.to_bytes())

    def to_bytes(self) -> bytes:
        """The ``model.tar.gz`` bytes :meth:`save` writes."""
        from rcf import __version__
        from rcf._io import pack_artifact

        native = self._fitted()
        config = native.config()
        names = getattr(self, "feature_names_in_", None)
        hyper = {
            _HYPER_KIND: "thresholded",
            "feature_dim": str(config["input_dims"]),
            "num_trees": str(config["num_trees"]),
            "num_samples_per_tree": str(config["sample_size"]),
            "shingle_size": str(config["shingle_size"]),
            _HYPER_PARAMS: json.dumps({k: v for k, v in self.get_params().items() if k != "random_state"}),
        }
        if names is not None:
            hyper[_HYPER_FEATURES] = json.dumps([str(n) for n in names])
        manifest = {
            "feature_dim": config["input_dims"],
            "shingle_size": config["shingle_size"],
            "num_trees": config["num_trees"],
            "num_samples_per_tree": config["sample_size"],
            "hyperparameters": hyper,
            "training": None,
            "created_by": f"rcf-py {__version__}",
        }
        return pack_artifact(native.to_bytes(), manifest)

    @classmethod
    def from_bytes(cls, data: bytes) -> "ThresholdedRandomCutForest":
        """A detector from ``model.tar.gz`` (or bare ``model.rcf``) bytes.

        Raises
        ------
        rcf.ModelFileError
            For bytes that are not a readable detector (truncated, corrupted, foreign, newer, or a
            plain forest: load that with :func:`rcf.loads`).
        """
        from rcf._io import load_native

        native, manifest = load_native(data)
        if not isinstance(native, _rcf.Detector):
            raise _rcf.ModelFileError(
                "model file is inconsistent: this file holds a plain forest, not a thresholded detector"
            )
        return cls._from_detector(native, manifest)

    @classmethod
    def _from_detector(cls, native: "_rcf.Detector", manifest: Optional[dict]) -> "ThresholdedRandomCutForest":
        config = native.config()
        hyper = (manifest or {}).get("hyperparameters") or {}
        # A bare model.rcf carries only the forest's configuration; the other parameters then keep
        # their defaults in get_params (the detector's behaviour is in the file either way).
        params: Dict[str, Any] = {
            "shingle_size": config["shingle_size"],
            "num_trees": config["num_trees"],
            "sample_size": config["sample_size"],
            "time_decay": config["time_decay"],
            "output_after": config["output_after"],
        }
        if hyper.get(_HYPER_PARAMS):
            params.update(json.loads(hyper[_HYPER_PARAMS]))
        if isinstance(params.get("ignore_near_expected"), list):
            params["ignore_near_expected"] = tuple(params["ignore_near_expected"])
        params["random_state"] = config["seed"]
        model = cls(**{k: v for k, v in params.items() if k in cls._PARAMS})
        model.detector_ = native
        model.n_features_in_ = config["input_dims"]
        if hyper.get(_HYPER_FEATURES):
            model.feature_names_in_ = np.asarray(json.loads(hyper[_HYPER_FEATURES]), dtype=object)
        return model

    def __getstate__(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------------ helpers

    def _check_params(self) -> dict:
        """Checks the parameters; returns the native constructor's keyword arguments."""
        fill = self.fill
        fill_values = None
        if isinstance(fill, str):
            if fill not in _FILLS:
                raise ValueError(f"fill must be one of {', '.join(map(repr, _FILLS))} or a list of values, got {fill!r}")
        else:
            # At most one value per feature: never read more of a (possibly endless) iterable.
            most = _rcf.LIMITS["input_dims"]["max"]
            fill = list(itertools.islice(fill, most + 1)) if isinstance(fill, Iterable) else fill
            if isinstance(fill, list) and len(fill) > most:
                raise ValueError(f"fill has more than {most} values: at most one per feature")
            try:
                fill_values = [float(v) for v in fill]
            except TypeError:
                raise TypeError(f"fill must be a string or a list of numbers, got {type(fill).__name__}") from None
            except ValueError as e:
                raise TypeError(f"fill must be a string or a list of numbers: {e}") from None
            if not all(math.isfinite(v) for v in fill_values):
                raise ValueError(f"fill values must be finite, got {fill_values}")
            fill = "fixed"
        if self.transform not in _TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(map(repr, _TRANSFORMS))}, got {self.transform!r}")
        try:
            near = tuple(itertools.islice(self.ignore_near_expected, 3))
        except TypeError:
            raise TypeError("ignore_near_expected must be a pair (absolute, relative)") from None
        if len(near) != 2:
            raise ValueError(f"ignore_near_expected must be a pair (absolute, relative), got {self.ignore_near_expected!r}")
        absolute, relative = (check_real("ignore_near_expected", v) for v in near)
        rate = None if self.anomaly_rate is None else check_real("anomaly_rate", self.anomaly_rate)
        seed = None if self.random_state is None else check_seed(self.random_state)
        if not isinstance(self.alert_once, (bool, np.bool_)):
            raise TypeError(f"alert_once must be a bool, got {type(self.alert_once).__name__}")
        z = check_real("z_factor", self.z_factor)
        return {
            "shingle_size": check_int("shingle_size", self.shingle_size),
            "num_trees": check_int("num_trees", self.num_trees),
            "sample_size": check_int("sample_size", self.sample_size),
            "time_decay": None if self.time_decay is None else check_real("time_decay", self.time_decay),
            "output_after": None if self.output_after is None else check_int("output_after", self.output_after),
            "seed": seed,
            "transform": self.transform,
            "z_factor": z,
            "lower_threshold": check_real("lower_threshold", self.lower_threshold),
            "anomaly_rate": rate,
            "fill": fill,
            "fill_values": fill_values,
            "alert_once": bool(self.alert_once),
            "ignore_near_expected": (absolute, relative),
            "noise_suppression": check_real("noise_suppression", self.noise_suppression),
            "similar_context_suppression": check_real("similar_context_suppression", self.similar_context_suppression),
            "forecast_horizon": None
            if self.forecast_horizon is None
            else check_int("forecast_horizon", self.forecast_horizon),
        }

    def _native(self, n_features: int, names: Optional[List[str]]) -> "_rcf.Detector":
        """The native detector, created at the first input (which fixes the number of features)."""
        if hasattr(self, "detector_"):
            if n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but {type(self).__name__} is expecting {self.n_features_in_} features"
                )
            known = getattr(self, "feature_names_in_", None)
            if names is not None and known is not None and list(names) != [str(n) for n in known]:
                raise ValueError(f"feature names {list(names)} differ from those seen first: {list(known)}")
            if names is not None and known is None:
                self.feature_names_in_ = np.asarray(names, dtype=object)
            return self.detector_
        kwargs = self._check_params()
        if kwargs["fill_values"] is not None and len(kwargs["fill_values"]) != n_features:
            raise ValueError(f"fill has {len(kwargs['fill_values'])} values, but the input has {n_features} features")
        with self._named_errors():
            self.detector_ = _rcf.Detector(n_features, **kwargs)
        self.n_features_in_ = n_features
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        return self.detector_

    def _fitted(self) -> "_rcf.Detector":
        native = getattr(self, "detector_", None)
        if native is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"this {type(self).__name__} has seen no input yet; call process() or process_series() first"
            )
        return native

    def _names(self) -> List[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _one_input(self, x: Any) -> Tuple[np.ndarray, Optional[List[str]]]:
        names = None
        if is_pandas(x):
            if type(x).__name__ == "DataFrame":
                if len(x) != 1:
                    raise ValueError(f"process takes one input; got a DataFrame of {len(x)} rows (use process_series)")
                x = x.iloc[0]
            names = [str(n) for n in x.index]
            arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
        elif isinstance(x, numbers.Real) and not isinstance(x, bool):
            arr = np.asarray([x], dtype=np.float64)
        else:
            if x is None or isinstance(x, (str, bytes, dict, set)):
                raise TypeError(f"x must be a number or a sequence of numbers, got {type(x).__name__}")
            try:
                arr = np.asarray(x, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise TypeError(f"x must be a number or a sequence of numbers: {e}") from None
            if arr.ndim == 2 and arr.shape[0] == 1:
                arr = arr[0]
            if arr.ndim != 1:
                raise ValueError(
                    f"process takes one input (a number or one value per feature), got shape {arr.shape}; "
                    "use process_series for many"
                )
        return np.ascontiguousarray(arr, dtype=np.float32), names

    def _rows(self, X: Any) -> Tuple[np.ndarray, Optional[List[str]]]:
        X2, _ = as_2d(X)
        names = None
        if is_pandas(X2):
            if all(isinstance(c, str) for c in X2.columns):
                names = [str(c) for c in X2.columns]
            arr = X2.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(X2)
            if arr.dtype.kind not in "fiub":
                arr = arr.astype(np.float64)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D (rows of features) or 1-D (one feature), got shape {arr.shape}")
        if arr.shape[1] == 0:
            raise ValueError("X has 0 features")
        return np.ascontiguousarray(arr, dtype=np.float32), names

    def _series_timestamps(self, X: Any, timestamps: Any, n: int) -> Tuple[Optional[np.ndarray], Any]:
        """(int64 timestamps or None, how to show them: None for ints, else a datetime dtype)."""
        if timestamps is None:
            index = getattr(X, "index", None) if is_pandas(X) else None
            if index is None or not _is_datetime_like(index):
                return None, None
            timestamps = index
        if is_pandas(timestamps) or type(timestamps).__module__.startswith("pandas"):
            import pandas as pd

            if _is_datetime_like(timestamps):
                values = pd.DatetimeIndex(timestamps)
                if hasattr(values, "as_unit"):  # pandas >= 2 may hold other units than ns
                    values = values.as_unit("ns")
                tz = values.tz
                ints = (values.tz_convert("UTC").tz_localize(None) if tz is not None else values).asi8
                return _checked_length(np.ascontiguousarray(ints, dtype=np.int64), n), (tz or "naive")
            timestamps = np.asarray(timestamps)
        arr = np.asarray(timestamps)
        if arr.dtype.kind == "M":
            ints = arr.astype("datetime64[ns]").astype(np.int64)
            return _checked_length(np.ascontiguousarray(ints), n), "naive"
        if arr.dtype == object and arr.size and isinstance(arr.flat[0], (datetime.datetime, np.datetime64)):
            ints = np.array([_timestamp_value(v) for v in arr.ravel()], dtype=np.int64)
            return _checked_length(ints, n), "naive"
        if arr.dtype.kind in "iu":
            return _checked_length(np.ascontiguousarray(arr, dtype=np.int64).ravel(), n), None
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return _checked_length(np.ascontiguousarray(arr, dtype=np.int64).ravel(), n), None
        raise TypeError(f"timestamps must be integers or datetimes, got dtype {arr.dtype}")

    def _descriptor(self, columns: Dict[str, np.ndarray], i: int, timestamp: Any) -> AnomalyDescriptor:
        expected = columns["expected"][i].astype(np.float64)
        actual = columns["actual"][i].astype(np.float64)
        attribution = columns["attribution"][i]
        candidate = not np.all(np.isnan(attribution))
        return AnomalyDescriptor(
            timestamp=timestamp,
            score=float(columns["score"][i]),
            grade=float(columns["grade"][i]),
            threshold=float(columns["threshold"][i]),
            confidence=float(columns["confidence"][i]),
            relative_index=int(columns["relative_index"][i]),
            start_of_anomaly=bool(columns["start_of_anomaly"][i]),
            in_high_score_region=bool(columns["in_high_score_region"][i]),
            suppression=SUPPRESSIONS[int(columns["suppression"][i])],
            imputed_values=int(columns["imputed_values"][i]),
            expected_values=expected if not np.all(np.isnan(expected)) else None,
            actual_values=actual if not np.all(np.isnan(actual)) else None,
            attribution=attribution.copy() if candidate else None,
            feature_names=tuple(self._names()),
        )

    def _table(self, columns: Dict[str, np.ndarray], as_frame: Optional[bool], index: Any, datetimes: Any) -> Any:
        names = self._names()
        suppression = np.asarray(SUPPRESSIONS, dtype=object)[columns["suppression"]]
        fields: List[Tuple[str, np.ndarray]] = [
            ("timestamp", columns["timestamp"]),
            ("score", columns["score"]),
            ("grade", columns["grade"]),
            ("threshold", columns["threshold"]),
            ("confidence", columns["confidence"]),
            ("relative_index", columns["relative_index"]),
            ("start_of_anomaly", columns["start_of_anomaly"]),
            ("in_high_score_region", columns["in_high_score_region"]),
            ("suppression", suppression),
            ("imputed_values", columns["imputed_values"]),
        ]
        expected = columns["expected"].astype(np.float64)
        attribution = columns["attribution"].sum(axis=2)
        fields += [(f"expected_{name}", expected[:, j]) for j, name in enumerate(names)]
        fields += [(f"attribution_{name}", attribution[:, j]) for j, name in enumerate(names)]
        if as_frame is None:
            try:
                import pandas  # noqa: F401

                as_frame = True
            except ImportError:
                as_frame = False
        if as_frame:
            import pandas as pd

            data = dict(fields)
            if datetimes is not None:
                stamps = pd.to_datetime(data["timestamp"], unit="ns")
                if datetimes != "naive":
                    stamps = stamps.tz_localize("UTC").tz_convert(datetimes)
                data["timestamp"] = stamps
            data["suppression"] = pd.Categorical(suppression, categories=list(SUPPRESSIONS))
            return pd.DataFrame(data, index=index)
        dtype = [(name, values.dtype if name != "suppression" else "U26") for name, values in fields]
        if datetimes is not None:
            dtype[0] = ("timestamp", "datetime64[ns]")
        out = np.empty(len(columns["score"]), dtype=dtype)
        for name, values in fields:
            out[name] = values.astype(out.dtype[name]) if name == "timestamp" and datetimes is not None else values
        return out

    def _named_errors(self) -> Any:
        return _NamedErrors(getattr(self, "feature_names_in_", None))


class _NamedErrors:
    """Re-raises the native module's input errors with the feature's name added."""

    def __init__(self, names: Optional[np.ndarray]) -> None:
        self.names = names

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        if kind is None or not issubclass(kind, _rcf.InvalidInputError) or self.names is None:
            return False
        row, column = getattr(error, "row", None), getattr(error, "column", None)
        named = _rcf.InvalidInputError(name_column(str(error), row, column, self.names))
        named.row, named.column = row, column
        raise named from None


def _forecast_output(f: Forecast, names: Sequence[str], as_frame: Optional[bool]) -> Any:
    if as_frame is None:
        try:
            import pandas  # noqa: F401

            as_frame = True
        except ImportError:
            as_frame = False
    if not as_frame:
        return f
    import pandas as pd

    index = pd.RangeIndex(1, f.value.shape[0] + 1, name="step")
    if len(names) == 1:
        return pd.DataFrame({"value": f.value[:, 0], "lower": f.lower[:, 0], "upper": f.upper[:, 0]}, index=index)
    data = {}
    for kind, arr in (("value", f.value), ("lower", f.lower), ("upper", f.upper)):
        for j, name in enumerate(names):
            data[f"{kind}_{name}"] = arr[:, j]
    return pd.DataFrame(data, index=index)


def _checked_length(ts: np.ndarray, n: int) -> np.ndarray:
    if ts.ndim != 1 or ts.shape[0] != n:
        raise ValueError(f"timestamps has {ts.size} values, but X has {n} rows")
    return ts


def _is_datetime_like(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return False
    return getattr(dtype, "kind", None) == "M" or str(dtype).startswith("datetime64")


def _timestamp_value(t: Any) -> int:
    """An int64 timestamp from an int or a datetime-like (nanoseconds since the epoch, UTC)."""
    if isinstance(t, bool):
        raise TypeError("timestamp must be an int or a datetime, got bool")
    if isinstance(t, numbers.Integral):
        value = int(t)
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"timestamp {value} does not fit in 64 bits")
        return value
    if isinstance(t, np.datetime64):
        return int(t.astype("datetime64[ns]").astype(np.int64))
    if isinstance(t, datetime.datetime):
        if type(t).__module__.startswith("pandas"):
            return int(t.value if t.tzinfo is None else t.tz_convert("UTC").value)
        if t.tzinfo is not None:
            t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return int(np.datetime64(t, "ns").astype(np.int64))
    if isinstance(t, numbers.Real) and float(t).is_integer():
        return int(t)
    raise TypeError(f"timestamp must be an int or a datetime, got {type(t).__name__}")


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # pragma: no cover - exotic parameter values
        return False


TRCF = ThresholdedRandomCutForest
