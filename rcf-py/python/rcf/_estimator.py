"""`RandomCutForest`: the scikit-learn estimator around the native forest."""

from __future__ import annotations

import json
import numbers
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple, Optional

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from rcf import _rcf
from rcf._validation import as_2d, check_int, check_real, check_seed, is_pandas, name_column

_META_PARAMS = "rcf-py.params"
_META_OFFSET = "rcf-py.offset"
_META_FEATURES = "rcf-py.feature_names"
_META_STATS = "rcf-py.training"
_SEED_LIMIT = np.iinfo(np.int64).max


class Neighbors(NamedTuple):
    """Near neighbours of a point: ``points`` (m, dims), ``distances`` (m,), ``tree_fractions`` (m,)."""

    points: np.ndarray
    distances: np.ndarray
    tree_fractions: np.ndarray


class RandomCutForest(OutlierMixin, BaseEstimator):
    """Random Cut Forest anomaly detector: batch or streaming, explainable, scikit-learn compatible.

    A forest of random cut trees over a time-decayed sample of the data (Guha et al., ICML 2016), as
    in AWS's Random Cut Forest and SageMaker's built-in algorithm. All work on data runs in Rust with
    the GIL released.

    Two views of the same score:

    * **AWS's view**: :meth:`anomaly_score` is RCF's score, *higher is more anomalous* (about 1 or
      less for typical points). :meth:`attribution` splits it by feature and direction;
      :meth:`score_update` scores a stream and learns from it in one call.
    * **scikit-learn's view** (the outlier-detector convention, as in ``IsolationForest``):
      :meth:`score_samples` is ``-anomaly_score`` (*higher is more normal*);
      :meth:`decision_function` is ``score_samples(X) - offset_`` (negative for outliers);
      :meth:`predict` returns ``-1`` for outliers and ``1`` for inliers.

    Parameters
    ----------
    num_trees : int, default=100
        Number of trees.
    sample_size : int, default=256
        Points kept per tree.
    shingle_size : int, default=1
        Consecutive rows joined into one point (``1`` = no shingling). With shingling, the rows
        handed to every method are consecutive points of one stream, and each call continues the
        stream where the model's state left it.
    time_decay : float or None, default=None
        How strongly recent points are favoured by the streaming sample; ``None`` means
        ``1 / (10 * sample_size)`` and ``0`` a uniform sample.
    output_after : int or None, default=None
        Points a forest built by streaming must see before its scores are non-zero (``None``:
        ``sample_size // 4``). A forest built by :meth:`fit` scores at once unless this is set.
    initial_accept_fraction : float, default=1.0
        Fraction of each tree's sample filled unconditionally while the forest warms up.
    random_state : int, RandomState instance or None, default=None
        Seed of all randomness; the same seed and data give identical models.
    n_jobs : int or None, default=None
        Threads for batch calls (fit, scores, attribution). ``None`` or ``-1`` use every core
        (note: scikit-learn's ``None`` means one); ``-k`` all but ``k - 1``. A value above the number
        of cores is capped to it. Results do not depend on it.
    contamination : "auto" or float, default="auto"
        Sets the threshold :attr:`offset_`. ``"auto"``: an anomaly score above the training mean
        plus three standard deviations is an outlier (SageMaker's usual rule). A float in
        ``(0, 0.5]``: that fraction of the training rows are outliers.

    Attributes
    ----------
    forest_ : rcf._rcf.Forest
        The native model.
    offset_ : float
        ``-threshold``, so that ``decision_function = score_samples - offset_``.
    threshold_ : float
        The anomaly score above which :meth:`predict` flags a row (``-offset_``).
    training_stats_ : dict or None
        ``records``, ``score_mean`` and ``score_std`` of the training rows' anomaly scores.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Column names seen in :meth:`fit`, when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np, rcf
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> model = rcf.RandomCutForest(num_trees=50, random_state=0).fit(X)
    >>> scores = model.anomaly_score([[0.0, 0.0, 0.0], [8.0, 0.0, 0.0]])
    >>> bool(scores[1] > scores[0])
    True
    >>> model.predict([[0.0, 0.0, 0.0], [8.0, 0.0, 0.0]]).tolist()
    [1, -1]
    >>> why = model.attribution([[8.0, 0.0, 0.0]])   # (rows, features, [high, low])
    >>> int(why[0].sum(axis=1).argmax())               # feature 0 explains the anomaly
    0
    """

    def __init__(
        self,
        num_trees: int = 100,
        sample_size: int = 256,
        shingle_size: int = 1,
        time_decay: Optional[float] = None,
        output_after: Optional[int] = None,
        initial_accept_fraction: float = 1.0,
        random_state: Any = None,
        n_jobs: Optional[int] = None,
        contamination: Any = "auto",
    ) -> None:
        self.num_trees = num_trees
        self.sample_size = sample_size
        self.shingle_size = shingle_size
        self.time_decay = time_decay
        self.output_after = output_after
        self.initial_accept_fraction = initial_accept_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.contamination = contamination

    # ------------------------------------------------------------------ scikit-learn API

    def fit(self, X: Any, y: Any = None) -> "RandomCutForest":
        """Builds the forest from the rows of ``X`` in one pass (SageMaker's batch training).

        Each tree gets an equal, disjoint share of a uniform sample of ``min(n, num_trees *
        sample_size)`` rows; the threshold :attr:`offset_` is then set from the training rows'
        scores. ``y`` is ignored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
            Training rows (1-D input is one feature).
        y : ignored

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=1).fit(np.sin(np.arange(500) / 10))
        >>> model.n_features_in_
        1
        """
        params = self._checked_params()
        rows = self._rows(X, reset=True)
        if rows.shape[0] < params["shingle_size"]:
            raise ValueError(
                f"fit needs at least shingle_size={params['shingle_size']} rows, got {rows.shape[0]}"
            )
        output_after = params.pop("output_after")
        with self._named_errors():
            forest = _rcf.Forest.fit(
                rows, output_after=1 if output_after is None else output_after, n_jobs=self._n_jobs(), **params
            )
            scores = forest.score(rows, n_jobs=self._n_jobs())
        # With shingling, the first shingle_size - 1 rows were scored against the end of the training
        # stream; the rest are exactly the training points.
        scores = scores[params["shingle_size"] - 1 :]
        self.forest_ = forest
        self.training_stats_ = {
            "records": int(rows.shape[0]),
            "score_mean": float(scores.mean()),
            "score_std": float(scores.std()),
        }
        if self.contamination == "auto":
            self.offset_ = -(self.training_stats_["score_mean"] + 3.0 * self.training_stats_["score_std"])
        else:
            self.offset_ = float(np.percentile(-scores, 100.0 * self.contamination))
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn's score: ``-anomaly_score(X)``, so *lower is more abnormal*.

        Returns
        -------
        ndarray of shape (n_samples,), float64

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.zeros((300, 2)) + np.arange(300)[:, None] % 7)
        >>> bool(model.score_samples([[100.0, 100.0]])[0] < model.score_samples([[3.0, 3.0]])[0])
        True
        """
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, non-negative for inliers.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(1000, 2)))
        >>> bool(model.decision_function([[9.0, 9.0]])[0] < 0)
        True
        """
        self._check_threshold()
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """``-1`` for outliers (``decision_function < 0``), ``1`` for inliers.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(1000, 2)))
        >>> model.predict([[0.0, 0.0], [9.0, 9.0]]).tolist()
        [1, -1]
        """
        decision = self.decision_function(X)
        return np.where(decision < 0, -1, 1).astype(np.int64)

    # ------------------------------------------------------------------ RCF view

    def anomaly_score(self, X: Any) -> np.ndarray:
        """AWS's anomaly score of each row: *higher is more anomalous*; the model is not changed.

        Rows are scored in parallel (``n_jobs``). With ``shingle_size > 1``, the rows are consecutive
        points continuing the stream the model has seen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)

        Returns
        -------
        ndarray of shape (n_samples,), float64

        Raises
        ------
        NotFittedError
            Before :meth:`fit` (or a streaming call).
        ValueError
            For a NaN or infinite value (the message names the row and column) or a wrong width.
        TypeError
            For input that is not numeric.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(1000, 2)))
        >>> s = model.anomaly_score(np.array([[0.0, 0.0], [6.0, -6.0]], dtype=np.float32))
        >>> bool(s[1] > 2 * s[0])
        True
        """
        check_is_fitted(self, "forest_")
        rows = self._rows(X, reset=False)
        with self._named_errors():
            return self.forest_.score(rows, n_jobs=self._n_jobs())

    def attribution(self, X: Any, *, as_frame: Optional[bool] = None, fold_shingle: bool = True) -> Any:
        """How much each feature contributes to each row's anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)
        as_frame : bool or None, default=None
            ``True``: a pandas DataFrame with one column per feature (``high + low``; each row sums to
            the anomaly score), indexed like ``X`` when ``X`` is a pandas object. ``None``: a DataFrame
            exactly when ``X`` is a DataFrame or Series.
        fold_shingle : bool, default=True
            With shingling, sum each feature's contributions over the shingle. ``False`` keeps them
            apart: ``shingle_size * n_features`` columns, oldest row first.

        Returns
        -------
        ndarray of shape (n_samples, n_features, 2) or DataFrame
            ``[..., 0]`` is the part due to values *higher* than expected, ``[..., 1]`` *lower*. The
            sum over the last two axes equals :meth:`anomaly_score`.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(1000, 2)))
        >>> a = model.attribution([[0.0, -7.0]])
        >>> a.shape
        (1, 2, 2)
        >>> bool(a[0, 1, 1] > a[0, 1, 0])      # feature 1 is unusually *low*
        True
        >>> bool(np.isclose(a.sum(), model.anomaly_score([[0.0, -7.0]])[0]))
        True
        """
        check_is_fitted(self, "forest_")
        rows = self._rows(X, reset=False)
        with self._named_errors():
            parts = self.forest_.attribution(rows, n_jobs=self._n_jobs(), fold_shingle=fold_shingle)
        if as_frame is None:
            as_frame = is_pandas(X)
        if not as_frame:
            return parts
        import pandas as pd

        names = [str(n) for n in self._feature_names()]
        if not fold_shingle and self.shingle_size > 1:
            lags = range(self.shingle_size - 1, -1, -1)
            names = [f"{name}[t-{lag}]" if lag else f"{name}[t]" for lag in lags for name in names]
        index = X.index if is_pandas(X) else None
        return pd.DataFrame(parts.sum(axis=2), index=index, columns=names)

    # ------------------------------------------------------------------ imputation, forecasts, neighbours

    def impute(self, X: Any) -> Any:
        """Fills the missing values (NaN) of each row with the forest's estimate given the row's known
        values (and, with shingling, the model's recent stream); other values are returned unchanged.
        The model is not changed.

        Each row is imputed as the next point of the stream, independently of the other rows. With
        ``shingle_size > 1`` that only makes sense for one row, so only one row is accepted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples,)

        Returns
        -------
        ndarray of the shape of ``X`` (float64), or a DataFrame/Series for pandas input

        Examples
        --------
        >>> import numpy as np, rcf
        >>> x = np.random.default_rng(0).normal(size=2000)
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.column_stack([x, 2 * x]))
        >>> filled = model.impute([[1.0, np.nan], [np.nan, -1.0]])
        >>> float(filled[0, 0]), float(filled[1, 1])    # known values are kept as they are
        (1.0, -1.0)
        >>> bool(abs(filled[0, 1] - 2.0) < 0.5 and abs(filled[1, 0] + 0.5) < 0.25)  # gaps follow the other feature
        True
        """
        check_is_fitted(self, "forest_")
        rows = self._rows(X, reset=False)
        self._one_row_if_shingled(rows, "impute")
        with self._named_errors():
            filled = self.forest_.impute(rows)
        original = np.asarray(X.to_numpy(dtype=np.float64, na_value=np.nan) if is_pandas(X) else X, dtype=np.float64)
        out = np.where(np.isnan(original), filled.astype(np.float64).reshape(original.shape), original)
        if is_pandas(X):
            return type(X)(out, index=X.index, **({"columns": X.columns} if hasattr(X, "columns") else {"name": X.name}))
        return out

    def forecast(self, horizon: int, coverage: float = 0.9, *, as_frame: Optional[bool] = None) -> Any:
        """Extrapolates the next ``horizon`` rows of the stream (needs ``shingle_size >= 2``): each step
        imputes the next row from the shingle so far, and feeds it back in. The interval is the spread
        of the trees' proposals (uncalibrated; :class:`rcf.ThresholdedRandomCutForest` calibrates it).

        Parameters
        ----------
        horizon : int
            Steps to forecast: 0 to 10,000, and times the number of features at most 1,048,576. A
            long forecast stops with ``KeyboardInterrupt`` on Ctrl-C.
        coverage : float, default=0.9
            Central fraction of the trees' proposals spanned by ``[lower, upper]``, in [0, 1].
        as_frame : bool or None, default=None
            ``None``: a DataFrame when pandas is installed, else an ``rcf.Forecast`` of arrays of
            shape (horizon, n_features).

        Returns
        -------
        DataFrame or rcf.Forecast
            Indexed by step (1..horizon); columns ``value``, ``lower``, ``upper`` for one feature, or
            ``value_<f>``, ``lower_<f>``, ``upper_<f>`` per feature.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(shingle_size=8, random_state=0)
        >>> _ = model.update(np.sin(np.arange(3000) * 2 * np.pi / 30))
        >>> f = model.forecast(5, as_frame=False)
        >>> f.value.shape, bool(np.all(f.lower <= f.upper))
        ((5, 1), True)
        """
        from rcf._detector import Forecast, _forecast_output

        check_is_fitted(self, "forest_")
        value, lower, upper = self.forest_.forecast(check_int("horizon", horizon), check_real("coverage", coverage))
        f = Forecast(value.astype(np.float64), lower.astype(np.float64), upper.astype(np.float64))
        return _forecast_output(f, [str(n) for n in self._feature_names()], as_frame)

    def near_neighbors(self, x: Any, k: int = 5) -> Any:
        """The sampled points the trees place next to ``x`` taken as the next row of the stream, nearest
        first (at most ``k``).

        Parameters
        ----------
        x : array-like of shape (n_features,) or (1, n_features)
            One row.
        k : int, default=5

        Returns
        -------
        rcf.Neighbors
            ``points`` (m, n_features * shingle_size; oldest row first), ``distances`` (m,) Euclidean,
            ``tree_fractions`` (m,): the share of trees whose leaf for ``x`` is that point.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.arange(100.0).reshape(50, 2))
        >>> nn = model.near_neighbors([10.0, 11.0], k=1)
        >>> nn.points.tolist(), nn.distances.tolist()
        ([[10.0, 11.0]], [0.0])
        """
        check_is_fitted(self, "forest_")
        row = self._rows(np.asarray(x, dtype=np.float64).reshape(1, -1), reset=False)[0]
        k = check_int("k", k)
        with self._named_errors():
            points, distances, fractions = self.forest_.near_neighbours(np.ascontiguousarray(row), k)
        return Neighbors(points, distances, fractions)

    def density(self, X: Any) -> np.ndarray:
        """Density of the sample around each row (higher in dense regions), each row taken as the next
        point of the stream; comparable across points of one model, not across models. With
        ``shingle_size > 1``, one row only.

        Returns
        -------
        ndarray of shape (n_samples,), float64

        Examples
        --------
        >>> import numpy as np, rcf
        >>> model = rcf.RandomCutForest(random_state=0).fit(np.random.default_rng(0).normal(size=(2000, 2)))
        >>> d = model.density([[0.0, 0.0], [5.0, 5.0]])
        >>> bool(d[0] > d[1])
        True
        """
        check_is_fitted(self, "forest_")
        rows = self._rows(X, reset=False)
        self._one_row_if_shingled(rows, "density")
        with self._named_errors():
            return self.forest_.density(rows)

    def _one_row_if_shingled(self, rows: np.ndarray, what: str) -> None:
        if self.shingle_size > 1 and rows.shape[0] != 1:
            raise ValueError(
                f"with shingle_size > 1, {what} takes one row (the next point of the stream), got {rows.shape[0]}"
            )

    # ------------------------------------------------------------------ streaming

    def update(self, X: Any) -> "RandomCutForest":
        """Inserts rows into the model, in order (a streaming update; nothing is scored).

        An unfitted estimator starts an empty forest. To insert a single row of several features
        pass ``[row]``: 1-D input means one feature.

        Examples
        --------
        >>> import rcf
        >>> model = rcf.RandomCutForest(random_state=0).update([1.0, 2.0, 3.0])
        >>> model.forest_.points_seen
        3
        """
        forest = self._streaming_forest(X)
        rows = self._rows(X, reset=False)
        with self._named_errors():
            forest.update(rows)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "RandomCutForest":
        """scikit-learn's name for :meth:`update` (``y`` is ignored)."""
        return self.update(X)

    def score_update(self, X: Any) -> np.ndarray:
        """Scores each row as the next point of the stream, then inserts it: the streaming loop,
        run in Rust in one call.

        An unfitted estimator starts an empty forest, whose scores are 0 until it has seen
        ``output_after`` points.

        Returns
        -------
        ndarray of shape (n_samples,): each row's anomaly score *before* it was learned.

        Examples
        --------
        >>> import numpy as np, rcf
        >>> stream = np.sin(np.arange(3000) / 20.0)
        >>> stream[2500] = 3.0
        >>> scores = rcf.RandomCutForest(shingle_size=4, random_state=0).score_update(stream)
        >>> int(scores.argmax()) in range(2500, 2504)
        True
        """
        forest = self._streaming_forest(X)
        rows = self._rows(X, reset=False)
        with self._named_errors():
            return forest.score_update(rows)

    # ------------------------------------------------------------------ persistence

    def save(self, path: Any, *, compact: bool = False) -> None:
        """Writes the model as ``model.tar.gz`` (``model.rcf`` + ``manifest.json``), the artifact the
        ``rcf`` CLI and the SageMaker container read. ``path`` is a local path (written atomically:
        a temporary file, then a rename) or an ``s3://`` (or other fsspec) URI.

        ``compact=True`` leaves the trees out (under half the bytes for a streaming model of shingled
        points, about 70 % for one fitted on rows); they are regrown from the saved samples on load. The loaded model then scores like this one statistically, not bit for
        bit; the default keeps scores identical after loading.

        Examples
        --------
        >>> import os, tempfile, numpy as np, rcf
        >>> model = rcf.RandomCutForest(num_trees=20, random_state=0).fit(np.arange(100.0))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.tar.gz")
        >>> model.save(path)
        >>> float(rcf.load(path).anomaly_score([50.0])[0]) == float(model.anomaly_score([50.0])[0])
        True
        """
        from rcf._io import write_bytes

        write_bytes(path, self.to_bytes(compact=compact))

    def to_bytes(self, *, compact: bool = False) -> bytes:
        """The ``model.tar.gz`` bytes :meth:`save` writes (for ``boto3``, a database, …)."""
        check_is_fitted(self, "forest_")
        forest = self.forest_
        params = {k: v for k, v in self.get_params().items() if k != "random_state"}
        forest.set_metadata(_META_PARAMS, json.dumps(params))
        forest.set_metadata(_META_OFFSET, repr(self.offset_) if hasattr(self, "offset_") else None)
        names = getattr(self, "feature_names_in_", None)
        forest.set_metadata(_META_FEATURES, None if names is None else json.dumps([str(n) for n in names]))
        stats = getattr(self, "training_stats_", None)
        hyper = {
            "feature_dim": str(self.n_features_in_),
            "num_trees": str(self.num_trees),
            "num_samples_per_tree": str(self.sample_size),
            "shingle_size": str(self.shingle_size),
        }
        from rcf import __version__

        training = None if stats is None else (stats["records"], stats["score_mean"], stats["score_std"])
        return forest.pack(
            created_by=f"rcf-py {__version__}", hyperparameters=hyper, training=training, compact=compact
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "RandomCutForest":
        """A model from ``model.tar.gz`` bytes (or bare ``model.rcf`` bytes), whoever wrote them.

        Raises
        ------
        rcf.ModelFileError
            For bytes that are not a readable model (truncated, corrupted, foreign, newer).
        """
        from rcf._io import load_native

        forest, manifest = load_native(data)
        if not isinstance(forest, _rcf.Forest):
            raise _rcf.ModelFileError(
                "model file is inconsistent: this file holds a thresholded detector, not a plain forest; "
                "load it as a detector"
            )
        return cls._from_forest(forest, manifest)

    @classmethod
    def _from_forest(cls, forest: "_rcf.Forest", manifest: Optional[dict]) -> "RandomCutForest":
        config = forest.config()
        meta = forest.metadata()
        params = {
            "num_trees": config["num_trees"],
            "sample_size": config["sample_size"],
            "shingle_size": config["shingle_size"],
            "time_decay": config["time_decay"],
            "output_after": config["output_after"],
            "initial_accept_fraction": config["initial_accept_fraction"],
        }
        if _META_PARAMS in meta:
            params.update(json.loads(meta[_META_PARAMS]))
        params["random_state"] = config["seed"]
        valid = cls._get_param_names()
        model = cls(**{k: v for k, v in params.items() if k in valid})
        model.forest_ = forest
        model.n_features_in_ = config["input_dims"]
        if meta.get(_META_FEATURES):
            model.feature_names_in_ = np.asarray(json.loads(meta[_META_FEATURES]), dtype=object)
        training = (manifest or {}).get("training")
        model.training_stats_ = dict(training) if training else None
        if meta.get(_META_OFFSET):
            model.offset_ = float(meta[_META_OFFSET])
        elif training and model.contamination == "auto":
            model.offset_ = -(training["score_mean"] + 3.0 * training["score_std"])
        return model

    # ------------------------------------------------------------------ helpers

    @property
    def threshold_(self) -> float:
        """The anomaly score above which :meth:`predict` flags a row: ``-offset_``."""
        self._check_threshold()
        return -self.offset_

    def _check_threshold(self) -> None:
        check_is_fitted(self, "forest_")
        if not hasattr(self, "offset_"):
            raise NotFittedError(
                "this model has no threshold: it was built by streaming only (or loaded without training "
                "statistics); call fit(), or set offset_ = -threshold"
            )

    def _checked_params(self) -> dict:
        c = self.contamination
        if not (isinstance(c, str) and c == "auto"):
            if isinstance(c, bool) or not isinstance(c, numbers.Real):
                raise TypeError(f"contamination must be 'auto' or a float in (0, 0.5], got {c!r}")
            check_real("contamination", c)
        self._n_jobs()
        return {
            "num_trees": check_int("num_trees", self.num_trees),
            "sample_size": check_int("sample_size", self.sample_size),
            "shingle_size": check_int("shingle_size", self.shingle_size),
            "time_decay": None if self.time_decay is None else check_real("time_decay", self.time_decay),
            "output_after": None if self.output_after is None else check_int("output_after", self.output_after),
            "initial_accept_fraction": check_real("initial_accept_fraction", self.initial_accept_fraction),
            "seed": self._seed(),
        }

    def _n_jobs(self) -> Optional[int]:
        """``n_jobs`` for the native calls. Any int but 0 is accepted; the native side uses at most one
        thread per core, so a larger value means every core (and is passed on saturated to 64 bits)."""
        n = self.n_jobs
        if n is None:
            return None
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"n_jobs must be an int or None, got {type(n).__name__}")
        if n == 0:
            raise ValueError("n_jobs must not be 0 (None or -1 use every core)")
        return int(max(-(2**63), min(int(n), 2**63 - 1)))

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return check_seed(rs)
        return int(check_random_state(rs).randint(_SEED_LIMIT, dtype=np.int64))

    def _streaming_forest(self, X: Any) -> "_rcf.Forest":
        if hasattr(self, "forest_"):
            return self.forest_
        params = self._checked_params()
        rows = self._rows(X, reset=True)
        with self._named_errors():
            self.forest_ = _rcf.Forest(rows.shape[1], **params)
        return self.forest_

    def _rows(self, X: Any, *, reset: bool) -> np.ndarray:
        if (
            not reset
            and type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
        ):
            # Fast path for the common streaming call: nothing validate_data would check or warn about.
            return np.ascontiguousarray(X, dtype=np.float32)
        X2, one_d = as_2d(X)
        expected = getattr(self, "n_features_in_", 1)
        if not reset and one_d and expected != 1:
            raise ValueError(
                f"X is 1-D, which is read as {len(X2)} rows of one feature, but the model expects {expected} "
                "features. Reshape your data: use [x] or x.reshape(1, -1) for a single row"
            )
        return validate_data(self, X2, reset=reset, dtype=np.float32, order="C", ensure_all_finite=False)

    def _feature_names(self) -> np.ndarray:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return names
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    @contextmanager
    def _named_errors(self) -> Iterator[None]:
        """Re-raises the native module's input errors with the feature's name added."""
        try:
            yield
        except _rcf.InvalidInputError as e:
            row, column = getattr(e, "row", None), getattr(e, "column", None)
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise
            named = _rcf.InvalidInputError(name_column(str(e), row, column, names))
            named.row, named.column = row, column
            raise named from None
