"""The response's log-likelihood with a response helper (censoring, truncation, weights).

Used by the PyMC model (as a ``CustomDist`` observed variable) and by the pointwise
log-likelihood for LOO, so both compute the same quantity. Censoring follows brms: "left"
means the true value is at most y (``log F(y)``), "right" that it is above y
(``log(1 - F(y))``), "interval" that it lies in (lower, upper] (``log(F(upper) - F(lower))``).
Truncation to [lb, ub] divides by ``F(ub) - F(lb)`` (``F(lb - 1)`` for discrete responses, so
that lb itself stays possible). Weights multiply each row's log-likelihood.
"""

from __future__ import annotations

import numpy as np

from bayesformula.formula.helpers import STATUS_CODES, ResponseHelper

__all__ = ["helper_logp"]

DISCRETE = ("count", "trials", "binary")


def _subset(kwargs: dict, idx: np.ndarray) -> dict:
    """The likelihood's parameters for the rows ``idx`` (last axis = observations)."""
    import pytensor.tensor as pt

    out = {}
    for key, value in kwargs.items():
        value = pt.as_tensor_variable(value)
        if value.ndim == 0 or value.type.broadcastable[-1]:
            out[key] = value
        else:
            out[key] = value[..., idx]
    return out


def helper_logp(family, kwargs: dict, y, helper: ResponseHelper):
    """Elementwise log-likelihood of ``y`` (last axis = observations) under ``helper``."""
    import pymc as pm
    import pytensor.tensor as pt

    likelihood = getattr(pm, family.likelihood)
    y = pt.as_tensor_variable(y)
    logp = pm.logp(likelihood.dist(**kwargs), y)
    if helper.kind == "weighted":
        return logp * helper.weights
    if helper.kind == "truncated":
        lcdf_hi = pt.zeros_like(logp)
        lcdf_lo = pt.full_like(logp, -np.inf)
        shift = 1.0 if family.support in DISCRETE else 0.0
        for idx, at, upper in (
            (np.flatnonzero(np.isfinite(helper.upper_bound)), helper.upper_bound, True),
            (np.flatnonzero(np.isfinite(helper.lower_bound)), helper.lower_bound - shift, False),
        ):
            if idx.size == 0:
                continue
            piece = pm.logcdf(likelihood.dist(**_subset(kwargs, idx)), at[idx])
            if upper:
                lcdf_hi = pt.set_subtensor(lcdf_hi[..., idx], piece)
            else:
                lcdf_lo = pt.set_subtensor(lcdf_lo[..., idx], piece)
        return logp - pm.math.logdiffexp(lcdf_hi, lcdf_lo)
    # censored
    out = pt.zeros_like(logp)
    status = helper.status
    for kind, code in STATUS_CODES.items():
        idx = np.flatnonzero(status == code)
        if idx.size == 0:
            continue
        dist = likelihood.dist(**_subset(kwargs, idx))
        at = y[..., idx]
        if kind == "none":
            piece = pm.logp(dist, at)
        elif kind == "left":
            piece = pm.logcdf(dist, at)
        elif kind == "right":
            piece = pm.math.log1mexp(pm.logcdf(dist, at))
        else:
            upper = helper.upper[idx]
            piece = pm.math.logdiffexp(pm.logcdf(dist, upper), pm.logcdf(dist, at))
        out = pt.set_subtensor(out[..., idx], piece)
    return out
