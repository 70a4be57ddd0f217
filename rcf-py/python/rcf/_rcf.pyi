"""Type stub of the native module ``rcf._rcf`` (built from ``rcf-py/src`` with PyO3).

Not a public API: use :class:`rcf.RandomCutForest` and :class:`rcf.ThresholdedRandomCutForest`. Every method releases the GIL while it works;
a Rust panic surfaces as ``RuntimeError``.
"""

from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

FORMAT_VERSION: int
__version__: str
SUPPRESSIONS: List[str]  # suppression reasons, indexed by the codes process_series returns
# rcf-core's parameter ranges: {name: {"min", "max", "min_inclusive", "max_inclusive", "integer", "expected"}}
LIMITS: Dict[str, Dict[str, Union[int, float, bool, str]]]
MAX_POOLS: int  # n_jobs worker pools kept for reuse

def check_parameter(name: str, value: Union[int, float]) -> Union[int, float]:
    """``value`` if it lies in rcf-core's range for ``name``, else ValueError naming the parameter, the
    value and the range (TypeError for a value of the wrong type)."""

class InvalidInputError(ValueError):
    """A row was unusable; the message and the attributes say where (zero-based, ``None`` if unknown)."""

    row: Optional[int]
    column: Optional[int]

class ModelFileError(ValueError):
    """Model bytes that could not be read (truncated, corrupted, foreign, newer format)."""

_Rows = npt.NDArray[np.float32]  # 2-D, C-contiguous
_Forecast = Tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]  # (horizon, dims) each

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
    def impute(self, x: _Rows) -> npt.NDArray[np.float32]: ...
    def density(self, x: _Rows) -> npt.NDArray[np.float64]: ...
    def near_neighbours(
        self, x: npt.NDArray[np.float32], k: int
    ) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def forecast(self, horizon: int, coverage: float = 0.9) -> _Forecast: ...
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
        compact: bool = False,
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

class Detector:
    """A thresholded detector (rcf-core's ``Detector``); thread-safe like :class:`Forest`."""

    def __init__(
        self,
        input_dims: int,
        *,
        shingle_size: int = 8,
        num_trees: int = 50,
        sample_size: int = 256,
        time_decay: Optional[float] = None,
        output_after: Optional[int] = None,
        seed: Optional[int] = None,
        transform: str = "none",
        z_factor: float = 3.0,
        lower_threshold: float = 0.8,
        anomaly_rate: Optional[float] = None,
        fill: str = "reject",
        fill_values: Optional[List[float]] = None,
        alert_once: bool = False,
        ignore_near_expected: Tuple[float, float] = (0.0, 0.0),
        noise_suppression: float = 1.0,
        similar_context_suppression: float = 0.1,
        forecast_horizon: Optional[int] = None,
    ) -> None: ...
    def process(self, x: npt.NDArray[np.float32], timestamp: Optional[int] = None) -> Dict[str, np.ndarray]:
        """One row of the columns of :meth:`process_series`."""
    def process_series(
        self, x: _Rows, timestamps: Optional[npt.NDArray[np.int64]] = None
    ) -> Dict[str, np.ndarray]:
        """Columns: timestamp, score, grade, threshold, confidence, relative_index, start_of_anomaly,
        in_high_score_region, suppression (uint8 codes into SUPPRESSIONS), imputed_values (n,);
        expected, actual (n, dims) float32 and attribution (n, dims, 2), NaN where not computed.
        On error the detector is unchanged."""
    def forecast(self, horizon: int, coverage: float = 0.9) -> _Forecast: ...
    def impute(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> "Detector": ...
    def config(self) -> Dict[str, object]: ...
    @property
    def input_dims(self) -> int: ...
    @property
    def inputs_seen(self) -> int: ...
    @property
    def threshold(self) -> float: ...
    @property
    def heap_bytes(self) -> int: ...
    def __copy__(self) -> "Detector": ...
    def __deepcopy__(self, memo: object) -> "Detector": ...

def read_model(data: bytes) -> Union[Forest, Detector]:
    """Model file bytes (``model.rcf``) as the object they hold."""

def load_artifact(
    data: bytes, max_memory_bytes: Optional[int] = None
) -> Tuple[Union[Forest, Detector], Optional[str]]:
    """``model.tar.gz`` or ``model.rcf`` bytes, within a memory budget, checked against their manifest:
    the object they hold and the manifest JSON (``None`` without one)."""

DEFAULT_MAX_MODEL_MEMORY_BYTES: int

def max_model_memory_bytes() -> int:
    """The model memory budget in bytes: ``RCF_MAX_MODEL_MEMORY_MB`` (MiB) when set, else the default.
    Models are loaded, and forests built, within it."""
    ...
