"""Pointwise log-likelihood, LOO model comparison and Bayesian R-squared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayesformula import compiled
from bayesformula.core.tree import has_group, is_tree, set_group
from bayesformula.errors import (
    ArgumentError,
    DataTypeError,
    FamilyError,
    PredictionError,
)
from bayesformula.results.predict import _check_args, param_draws, prepare

__all__ = ["bayes_r2", "compare", "log_likelihood", "loo"]


def log_likelihood(spec, idata, inplace: bool = True):
    """Pointwise log-likelihood of the observed data for every posterior draw.

    Adds a ``log_likelihood`` group (variable named after the response, dims ``chain, draw,
    __obs__``), as ArviZ's LOO and WAIC expect. Works for every sampler, since it only needs the
    posterior draws.
    """
    _check_args(idata, "response_params", "posterior")
    prepared = prepare(spec, idata, kind="response_params")
    params = param_draws(spec, prepared)
    parent = params[spec.family.parent]
    args = [parent]
    for aux in spec.family.aux:
        value = params[aux.name]
        if not isinstance(value, float):
            args.append(np.asarray(value, dtype=float))
    args.append(np.asarray(spec.response_data.values, dtype=float)[None, :])
    if spec.response_data.trials is not None:
        args.append(np.asarray(spec.response_data.trials, dtype=float)[None, :])
    values = np.asarray(compiled.loglik(spec)(*args))
    values = np.array(np.broadcast_to(values, parent.shape[:2]))
    n_chain, n_draw = len(prepared.chain), len(prepared.draw)
    da = xr.DataArray(
        values.reshape(n_chain, n_draw, -1),
        coords={"chain": prepared.chain, "draw": prepared.draw, "__obs__": list(prepared.index)},
        dims=("chain", "draw", "__obs__"),
    )
    target = idata if inplace else idata.copy(deep=True)
    set_group(target, "log_likelihood", xr.Dataset({spec.response_name: da}))
    return None if inplace else target


def _with_loglik(name: str, entry):
    """An idata with a log_likelihood group, from an idata or a (model, idata) pair."""
    model = None
    if isinstance(entry, tuple | list) and len(entry) == 2:
        model, idata = entry
    else:
        idata = entry
    if not is_tree(idata):
        raise DataTypeError(
            f"{name!r}: expected a fit (the xarray.DataTree from model.fit()) or a "
            f"(model, idata) pair, got {type(entry).__name__}."
        )
    if has_group(idata, "log_likelihood"):
        return idata
    if model is None:
        raise PredictionError(
            f"{name!r} has no log_likelihood group. Fit with model.fit(log_likelihood=True), "
            "call model.compute_log_likelihood(idata), or pass the pair (model, idata)."
        )
    return model.compute_log_likelihood(idata, inplace=False)


def loo(entry, pointwise: bool = False):
    """PSIS-LOO of one fit (a fit with a log_likelihood group, or a (model, idata) pair).

    Returns ArviZ's ``ELPDData`` (``elpd``, ``se``, ``p``, ``pareto_k`` when pointwise, ...).
    """
    import arviz as az

    return az.loo(_with_loglik("model", entry), pointwise=pointwise)


def compare(models: dict, ic: str = "loo", **kwargs) -> pd.DataFrame:
    """Rank fitted models by expected log predictive density (ArviZ's ``compare``, PSIS-LOO).

    Parameters
    ----------
    models : dict
        Name -> fit with a log_likelihood group, or name -> (model, idata); for the latter the
        log-likelihood is computed when missing.
    ic : {"loo"}
        Information criterion. ArviZ 1 ranks by PSIS-LOO only (it has no WAIC).
    **kwargs
        Passed to ``arviz.compare`` (for example ``method="BB-pseudo-BMA"``).

    Returns
    -------
    pandas.DataFrame
        ArviZ's comparison table, best model first (``rank``, ``elpd``, ``p``, ``elpd_diff``,
        ``weight``, ``se``, ``dse``, ``warning``, ...).

    Examples
    --------
    >>> bf.compare({"linear": (m1, idata1), "quadratic": (m2, idata2)})  # doctest: +SKIP
    """
    import arviz as az

    if not isinstance(models, dict) or len(models) < 2:
        raise ArgumentError(
            "compare needs a dict of at least two named fits, e.g. "
            "{'linear': (m1, idata1), 'quadratic': (m2, idata2)}."
        )
    if ic != "loo":
        raise ArgumentError(
            f"compare ranks models by PSIS-LOO (ic='loo'); got ic={ic!r}. ArviZ 1 has no WAIC: "
            "LOO estimates the same quantity and warns (pareto_k) when it is unreliable."
        )
    prepared = {str(k): _with_loglik(str(k), v) for k, v in models.items()}
    kwargs.setdefault("round_to", "none")  # the table keeps full precision, as summary does
    return az.compare(prepared, **kwargs)


def _expected_response(spec, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draws of E[y] and the observed y, on the proportion scale for binomial responses."""
    y = np.asarray(spec.response_data.values, dtype=float)
    if spec.response_data.trials is not None:
        y = y / np.asarray(spec.response_data.trials, dtype=float)
    return parent, y


def bayes_r2(model, idata, summary: bool = True, prob: float = 0.94):
    """Bayesian R-squared (Gelman, Goodrich, Gabry and Vehtari, 2019), per posterior draw.

    ``R2 = var(E[y]) / (var(E[y]) + var(residual))`` over the observations, for each draw. The
    residual variance is the model's ``sigma**2`` for gaussian models and the variance of
    ``y - E[y]`` otherwise (binomial responses on the proportion scale).

    Returns
    -------
    pandas.Series
        ``r2`` (posterior mean), ``sd`` and the HDI bounds, or with ``summary=False`` a numpy
        array of one R2 per draw.
    """
    from bayesformula.results.tables import _check_prob, hdi_bounds, interval_names

    prob = _check_prob(prob)
    spec = getattr(model, "spec", model)  # a Model or its ModelSpec
    if spec.family.parent_over_levels:
        ordinal = spec.family.support == "ordinal"
        raise FamilyError(
            f"Bayesian R2 needs a numeric expected response, but family '{spec.family.name}' "
            f"predicts a probability per {'ordered ' if ordinal else ''}category. Compare "
            f"{'ordinal' if ordinal else 'categorical'} models with bf.loo or bf.compare "
            "instead."
        )
    _check_args(idata, "response_params", "posterior")
    prepared = prepare(spec, idata, kind="response_params")
    params = param_draws(spec, prepared)
    parent = params[spec.family.parent]
    fitted, y = _expected_response(spec, parent)
    var_fit = fitted.var(axis=1, ddof=1)
    sigma = params.get("sigma")
    if spec.family.name == "gaussian" and sigma is not None:
        # the spec's residual variance per draw (averaged over rows when sigma varies)
        sq = np.square(np.asarray(sigma, dtype=float))
        var_res = np.broadcast_to(
            sq.reshape(sq.shape[0], -1).mean(axis=1) if sq.ndim else sq, var_fit.shape
        )
    else:
        var_res = (y[None, :] - fitted).var(axis=1, ddof=1)
    r2 = var_fit / (var_fit + var_res)
    if not summary:
        return r2
    lower, upper = interval_names(prob)
    lo, hi = hdi_bounds(r2[:, None], prob)
    return pd.Series(
        {"r2": r2.mean(), "sd": r2.std(ddof=1), lower: lo[0], upper: hi[0]}, name="bayes_r2"
    )
