"""What a predictive check compares: in-sample simulated responses and the observed response,
on the response's scale and within its support."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayesformula.core.tree import dataset, has_group, make_tree
from bayesformula.errors import PredictionError
from bayesformula.log import logger
from bayesformula.plots._checks import OBS_DIM
from bayesformula.plots.grid import model_variables

#: Bounds of a family's response support (``Family.support``); None: unbounded on that side.
#: Binomial-type ("trials") responses are bounded by their trials instead.
SUPPORT_BOUNDS = {
    "binary": (0.0, 1.0),
    "count": (0.0, None),
    "positive": (0.0, None),
    "nonnegative": (0.0, None),
    "unit": (0.0, 1.0),
    "circular": (-np.pi, np.pi),
}
#: Supports whose responses are whole numbers: their distributions are drawn as ECDFs.
DISCRETE = frozenset({"binary", "trials", "count", "ordinal", "categorical"})
#: The y axis of `arviz.plot_ppc_dist` by ``kind``.
Y_LABELS = {"ecdf": "share of values \u2264 x (ECDF)", "kde": "density", "hist": "density"}
#: The groups of simulated responses and the draws they come from.
SOURCE = {"posterior_predictive": "posterior", "prior_predictive": "prior"}


@dataclass(frozen=True)
class Scale:
    """How a predictive check shows the response.

    Attributes
    ----------
    label : str
        The x axis label: the response, with its trials or ``/ trials`` for ``p(y, n)``.
    bounds : tuple
        ``(lower, upper)`` of the support on the plotted scale; None where unbounded.
    divisor : numpy.ndarray or None
        Trials per observed row to divide counts by (a ``p(y, n)`` response with varying
        trials is shown as proportions), else None.
    discrete : bool
        Whether the plotted values are whole numbers or proportions of whole numbers.
    """

    label: str
    bounds: tuple
    divisor: np.ndarray | None
    discrete: bool


def response_scale(model) -> Scale:
    """The scale and support on which a predictive check of ``model`` draws its response.

    A ``p(y, n)`` response with the same trials in every row is shown as counts from 0 to
    ``n``; with varying trials as proportions ``y / n`` from 0 to 1. Other responses are shown
    as they are, within the bounds of their family's support (``SUPPORT_BOUNDS``).
    """
    name = model.response_name
    response = model.design.response
    support = model.family.support
    trials = getattr(response, "trials", None) if response.kind == "proportion" else None
    if trials is None:
        bounds = SUPPORT_BOUNDS.get(support, (None, None))
        return Scale(name, bounds, None, support in DISCRETE)
    trials = np.asarray(trials, dtype=float)
    columns = model_variables(model).trials
    column = columns[0] if len(columns) == 1 else None
    if np.unique(trials).size > 1:
        label = f"{name} / {column or 'trials'} (proportion)"
        return Scale(label, (0.0, 1.0), trials, True)
    n = float(trials[0])
    label = f"{name} (out of {column} = {n:g})" if column else f"{name} (out of {n:g})"
    return Scale(label, (0.0, n), None, True)


def on_scale(values: xr.Dataset, scale: Scale) -> xr.Dataset:
    """``values`` (per observed row, along ``__obs__``) on the scale of ``scale``."""
    if scale.divisor is None:
        return values
    divisor = xr.DataArray(scale.divisor, dims=[OBS_DIM])
    return values.map(lambda da: (da / divisor).astype(float))


def out_of_sample(model, idata, group: str) -> str | None:
    """Why ``idata[group]`` does not hold simulated responses of the observed rows (for
    example predictions on new data), or None when it does."""
    predictive = dataset(idata, group)
    if not predictive.attrs.get("in_sample", 1):
        return "it holds predictions on new data (predict(data=...) marks them in_sample=0)"
    name = model.response_name
    if name not in predictive.data_vars or OBS_DIM not in predictive[name].dims:
        return None  # not this model's responses: the caller's response check says so
    rows = np.asarray(predictive[name][OBS_DIM].values)
    observed = np.asarray(dataset(idata, "observed_data")[OBS_DIM].values)
    if len(rows) != len(observed):
        return (
            f"it holds {len(rows)} row(s) where the observed data have {len(observed)}; "
            "it looks like predictions on new data"
        )
    if not np.array_equal(rows.astype(str), observed.astype(str)):
        return "its rows (the __obs__ labels) are not those of the observed data"
    return None


def in_sample(model, idata, group: str, random_seed, where: str):
    """``idata`` itself when ``idata[group]`` holds in-sample simulated responses, else a new
    tree with responses drawn for the observed rows from ``idata``'s posterior (or prior);
    ``idata`` is never changed."""
    source = SOURCE[group]
    reason = None
    if has_group(idata, group):
        reason = out_of_sample(model, idata, group)
        if reason is None:
            return idata
    if not has_group(idata, source):
        what = f"idata['{group}'] is not in-sample ({reason})" if reason else f"no '{group}'"
        raise PredictionError(
            f"{where} compares simulated responses of the observed rows with the observed "
            f"data, but {what} and there is no '{source}' group to draw them from. Pass the "
            f"result of model.{'fit' if source == 'posterior' else 'prior_predictive'}()."
        )
    if reason is not None:
        logger.info(
            "%s: idata['%s'] is not in-sample (%s); drawing responses for the %d observed "
            "rows from the %s instead (idata is left unchanged).",
            where,
            group,
            reason,
            dataset(idata, "observed_data").sizes.get(OBS_DIM, 0),
            source,
        )
    light = make_tree({source: idata[source], "observed_data": idata["observed_data"]})
    return model.predict(
        light, kind="response", inplace=False, random_seed=random_seed, group=source
    )


def clip_to_support(ax, bounds: tuple) -> None:
    """Keep the x axis of ``ax`` within ``bounds`` (plus a small margin)."""
    lower, upper = bounds
    left, right = ax.get_xlim()
    span = (upper - lower) if lower is not None and upper is not None else (right - left)
    pad = 0.04 * span
    if lower is not None:
        left = max(left, lower - pad)
    if upper is not None:
        right = min(right, upper + pad)
    ax.set_xlim(left, right)
