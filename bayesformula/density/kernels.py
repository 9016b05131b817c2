"""Compiled row loops for the fast path's likelihood (numba, cached on disk).

`glm_loglik` serves every bernoulli, binomial and poisson model and `beta_logit_loglik` the
beta with the logit link (each: linear predictor, link, likelihood and gradient);
`cumulative_logit_rows` every cumulative logit model and `beta_rows` the other beta models,
from the linear predictor or the mean that numpy computes. Each serves every model of its
kind: the family is an argument, not a compile-time constant, and the arrays always have the
same types, so numba compiles it once per machine (``cache=True`` keeps the machine code next
to this module, or under ``NUMBA_CACHE_DIR``) and later processes load it in milliseconds.
Each runs without the GIL, so chains sampled in threads run on separate cores.

`glm_loglik`'s linear predictor for row ``i`` is::

    eta[i] = alpha + X[i] @ beta + offset[i] + sum_k b[pos[k, i]] * z[k, i]

where ``b`` holds every group effect in one flat vector and ``pos[k, i]`` is the place of row
``i``'s level in the k-th group column (``z[k]`` is that column's multiplier: ones for an
intercept). One pass gives the log-likelihood and its gradient with respect to ``alpha``,
``beta`` and ``b``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba.extending import register_jitable

#: Family codes of `RowLoop`: `glm_loglik`'s, and BETA_LOGIT for `beta_logit_loglik`.
POISSON, BERNOULLI, BINOMIAL, BETA_LOGIT = 0, 1, 2, 3


def _build(function, cache: bool = True):
    from numba import njit

    try:
        jit = njit(nogil=True, cache=cache, error_model="numpy")
        return jit(function)
    except RuntimeError:  # numba found no writable cache directory: compile for this process
        if not cache:
            raise
        return _build(function, cache=False)


def glm_loglik(family, X, ysum, weight, offset, alpha, beta, pos, z, b, gbeta, gb):
    """Log-likelihood (without constants); gradients written into ``gbeta`` and ``gb``.

    ``family``: POISSON (``ysum``: counts, ``weight``: rows merged), BERNOULLI (unit
    weights, ``ysum`` in {0, 1}) or BINOMIAL (``ysum``: successes, ``weight``: trials).
    Returns ``(loglik, d loglik / d alpha)``.
    """
    n, p = X.shape
    k_cols = pos.shape[0]
    has_offset = offset.shape[0] == n
    for j in range(p):
        gbeta[j] = 0.0
    for j in range(gb.shape[0]):
        gb[j] = 0.0
    lp = 0.0
    dalpha = 0.0
    prod = 1.0
    for i in range(n):
        e = alpha
        for j in range(p):
            e += X[i, j] * beta[j]
        for k in range(k_cols):
            e += b[pos[k, i]] * z[k, i]
        if has_offset:
            e += offset[i]
        if family == 0:
            mu = math.exp(e)
            lp += ysum[i] * e - weight[i] * mu
            d = ysum[i] - weight[i] * mu
        else:
            # log(1 + exp(e)) = max(e, 0) + log(v), v = 1 + exp(-|e|) in (1, 2]
            a = math.exp(-abs(e))
            v = 1.0 + a
            prob = 1.0 / v if e >= 0.0 else a / v
            if family == 1:
                # logs of v taken over products of 512 rows: each factor is at most 2
                prod *= v
                if (i & 511) == 511:
                    lp -= math.log(prod)
                    prod = 1.0
                lp += ysum[i] * e - max(e, 0.0)
                d = ysum[i] - prob
            else:
                lp += ysum[i] * e - weight[i] * (max(e, 0.0) + math.log(v))
                d = ysum[i] - weight[i] * prob
        dalpha += d
        for j in range(p):
            gbeta[j] += d * X[i, j]
        for k in range(k_cols):
            gb[pos[k, i]] += d * z[k, i]
    lp -= math.log(prod)
    return lp, dalpha


@functools.cache
def compiled(function):
    """``function`` (one of this module's loops) compiled by numba: built, or loaded from
    numba's cache, on first use, then kept for the process."""
    return _build(function)


class RowLoop:
    """The likelihood of a model evaluated by `glm_loglik` or `beta_logit_loglik`.

    Parameters
    ----------
    family : int
        POISSON, BERNOULLI, BINOMIAL or BETA_LOGIT.
    X : ndarray (n, p)
        Common-effect columns (already centered where the intercept is).
    ysum, weight : ndarray (n,)
        Counts or successes (the beta: ``log(y)``), and rows merged or trials.
    offset : ndarray (n,) or None
    columns : list of (base, stride, col, idx, z)
        One entry per group-effect column: the effects of the term start at ``base`` in the
        flat vector, each level takes ``stride`` places and this column is place ``col``;
        ``idx`` gives each row's level and ``z`` its multiplier (None for ones).
    n_effects : int
        Length of the flat effects vector.
    yaux : ndarray (n,), optional
        The beta's ``log(1 - y)``.
    """

    def __init__(self, family, X, ysum, weight, offset, columns, n_effects, yaux=None):
        n = X.shape[0]
        self.family = int(family)
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.ysum = np.ascontiguousarray(ysum, dtype=np.float64)
        self.yaux = np.zeros(0) if yaux is None else np.ascontiguousarray(yaux, dtype=np.float64)
        self.weight = np.ascontiguousarray(weight, dtype=np.float64)
        self.offset = (
            np.zeros(0) if offset is None else np.ascontiguousarray(offset, dtype=np.float64)
        )
        self.pos = np.zeros((len(columns), n), dtype=np.int64)
        self.z = np.ones((len(columns), n), dtype=np.float64)
        for k, (base, stride, col, idx, z) in enumerate(columns):
            self.pos[k] = base + np.asarray(idx, dtype=np.int64) * stride + col
            if z is not None:
                self.z[k] = z
        self.n_effects = n_effects
        self.kernel = compiled(beta_logit_loglik if self.family == BETA_LOGIT else glm_loglik)

    def __call__(self, alpha: float, beta, b, aux: float = 0.0):
        """``(loglik, d/d alpha, d/d beta, d/d b, d/d aux)`` at the given coefficients and
        auxiliary parameter."""
        p = self.X.shape[1]
        gbeta = np.empty(p)
        gb = np.empty(self.n_effects)
        beta = np.zeros(0) if beta is None else np.ascontiguousarray(beta, dtype=np.float64)
        b = np.ascontiguousarray(b, dtype=np.float64)
        if self.family == BETA_LOGIT:
            lp, dalpha, daux = self.kernel(
                self.X,
                self.ysum,
                self.yaux,
                self.weight,
                self.offset,
                float(alpha),
                beta,
                float(aux),
                self.pos,
                self.z,
                b,
                gbeta,
                gb,
            )
        else:
            lp, dalpha = self.kernel(
                self.family,
                self.X,
                self.ysum,
                self.weight,
                self.offset,
                float(alpha),
                beta,
                self.pos,
                self.z,
                b,
                gbeta,
                gb,
            )
            daux = 0.0
        return lp, dalpha, gbeta, gb, daux


# ------------------------------------------------------------------ ordinal rows
def cumulative_logit_rows(eta, code, weight, theta, exp_a, exp_b, deta, dtheta):
    """The cumulative (proportional odds) logit model over rows: returns the log-likelihood,
    writes d/d eta per row into ``deta`` and d/d theta into ``dtheta`` (K + 1 values, the
    first and last for the infinite bounds).

    ``theta`` holds the K - 1 thresholds between -inf and +inf (K + 1 values). Category ``k``
    has ``P = F(a) - F(b)`` with ``a = theta[k + 1] - eta``, ``b = theta[k] - eta`` and ``F``
    the logistic CDF (``exp_a = exp(-a)`` and ``exp_b = exp(b)`` come computed, by numpy's
    vectorised exponential), computed as ``F(a) (1 - F(b)) (1 - exp(b - a))``: a product of factors
    in (0, 1], none of which cancels (at the first and last categories one of ``a``, ``b`` is
    infinite and its factors are 1). Unweighted rows' probabilities above 1e-9 are multiplied
    32 at a time before their log is taken. Where an exponential would overflow or the product
    underflow, the logs of the factors are summed instead. ``weight`` (empty: none) counts
    the rows merged into each.
    """
    n = eta.shape[0]
    weighted = weight.shape[0] == n
    for j in range(dtheta.shape[0]):
        dtheta[j] = 0.0
    lp = 0.0
    acc = 1.0  # a product of probabilities above 1e-9 whose log is taken every 32 rows
    taken = 0
    for i in range(n):
        k = code[i]
        ea = exp_a[i]
        eb = exp_b[i]
        li = -math.inf
        if ea < 1e300 and eb < 1e300:
            both = ea * eb  # exp(b - a)
            q = 1.0 - both if both <= 0.5 else -math.expm1(theta[k] - theta[k + 1])
            r = both / q
            fa = 1.0 / (1.0 + ea)
            sb = 1.0 / (1.0 + eb)
            prod = fa * sb * q
            d_hi = ea * fa + r  # 1 - F(a) + r
            d_lo = -eb * sb - r  # -F(b) - r
            if prod > 1e-9 and not weighted:
                acc *= prod
                taken += 1
                if taken == 32:
                    lp += math.log(acc)
                    acc = 1.0
                    taken = 0
                li = 0.0
            elif prod > 1e-280:
                li = math.log(prod)
        if li == -math.inf:  # each factor's log, from exponentials of -|a| and -|b|
            a = theta[k + 1] - eta[i]
            b = theta[k] - eta[i]
            q = -math.expm1(b - a)  # 1 - exp(b - a)
            r = (1.0 - q) / q
            ea = math.exp(-abs(a))
            eb = math.exp(-abs(b))
            log_fa = -(max(-a, 0.0) + math.log1p(ea))
            log_sb = -(max(b, 0.0) + math.log1p(eb))
            li = log_fa + log_sb + math.log(q)
            d_hi = (1.0 / (1.0 + ea) if a < 0.0 else ea / (1.0 + ea)) + r
            d_lo = -(1.0 / (1.0 + eb) if b >= 0.0 else eb / (1.0 + eb)) - r
        if weighted:
            li *= weight[i]
            d_hi *= weight[i]
            d_lo *= weight[i]
        lp += li
        deta[i] = -(d_hi + d_lo)
        dtheta[k + 1] += d_hi  # d_hi is 0 for the last category, d_lo for the first
        dtheta[k] += d_lo
    return lp + math.log(acc)


# ------------------------------------------------------------------ beta rows
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


#: Bounds on the running product of shifted arguments in `beta_rows` before its log is taken.
_PRODUCT_HI, _PRODUCT_LO = 1e150, 1e-150


@register_jitable
def lgamma_digamma(x):
    """``(log Gamma(x) + log(d), psi(x), d)`` for ``x > 0``, where ``d`` is 1 for ``x >= 6``
    and ``x (x + 1) ... (x + 5)`` below: ``log Gamma(x) = log Gamma(x + 6) - log(d)`` and
    ``psi(x) = psi(x + 6) - sum_{j<6} 1 / (x + j)`` (the sum as one fraction), then Stirling's
    and the digamma asymptotic series through ``x**-13`` and ``x**-14``, whose truncation
    errors are below 1e-13 for ``x >= 6``. The caller takes ``log(d)``, so that it can take
    one logarithm of a product of many. One logarithm and three divisions."""
    num = 0.0
    den = 1.0
    if x < 6.0:  # six steps take x to [6, 12)
        for _ in range(6):  # num / den += 1 / x; den: the product of the shifted arguments
            num = num * x + den
            den *= x
            x += 1.0
    inv = 1.0 / x
    f = inv * inv
    log_x = math.log(x)
    stirling = inv * (
        1.0 / 12.0
        + f
        * (
            -1.0 / 360.0
            + f
            * (
                1.0 / 1260.0
                + f * (-1.0 / 1680.0 + f * (1.0 / 1188.0 + f * (-691.0 / 360360.0 + f / 156.0)))
            )
        )
    )
    series = f * (
        -1.0 / 12.0
        + f
        * (
            1.0 / 120.0
            + f
            * (
                -1.0 / 252.0
                + f * (1.0 / 240.0 + f * (-1.0 / 132.0 + f * (691.0 / 32760.0 - f / 12.0)))
            )
        )
    )
    lgam = (x - 0.5) * log_x - x + _HALF_LOG_2PI + stirling
    return lgam, log_x - 0.5 * inv + series - num / den, den


@register_jitable
def beta_terms(m, kappa, log_y, log1m_y, w):
    """One row of ``Beta(m * kappa, (1 - m) * kappa)`` counted ``w`` times, without its
    ``log Gamma(kappa)``: ``(lp + w log(d), d lp / d m, d lp / d kappa, d)``, where the caller
    adds ``log(d)`` through the log of a running product (`lgamma_digamma`); ``d`` is 1 where
    the row's own logarithms were taken (a product of two tiny factors could underflow)."""
    a = m * kappa
    b = (1.0 - m) * kappa  # as the graph computes it
    lgamma_a, psi_a, den_a = lgamma_digamma(a)
    lgamma_b, psi_b, den_b = lgamma_digamma(b)
    li = (a - 1.0) * log_y + (b - 1.0) * log1m_y - lgamma_a - lgamma_b
    di = kappa * (psi_b - psi_a + log_y - log1m_y)
    ki = m * (log_y - psi_a) + (1.0 - m) * (log1m_y - psi_b)
    den = den_a * den_b
    if den < _PRODUCT_LO:
        li += math.log(den_a) + math.log(den_b)
        den = 1.0
    if w != 1.0:
        li *= w
        di *= w
        ki *= w
        if den != 1.0:
            li += (w - 1.0) * math.log(den)  # the running product counts it once
    return li, di, ki, den


def beta_rows(mu, log_y, log1m_y, weight, kappa, dmu):
    """``Beta(mu * kappa, (1 - mu) * kappa)`` summed over rows without its ``log Gamma(kappa)``
    terms: returns ``(lp, d lp / d kappa)`` and writes d lp / d mu per row into ``dmu``.
    ``weight`` (empty: none) counts the rows merged into each. The ``log(d)`` terms of
    `lgamma_digamma` enter through the log of their running product, kept within
    ``[_PRODUCT_LO, _PRODUCT_HI]``: one logarithm per row for both shape parameters' log Gamma
    and digamma, where four would be taken one by one."""
    n = mu.shape[0]
    weighted = weight.shape[0] == n
    lp = 0.0
    dkappa = 0.0
    prod = 1.0
    for i in range(n):
        w = weight[i] if weighted else 1.0
        li, di, ki, den = beta_terms(mu[i], kappa, log_y[i], log1m_y[i], w)
        prod *= den
        if prod > _PRODUCT_HI or prod < _PRODUCT_LO:
            lp += math.log(prod)
            prod = 1.0
        lp += li
        dmu[i] = di
        dkappa += ki
    return lp + math.log(prod), dkappa


def beta_logit_loglik(X, log_y, log1m_y, weight, offset, alpha, beta, kappa, pos, z, b, gbeta, gb):
    """`glm_loglik` for the beta with the logit link, precision ``kappa`` (``weight``: rows
    merged): returns ``(loglik, d/d alpha, d/d kappa)`` without the ``n log Gamma(kappa)`` term
    (the caller's), -inf where a row's mean rounds to 0 or 1 (outside the parameter's support,
    as in PyMC's checks). In passes over the rows (linear predictor, mean, likelihood,
    gradient) rather than one: each pass's rows are independent, so the processor overlaps
    their exponentials and logarithms, which one pass's long chain per row would serialise."""
    n, p = X.shape
    k_cols = pos.shape[0]
    has_offset = offset.shape[0] == n
    work = np.empty(n)
    # the linear predictor and gradient loops repeat `glm_loglik`'s inline: numba helpers for
    # them (register_jitable, even inline="always") made the bernoulli loop 1.5-2.5x slower
    for i in range(n):
        e = alpha
        for j in range(p):
            e += X[i, j] * beta[j]
        for k in range(k_cols):
            e += b[pos[k, i]] * z[k, i]
        if has_offset:
            e += offset[i]
        work[i] = e
    for i in range(n):  # the mean, as `links.expit`
        work[i] = 1.0 / (1.0 + math.exp(-work[i]))
    lp = 0.0
    dkappa = 0.0
    prod = 1.0
    for i in range(n):
        m = work[i]
        if not (0.0 < m < 1.0):
            return -math.inf, 0.0, 0.0
        li, dmu, dk, den = beta_terms(m, kappa, log_y[i], log1m_y[i], weight[i])
        prod *= den
        if prod > _PRODUCT_HI or prod < _PRODUCT_LO:
            lp += math.log(prod)
            prod = 1.0
        lp += li
        dkappa += dk
        work[i] = dmu * (m * (1.0 - m))  # d/d eta, the logit's derivative as `links`' logit
    for j in range(p):
        gbeta[j] = 0.0
    for j in range(gb.shape[0]):
        gb[j] = 0.0
    dalpha = 0.0
    for i in range(n):
        d = work[i]
        dalpha += d
        for j in range(p):
            gbeta[j] += d * X[i, j]
        for k in range(k_cols):
            gb[pos[k, i]] += d * z[k, i]
    return lp + math.log(prod), dalpha, dkappa
