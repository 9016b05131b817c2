"""Vector auxiliary parameters in the PyMC graph: the thresholds of ordinal families.

Thresholds take the intercept's place. Like the intercept, with centred predictors they are
sampled at the predictors' means (``threshold_centered``, which carries the prior) and
recorded uncentred as the deterministic ``threshold = threshold_centered + mean(X) @ beta``:
both enter the likelihood only through ``threshold - eta``, so this is a shift, and the
sampler avoids the ridge between thresholds and slopes of uncentred predictors.
"""

from __future__ import annotations

import numpy as np

from bayesformula.core.prior import Prior

__all__ = ["order_prior_draws", "ordered_prior_sample", "ordered_start", "vector_aux"]


def ordered_start(prior: Prior, size: int) -> np.ndarray:
    """A strictly increasing starting value inside ``prior``'s support.

    PyMC's ordered transform cannot start from equal values (the prior's ``mu`` broadcast to
    every threshold); the prior's own increasing ``mu`` is used when it has one.
    """
    args = prior.args
    lower, upper = args.get("lower"), args.get("upper")
    bounded = [v for v in (lower, upper) if v is not None and not isinstance(v, Prior)]
    if bounded:
        lo = float(np.max(lower)) if lower is not None else float(np.min(upper)) - size - 1
        hi = float(np.min(upper)) if upper is not None else lo + size + 1
        return np.linspace(lo, hi, size + 2)[1:-1]
    mu = args.get("mu", 0.0)
    base = np.broadcast_to(np.asarray(0.0 if isinstance(mu, Prior) else mu, float), (size,))
    if size == 1 or np.all(np.diff(base) > 0):
        return np.array(base, dtype=float)
    return np.sort(base) + np.linspace(-1.0, 1.0, size)


def vector_aux(param, prior: Prior, design, coefficients: dict, size: int, center: bool):
    """Create the vector parameter ``param`` (an `AuxParam` with a ``dim``) in the model.

    Returns the node the likelihood uses: the free variable, or with centring the
    uncentred deterministic of the same name.
    """
    import pymc as pm
    import pytensor.tensor as pt

    extra = {}
    if param.ordered:
        from pymc.distributions.transforms import ordered

        extra = {"transform": ordered, "initval": ordered_start(prior, size)}
    if not (center and param.replaces_intercept and design.common_terms):
        return prior.create_variable(param.name, dims=param.dim, **extra)
    raw = prior.create_variable(f"{param.name}_centered", dims=param.dim, **extra)
    beta = pt.concatenate([pt.atleast_1d(coefficients[t.name]) for t in design.common_terms])
    shift = pt.dot(np.asarray(design.X, dtype=float).mean(axis=0), beta)
    return pm.Deterministic(param.name, raw + shift, dims=param.dim)


# ------------------------------------------------------------------------------ prior draws
#: Gibbs sweeps that turn sorted forward draws into draws from the ordered prior.
GIBBS_SWEEPS = 200


def _scipy_marginals(prior: Prior, size: int):
    """Frozen scipy distributions of each coordinate's prior, or None if there is no match."""
    from scipy import stats

    args = dict(prior.args)
    if any(isinstance(v, Prior) for v in args.values()):
        return None
    a = {k: np.broadcast_to(np.asarray(v, dtype=float), (size,)) for k, v in args.items()}
    makers = {
        "Normal": lambda j: stats.norm(a["mu"][j], a["sigma"][j]),
        "StudentT": lambda j: stats.t(a["nu"][j], a["mu"][j], a["sigma"][j]),
        "Cauchy": lambda j: stats.cauchy(a["alpha"][j], a["beta"][j]),
        "Logistic": lambda j: stats.logistic(a["mu"][j], a["s"][j]),
        "Laplace": lambda j: stats.laplace(a["mu"][j], a["b"][j]),
        "Uniform": lambda j: stats.uniform(a["lower"][j], a["upper"][j] - a["lower"][j]),
    }
    try:
        return [makers[prior.name](j) for j in range(size)]
    except KeyError:  # another distribution, or a parameterisation (tau=, lam=) not listed
        return None


def _truncated_draw(dist, lower, upper, rng) -> np.ndarray:
    """One draw per row from ``dist`` restricted to (lower, upper), by inverse CDF (in the
    upper tail through the survival function, so that it stays accurate there)."""
    u = rng.random(len(lower))
    with np.errstate(all="ignore"):
        f_lo, f_hi = dist.cdf(lower), dist.cdf(upper)
        s_lo, s_hi = dist.sf(lower), dist.sf(upper)
        low_tail = dist.ppf(f_lo + u * (f_hi - f_lo))
        high_tail = dist.isf(s_hi + u * (s_lo - s_hi))
    out = np.where(f_lo > 0.5, high_tail, low_tail)
    return np.clip(np.where(np.isfinite(out), out, lower), lower, upper)


def ordered_prior_sample(prior: Prior, draws: np.ndarray, rng, sweeps: int = GIBBS_SWEEPS):
    """Draws of an ordered vector from forward draws ``(S, m)`` that ignore the ordering.

    The ordered prior is the product of the coordinates' priors restricted to increasing
    vectors. PyMC's forward sampling ignores the restriction; sorting each draw fixes it
    exactly when every coordinate has the same prior (the draws are then order statistics).
    Otherwise the sorted draws start a Gibbs sampler whose updates draw each coordinate from
    its prior truncated to lie between its neighbours (``sweeps`` passes), for the priors
    with a scipy counterpart (Normal, StudentT, Cauchy, Logistic, Laplace, Uniform); other
    priors keep the sorted draws.
    """
    theta = np.sort(np.asarray(draws, dtype=float), axis=1)
    size = theta.shape[1]
    identical = all(np.ndim(v) == 0 or np.unique(v).size == 1 for v in prior.args.values())
    marginals = None if identical or size < 2 else _scipy_marginals(prior, size)
    if marginals is None:
        return theta
    inf = np.full(len(theta), np.inf)
    for _ in range(sweeps):
        for j, dist in enumerate(marginals):
            lower = theta[:, j - 1] if j > 0 else -inf
            upper = theta[:, j + 1] if j < size - 1 else inf
            theta[:, j] = _truncated_draw(dist, lower, upper, rng)
    return theta


def order_prior_draws(model, prior, rng):
    """Replace the forward draws of ordered parameters in ``prior`` (an xarray Dataset of
    prior draws) by draws from the ordered prior; see `ordered_prior_sample`."""
    for param in model.family.aux:
        # an auxiliary parameter with its own formula has term priors, not one prior here
        spec = model.priors.aux.get(param.name)
        if not (param.ordered and isinstance(spec, Prior)):
            continue
        sampled = f"{param.name}_centered"
        sampled = sampled if sampled in prior else param.name
        if sampled not in prior:
            continue
        da = prior[sampled]
        flat = da.values.reshape(-1, da.shape[-1])
        fixed = ordered_prior_sample(spec, flat, rng).reshape(da.shape)
        if sampled != param.name and param.name in prior:  # the uncentred thresholds
            shift = prior[param.name].values - da.values
            prior[param.name] = prior[param.name].copy(data=fixed + shift)
        prior[sampled] = da.copy(data=fixed)
    return prior
