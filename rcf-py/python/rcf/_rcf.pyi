"""Type stub of the native module ``rcf._rcf`` (built from ``rcf-py/src`` with PyO3).

Not a public API: use :class:`rcf.RandomCutForest`. Every method releases the GIL while it works;
a Rust panic surfaces as ``RuntimeError``.
"""

from typing import Dict, Optional, Tuple

import numpy as np
import numpy.typing as npt

FORMAT_VERSION: int
__version__: str

class InvalidInputError(ValueError):
    """A row was unusable; the message and the attributes say where (zero-based, ``None`` if unknown)."""

    row: Optional[int]
    column: Optional[int]

class ModelFileError(ValueError):
    """Model bytes that could not be read (truncated, corrupted, foreign, newer format)."""

_Rows = npt.NDArray[np.float32]  # 2-D, C-contiguous

class Forest:
    """A Random Cut Forest; thread-safe (shared lock for reads, exclusive for updates)."""

    def __init__(
        self,
        input_dims: int,
        *,
        shingle_size: int = 1,
        num_trees: int = 100,
        sample_size: int = 256,
        time_decay: Optional[float] = None,
        output_after: Optional[int] = None,
        initial_accept_fraction: float = 1.0,
        seed: Optional[int] = None,
    ) -> None: ...
    @staticmethod
    def fit(
        x: _Rows,
        *,
        shingle_size: int = 1,
        num_trees: int = 100,
        sample_size: int = 256,
        time_decay: Optional[float] = None,
        output_after: Optional[int] = None,
        initial_accept_fraction: float = 1.0,
        seed: Optional[int] = None,
        n_jobs: Optional[int] = None,
    ) -> "Forest": ...
    def score(self, x: _Rows, *, n_jobs: Optional[int] = None) -> npt.NDArray[np.float64]: ...
    def attribution(
        self, x: _Rows, *, n_jobs: Optional[int] = None, fold_shingle: bool = True
    ) -> npt.NDArray[np.float64]: ...
    def update(self, x: _Rows) -> None: ...
    def score_update(self, x: _Rows) -> npt.NDArray[np.float64]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> "Forest": ...
    def pack(
        self,
        *,
        created_by: str,
        hyperparameters: Dict[str, str] = ...,
        training: Optional[Tuple[int, float, float]] = None,
    ) -> bytes: ...
    @staticmethod
    def unpack(data: bytes) -> Tuple["Forest", Optional[str]]: ...
    def config(self) -> Dict[str, object]: ...
    @property
    def input_dims(self) -> int: ...
    @property
    def points_seen(self) -> int: ...
    @property
    def is_output_ready(self) -> bool: ...
    @property
    def heap_bytes(self) -> int: ...
    def metadata(self) -> Dict[str, str]: ...
    def set_metadata(self, key: str, value: Optional[str]) -> None: ...
    def __copy__(self) -> "Forest": ...
    def __deepcopy__(self, memo: object) -> "Forest": ...
