"""Every example in the docstrings runs and prints what it shows; every public name is documented."""

import doctest
import importlib

import pytest

import rcf

MODULES = ["rcf", "rcf._estimator", "rcf._io", "rcf.plot"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_every_public_name_has_a_docstring():
    import rcf.plot

    names = [getattr(rcf, n) for n in rcf.__all__ if not n.isupper() and n != "__version__"]
    names += [rcf.plot.series, rcf.plot.attribution]
    public_methods = [
        getattr(rcf.RandomCutForest, m)
        for m in dir(rcf.RandomCutForest)
        if not m.startswith("_") and callable(getattr(rcf.RandomCutForest, m))
    ]
    missing = [getattr(o, "__qualname__", repr(o)) for o in names + public_methods if not (o.__doc__ or "").strip()]
    assert missing == []


def test_typing_files_are_shipped():
    from pathlib import Path

    package = Path(rcf.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_rcf.pyi").exists()
