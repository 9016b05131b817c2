"""Small argument checks and helpers shared by the plotting functions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bayesformula.core import validate
from bayesformula.core.tree import groups, has_group, is_tree
from bayesformula.errors import DataTypeError, PredictionError, did_you_mean

OBS_DIM = "__obs__"


def figure_of(plot):
    """The matplotlib Figure of an ArviZ 1 ``PlotCollection`` (or of Axes, or an array of
    them)."""
    viz = getattr(plot, "viz", None)
    if viz is not None:
        return viz["figure"].item()
    return np.ravel(np.asarray(plot, dtype=object))[0].get_figure()


def check_idata(idata, group: str, where: str, fix: str) -> None:
    """Raise a clear error when ``idata`` is not a fit (``xarray.DataTree``) or lacks
    ``group``."""
    if not is_tree(idata):
        raise DataTypeError(
            f"{where} expects a fit (the xarray.DataTree from model.fit()), got "
            f"{type(idata).__name__}; {fix}"
        )
    if not has_group(idata, group):
        raise PredictionError(
            f"{where} needs the '{group}' group, but idata has only {groups(idata)}; {fix}"
        )


def check_prob(prob: float, where: str) -> float:
    """``prob`` must be a number strictly between 0 and 1 (0.94 for a 94% interval)."""
    return validate.check_prob(prob, "prob", where)


def check_model(model, where: str) -> None:
    """``model`` must be a `bayesformula.Model` (anything with a ``spec`` and ``predict``)."""
    if not (hasattr(model, "spec") and hasattr(model, "predict")):
        raise DataTypeError(
            f"{where}: model must be the bayesformula.Model that was fitted, got "
            f"{type(model).__name__}. Call it as {where[:-2]}(model, idata, ...)."
        )


def parameter_names(dataset) -> list[str]:
    """Variables of ``dataset`` that are not per-observation (no ``__obs__`` dimension).

    The sampler's internal intercepts (``Intercept_centered``, and ``sigma_Intercept_centered``
    of a formula for ``sigma``) are left out when the reported ones (``Intercept``,
    ``sigma_Intercept``) are there too.
    """
    names = [str(n) for n, v in dataset.data_vars.items() if OBS_DIM not in v.dims]
    suffix = "_centered"
    return [n for n in names if not (n.endswith(suffix) and n[: -len(suffix)] in names)]


def check_var_names(var_names, known: Iterable[str], group: str) -> list[str]:
    """Return ``var_names`` as a list after checking each plain name exists in ``known``.

    Names starting with ``~`` (ArviZ's exclusion syntax) are passed through unchecked.
    """
    names = [var_names] if isinstance(var_names, str) else list(var_names)
    known = list(known)
    for name in names:
        if not isinstance(name, str):
            raise DataTypeError(f"var_names must hold strings, got {name!r}.")
        if not name.startswith("~") and name not in known:
            raise PredictionError(
                did_you_mean(name, known, "variable")
                + f" (looked up in the '{group}' group); pass names from that group."
            )
    return names
