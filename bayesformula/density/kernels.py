"""Compiled row loops for the fast path's likelihood (numba, cached on disk).

One function serves every model: the family is an argument, not a compile-time constant, and
the arrays always have the same types, so numba compiles it once per machine (``cache=True``
keeps the machine code next to this module, or under ``NUMBA_CACHE_DIR``) and later processes
load it in milliseconds. It runs without the GIL, so chains sampled in threads run on
separate cores.

The likelihood's linear predictor for row ``i`` is::

    eta[i] = alpha + X[i] @ beta + offset[i] + sum_k b[pos[k, i]] * z[k, i]

where ``b`` holds every group effect in one flat vector and ``pos[k, i]`` is the place of row
``i``'s level in the k-th group column (``z[k]`` is that column's multiplier: ones for an
intercept). One pass gives the log-likelihood and its gradient with respect to ``alpha``,
``beta`` and ``b``.
"""

from __future__ import annotations

import math

import numpy as np

#: Family codes understood by `glm_loglik`.
POISSON, BERNOULLI, BINOMIAL = 0, 1, 2

_kernel = None


def _build(cache: bool = True):
    from numba import njit

    try:
        jit = njit(nogil=True, cache=cache, error_model="numpy")
        return jit(glm_loglik)
    except RuntimeError:  # numba found no writable cache directory: compile for this process
        if not cache:
            raise
        return _build(cache=False)


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


def glm_kernel():
    """The compiled `glm_loglik` (built, or loaded from numba's cache, on first use)."""
    global _kernel
    if _kernel is None:
        _kernel = _build()
    return _kernel


class RowLoop:
    """The likelihood of a poisson/bernoulli/binomial model evaluated by `glm_loglik`.

    Parameters
    ----------
    family : int
        POISSON, BERNOULLI or BINOMIAL.
    X : ndarray (n, p)
        Common-effect columns (already centered where the intercept is).
    ysum, weight : ndarray (n,)
        Counts or successes, and rows merged or trials.
    offset : ndarray (n,) or None
    columns : list of (base, stride, col, idx, z)
        One entry per group-effect column: the effects of the term start at ``base`` in the
        flat vector, each level takes ``stride`` places and this column is place ``col``;
        ``idx`` gives each row's level and ``z`` its multiplier (None for ones).
    n_effects : int
        Length of the flat effects vector.
    """

    def __init__(self, family, X, ysum, weight, offset, columns, n_effects):
        n = X.shape[0]
        self.family = int(family)
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.ysum = np.ascontiguousarray(ysum, dtype=np.float64)
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
        self.kernel = glm_kernel()

    def __call__(self, alpha: float, beta, b):
        """``(loglik, d/d alpha, d/d beta, d/d b)`` at the given coefficients."""
        p = self.X.shape[1]
        gbeta = np.empty(p)
        gb = np.empty(self.n_effects)
        beta = np.zeros(0) if beta is None else np.ascontiguousarray(beta, dtype=np.float64)
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
            np.ascontiguousarray(b, dtype=np.float64),
            gbeta,
            gb,
        )
        return lp, dalpha, gbeta, gb
