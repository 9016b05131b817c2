"""Censored and truncated responses on the fast path: a family's row likelihood
(`bayesformula.density.rows`) with its log-CDF.

The graph (`bayesformula.graph.likelihood.helper_logp`) takes for each row, by its censoring
status, the log-density (none), ``log F(y)`` (left), ``log1mexp(log F(y))`` (right) or
``logdiffexp(log F(upper), log F(y))`` (interval); truncation subtracts
``logdiffexp(log F(ub), log F(lb))`` from every row's log-density (``F(lb - 1)`` for counts;
``log F(ub) = 0`` without an upper bound, ``-inf`` without a lower one). Here the same, with
PyMC's log-CDFs in numpy and their derivatives in the parent parameter and the auxiliary
parameters, registered per family in `LOG_CDFS`: ``logcdf(mu, x, aux) -> (log F, d/dmu,
{aux: d/daux})``, every value one per row. A family without one, a formula for an auxiliary
parameter, or merged rows (rows keep their own status) keep such a model on the graph.
`bayesformula.testing.check_density` proves each equal to the graph (``tests/density``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy.special import digamma, gammaincc, gammaln

from bayesformula.density.priors import Unsupported
from bayesformula.density.rows import RowFamily, RowLikelihood
from bayesformula.density.rows_shapes import _normal_lcdf

__all__ = ["LOG_CDFS", "with_helper"]

_LOG_2 = math.log(2.0)
#: PyMC's Laplace log-CDF adds ``pt.log(0.5)``, which PyTensor computes in float32
_LOG_HALF_F32 = float(np.log(np.float32(0.5)))


def _log1mexp(a):
    """``log(1 - exp(a))`` for ``a <= 0`` as PyTensor computes it, and its derivative."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.where(a < -_LOG_2, np.log1p(-np.exp(a)), np.log(-np.expm1(a)))
        slope = -1.0 / np.expm1(-a)
    return value, slope


def _logdiffexp(a, da, b, db):
    """``log(exp(a) - exp(b))`` as PyMC's ``logdiffexp`` (``a`` where ``b`` is -inf), with its
    derivatives from ``a``'s and ``b``'s (dicts of per-row arrays, the same keys)."""
    inf = np.isneginf(b)
    v, g = _log1mexp(np.where(inf, -1.0, b - a))
    value = np.where(inf, a, a + v)
    g = np.where(inf, 0.0, g)
    return value, {k: (1.0 - g) * da[k] + g * db[k] for k in da}


# ------------------------------------------------------------------ log-CDFs
def _gaussian(mu, x, aux):
    sigma = aux["sigma"]
    z = (x - mu) / sigma
    lcdf, m = _normal_lcdf(z)
    return lcdf, -m / sigma, {"sigma": -m * z / sigma}


def _lognormal(mu, x, aux):
    with np.errstate(divide="ignore"):
        log_x = np.log(x)
    lcdf, dmu, daux = _gaussian(mu, log_x, aux)
    out = x <= 0
    if out.any():  # PyMC's switch: -inf at or below zero
        lcdf, dmu = np.where(out, -np.inf, lcdf), np.where(out, 0.0, dmu)
        daux = {k: np.where(out, 0.0, v) for k, v in daux.items()}
    return lcdf, dmu, daux


def _exponential(mu, x, aux):
    lam = 1.0 / (1.0 / (1.0 / mu))  # the family's lam = 1/mu; PyMC's mu = 1/lam, lam = 1/mu
    value, slope = _log1mexp(-lam * x)
    return np.where(x < 0, -np.inf, value), np.where(x < 0, 0.0, slope * x / (mu * mu)), {}


def _weibull(mu, x, aux):
    alpha = aux["alpha"]
    log_beta = np.log(mu) - gammaln(1.0 + 1.0 / alpha)
    psi = digamma(1.0 + 1.0 / alpha) / alpha
    with np.errstate(divide="ignore"):
        log_ratio = np.log(x) - log_beta
    t = np.exp(alpha * log_ratio)  # (x / beta) ** alpha
    value, slope = _log1mexp(-t)
    dt = -slope  # d value / d t
    out = x < 0
    dmu = np.where(out, 0.0, dt * (-alpha * t / mu))
    dalpha = np.where(out | (t == 0), 0.0, dt * t * (log_ratio - psi))
    return np.where(out, -np.inf, value), dmu, {"alpha": dalpha}


def _laplace(mu, x, aux):
    b = aux["b"]
    y = (x - mu) / b
    below = x <= mu
    e = 0.5 * np.exp(-np.where(below, 0.0, y))
    value = np.where(below, _LOG_HALF_F32 + y, np.where(y > 1, np.log1p(-e), np.log(1.0 - e)))
    dy = np.where(below, 1.0, e / (1.0 - e))  # d value / d y
    return value, -dy / b, {"b": -dy * y / b}


def _poisson(mu, x, aux):
    k = np.floor(x)
    inside = k >= 0
    kk = np.where(inside, k, 0.0)
    with np.errstate(divide="ignore"):
        value = np.log(gammaincc(kk + 1.0, mu))
    # d Q(k + 1, mu) / d mu = -mu^k exp(-mu) / k!: the probability of k over that of <= k
    log_pmf = kk * np.log(mu) - mu - gammaln(kk + 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        dmu = -np.exp(log_pmf - value)
    return np.where(inside, value, -np.inf), np.where(inside, dmu, 0.0), {}


#: family name -> ``logcdf(mu, x, aux) -> (log F(x), d/dmu, {aux: d/daux})`` per row, as
#: PyMC's ``logcdf`` of the family's distribution computes it
LOG_CDFS: dict[str, Callable] = {
    "gaussian": _gaussian,
    "lognormal": _lognormal,
    "exponential": _exponential,
    "weibull": _weibull,
    "laplace": _laplace,
    "poisson": _poisson,
}
#: families whose truncation at ``lb`` keeps ``lb`` possible (the CDF taken at ``lb - 1``)
_DISCRETE = {"poisson"}


# ------------------------------------------------------------------ the wrapped likelihood
def _subset(aux: dict, idx) -> dict:
    return {k: v[idx] if np.ndim(v) else v for k, v in aux.items()}


def _base_rows(entry: RowFamily, y, trials):
    """``entry``'s data for rows ``y`` (one row each: sums families take a weight of one, or
    the trials), and the constant those rows' log-density adds."""
    const = entry.constant(y, trials) if entry.constant is not None else 0.0
    if entry.sums:  # the trials argument carries each row's weight
        return entry.prepare(y, np.ones(y.size) if trials is None else trials, None), const
    return entry.prepare(y, trials, None), const


def _censored(entry: RowFamily, logcdf, status, upper) -> RowFamily:
    groups = {code: np.flatnonzero(status == code) for code in (0, -1, 1, 2)}

    def prepare(y, trials, w):
        none = groups[0]
        d = {"y": y, "upper": upper}
        t_none = None if trials is None else trials[none]
        d["base"], d["const"] = _base_rows(entry, y[none], t_none) if none.size else (None, 0.0)
        return d

    def loglik(mu, d, aux):
        names = entry.aux
        y = d["y"]
        lp = d["const"]
        dmu = np.zeros(mu.size)
        daux = dict.fromkeys(names, 0.0)
        none, left, right, interval = (groups[c] for c in (0, -1, 1, 2))
        if none.size:
            lp0, dmu0, da0 = entry.loglik(mu[none], d["base"], aux)
            lp += lp0
            dmu[none] = dmu0
            for k in names:
                daux[k] += float(np.sum(da0[k]))
        for idx, kind in ((left, "left"), (right, "right"), (interval, "interval")):
            if not idx.size:
                continue
            m, a = mu[idx], _subset(aux, idx)
            value, dm, da = logcdf(m, y[idx], a)
            grads = {"mu": dm, **da}
            if kind == "right":
                value, slope = _log1mexp(value)
                grads = {k: slope * v for k, v in grads.items()}
            elif kind == "interval":
                hi, dhi, dahi = logcdf(m, d["upper"][idx], a)
                value, grads = _logdiffexp(hi, {"mu": dhi, **dahi}, value, grads)
            lp += float(np.sum(value))
            dmu[idx] = grads["mu"]
            for k in names:
                if k in grads:
                    daux[k] += float(np.sum(grads[k]))
        return lp, dmu, daux

    return dataclasses.replace(
        entry, prepare=prepare, loglik=loglik, sums=False, constant=None, compiled=None, fused=None
    )


def _truncated(entry: RowFamily, logcdf, lower, upper, discrete) -> RowFamily:
    hi_idx = np.flatnonzero(np.isfinite(upper))
    lo_idx = np.flatnonzero(np.isfinite(lower))
    lo_at = lower - (1.0 if discrete else 0.0)

    def prepare(y, trials, w):
        d = {}
        d["base"], d["const"] = _base_rows(entry, y, trials)
        return d

    def loglik(mu, d, aux):
        names = entry.aux
        lp, dmu, daux = entry.loglik(mu, d["base"], aux)
        lp += d["const"]
        n = mu.size
        hi, lo = np.zeros(n), np.full(n, -np.inf)
        dhi = {k: np.zeros(n) for k in ("mu", *names)}
        dlo = {k: np.zeros(n) for k in ("mu", *names)}
        for idx, at, value, grads in ((hi_idx, upper, hi, dhi), (lo_idx, lo_at, lo, dlo)):
            if idx.size:
                v, dm, da = logcdf(mu[idx], at[idx], _subset(aux, idx))
                value[idx] = v
                grads["mu"][idx] = dm
                for k, g in da.items():
                    grads[k][idx] = g
        norm, dnorm = _logdiffexp(hi, dhi, lo, dlo)
        lp -= float(np.sum(norm))
        dmu = dmu - dnorm["mu"]
        daux = {k: float(np.sum(daux[k])) - float(np.sum(dnorm[k])) for k in names}
        return lp, dmu, daux

    return dataclasses.replace(
        entry, prepare=prepare, loglik=loglik, sums=False, constant=None, compiled=None, fused=None
    )


def with_helper(lik: RowLikelihood, family, helper, *, formulas: bool) -> RowLikelihood:
    """``lik`` (a row likelihood) for a ``censored()`` or ``truncated()`` response, or
    `Unsupported`."""
    logcdf = LOG_CDFS.get(family.name)
    if logcdf is None or getattr(lik, "kind", None) != "rows" or lik.entry.family != family.name:
        raise Unsupported(f"the response helper {helper.text} with family '{family.name}'")
    if formulas:
        raise Unsupported(f"the response helper {helper.text} with a formula for a parameter")
    if helper.kind == "censored":
        entry = _censored(lik.entry, logcdf, helper.status, helper.upper)
    else:
        entry = _truncated(
            lik.entry,
            logcdf,
            np.asarray(helper.lower_bound, dtype=float),
            np.asarray(helper.upper_bound, dtype=float),
            family.name in _DISCRETE,
        )
    return RowLikelihood(entry, lik.linkinv)
