"""Priors as numpy log-densities with gradients, for the compile-free fast path.

`numeric_prior` turns a `Prior` into a `NumericPrior`: its log-density at a value (PyMC's exact
normalising constants, so the fast path's ``lp`` equals the PyMC model's), the derivative with
respect to the value, and whether the sampler works on ``log(value)`` (PyMC's log transform for
positive distributions). Priors outside the supported set raise `Unsupported`, and the model is
then sampled from its PyMC graph instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from bayesformula.priors.prior import Prior

__all__ = ["NumericPrior", "Unsupported", "numeric_prior", "SUPPORTED"]

_LOG_2PI = math.log(2 * math.pi)
_LOG_PI = math.log(math.pi)


class Unsupported(Exception):
    """The fast path cannot express this model exactly; the reason is the message."""


def _t_const(nu, sigma):
    return gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * math.pi) - np.log(sigma)


@dataclass(frozen=True)
class NumericPrior:
    """A prior's log-density on a block of ``size`` values.

    ``positive`` priors are sampled on ``log(value)``; `logp_grad` returns the log-density of
    the value itself (the caller adds the log-Jacobian).
    """

    name: str
    params: dict
    positive: bool

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Sum of the log-densities at ``x`` and the derivative with respect to ``x``."""
        p = self.params
        name = self.name
        if name in ("Flat", "HalfFlat"):
            return 0.0, np.zeros_like(x)
        if name == "Normal":
            z = (x - p["mu"]) / p["sigma"]
            lp = -0.5 * z * z - np.log(p["sigma"]) - 0.5 * _LOG_2PI
            return float(np.sum(lp)), -z / p["sigma"]
        if name == "HalfNormal":
            z = x / p["sigma"]
            lp = 0.5 * math.log(2 / math.pi) - np.log(p["sigma"]) - 0.5 * z * z
            return float(np.sum(lp)), -z / p["sigma"]
        if name in ("StudentT", "HalfStudentT"):
            nu, sigma = p["nu"], p["sigma"]
            d = x - p.get("mu", 0.0)
            q = d * d / (sigma * sigma * nu)
            lp = _t_const(nu, sigma) - 0.5 * (nu + 1) * np.log1p(q)
            if name == "HalfStudentT":
                lp = lp + math.log(2)
            grad = -(nu + 1) * d / (sigma * sigma * nu * (1 + q))
            return float(np.sum(lp)), grad
        if name in ("Cauchy", "HalfCauchy"):
            loc = p.get("alpha", 0.0)
            beta = p["beta"]
            d = (x - loc) / beta
            lp = -_LOG_PI - np.log(beta) - np.log1p(d * d)
            if name == "HalfCauchy":
                lp = lp + math.log(2)
            return float(np.sum(lp)), -2 * d / (beta * (1 + d * d))
        if name == "Exponential":
            lam = p["lam"]
            lp = np.log(lam) - lam * x
            return float(np.sum(lp)), -lam * np.ones_like(x)
        if name == "Gamma":
            a, b = p["alpha"], p["beta"]
            lp = a * np.log(b) - gammaln(a) + (a - 1) * np.log(x) - b * x
            return float(np.sum(lp)), (a - 1) / x - b
        raise AssertionError(name)  # pragma: no cover - numeric_prior filters names

    def initial(self, size: int) -> np.ndarray:
        """A central starting value (on the sampler's scale: log for positive priors)."""
        p = self.params
        if self.name in ("Normal", "StudentT"):
            return np.broadcast_to(p.get("mu", 0.0), (size,)).astype(float)
        if self.name == "Cauchy":
            return np.broadcast_to(p.get("alpha", 0.0), (size,)).astype(float)
        if self.name in ("HalfNormal", "HalfStudentT"):
            return np.log(np.broadcast_to(p["sigma"], (size,)).astype(float))
        if self.name == "HalfCauchy":
            return np.log(np.broadcast_to(p["beta"], (size,)).astype(float))
        if self.name == "Exponential":
            return np.log(1.0 / np.broadcast_to(p["lam"], (size,)).astype(float))
        if self.name == "Gamma":
            return np.log(np.broadcast_to(p["alpha"] / p["beta"], (size,)).astype(float))
        return np.zeros(size)


#: Distribution -> (parameters it takes, whether it is positive); PyMC's parameter names.
SUPPORTED = {
    "Flat": ((), False),
    "HalfFlat": ((), True),
    "Normal": (("mu", "sigma"), False),
    "HalfNormal": (("sigma",), True),
    "StudentT": (("nu", "mu", "sigma"), False),
    "HalfStudentT": (("nu", "sigma"), True),
    "Cauchy": (("alpha", "beta"), False),
    "HalfCauchy": (("beta",), True),
    "Exponential": (("lam",), True),
    "Gamma": (("alpha", "beta"), True),
}

_DEFAULTS = {("Normal", "mu"): 0.0, ("StudentT", "mu"): 0.0, ("Normal", "sigma"): 1.0}


def numeric_prior(prior: Prior, size: int, what: str) -> NumericPrior:
    """The `NumericPrior` of ``prior`` on a block of ``size`` values.

    Raises
    ------
    Unsupported
        For distributions or parametrisations outside `SUPPORTED`, and for hyperpriors.
    """
    if prior.name not in SUPPORTED:
        raise Unsupported(f"{what} has a {prior.name} prior")
    names, positive = SUPPORTED[prior.name]
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
    return NumericPrior(prior.name, params, positive)
