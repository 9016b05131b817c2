"""The fast path's likelihoods, registered by (family, link).

A family and link with an entry here are computed by the fast path; any other takes the PyMC
graph. Each entry gives the likelihood's constant (the terms free of parameters, so that the
log-density equals the graph's exactly) and its parameter-dependent part with the gradient:

* gaussian (``kind="gaussian"``): from the residual sum of squares ``Q`` over ``n`` rows,
  ``-n log(sigma) - Q / (2 sigma^2)``, with derivatives in ``Q`` and ``sigma``; the caller gets
  ``Q`` from sufficient statistics, merged rows or the rows themselves;
* the others (``kind="glm"``): from the linear predictor of (possibly merged) rows with summed
  responses ``ysum`` and weights (trials, or the number of rows merged), the log-likelihood and
  its derivative in ``eta``; ``kernel`` names the compiled row loop's code for large data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from bayesformula.density.links import expit

__all__ = ["FAST_LIKELIHOODS", "FastLikelihood", "fast_likelihood", "register_fast_likelihood"]

_LOG_2PI = math.log(2 * math.pi)

#: Values multiplied at a time in `_softplus_sum_and_expit`: each lies in (1, 2], so a
#: product of 512 stays below 2**512, far from overflow.
_PRODUCT_CHUNK = 512


@dataclass(frozen=True)
class FastLikelihood:
    """One family and link on the fast path (see the module docstring)."""

    family: str
    likelihood: str
    link: str
    kind: str  # "gaussian" or "glm"
    #: ``(y, trials[, weights]) -> float``, the rows' terms free of parameters (each row's
    #: times its weight where weights are given)
    constant: Callable[..., float]
    #: gaussian: ``(Q, n, sigma) -> (lp, dlp/dQ, dlp/dsigma)``;
    #: glm: ``(eta, ysum, weight, unit_weights) -> (lp, dlp/deta)``
    loglik: Callable
    #: glm: ``unit_weights -> code`` of `bayesformula.density.kernels`, None for no row loop
    kernel: Callable[[bool], int] | None = None


#: (family name, link name) -> `FastLikelihood`
FAST_LIKELIHOODS: dict[tuple[str, str], FastLikelihood] = {}


def register_fast_likelihood(entry: FastLikelihood) -> FastLikelihood:
    """Put ``entry`` on the fast path (for its family's name and link)."""
    FAST_LIKELIHOODS[(entry.family, entry.link)] = entry
    return entry


def fast_likelihood(family, link) -> FastLikelihood | None:
    """The entry for ``family`` with ``link``, or None if the fast path does not compute it
    (also when the family's PyMC likelihood is not the registered one)."""
    entry = FAST_LIKELIHOODS.get((family.name, link.name))
    if entry is None or entry.likelihood != family.likelihood:
        return None
    return entry


def _softplus_sum_and_expit(eta):
    """``sum(log(1 + exp(eta)))`` and ``expit(eta)``, with one exponential per value.

    ``log(1 + exp(eta)) = max(eta, 0) + log(v)`` with ``v = 1 + exp(-|eta|)`` in (1, 2]; the
    sum of the logs is taken as the log of chunked products, so a handful of logarithms replace
    one per row (logarithms dominate the cost of a bernoulli gradient otherwise).
    """
    e = np.exp(-np.abs(eta))
    v = 1.0 + e
    n = v.size
    full = n - n % _PRODUCT_CHUNK
    total = float(np.sum(np.log(np.prod(v[:full].reshape(-1, _PRODUCT_CHUNK), axis=1))))
    total += float(np.sum(np.log(v[full:])))
    total += float(np.sum(np.maximum(eta, 0.0)))
    inv = 1.0 / v
    p = np.where(eta >= 0, inv, e * inv)
    return total, p


def _gaussian(Q: float, n: int, sigma: float):
    lp = -n * math.log(sigma) - 0.5 * Q / (sigma * sigma)
    return lp, -0.5 / (sigma * sigma), -n / sigma + Q / sigma**3


def _logistic(eta, ysum, weight, unit_weights: bool):
    if unit_weights:
        softplus_sum, prob = _softplus_sum_and_expit(eta)
        return float(ysum @ eta) - softplus_sum, ysum - prob
    return float(ysum @ eta) - float(weight @ np.logaddexp(0.0, eta)), ysum - weight * expit(eta)


def _poisson(eta, ysum, weight, unit_weights: bool):
    mu = np.exp(eta)
    return float(ysum @ eta) - float(weight @ mu), ysum - weight * mu


def _cloglog(eta, ysum, weight, unit_weights: bool):
    # P(failure) = exp(-exp(eta)): log P(failure) = -exp(eta) exactly
    e = np.exp(eta)
    log_p = np.log(-np.expm1(-e))
    fail = weight - ysum
    lp = float(ysum @ log_p) - float(fail @ e)
    # d log P(success) / d eta = e / expm1(e): 1 as e -> 0, e * exp(-e) -> 0 as e grows
    with np.errstate(over="ignore", invalid="ignore"):
        slope = np.where(e > 700.0, 0.0, e / np.expm1(np.minimum(e, 700.0)))
    slope = np.where(e < 1e-300, 1.0, slope)
    return lp, ysum * slope - fail * e


def _sum(values, w) -> float:
    """``sum(values)``, each row's weighted by ``w`` (None: unweighted)."""
    return float(np.sum(values)) if w is None else float(values @ w)


def zero_constant(y, trials, w=None) -> float:
    """No terms free of the parameters (the bernoulli's)."""
    return 0.0


def poisson_constant(y, trials, w=None) -> float:
    """The Poisson log-likelihood's terms free of the mean: ``-sum(log(y!))`` (each row's
    times its weight ``w``)."""
    return -_sum(gammaln(y + 1), w)


def binomial_constant(y, trials, w=None) -> float:
    """``sum(log(n choose y))`` (each row's times its weight ``w``)."""
    return _sum(gammaln(trials + 1) - gammaln(y + 1) - gammaln(trials - y + 1), w)


def _kernel_code(name: str) -> Callable[[bool], int]:
    def code(unit_weights: bool) -> int:
        from bayesformula.density import kernels

        if name == "poisson":
            return kernels.POISSON
        return kernels.BERNOULLI if unit_weights else kernels.BINOMIAL

    return code


def _gaussian_constant(y, trials, w=None):
    return -0.5 * (y.size if w is None else float(np.sum(w))) * _LOG_2PI


register_fast_likelihood(
    FastLikelihood("gaussian", "Normal", "identity", "gaussian", _gaussian_constant, _gaussian)
)
register_fast_likelihood(
    FastLikelihood(
        "bernoulli", "Bernoulli", "logit", "glm", zero_constant, _logistic, _kernel_code("b")
    )
)
register_fast_likelihood(
    FastLikelihood(
        "binomial", "Binomial", "logit", "glm", binomial_constant, _logistic, _kernel_code("b")
    )
)
# the probit and identity links are row likelihoods (`rows.py`), computed as PyMC computes them
for _family, _constant in (("bernoulli", zero_constant), ("binomial", binomial_constant)):
    register_fast_likelihood(
        FastLikelihood(_family, _family.title(), "cloglog", "glm", _constant, _cloglog)
    )
register_fast_likelihood(
    FastLikelihood(
        "poisson",
        "Poisson",
        "log",
        "glm",
        poisson_constant,
        _poisson,
        _kernel_code("poisson"),
    )
)
