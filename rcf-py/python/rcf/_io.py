"""Reading and writing ``model.tar.gz`` locally (atomically) or at fsspec URIs such as ``s3://``."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

if TYPE_CHECKING:
    from rcf._detector import ThresholdedRandomCutForest
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


def read_bytes(path: PathLike, limit: Optional[int] = None) -> bytes:
    """The bytes at a local path or fsspec URI; with ``limit``, more than ``limit`` bytes raise
    :class:`rcf.ModelFileError` (a local file's size is checked before it is read)."""
    if _remote(path):
        with _fsspec().open(path, "rb") as f:
            data = f.read() if limit is None else f.read(limit + 1)
    else:
        with open(_local(path), "rb") as f:
            if limit is not None and os.fstat(f.fileno()).st_size > limit:
                _too_large(path, limit)
            data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        _too_large(path, limit)
    return data


def _too_large(path: PathLike, limit: int) -> None:
    from rcf._rcf import ModelFileError

    raise ModelFileError(
        f"{os.fspath(path)}: larger than the {limit} bytes the model memory budget accepts; "
        f"if you trust this model, raise the budget ({_BUDGET_ENV}, in MiB)"
    )


# Memory budget of one model load, in MiB (default 2048): the model's declared memory and the size
# of its file are checked against it before the model is built (rcf-core's `LoadLimits`).
_BUDGET_ENV = "RCF_MAX_MODEL_MEMORY_MB"


def max_model_memory_bytes() -> int:
    """The model load budget in bytes: ``RCF_MAX_MODEL_MEMORY_MB`` (MiB) when set, else 2 GiB."""
    from rcf import _rcf

    return int(_rcf.max_model_memory_bytes())


# The artifact layout shared with rcf-core's `artifact` module (the CLI and the SageMaker container).
MODEL_FILE = "model.rcf"
MANIFEST_FILE = "manifest.json"
ARTIFACT_VERSION = 1


def pack_artifact(model: bytes, manifest: dict) -> bytes:
    """``model.tar.gz`` bytes: ``model.rcf`` then ``manifest.json``, with the manifest's format version
    and checksum taken from the model bytes (the layout of rcf-core's ``artifact::pack``)."""
    manifest = dict(manifest)
    manifest["artifact_version"] = ARTIFACT_VERSION
    manifest["model_format_version"] = int.from_bytes(model[8:12], "little")
    manifest["model_checksum"] = f"{zlib.crc32(model):08x}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT, compresslevel=1) as tar:
        for name, data in ((MODEL_FILE, model), (MANIFEST_FILE, json.dumps(manifest, indent=2).encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def load_native(data: bytes) -> "Tuple[Any, Optional[dict]]":
    """The native model (``_rcf.Forest`` or ``_rcf.Detector``) and the manifest (``None`` if absent)
    of ``model.tar.gz`` or bare ``model.rcf`` bytes, read by rcf-core within the memory budget and
    checked against the manifest. Unreadable or inconsistent bytes raise :class:`rcf.ModelFileError`."""
    from rcf import _rcf

    native, manifest_json = _rcf.load_artifact(bytes(data), max_model_memory_bytes())
    return native, (json.loads(manifest_json) if manifest_json else None)


def load(path: PathLike) -> "Union[RandomCutForest, ThresholdedRandomCutForest]":
    """Loads a model saved by :meth:`RandomCutForest.save`, :meth:`ThresholdedRandomCutForest.save`,
    ``rcf train`` or SageMaker training.

    ``path`` is a ``model.tar.gz`` (or a bare ``model.rcf``) on disk or at an ``s3://`` URI. The class
    returned depends on what the file holds: a :class:`RandomCutForest` for a plain forest, a
    :class:`ThresholdedRandomCutForest` for a thresholded detector.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    rcf.ModelFileError
        When the file is not a readable model (truncated, corrupted, foreign or newer format), its
        ``manifest.json`` does not describe it, or it declares more memory than the load budget
        (``RCF_MAX_MODEL_MEMORY_MB``, default 2048 MiB).

    Examples
    --------
    >>> import os, tempfile, numpy as np, rcf
    >>> path = os.path.join(tempfile.mkdtemp(), "model.tar.gz")
    >>> rcf.RandomCutForest(num_trees=10, random_state=0).fit(np.arange(50.0)).save(path)
    >>> rcf.load(path).num_trees
    10
    """
    return loads(read_bytes(path, max_model_memory_bytes()))


def loads(data: bytes) -> "Union[RandomCutForest, ThresholdedRandomCutForest]":
    """A model from ``model.tar.gz`` (or ``model.rcf``) bytes; see :func:`load`."""
    from rcf import _rcf
    from rcf._detector import ThresholdedRandomCutForest
    from rcf._estimator import RandomCutForest

    native, manifest = load_native(data)
    if isinstance(native, _rcf.Detector):
        return ThresholdedRandomCutForest._from_detector(native, manifest)
    return RandomCutForest._from_forest(native, manifest)
