"""A fast-path log-density compiled whole: no Python between the sampler and the arithmetic.

The fast path's ``logp_grad`` is a Python function around compiled row loops: on a small
model, most of a gradient's 30-40 us is that Python (the priors, the closure, the guard), and
it holds the interpreter lock, so the chains of one fit take turns. For the models whose
log-density is normal priors on the coefficients, independent non-centered group effects with
half-normal priors on their sds, and `kernels.glm_loglik` (bernoulli, binomial and poisson
regressions), `native_form` gives the same log-density as one numba function of the
unconstrained vector and the model's arrays (`NativeDensity`). nutpie calls it as a C function
(`bayesformula.samplers.native`), without Python and without the lock, whatever the model's
sizes: the arrays carry them.

It is a second implementation of the same arithmetic, trusted as far as the conformance tests
prove it equal to ``logp_grad`` (`tests/density/test_native.py`); a model outside the class
gets None and keeps the Python function.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["NativeDensity", "inner_function", "native_form"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class NativeDensity:
    """``inner(x, *arrays) -> (logp, grad)``, a numba function, and the model's arrays, named
    (``names``, `NAMES`) and in the order ``inner`` takes them. One compile of ``inner`` serves
    every model of the class: the arrays carry the sizes.
    """

    inner: object
    names: tuple[str, ...]
    arrays: tuple[np.ndarray, ...]

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The log-density and gradient at ``x``, called from Python (for tests)."""
        lp, grad = self.inner(np.ascontiguousarray(x, dtype=float), *self.arrays)
        return float(lp), grad


def _glm_density(
    x, where, mu, inv, pconst, hwhere, hinv, hconst, gmeta, meta, X, ysum, weight, offset, pos, z
):
    """Normal priors at ``x[where]``, half-normal priors on the log scale at ``x[hwhere]``,
    non-centered group effects (``gmeta``) and `kernels.glm_loglik`."""
    grad = np.zeros(x.shape[0])
    lp = pconst[0]
    for k in range(where.shape[0]):
        j = where[k]
        u = (x[j] - mu[k]) * inv[k]
        lp += pconst[k + 1] - 0.5 * u * u
        grad[j] -= u * inv[k]
    for k in range(hwhere.shape[0]):  # value exp(u), Jacobian u
        j = hwhere[k]
        v = math.exp(x[j])
        u = v * hinv[k]
        lp += hconst[k] - 0.5 * u * u + x[j]
        grad[j] += 1.0 - u * u
    # b = offset * sigma, level after level, column within level (the loop's flat layout)
    i_int, b0, b1, family, n_effects = meta[0], meta[1], meta[2], meta[3], meta[4]
    b = np.empty(n_effects)
    for t in range(gmeta.shape[0]):
        e0, n_levels, n_cols, s0, f0 = gmeta[t]
        for c in range(n_cols):
            sig = math.exp(x[s0 + c])
            for level in range(n_levels):
                at = level * n_cols + c
                raw = x[e0 + at]
                lp -= 0.5 * raw * raw + _HALF_LOG_2PI
                b[f0 + at] = raw * sig
    alpha = x[i_int] if i_int >= 0 else 0.0
    beta = np.ascontiguousarray(x[b0:b1])
    gbeta = np.empty(b1 - b0)
    gb = np.empty(n_effects)
    ll, dalpha = _GLM(family, X, ysum, weight, offset, alpha, beta, pos, z, b, gbeta, gb)
    lp += ll
    if i_int >= 0:
        grad[i_int] += dalpha
    for j in range(b1 - b0):
        grad[b0 + j] += gbeta[j]
    for t in range(gmeta.shape[0]):
        e0, n_levels, n_cols, s0, f0 = gmeta[t]
        for c in range(n_cols):
            sig = math.exp(x[s0 + c])
            dsig = 0.0
            for level in range(n_levels):
                at = level * n_cols + c
                raw = x[e0 + at]
                db = gb[f0 + at]
                grad[e0 + at] += db * sig - raw
                dsig += db * raw
            grad[s0 + c] += dsig * sig
    return lp, grad


_GLM = None


@functools.cache
def inner_function():
    """`_glm_density` compiled (numba's cache on disk), calling the compiled `glm_loglik`."""
    global _GLM
    from bayesformula.density import kernels

    _GLM = kernels.compiled(kernels.glm_loglik)
    return kernels.compiled(_glm_density)


def native_form(
    loop, merged, const: float, i_int, beta_slice, groups=(), blocks=()
) -> NativeDensity | None:
    """The `NativeDensity` of a fast-path density made of ``merged`` priors (`merge_priors`),
    non-centered group effects ``groups`` and the row loop ``loop`` (`kernels.RowLoop`), or
    None where it is outside the class: centered or correlated group effects, a family other
    than `glm_loglik`'s, a prior other than the normal (half-normal for the groups' sds)."""
    from bayesformula.density import kernels

    if loop is None or loop.family == kernels.BETA_LOGIT or blocks:
        return None
    gmeta = np.zeros((len(groups), 5), dtype=np.int64)
    flat = 0
    for t, g in enumerate(groups):
        if not g.noncentered or g.corr is not None or g.sigma is None or g.anchor_idx is not None:
            return None
        if g.sigma.size != g.n_cols:
            return None
        gmeta[t] = (g.effects.start, g.n_levels, g.n_cols, g.sigma.start, flat)
        flat += g.n_levels * g.n_cols
    if flat != loop.n_effects:
        return None
    normal = [m for m in merged if m[0].name == "Normal" and not m[0].positive]
    half = [m for m in merged if m[0].name == "HalfNormal" and m[0].positive]
    if len(normal) + len(half) != len(merged) or len(normal) > 1 or len(half) > 1:
        return None
    if normal:
        prior, where, _ = normal[0]
        mu = np.broadcast_to(np.asarray(prior.params["mu"], float), where.shape)
        inv = 1.0 / np.broadcast_to(np.asarray(prior.params["sigma"], float), where.shape)
    else:
        where, mu, inv = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    if half:
        hprior, hwhere, _ = half[0]
        hinv = 1.0 / np.broadcast_to(np.asarray(hprior.params["sigma"], float), hwhere.shape)
        hconst = 0.5 * np.log(2 / np.pi) + np.log(hinv)
    else:
        hwhere, hinv, hconst = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    if beta_slice is None:
        b0 = b1 = 0
    else:
        b0, b1 = beta_slice.start, beta_slice.stop
    if b1 - b0 != loop.X.shape[1]:
        return None
    meta = np.array(
        [-1 if i_int is None else int(i_int), b0, b1, loop.family, flat], dtype=np.int64
    )
    pconst = np.concatenate([[float(const)], np.log(inv) - _HALF_LOG_2PI])

    def c(a, dtype=float):
        return np.ascontiguousarray(a, dtype=dtype)

    arrays = (
        c(where, np.int64), c(mu), c(inv), pconst,
        c(hwhere, np.int64), c(hinv), c(hconst), gmeta, meta,
        loop.X, loop.ysum, loop.weight, loop.offset, loop.pos, loop.z,
    )  # fmt: skip
    return NativeDensity(inner_function(), NAMES, arrays)


#: The names of `NativeDensity.arrays`, in `_glm_density`'s order after ``x``.
NAMES = (
    "where", "mu", "inv", "pconst", "hwhere", "hinv", "hconst", "gmeta", "meta",
    "X", "ysum", "weight", "offset", "pos", "z",
)  # fmt: skip
