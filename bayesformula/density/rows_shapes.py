"""Row likelihoods of the fast path for the shape families: skewnormal, exgaussian,
asymmetriclaplace, weibull and wald (see `bayesformula.density.rows`).

Each computes its PyMC distribution's log-density exactly as the graph builds it (the family's
``to_dist`` included: weibull's scale ``mu / gamma(1 + 1/alpha)``, asymmetric Laplace's
``kappa = sqrt(q / (1 - q))``, ExGaussian's switch to the normal when ``nu <= 0.05 sigma``),
and PyMC's own numerics (its float32 ``sqrt(2)`` in log Phi), with its gradient in ``mu`` and
in each auxiliary parameter. Each is admitted only once `bayesformula.testing.check_density`
proves it equal to the graph.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, erfc, erfcx, gamma, gammaln, log_ndtr

from bayesformula.density.rows import (
    RowFamily,
    register_row_family,
    rows_of,
    weighted,
    wsum,
)

__all__: list[str] = []

_LOG_2PI = math.log(2 * math.pi)
_LOG_2 = math.log(2.0)
#: PyMC divides by ``pt.sqrt(2)`` / ``pt.sqrt(2.0)``, which PyTensor computes in float32: its
#: "log Phi(x)" is log Phi(_C x), with _C = sqrt(2) / float32(sqrt(2)) = 1 + 1.7e-8
_SQRT2_F32 = float(np.sqrt(np.float32(2.0)))
_C = math.sqrt(2.0) / _SQRT2_F32
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _log_phi(x):
    """PyMC's log Phi(x) (that is log Phi(_C x)) and its derivative in x, stable in both tails:
    `log_ndtr`, and the Mills ratio phi / Phi as ``sqrt(2/pi) / erfcx(-x / sqrt2)``."""
    return log_ndtr(_C * x), _C * _SQRT_2_PI / erfcx(-x / _SQRT2_F32)


def _erfc_underflows(x) -> bool:
    """Whether the graph's ``log(erfc(-x / sqrt2))`` (log 2 Phi(x): the skew normal's
    ``log(1 + erf(x / sqrt2))`` as `check_density` compiles it) is -inf: scipy's erfc, which
    it evaluates, is 0 from ``erfc(26.64)`` on (``x < -37.7``)."""
    low = x < -37.0
    return bool(np.any(low)) and bool(np.any(erfc(-x[low] / _SQRT2_F32) == 0.0))


def _normal_lcdf(z):
    """PyMC's ``normal_lcdf`` of the standardised ``z`` and its derivative: where ``z < -1``
    it is ``log(erfcx(-z / sqrt2) / 2) - z^2 / 2``, which with its float32 sqrt(2) adds
    ``(_C^2 - 1) z^2 / 2`` to log Phi(_C z)."""
    log_cdf, dlog_cdf = _log_phi(z)
    tail = z < -1.0
    extra = (_C * _C - 1.0) * z
    return log_cdf + np.where(tail, 0.5 * extra * z, 0.0), dlog_cdf + np.where(tail, extra, 0.0)


# ------------------------------------------------------------------ real responses
def _skewnormal(mu, d, aux):
    """SkewNormal(mu, sigma, alpha): log 2 + log Phi(alpha z) + log N(z) - log sigma."""
    sigma, alpha = aux["sigma"], aux["alpha"]
    w = d["w"]
    z = (d["y"] - mu) / sigma
    x = alpha * z
    if _erfc_underflows(x):
        return -math.inf, np.zeros_like(mu), {"sigma": 0.0, "alpha": 0.0}
    log_cdf, m = _log_phi(x)  # m: d log_cdf / dx
    z2 = wsum(z * z, w)
    lp = d["n"] * (_LOG_2 - 0.5 * _LOG_2PI - math.log(sigma)) + wsum(log_cdf, w) - 0.5 * z2
    dmu = weighted((z - alpha * m) / sigma, w)
    mz = wsum(m * z, w)
    dsigma = (z2 - d["n"] - alpha * mz) / sigma
    return lp, dmu, {"sigma": float(dsigma), "alpha": float(mz)}


def _exgaussian(mu, d, aux):
    """ExGaussian(mu, sigma, nu), with PyMC's normal density where ``nu <= 0.05 sigma``."""
    sigma, nu = aux["sigma"], aux["nu"]
    w, n = d["w"], d["n"]
    r = d["y"] - mu
    if not nu > 0.05 * sigma:  # PyMC's switch (from gamlss' dexGAUS)
        z = r / sigma
        z2 = wsum(z * z, w)
        lp = -n * (0.5 * _LOG_2PI + math.log(sigma)) - 0.5 * z2
        return lp, weighted(z / sigma, w), {"sigma": (z2 - n) / sigma, "nu": 0.0}
    s = sigma / nu
    log_cdf, m = _normal_lcdf((d["y"] - (mu + sigma * s)) / sigma)  # m: its derivative
    sum_r = wsum(r, w)
    sum_m = wsum(m, w)
    lp = n * (0.5 * s * s - math.log(nu)) - sum_r / nu + wsum(log_cdf, w)
    dmu = weighted(1.0 / nu - m / sigma, w)
    dsigma = n * s / nu - wsum(m * r, w) / (sigma * sigma) - sum_m / nu
    dnu = -n * (1.0 + s * s) / nu + sum_r / (nu * nu) + sum_m * s / nu
    return lp, dmu, {"sigma": float(dsigma), "nu": float(dnu)}


def _asymmetric_laplace(mu, d, aux):
    """AsymmetricLaplace(b, kappa, mu) with ``kappa = sqrt(q / (1 - q))`` (q fixed or sampled):
    ``log(b / (kappa + 1/kappa)) - b |r| kappa^sign(r)`` with ``r = y - mu``."""
    b, q = aux["b"], aux["q"]
    w, n = d["w"], d["n"]
    kappa = math.sqrt(q / (1.0 - q))
    r = d["y"] - mu
    s = np.sign(r)
    scale = np.where(s > 0, kappa, np.where(s < 0, 1.0 / kappa, 1.0))  # kappa ** sign(r)
    a = np.abs(r) * scale
    sum_a = wsum(a, w)
    lp = n * math.log(b / (kappa + 1.0 / kappa)) - b * sum_a
    dmu = weighted(b * s * scale, w)
    db = n / b - sum_a
    # log(b / (kappa + 1/kappa)) = log(b) + log(q (1 - q)) / 2, d kappa^s / dq = s kappa^s / 2qq
    qq = q * (1.0 - q)
    dq = (0.5 * n * (1.0 - 2.0 * q) - 0.5 * b * wsum(r * scale, w)) / qq
    return lp, dmu, {"b": float(db), "q": float(dq)}


# ------------------------------------------------------------------ positive responses
def _positive_prepare(y, trials, w):
    d = rows_of(y, trials, w)
    d["log_y"] = np.log(y)
    d["sum_log_y"] = wsum(d["log_y"], w)
    d["inv_y"] = 1.0 / y
    return d


def _weibull(mu, d, aux):
    """Weibull(alpha, beta) with ``beta = mu / gamma(1 + 1/alpha)`` (the family's mean)."""
    alpha = aux["alpha"]
    w, n = d["w"], d["n"]
    if not np.isfinite(gamma(1.0 + 1.0 / alpha)):  # the graph's beta is 0 there
        return -math.inf, np.zeros_like(mu), {"alpha": 0.0}
    psi = digamma(1.0 + 1.0 / alpha) / alpha
    log_ratio = d["log_y"] - (np.log(mu) - gammaln(1.0 + 1.0 / alpha))  # log(y / beta)
    t = np.exp(alpha * log_ratio)  # (y / beta) ** alpha
    lp = n * math.log(alpha) - wsum(np.log(mu), w) + wsum((alpha - 1.0) * log_ratio - t, w)
    lp += n * gammaln(1.0 + 1.0 / alpha)  # -log(beta) = -log(mu) + gammaln(1 + 1/alpha)
    dmu = weighted(alpha * (t - 1.0) / mu, w)
    dalpha = n / alpha + wsum((1.0 - t) * (log_ratio - psi), w)
    return float(lp), dmu, {"alpha": float(dalpha)}


def _wald(mu, d, aux):
    """Wald(mu, lam): ``log(lam / 2pi) / 2 - 1.5 log y - lam (y - mu)^2 / (2 y mu^2)``."""
    lam = aux["lam"]
    w, n = d["w"], d["n"]
    r = d["y"] - mu
    dev = r * r * d["inv_y"] / (mu * mu)
    sum_dev = wsum(dev, w)
    lp = 0.5 * n * (math.log(lam) - _LOG_2PI) - 1.5 * d["sum_log_y"] - 0.5 * lam * sum_dev
    dmu = weighted(lam * r / (mu * mu * mu), w)
    return lp, dmu, {"lam": 0.5 * n / lam - 0.5 * sum_dev}


for _entry in (
    RowFamily("skewnormal", "SkewNormal", ("sigma", "alpha"), rows_of, _skewnormal),
    RowFamily("exgaussian", "ExGaussian", ("sigma", "nu"), rows_of, _exgaussian),
    RowFamily("asymmetriclaplace", "AsymmetricLaplace", ("b", "q"), rows_of, _asymmetric_laplace),
    RowFamily("weibull", "Weibull", ("alpha",), _positive_prepare, _weibull, "positive"),
    RowFamily("wald", "Wald", ("lam",), _positive_prepare, _wald, "positive"),
):
    register_row_family(_entry)
