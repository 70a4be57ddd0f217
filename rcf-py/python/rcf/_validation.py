"""Turning user input (arrays, lists, pandas objects) into the float32 rows the native module reads.

Everything here is vectorised; Python loops run only on the error path, to name the offending row
and column.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from rcf import _rcf

_NON_NUMERIC_KINDS = "OUSVMm"  # object, str, bytes, void, datetime, timedelta


def check_int(name: str, value: Any) -> int:
    """``value`` as an int within the range rcf-core allows for the parameter ``name``.

    The ranges live in rcf-core (``rcf._rcf.LIMITS`` lists them), which checks them here as it does
    for the CLI, so both accept the same values. Raises TypeError for a value that is not an int and
    ValueError naming the parameter, the value and the range for one outside it.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(_rcf.check_parameter(name, int(value)))


def check_real(name: str, value: Any) -> float:
    """``value`` as a float within the range rcf-core allows for ``name`` (see :func:`check_int`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(_rcf.check_parameter(name, float(value)))


def check_seed(value: Any) -> int:
    """``random_state`` as a 64-bit seed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"random_state must be an int, got {type(value).__name__}")
    if not 0 <= value < 2**64:
        raise ValueError(f"random_state must be in [0, 2**64), got {value}")
    return int(value)


def is_pandas(x: Any) -> bool:
    """True for a pandas DataFrame or Series (without importing pandas)."""
    module = type(x).__module__
    return (module == "pandas" or module.startswith("pandas.")) and type(x).__name__ in ("DataFrame", "Series")


def as_2d(X: Any) -> Tuple[Any, bool]:
    """Returns `X` in a form scikit-learn's `validate_data` accepts as 2-D (and whether it was 1-D),
    or raises.

    * a pandas Series becomes a one-column DataFrame (its name becomes the feature name);
    * 1-D input (array or list) is one feature: shape (n,) becomes (n, 1);
    * not array-like (None, a scalar, a string, a dict, a set) raises TypeError;
    * sparse matrices raise TypeError (RCF needs dense rows);
    * ragged lists raise ValueError naming the first row whose length differs;
    * non-numeric cells raise TypeError naming their row and column.
    DataFrames are returned as they are, so scikit-learn records their column names.
    """
    if is_pandas(X):
        if type(X).__name__ == "Series":
            _check_numeric_frame(X.to_frame())
            return X.to_frame(), True
        _check_numeric_frame(X)
        return X, False
    if _is_sparse(X):
        raise TypeError("sparse input is not supported: Random Cut Forest needs dense rows (use X.toarray())")
    if X is None or isinstance(X, (str, bytes, dict, set, numbers.Number)):
        raise TypeError(
            "X must be array-like (a NumPy array, a list of rows, or a pandas DataFrame or Series), "
            f"got {type(X).__name__}"
        )
    if isinstance(X, np.ndarray):
        arr = X
    else:
        try:
            arr = np.asarray(X)
        except ValueError:
            _raise_ragged(X)
            raise
        if arr.dtype == object and arr.ndim == 1 and len(arr) and isinstance(arr[0], (list, tuple, np.ndarray)):
            _raise_ragged(X)
    if arr.dtype.kind in _NON_NUMERIC_KINDS:
        _check_numeric_cells(arr)
    if arr.ndim == 1:
        return arr.reshape(-1, 1), True
    return arr, False


def _is_sparse(X: Any) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        return False
    return bool(sp.issparse(X))


def _raise_ragged(rows: Sequence[Any]) -> None:
    first = None
    for i, row in enumerate(rows):
        try:
            n = len(row)
        except TypeError:
            n = 1
        if first is None:
            first = n
        elif n != first:
            raise ValueError(f"row {i} has {n} values, but row 0 has {first}: all rows must have the same width")


def _check_numeric_cells(arr: np.ndarray) -> None:
    """Raises TypeError at the first cell that is not a real number."""
    if arr.dtype.kind in "MmV":
        raise TypeError(f"X has dtype {arr.dtype}; only real numbers are accepted")
    try:
        arr.astype(np.float64)
        return
    except (TypeError, ValueError):
        pass
    grid = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    for r, row in enumerate(grid):
        for c, value in enumerate(np.atleast_1d(row)):
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, (bool, np.bool_)):
                continue
            try:
                float(value)
            except (TypeError, ValueError) as e:
                raise TypeError(f"row {r}, column {c}: {value!r} is not a number ({e})") from None
    raise TypeError(f"X of dtype {arr.dtype} could not be read as numbers")  # pragma: no cover


def _check_numeric_frame(df: Any) -> None:
    """Raises TypeError naming the first non-numeric cell of a DataFrame."""
    kinds = [np.dtype(t).kind if isinstance(t, np.dtype) else "O" for t in df.dtypes]
    for c, kind in enumerate(kinds):
        if kind in "biuf":
            continue
        column = df.iloc[:, c]
        try:
            column.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        except (TypeError, ValueError):
            pass
        for r, value in enumerate(column.to_numpy()):
            try:
                float(value)
            except (TypeError, ValueError) as e:
                raise TypeError(f"row {r}, column {df.columns[c]!r}: {value!r} is not a number ({e})") from None


def name_column(message: str, row: Optional[int], column: Optional[int], names: Optional[np.ndarray]) -> str:
    """Adds the feature name to an error message from the native module."""
    if column is None or names is None or column >= len(names):
        return message
    prefix = f"row {row}, column {column}:" if row is not None else f"column {column}:"
    return message.replace(prefix, f"{prefix[:-1]} ({names[column]!r}):", 1)
