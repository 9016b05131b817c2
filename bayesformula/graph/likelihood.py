"""The response's log-likelihood: the one place that chooses it, for the PyMC model's observed
variable (`observed_variable`) and the pointwise log-likelihood for LOO (`observed_logp`), so
both compute the same quantity.

Three cases, in this order: a response helper (censoring, truncation, weights: `helper_logp`), a
family with its own log-density (``Family.logp``, e.g. the accurate dirichlet-multinomial), and
otherwise the PyMC distribution named by ``Family.likelihood``. Censoring follows brms: "left"
means the true value is at most y (``log F(y)``), "right" that it is above y
(``log(1 - F(y))``), "interval" that it lies in (lower, upper] (``log(F(upper) - F(lower))``).
Truncation to [lb, ub] divides by ``F(ub) - F(lb)`` (``F(lb - 1)`` for discrete responses, so
that lb itself stays possible). Weights multiply each row's log-likelihood.
"""

from __future__ import annotations

import numpy as np

from bayesformula.formula.helpers import STATUS_CODES, ResponseHelper

__all__ = ["helper_logp", "observed_logp", "observed_variable"]

DISCRETE = ("count", "trials", "binary")


class _BernoulliAsBinomial:
    """``Binomial(n=1, p)`` in place of ``Bernoulli(p)``: the same density and draws.

    PyMC 6.3 rewrites the Bernoulli log-density before differentiating it into a form with
    ``log1p(-sigmoid(eta))``, whose gradient is NaN once ``sigmoid(eta)`` rounds to 1 (a linear
    predictor above about 37): NUTS then diverges on every draw. The Binomial's gradient stays
    finite there.
    """

    def __new__(cls, name: str, **kwargs):
        import pymc as pm

        return pm.Binomial(name, n=1, **kwargs)

    @staticmethod
    def dist(**kwargs):
        import pymc as pm

        return pm.Binomial.dist(n=1, **kwargs)


def _distribution(family):
    """The PyMC distribution of ``family.likelihood`` (see `_BernoulliAsBinomial`)."""
    import pymc as pm

    if family.likelihood == "Bernoulli":
        return _BernoulliAsBinomial
    return getattr(pm, family.likelihood)


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

    likelihood = _distribution(family)
    y = pt.as_tensor_variable(y)
    logp = pm.logp(likelihood.dist(**kwargs), y)
    if helper.kind == "weighted":
        return logp * helper.weights
    if helper.kind == "truncated":
        lcdf_hi = pt.zeros_like(logp)
        # the dtype given: a Python -inf alone makes a float32 vector, and the lower bounds'
        # log-CDFs set into it would be rounded to float32
        lcdf_lo = pt.full_like(logp, -np.inf, dtype=logp.dtype)
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


def observed_logp(family, kwargs: dict, y, helper: ResponseHelper | None = None):
    """Elementwise log-likelihood of ``y`` given the likelihood's parameters ``kwargs``
    (``family.to_dist(params)``)."""
    import pymc as pm

    if helper is not None:
        return helper_logp(family, kwargs, y, helper)
    if family.logp is not None:
        return family.logp(y, **kwargs)
    return pm.logp(_distribution(family).dist(**kwargs), y)


def observed_variable(name: str, family, params: dict, y_data, response, helper=None):
    """The observed variable of the PyMC model (inside a ``pm.Model`` context).

    A PyMC distribution where the family's own suffices (so that PyMC can also draw from it);
    otherwise a ``CustomDist`` whose log-density is `observed_logp`.
    """
    import pymc as pm
    import pytensor.tensor as pt

    kwargs = family.to_dist(params)
    # counts per category: one column per response level
    dims = ("__obs__", response.level_dim) if response.values.ndim == 2 else "__obs__"
    if helper is None and family.logp is None:
        return _distribution(family)(name, observed=y_data, dims=dims, **kwargs)
    keys = list(kwargs)
    extra = {}
    if response.values.ndim == 2:  # a vector per observation: (), (k) -> (k)
        cores = ["(k)" if pt.as_tensor(v).ndim == 2 else "()" for v in kwargs.values()]
        extra["signature"] = f"{','.join(cores)}->(k)"

    def logp(value, *values):
        return observed_logp(family, dict(zip(keys, values, strict=True)), value, helper)

    return pm.CustomDist(
        name,
        *kwargs.values(),
        logp=logp,
        observed=y_data,
        dims=dims,
        dtype=str(y_data.dtype),
        **extra,
    )
