"""Ordinal families on the fast path: ``cumulative``, ``sratio``, ``cratio`` and ``acat``.

Their parent is the linear predictor ``eta`` itself (no intercept); the link enters the
likelihood as the CDF ``F`` of ``z = threshold - eta`` (cumulative, sratio) or
``z = eta - threshold`` (cratio, acat), see `bayesformula.families.ordinal`. Each category's
log-probability is computed from ``log F(z)`` and ``log(1 - F(z))`` with the same stable forms
the graph uses (for the cumulative model, a difference of the two CDFs that the larger one
decides), so the two agree to rounding in both tails.

The thresholds are the auxiliary parameter ``threshold``, a vector of K - 1 values; the
cumulative model's are ordered, which `bayesformula.density.build` handles with PyMC's ordered
transform. ``loglik`` returns their gradient as a vector.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy.special import log_ndtr

from bayesformula.density.links import expit, link_inverse
from bayesformula.density.rows import RowFamily, register_row_family, rows_of
from bayesformula.families.ordinal import KINDS, _category_probabilities

__all__ = ["ORDINAL_LINKS", "log_cdfs"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: PyTensor's cap on the cloglog CDF's argument in the graph (``F(40)`` is 1 in float64)
_CLOGLOG_CAP = 40.0


def _logit(z):
    log_f, log_s = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    return log_f, log_s, log_f + log_s, expit(-z), -expit(z)


def _probit(z):
    log_f, log_s = log_ndtr(z), log_ndtr(-z)
    log_pdf = -0.5 * z * z - _HALF_LOG_2PI
    return log_f, log_s, log_pdf, np.exp(log_pdf - log_f), -np.exp(log_pdf - log_s)


def _cloglog(z):
    capped = np.minimum(z, _CLOGLOG_CAP)
    ez = np.exp(capped)
    log_f = np.log(-np.expm1(-ez))
    log_pdf = z - np.exp(z)
    d_log_f = np.where(z < _CLOGLOG_CAP, np.exp(capped - ez - log_f), 0.0)
    return log_f, -np.exp(z), log_pdf, d_log_f, -np.exp(z)


#: link -> ``z -> (log F, log(1 - F), log f, d log F / dz, d log(1 - F) / dz)``
ORDINAL_LINKS = {"logit": _logit, "probit": _probit, "cloglog": _cloglog}


def log_cdfs(link: str, z):
    """``(log F(z), log(1 - F(z)), log F'(z), d log F / dz, d log(1 - F) / dz)`` elementwise."""
    return ORDINAL_LINKS[link](np.asarray(z, dtype=float))


def _log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, as PyMC computes it."""
    return np.where(x < -math.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def _prepare(y, trials, w):
    d = rows_of(y, trials, w)
    d["code"] = np.asarray(y, dtype=np.int64)
    return d


def _finish(d, lp_rows, dz, sign):
    """Sum the rows' log-probabilities; ``dz`` is d lp / dz per row and threshold, with
    ``z = sign * (threshold - eta)``."""
    w = d["w"]
    if w is not None:
        lp_rows = lp_rows * w
        dz = dz * w[:, None]
    deta = -sign * dz.sum(axis=1)
    return float(np.sum(lp_rows)), deta, {"threshold": sign * dz.sum(axis=0)}


def _cumulative(link, eta, d, aux):
    theta = np.atleast_1d(np.asarray(aux["threshold"], dtype=float))
    m = theta.size  # K - 1
    code = d["code"]
    n = code.size
    hi = np.minimum(code, m - 1)  # the threshold above the category (none for the last)
    lo = np.maximum(code - 1, 0)  # the threshold below it (none for the first)
    z_hi, z_lo = theta[hi] - eta, theta[lo] - eta
    f_hi, s_hi, pdf_hi, df_hi, _ = log_cdfs(link, z_hi)
    f_lo, s_lo, pdf_lo, _, ds_lo = log_cdfs(link, z_lo)
    first, last = code == 0, code == m
    # P(k) = F(z_k) - F(z_{k-1}), or S(z_{k-1}) - S(z_k) where F(z_{k-1}) > 1/2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        middle = np.where(z_lo > 0, s_lo + _log1mexp(s_hi - s_lo), f_hi + _log1mexp(f_lo - f_hi))
        lp = np.where(first, f_hi, np.where(last, s_lo, middle))
        d_hi = np.where(first, df_hi, np.where(last, 0.0, np.exp(pdf_hi - lp)))
        d_lo = np.where(last, ds_lo, np.where(first, 0.0, -np.exp(pdf_lo - lp)))
    dz = np.zeros((n, m))
    rows = np.arange(n)
    dz[rows, hi] += d_hi
    dz[rows, lo] += d_lo
    return _finish(d, lp, dz, 1.0)


def _sequential(link, eta, d, aux, *, continue_on_f, sign):
    """sratio (stop with F, pass with 1 - F) and cratio (stop with 1 - F, pass with F)."""
    theta = np.atleast_1d(np.asarray(aux["threshold"], dtype=float))
    code = d["code"]
    z = sign * (theta[None, :] - eta[:, None])
    log_f, log_s, _, df, ds = log_cdfs(link, z)
    j = np.arange(theta.size)[None, :]
    at, before = j == code[:, None], j < code[:, None]
    stop, go = (log_s, log_f) if continue_on_f else (log_f, log_s)
    dstop, dgo = (ds, df) if continue_on_f else (df, ds)
    lp = np.sum(np.where(at, stop, 0.0) + np.where(before, go, 0.0), axis=1)
    dz = np.where(at, dstop, 0.0) + np.where(before, dgo, 0.0)
    return _finish(d, lp, dz, sign)


def _acat(link, eta, d, aux):
    """P(k) proportional to prod_{j<k} F(z_j) prod_{j>=k} (1 - F(z_j)), z = eta - theta."""
    theta = np.atleast_1d(np.asarray(aux["threshold"], dtype=float))
    code = d["code"]
    z = eta[:, None] - theta[None, :]
    log_f, log_s, _, df, ds = log_cdfs(link, z)
    n, m = z.shape
    zeros = np.zeros((n, 1))
    above = np.concatenate([zeros, np.cumsum(log_f, axis=1)], axis=1)  # sum_{j<k} log F
    below = np.concatenate([np.cumsum(log_s[:, ::-1], axis=1)[:, ::-1], zeros], axis=1)
    u = above + below
    top = u.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.sum(np.exp(u - top), axis=1))
    lp = u[np.arange(n), code] - log_norm
    prob = np.exp(u - log_norm[:, None])
    beyond = np.cumsum(prob[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(k > j), j = 0..m-1
    j = np.arange(m)[None, :]
    before = j < code[:, None]
    dz = df * (before - beyond) + ds * (~before - (1.0 - beyond))
    return _finish(d, lp, dz, -1.0)


def _cumulative_logit_compiled(eta, d, aux):
    """`_cumulative` with the logit link in the compiled row loop."""
    from bayesformula.density.kernels import compiled, cumulative_logit_rows

    theta = np.atleast_1d(np.asarray(aux["threshold"], dtype=float))
    deta, dtheta = np.empty(eta.size), np.empty(theta.size + 2)
    w = np.zeros(0) if d["w"] is None else np.ascontiguousarray(d["w"], dtype=float)
    bounds = np.concatenate([[-np.inf], theta, [np.inf]])
    eta = np.ascontiguousarray(eta, dtype=float)
    code = d["code"]
    with np.errstate(over="ignore"):  # the kernel sums logs where these overflow
        exp_a, exp_b = np.exp(eta - bounds[code + 1]), np.exp(bounds[code] - eta)
    lp = compiled(cumulative_logit_rows)(eta, code, w, bounds, exp_a, exp_b, deta, dtheta)
    return float(lp), deta, {"threshold": dtheta[1:-1]}


#: (family, link) -> its likelihood in a compiled row loop
_COMPILED = {("cumulative", "logit"): _cumulative_logit_compiled}

_LOGLIK = {
    "cumulative": _cumulative,
    "sratio": partial(_sequential, continue_on_f=False, sign=1.0),
    "cratio": partial(_sequential, continue_on_f=True, sign=-1.0),
    "acat": _acat,
}


def _entry_for(kind: str, family, link) -> RowFamily | None:
    """The row likelihood of ordinal family ``kind`` with ``link``; None where ``family`` is
    not the built-in one (its category probabilities are another function) or the link is
    another."""
    parent = getattr(family, "parent_fn", None)
    if getattr(parent, "func", None) is not _category_probabilities or parent.args != (kind,):
        return None
    # a registered link (a user's link of the same name may compute something else)
    if link.name not in ORDINAL_LINKS or link_inverse(link) is None:
        return None
    return RowFamily(
        kind,
        "Categorical",
        ("threshold",),
        _prepare,
        partial(_LOGLIK[kind], link.name),
        compiled=_COMPILED.get((kind, link.name)),
    )


for _kind in KINDS:
    register_row_family(
        RowFamily(
            _kind,
            "Categorical",
            ("threshold",),
            _prepare,
            partial(_LOGLIK[_kind], "logit"),  # for_family gives the model's link
            for_family=partial(_entry_for, _kind),
        )
    )
