"""rcf: Random Cut Forest anomaly detection for NumPy, pandas and scikit-learn.

Batch or streaming, with per-feature explanations, and models that load unchanged in the ``rcf``
command line tool and the SageMaker container.

>>> import numpy as np, rcf
>>> series = np.sin(np.arange(2000) / 25.0)
>>> series[1500] += 2.5
>>> model = rcf.RandomCutForest(shingle_size=8, random_state=0)
>>> scores = model.score_update(series)        # score each point, then learn it
>>> int(scores.argmax()) in range(1500, 1508)
True

A thresholded detector grades each point of a stream, with its own threshold and explanations:

>>> detector = rcf.ThresholdedRandomCutForest(shingle_size=8, random_state=0)
>>> result = detector.process_series(series)    # DataFrame: score, grade, threshold, expected_x0, ...
>>> int(result["grade"].to_numpy().argmax()) in range(1500, 1508)
True

Public names: :class:`RandomCutForest`, :class:`ThresholdedRandomCutForest` (alias ``TRCF``),
:func:`load`, :func:`loads`, :class:`AnomalyDescriptor`, :class:`Forecast`, :class:`Neighbors`,
:class:`InvalidInputError`, :class:`ModelFileError`, and the optional :mod:`rcf.plot` (needs
matplotlib).
"""

from rcf._rcf import FORMAT_VERSION, InvalidInputError, ModelFileError
from rcf._rcf import __version__
from rcf._detector import TRCF, AnomalyDescriptor, Forecast, ThresholdedRandomCutForest
from rcf._estimator import Neighbors, RandomCutForest
from rcf._io import load, loads

__all__ = [
    "FORMAT_VERSION",
    "AnomalyDescriptor",
    "Forecast",
    "InvalidInputError",
    "ModelFileError",
    "Neighbors",
    "RandomCutForest",
    "TRCF",
    "ThresholdedRandomCutForest",
    "__version__",
    "load",
    "loads",
]
