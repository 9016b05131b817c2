"""How far an approximation of the posterior is from it: the Pareto k̂ diagnostic, and the
hierarchical scales a Laplace approximation cannot represent.

The diagnostic is that of Yao, Vehtari, Simpson & Gelman (2018), "Yes, but did it work?:
Evaluating variational inference": draws ``θ_s`` from the approximation ``q`` get importance
ratios ``log w_s = log p(θ_s, y) - log q(θ_s)``, and the shape ``k̂`` of a generalized Pareto
distribution fitted to the largest ratios (Pareto-smoothed importance sampling, PSIS) says how
heavy their tail is. ``k̂ < 0.5``: the approximation is close to the posterior; ``0.5 - 0.7``:
usable with care; ``> 0.7``: poor (the posterior has mass that ``q`` misses, and estimates from
its draws can be wrong). Both densities are taken on the unconstrained space the
approximations live on (``sigma_log__``), the model's with the transforms' Jacobians.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "GOOD_K",
    "POOR_K",
    "flat_logp",
    "hierarchical_scales",
    "log_joint",
    "pareto_k",
    "record_pareto_k",
    "value_layout",
]

#: k̂ below this: the approximation is close to the posterior (Yao et al., 2018)
GOOD_K = 0.5
#: k̂ above this: the approximation is poor
POOR_K = 0.7
#: log importance ratios that spread less than this are equal (rounding of the densities)
EQUAL_RATIOS = 1e-8


def value_layout(model, point: dict | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of each value variable, from ``point`` (default: the initial point)."""
    point = model.initial_point() if point is None else point
    return [(v.name, np.shape(point[v.name])) for v in model.value_vars]


def flat_logp(model, layout):
    """The model's log-density (with the transforms' Jacobians) as a graph of one vector
    ``x``: the unconstrained point raveled in the order of ``model.value_vars`` (``layout``,
    as `value_layout` gives it).

    Returns
    -------
    tuple
        The input vector ``x`` and the log-density graph.
    """
    import pytensor.tensor as pt
    from pytensor.graph.replace import graph_replace

    x = pt.vector("x", dtype="float64")
    replace, start = {}, 0
    for var, (_, shape) in zip(model.value_vars, layout, strict=True):
        size = int(np.prod(shape))
        replace[var] = x[start : start + size].reshape(shape).astype(var.dtype)
        start += size
    return x, graph_replace(model.logp(jacobian=True), replace, strict=False)


def log_joint(model, flat: np.ndarray) -> np.ndarray:
    """``log p(θ, y)`` on the unconstrained space (with Jacobians) at each row of ``flat``
    ``(S, k)``, the value variables raveled in the order of ``model.value_vars``."""
    import pytensor

    x, logp = flat_logp(model, value_layout(model))
    fn = pytensor.function([x], logp)
    flat = np.asarray(flat, dtype=float)
    out = np.empty(len(flat))
    for s, row in enumerate(flat):
        out[s] = float(fn(row))
    return out


def pareto_k(log_p: np.ndarray, log_q: np.ndarray) -> float:
    """Pareto k̂ of the importance ratios ``log_p - log_q`` of draws from ``q``.

    A draw where the model's density is zero (``log_p = -inf``) has ratio zero and takes no
    part in the fit of the tail; a ratio that is NaN or ``+inf``, or fewer than 10 finite
    ratios, gives ``inf`` (no tail can be fitted: the approximation is not usable). Ratios
    that are all equal up to rounding (``q`` is the posterior, as Laplace's normal is for a
    normal posterior) have no tail either and give ``-inf``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> from scipy import stats
    >>> bool(pareto_k(stats.norm.logpdf(x), stats.norm.logpdf(x)) < 0.5)  # q = p exactly
    True
    """
    from arviz_stats.base import array_stats

    log_w = np.asarray(log_p, dtype=float) - np.asarray(log_q, dtype=float)
    if np.isnan(log_w).any() or np.isposinf(log_w).any():
        return math.inf
    finite = log_w[np.isfinite(log_w)]
    if finite.size < 10:
        return math.inf
    if np.ptp(finite) < EQUAL_RATIOS:  # q is p up to rounding: equal ratios have no tail
        return -math.inf
    # arviz_stats smooths the negated array (its PSIS-LOO input is the log-likelihood, whose
    # negative is the log ratio), so the log ratios go in with their sign flipped
    _, khat = array_stats.psislw(-(finite - finite.max()), r_eff=1.0)
    return float(khat)


def record_pareto_k(idata, k: float, draws: int, note: str = "") -> None:
    """Store the diagnostic in ``idata["posterior"].attrs``: ``pareto_k`` (NaN when it could
    not be computed, with the reason in ``pareto_k_note``) and ``pareto_k_draws`` (the number
    of draws of the approximation it was computed from)."""
    attrs = idata["posterior"].attrs
    attrs["pareto_k"] = float(k)
    attrs["pareto_k_draws"] = int(draws)
    if note:
        attrs["pareto_k_note"] = note


# ------------------------------------------------------------- hierarchical scales (laplace)
def _is_scale(model, rv) -> bool:
    """A parameter that is a standard deviation or a covariance factor: log-transformed (a
    positive parameter) or a packed Cholesky factor (``LKJCholeskyCov``)."""
    name = type(model.rvs_to_transforms.get(rv)).__name__
    return name == "LogTransform" or "Cholesky" in name


def _is_standard_normal(rv) -> bool:
    """``Normal(0, 1)`` with constant parameters (the offsets of non-centred effects)."""
    import pytensor.tensor as pt

    if type(rv.owner.op).__name__ != "NormalRV":
        return False
    try:
        mu, sigma = (
            float(pt.get_underlying_scalar_constant_value(p)) for p in rv.owner.inputs[-2:]
        )
    except (pt.NotScalarConstantError, TypeError, ValueError):
        return False
    return mu == 0.0 and sigma == 1.0


def hierarchical_scales(model) -> list[tuple[str, str, tuple[str, ...]]]:
    """The scales of hierarchical priors in a PyMC model.

    A scale parameter (positive, or a Cholesky factor) is hierarchical when it sets the spread
    of other parameters: it appears in the distribution of another free variable (centred
    effects, ``u ~ Normal(0, sigma)``), or it enters a deterministic together with a
    standard-normal free variable (non-centred effects, ``u = sigma * z``).

    Returns
    -------
    list of tuple
        ``(scale, scaled, reported)``: the scale's name, the name of (the first) variable it
        scales, and the deterministics computed from the scale alone (the standard deviations
        and correlations a Cholesky factor is reported as).
    """
    from pytensor.graph.traversal import ancestors

    free = list(model.free_RVs)
    free_set = set(free)

    def parents(outputs):
        return [v for v in ancestors(outputs, blockers=free) if v in free_set]

    found: dict[str, str] = {}
    for rv in free:
        for parent in parents(rv.owner.inputs):
            if parent is not rv and _is_scale(model, parent):
                found.setdefault(parent.name, rv.name)
    from_one: dict[str, list[str]] = {}
    for det in model.deterministics:
        above = parents([det])
        if len(above) == 1:
            from_one.setdefault(above[0].name, []).append(det.name)
        if any(_is_standard_normal(v) for v in above):
            for parent in above:
                if _is_scale(model, parent):
                    found.setdefault(parent.name, det.name)
    return [(scale, scaled, tuple(from_one.get(scale, ()))) for scale, scaled in found.items()]
