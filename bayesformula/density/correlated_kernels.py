"""Compiled loops for a block of correlated group effects (numba, cached on disk).

`CorrelatedBlock`'s forward and backward passes work on a few columns (the block's terms) and a
few dozen levels: in numpy each is some thirty calls on tiny arrays, and the calls' overhead is
most of a small model's gradient. These loops compute the same quantities in one call each,
without the GIL. They serve every block: the sizes are read from the arrays, so numba compiles
each once per machine.

Notation as in `bayesformula.density.correlated`: ``y`` the packed factor on the sampler's
scale (diagonal on the log scale), ``L`` the lower-triangular factor, ``v_i`` its rows' sums of
squares, ``a_i = 2 eta - 2 + n - i``.
"""

from __future__ import annotations

import math

import numpy as np

from bayesformula.density.kernels import compiled

__all__ = ["block_backward", "block_forward"]

_LOG_2PI = math.log(2 * math.pi)


def lkj_forward(y, a, raw, b, noncentered):
    """The factor and its part of the log-density.

    ``raw``: the sampled joint effects (centered, after anchoring: ``b`` holds the effects)
    or offsets (non-centered: ``b`` is overwritten with ``raw L'``). Returns ``(lp, L, packed,
    v, Z)``: ``lp`` without the standard deviations' prior, ``Z = b L^-T`` (centered; unused
    otherwise).
    """
    n = a.shape[0]
    levels = raw.shape[0]
    L = np.zeros((n, n))
    packed = np.empty(y.shape[0])
    v = np.empty(n)
    k = 0
    lp = 0.0
    log_diag = 0.0
    for i in range(n):
        s = 0.0
        for j in range(i + 1):
            value = math.exp(y[k]) if j == i else y[k]
            packed[k] = value
            L[i, j] = value
            s += value * value
            k += 1
        v[i] = s
        log_v = math.log(s)
        y_ii = y[k - 1]
        log_diag += y_ii
        lp += a[i] * (y_ii - 0.5 * log_v) - 0.5 * i * log_v + y_ii
    Z = np.empty((levels, n))
    ss = 0.0
    if noncentered:
        for r in range(levels):
            for i in range(n):
                s = 0.0
                for j in range(i + 1):
                    s += raw[r, j] * L[i, j]
                b[r, i] = s
                ss += raw[r, i] * raw[r, i]
        lp -= 0.5 * ss
    else:
        for r in range(levels):
            for i in range(n):  # forward substitution: L z_r = b_r
                s = b[r, i]
                for j in range(i):
                    s -= Z[r, j] * L[i, j]
                z = s / L[i, i]
                Z[r, i] = z
                ss += z * z
        lp -= 0.5 * ss + levels * log_diag
    lp -= 0.5 * levels * n * _LOG_2PI
    return lp, L, packed, v, Z


def lkj_backward(L, packed, dv, a, raw, Z, db, noncentered):
    """``(d lp / d y, d lp / d raw)`` given d(likelihood)/d(effects) ``db`` and d lp / d v
    ``dv`` (the standard deviations' prior included); for centered blocks ``d raw`` is with
    respect to the (anchored) effects, before `CorrelatedBlock._unanchor`."""
    n = a.shape[0]
    levels = raw.shape[0]
    dL = np.zeros((n, n))
    draw = np.empty((levels, n))
    if noncentered:  # b = raw L'
        for r in range(levels):
            for j in range(n):
                s = 0.0
                for i in range(j, n):
                    s += db[r, i] * L[i, j]
                draw[r, j] = s - raw[r, j]
                for i in range(j, n):
                    dL[i, j] += db[r, i] * raw[r, j]
    else:
        W = np.empty(n)
        for r in range(levels):
            for i in range(n - 1, -1, -1):  # back substitution: L' w_r = z_r
                s = Z[r, i]
                for j in range(i + 1, n):
                    s -= W[j] * L[j, i]
                W[i] = s / L[i, i]
            for i in range(n):
                draw[r, i] = db[r, i] - W[i]
                for j in range(i + 1):
                    dL[i, j] += W[i] * Z[r, j]
        for i in range(n):
            dL[i, i] -= levels / L[i, i]
    dy = np.empty(packed.shape[0])
    k = 0
    for i in range(n):
        for j in range(i + 1):
            d = dL[i, j] + 2.0 * packed[k] * dv[i]
            dy[k] = d * packed[k] + a[i] + 1.0 if j == i else d
            k += 1
    return dy, draw


def block_forward():
    """`lkj_forward`, compiled (on first use; later processes load it from numba's cache)."""
    return compiled(lkj_forward)


def block_backward():
    """`lkj_backward`, compiled (as `block_forward`)."""
    return compiled(lkj_backward)
