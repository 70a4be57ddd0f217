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


def read_bytes(path: PathLike) -> bytes:
    """The bytes at a local path or fsspec URI."""
    if _remote(path):
        with _fsspec().open(path, "rb") as f:
            return f.read()
    with open(_local(path), "rb") as f:
        return f.read()


# The artifact layout shared with rcf-core's `artifact` module (the CLI and the SageMaker container).
MODEL_FILE = "model.rcf"
MANIFEST_FILE = "manifest.json"
ARTIFACT_VERSION = 1
_MAX_MODEL_BYTES = 2 << 30
_MAX_MANIFEST_BYTES = 1 << 20


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


def unpack_artifact(data: bytes) -> Tuple[bytes, Optional[dict]]:
    """The model file bytes and the manifest (``None`` if absent) of ``model.tar.gz`` bytes; bare
    ``model.rcf`` bytes are returned as they are. Unreadable archives raise :class:`rcf.ModelFileError`."""
    from rcf._rcf import ModelFileError

    data = bytes(data)
    if not data.startswith(b"\x1f\x8b"):
        return data, None
    model, manifest = None, None
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                limit = {MODEL_FILE: _MAX_MODEL_BYTES, MANIFEST_FILE: _MAX_MANIFEST_BYTES}.get(name)
                if limit is None or not member.isfile():
                    continue
                if member.size > limit:
                    raise ModelFileError(f"model.tar.gz: {name} is larger than {limit} bytes")
                f = tar.extractfile(member)
                content = f.read() if f is not None else b""
                if name == MODEL_FILE:
                    model = content
                else:
                    manifest = json.loads(content)
                    if not isinstance(manifest, dict):
                        raise ValueError("the manifest is not a JSON object")
    except ModelFileError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as e:
        raise ModelFileError(f"model payload could not be decoded: model.tar.gz: {e}") from None
    if model is None:
        raise ModelFileError(f"model payload could not be decoded: model.tar.gz: no {MODEL_FILE} inside")
    return model, manifest


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


def loads(data: bytes) -> "Union[RandomCutForest, ThresholdedRandomCutForest]":
    """A model from ``model.tar.gz`` (or ``model.rcf``) bytes; see :func:`load`."""
    from rcf import _rcf
    from rcf._detector import ThresholdedRandomCutForest
    from rcf._estimator import RandomCutForest

    model, manifest = unpack_artifact(data)
    native = _rcf.read_model(model)
    if isinstance(native, _rcf.Detector):
        return ThresholdedRandomCutForest._from_detector(native, manifest)
    return RandomCutForest._from_forest(native, manifest)
