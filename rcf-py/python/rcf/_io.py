"""Reading and writing ``model.tar.gz`` locally (atomically) or at fsspec URIs such as ``s3://``."""

from __future__ import annotations

import os
import re
import tempfile
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from rcf._estimator import RandomCutForest

PathLike = Union[str, "os.PathLike[str]"]
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _remote(path: Any) -> bool:
    return isinstance(path, str) and bool(_URI.match(path)) and not path.startswith("file://")


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            "reading or writing s3:// (or other remote) paths needs fsspec and s3fs: pip install 'rcf[s3]'"
        ) from None
    return fsspec


def _local(path: Any) -> str:
    path = os.fspath(path)
    return path[len("file://"):] if path.startswith("file://") else path


def write_bytes(path: PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path``: locally via a temporary file in the same folder and a rename (a
    reader never sees half a file), remotely through fsspec (an S3 object appears whole or not at all)."""
    if _remote(path):
        with _fsspec().open(path, "wb") as f:
            f.write(data)
        return
    target = _local(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".rcf-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_bytes(path: PathLike) -> bytes:
    """The bytes at a local path or fsspec URI."""
    if _remote(path):
        with _fsspec().open(path, "rb") as f:
            return f.read()
    with open(_local(path), "rb") as f:
        return f.read()


def load(path: PathLike) -> "RandomCutForest":
    """Loads a model saved by :meth:`RandomCutForest.save`, ``rcf train`` or SageMaker training.

    ``path`` is a ``model.tar.gz`` (or a bare ``model.rcf``) on disk or at an ``s3://`` URI.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    rcf.ModelFileError
        When the file is not a readable model (truncated, corrupted, foreign or newer format).

    Examples
    --------
    >>> import os, tempfile, numpy as np, rcf
    >>> path = os.path.join(tempfile.mkdtemp(), "model.tar.gz")
    >>> rcf.RandomCutForest(num_trees=10, random_state=0).fit(np.arange(50.0)).save(path)
    >>> rcf.load(path).num_trees
    10
    """
    return loads(read_bytes(path))


def loads(data: bytes) -> "RandomCutForest":
    """A model from ``model.tar.gz`` (or ``model.rcf``) bytes; see :func:`load`."""
    from rcf._estimator import RandomCutForest

    return RandomCutForest.from_bytes(data)
