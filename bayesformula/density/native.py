"""A fast-path log-density compiled whole: no Python between the sampler and the arithmetic.

The fast path's ``logp_grad`` is a Python function around compiled row loops: on a small
model, most of a gradient's 30-40 us is that Python (the priors, the closure, the guard), and
it holds the interpreter lock, so the chains of one fit take turns. For the models whose
log-density is normal priors on the coefficients plus `kernels.glm_loglik` (bernoulli,
binomial and poisson regressions with common effects only), `native_form` gives the same
log-density as one numba function of the unconstrained vector and the model's arrays
(`NativeDensity`). nutpie calls it as a C function (`bayesformula.samplers.native`), without
Python and without the lock, on the data of any dataset of the same structure.

It is a second implementation of the same arithmetic, trusted as far as the conformance tests
prove it equal to ``logp_grad`` (`tests/density/test_native.py`); a model outside the class
gets None and keeps the Python function.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["NativeDensity", "native_form"]


@dataclass(frozen=True)
class NativeDensity:
    """``inner(x, *arrays) -> (logp, grad)``, a numba function, and the model's arrays.

    ``arrays`` are named (``names``) so that a compiled sampler can take another dataset's
    arrays of the same ranks and types (``key``) without compiling again.
    """

    inner: object
    names: tuple[str, ...]
    arrays: tuple[np.ndarray, ...]

    @property
    def key(self) -> tuple:
        """What a compile of ``inner`` depends on besides the dimension: ranks and types."""
        return tuple((a.ndim, a.dtype.str) for a in self.arrays)

    def logp_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The log-density and gradient at ``x``, called from Python (for tests)."""
        lp, grad = self.inner(np.ascontiguousarray(x, dtype=float), *self.arrays)
        return float(lp), grad


def _glm_normal(x, where, mu, inv, pconst, meta, X, ysum, weight, offset, pos, z):
    """Normal priors at ``x[where]`` plus `kernels.glm_loglik` (no group effects)."""
    grad = np.zeros(x.shape[0])
    lp = pconst[0]
    for k in range(where.shape[0]):
        j = where[k]
        u = (x[j] - mu[k]) * inv[k]
        lp += pconst[k + 1] - 0.5 * u * u
        grad[j] -= u * inv[k]
    i_int, b0, b1, family = meta[0], meta[1], meta[2], meta[3]
    alpha = x[i_int] if i_int >= 0 else 0.0
    beta = np.ascontiguousarray(x[b0:b1])
    gbeta = np.empty(b1 - b0)
    empty = np.empty(0)
    ll, dalpha = _GLM(family, X, ysum, weight, offset, alpha, beta, pos, z, empty, gbeta, empty)
    lp += ll
    if i_int >= 0:
        grad[i_int] += dalpha
    for j in range(b1 - b0):
        grad[b0 + j] += gbeta[j]
    return lp, grad


_GLM = None


@functools.cache
def inner_function():
    """`_glm_normal` compiled (numba's cache on disk), calling the compiled `glm_loglik`."""
    global _GLM
    from bayesformula.density import kernels

    _GLM = kernels.compiled(kernels.glm_loglik)
    return kernels.compiled(_glm_normal)


def native_form(loop, merged, const: float, i_int, beta_slice) -> NativeDensity | None:
    """The `NativeDensity` of a fast-path density made of ``merged`` priors (`merge_priors`)
    and the row loop ``loop`` (`kernels.RowLoop`), or None where it is outside the class:
    group effects, a family other than `glm_loglik`'s, a prior other than the normal."""
    from bayesformula.density import kernels

    if loop is None or loop.family == kernels.BETA_LOGIT or loop.n_effects or loop.pos.size:
        return None
    if len(merged) != 1:
        return None
    prior, where, _ = merged[0]
    if prior.name != "Normal" or prior.positive or prior.unit:
        return None
    mu = np.broadcast_to(np.asarray(prior.params["mu"], float), where.shape)
    sigma = np.broadcast_to(np.asarray(prior.params["sigma"], float), where.shape)
    inv = 1.0 / sigma
    if beta_slice is None:
        b0 = b1 = 0
    else:
        b0, b1 = beta_slice.start, beta_slice.stop
    if b1 - b0 != loop.X.shape[1]:
        return None
    meta = np.array([-1 if i_int is None else int(i_int), b0, b1, loop.family], dtype=np.int64)
    pconst = np.concatenate([[float(const)], np.log(inv) - 0.5 * np.log(2 * np.pi)])
    arrays = (
        np.ascontiguousarray(where, dtype=np.int64),
        np.ascontiguousarray(mu, dtype=float),
        np.ascontiguousarray(inv, dtype=float),
        pconst,
        meta,
        loop.X,
        loop.ysum,
        loop.weight,
        loop.offset,
        loop.pos,
        loop.z,
    )
    names = ("where", "mu", "inv", "pconst", "meta", "X", "ysum", "weight", "offset", "pos", "z")
    return NativeDensity(inner_function(), names, arrays)
