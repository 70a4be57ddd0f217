import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

import rcf


@pytest.fixture(scope="session")
def blobs():
    """2000 normal 3-feature rows plus the index of nothing unusual in them."""
    return np.random.default_rng(0).normal(size=(2000, 3))


@pytest.fixture(scope="session")
def fitted(blobs):
    return rcf.RandomCutForest(num_trees=40, sample_size=128, random_state=7).fit(blobs)


@pytest.fixture()
def stream():
    """A noisy sine wave with a spike at 1500."""
    t = np.arange(3000)
    values = np.sin(t / 20.0) + np.random.default_rng(1).normal(scale=0.05, size=t.size)
    values[1500] += 3.0
    return values
