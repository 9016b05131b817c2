"""Small assertions shared by the test modules."""

from __future__ import annotations

import pytest


def raises_each(fn, classes, match):
    """Call ``fn`` once per exception class and check it raises that class with ``match``.

    Used to prove an error is both a bayesformula error and the builtin it subclasses.
    Returns the last exception raised.
    """
    infos = []
    for cls in classes:
        with pytest.raises(cls, match=match) as info:
            fn()
        infos.append(info)
    return infos[-1].value


def fit_tree(coords=None, dims=None, **groups):
    """A fit-shaped ``xarray.DataTree`` from arrays, one keyword per group
    (``fit_tree(posterior={"theta": draws}, sample_stats={...})``); ArviZ's ``from_dict``."""
    import arviz as az

    return az.from_dict(groups, coords=coords, dims=dims)
