"""Priors as numpy log-densities with gradients, for the compile-free fast path.

`numeric_prior` turns a `Prior` into a `NumericPrior`: its log-density at a value (PyMC's exact
normalising constants, so the fast path's ``lp`` equals the PyMC model's), the derivative with
respect to the value, and whether the sampler works on ``log(value)`` (PyMC's log transform for
positive distributions). Priors outside the supported set raise `Unsupported`, and the model is
then sampled from its PyMC graph instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln

from bayesformula.core.prior import Prior

__all__ = [
    "PRIOR_KINDS",
    "NumericPrior",
    "PriorKind",
    "Unsupported",
    "numeric_prior",
    "register_prior_kind",
]

_LOG_2PI = math.log(2 * math.pi)
_LOG_PI = math.log(math.pi)


class Unsupported(Exception):
    """The fast path cannot express this model exactly; the reason is the message."""


def _t_const(nu, sigma):
    return gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * math.pi) - np.log(sigma)


@dataclass(frozen=True)
class PriorKind:
    """How the fast path computes one distribution: its parameters (PyMC's names), whether
    it is sampled on ``log(value)``, its elementwise log-density and derivative
    ``(x, params) -> (lp, dlp/dx)``, and a central starting value ``(params, size) -> x0`` on
    the sampler's scale. ``unit`` distributions (on (0, 1)) are sampled on ``logit(value)``."""

    params: tuple[str, ...]
    positive: bool
    logp_grad: Callable[[np.ndarray, dict], tuple[np.ndarray, np.ndarray]]
    initial: Callable[[dict, int], np.ndarray]
    unit: bool = False


#: Distribution name -> `PriorKind`: the priors the fast path computes exactly. A prior of any
#: other distribution raises `Unsupported`, and the model is sampled from its graph.
PRIOR_KINDS: dict[str, PriorKind] = {}


def register_prior_kind(
    name: str, params: tuple[str, ...], positive: bool, initial, *, unit: bool = False
):
    """Register ``name``'s log-density (the decorated function) for the fast path."""

    def decorate(logp_grad):
        PRIOR_KINDS[name] = PriorKind(tuple(params), positive, logp_grad, initial, unit)
        return logp_grad

    return decorate


def _full(value, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,)).astype(float)


def _at(key: str, log: bool = False):
    """A starting value: the parameter ``key`` (its log for positive priors)."""
    if log:
        return lambda p, size: np.log(_full(p[key], size))
    return lambda p, size: _full(p.get(key, 0.0), size)


def _zeros(_: dict, size: int) -> np.ndarray:
    return np.zeros(size)


@register_prior_kind("Flat", (), False, _zeros)
def _flat(x, p):
    return np.zeros_like(x), np.zeros_like(x)


@register_prior_kind("HalfFlat", (), True, _zeros)
def _half_flat(x, p):
    return np.zeros_like(x), np.zeros_like(x)


@register_prior_kind("Normal", ("mu", "sigma"), False, _at("mu"))
def _normal(x, p):
    pre = p.get("_n")
    if pre is None:  # depends on the parameters alone: computed on the first call
        pre = p["_n"] = (p["mu"], p["sigma"], np.log(p["sigma"]))
    mu, sigma, log_sigma = pre
    z = (x - mu) / sigma
    return -0.5 * z * z - log_sigma - 0.5 * _LOG_2PI, -z / sigma


@register_prior_kind("HalfNormal", ("sigma",), True, _at("sigma", log=True))
def _half_normal(x, p):
    z = x / p["sigma"]
    return 0.5 * math.log(2 / math.pi) - np.log(p["sigma"]) - 0.5 * z * z, -z / p["sigma"]


def _student_t(x, p, half: bool):
    pre = p.get("_t")
    if pre is None:  # depends on the parameters alone: computed on the first call
        nu, sigma = p["nu"], p["sigma"]
        inv = 1.0 / (sigma * sigma * nu)
        const = _t_const(nu, sigma) + (math.log(2) if half else 0.0)
        pre = p["_t"] = (const, inv, -0.5 * (nu + 1), -(nu + 1) * inv, p.get("mu", 0.0))
    const, inv, half_power, slope, mu = pre
    d = x - mu
    q = d * d * inv
    return const + half_power * np.log1p(q), slope * d / (1 + q)


register_prior_kind("StudentT", ("nu", "mu", "sigma"), False, _at("mu"))(
    lambda x, p: _student_t(x, p, half=False)
)
register_prior_kind("HalfStudentT", ("nu", "sigma"), True, _at("sigma", log=True))(
    lambda x, p: _student_t(x, p, half=True)
)


def _cauchy(x, p, half: bool):
    beta = p["beta"]
    d = (x - p.get("alpha", 0.0)) / beta
    lp = -_LOG_PI - np.log(beta) - np.log1p(d * d) + (math.log(2) if half else 0.0)
    return lp, -2 * d / (beta * (1 + d * d))


register_prior_kind("Cauchy", ("alpha", "beta"), False, _at("alpha"))(
    lambda x, p: _cauchy(x, p, half=False)
)
register_prior_kind("HalfCauchy", ("beta",), True, _at("beta", log=True))(
    lambda x, p: _cauchy(x, p, half=True)
)


@register_prior_kind(
    "Exponential", ("lam",), True, lambda p, size: np.log(1.0 / _full(p["lam"], size))
)
def _exponential(x, p):
    lam = p["lam"]
    return np.log(lam) - lam * x, -lam * np.ones_like(x)


@register_prior_kind(
    "Gamma", ("alpha", "beta"), True, lambda p, size: np.log(_full(p["alpha"] / p["beta"], size))
)
def _gamma(x, p):
    a, b = p["alpha"], p["beta"]
    return a * np.log(b) - gammaln(a) + (a - 1) * np.log(x) - b * x, (a - 1) / x - b


@register_prior_kind(
    "InverseGamma",
    ("alpha", "beta"),
    True,
    lambda p, size: np.log(_full(p["beta"] / (p["alpha"] + 1.0), size)),  # the mode
)
def _inverse_gamma(x, p):
    a, b = p["alpha"], p["beta"]
    return a * np.log(b) - gammaln(a) - b / x - (a + 1) * np.log(x), b / (x * x) - (a + 1) / x


@register_prior_kind("LogNormal", ("mu", "sigma"), True, _at("mu"))
def _log_normal(x, p):
    log_x = np.log(x)
    z = (log_x - p["mu"]) / p["sigma"]
    lp = -0.5 * z * z - 0.5 * _LOG_2PI - np.log(p["sigma"]) - log_x
    return lp, -(z / p["sigma"] + 1.0) / x


@register_prior_kind(
    "Beta",
    ("alpha", "beta"),
    False,
    lambda p, size: np.log(_full(p["alpha"], size) / _full(p["beta"], size)),
    unit=True,
)
def _beta(x, p):
    a, b = p["alpha"], p["beta"]
    lp = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)
    return lp, (a - 1) / x - (b - 1) / (1 - x)


@dataclass(frozen=True)
class NumericPrior:
    """A prior's log-density on a block of ``size`` values.

    ``positive`` priors are sampled on ``log(value)``, ``unit`` ones on ``logit(value)``;
    `logp_grad` returns the log-density of the value itself (the caller adds the
    log-Jacobian).
    """

    name: str
    params: dict
    positive: bool
    unit: bool = False

    @property
    def transform(self) -> str | None:
        """The sampler's scale: "log", "logodds" or None (the value itself)."""
        return "log" if self.positive else "logodds" if self.unit else None

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Sum of the log-densities at ``x`` and the derivative with respect to ``x``."""
        lp, grad = PRIOR_KINDS[self.name].logp_grad(x, self.params)
        return float(lp.sum() if isinstance(lp, np.ndarray) else lp), grad

    def initial(self, size: int) -> np.ndarray:
        """A central starting value (on the sampler's scale: log for positive priors)."""
        return PRIOR_KINDS[self.name].initial(self.params, size)


_DEFAULTS = {
    ("Normal", "mu"): 0.0,
    ("StudentT", "mu"): 0.0,
    ("Normal", "sigma"): 1.0,
    ("LogNormal", "mu"): 0.0,
}


def numeric_prior(prior: Prior, size: int, what: str) -> NumericPrior:
    """The `NumericPrior` of ``prior`` on a block of ``size`` values.

    Raises
    ------
    Unsupported
        For distributions or parametrisations outside `PRIOR_KINDS`, and for hyperpriors.
    """
    if prior.name not in PRIOR_KINDS:
        raise Unsupported(f"{what} has a {prior.name} prior")
    if prior.options:  # transform=, default_transform=: only the PyMC graph applies them
        raise Unsupported(f"{what}'s prior sets {', '.join(sorted(prior.options))}")
    names, positive = PRIOR_KINDS[prior.name].params, PRIOR_KINDS[prior.name].positive
    args = dict(prior.args)
    if prior.name == "Exponential" and "scale" in args and "lam" not in args:
        args["lam"] = 1.0 / np.asarray(args.pop("scale"), dtype=float)
    if prior.name == "Gamma" and ("mu" in args or "sigma" in args):
        raise Unsupported(f"{what} has a Gamma prior given by mu/sigma")
    unknown = set(args) - set(names)
    if unknown:
        raise Unsupported(f"{what}'s {prior.name} prior uses {sorted(unknown)}")
    params = {}
    for key in names:
        if key not in args:
            if (prior.name, key) not in _DEFAULTS:
                raise Unsupported(f"{what}'s {prior.name} prior lacks '{key}'")
            args[key] = _DEFAULTS[(prior.name, key)]
        value = args[key]
        if isinstance(value, Prior):
            raise Unsupported(f"{what}'s prior has a hyperprior on '{key}'")
        arr = np.asarray(value, dtype=float)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, size)):
            raise Unsupported(f"{what}'s prior parameter '{key}' has shape {arr.shape}")
        params[key] = float(arr.reshape(-1)[0]) if arr.size == 1 else arr
    return NumericPrior(prior.name, params, positive, PRIOR_KINDS[prior.name].unit)
