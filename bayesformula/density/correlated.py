"""Correlated group effects on the fast path: ``(1 + x | g)`` with an LKJ prior.

The graph (`bayesformula.graph.model`) gives each block of correlated terms PyMC's
``LKJCholeskyCov``: a packed lower-triangular Cholesky factor ``L`` of the effects' covariance
(``{block}_cholesky``, rows in order, sampled with its diagonal on the log scale), whose
density is the LKJ density of the correlations, the terms' priors on the standard deviations
(``sd_dist``) and the Jacobian between them. The effects of the levels are either
``{block}_joint ~ MvNormal(0, L L')`` (centered) or ``{block}_joint = {block}_offset @ L'``
with standard normal offsets (non-centered).

With ``y`` the sampled vector (``x = y`` off the diagonal, ``x_ii = exp(y_ii)``), row sums of
squares ``v_i`` (the variances) and ``a_i = 2 eta - 2 + n - i``, PyMC's log-density of ``L``,
transform included, is::

    norm(eta, n) + sum_i [a_i (y_ii - log(v_i) / 2) - i log(v_i) / 2 + logp_sd(sqrt(v_i)) + y_ii]

and its gradient follows by the chain rule through ``v_i``. `CorrelatedBlock` computes it, the
effects' density and their gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from bayesformula.core.prior import Prior
from bayesformula.density.priors import NumericPrior, Unsupported, numeric_prior

__all__ = ["CorrelatedBlock", "correlated_block", "lkj_normalizing_constant"]


def lkj_normalizing_constant(eta: float, n: int) -> float:
    """The LKJ density's normalising constant, as PyMC computes it (its ``eta = 1`` case
    separately)."""
    result_1 = float(np.sum(gammaln(2.0 * np.arange(1, (n - 1) / 2 + 1))))
    if eta == 1.0:
        if n % 2 == 1:
            return result_1 + (
                0.25 * (n**2 - 1) * math.log(math.pi)
                - 0.25 * (n - 1) ** 2 * math.log(2.0)
                - (n - 1) * gammaln((n + 1) / 2)
            )
        return result_1 + (
            0.25 * n * (n - 2) * math.log(math.pi)
            + 0.25 * (3 * n**2 - 4 * n) * math.log(2.0)
            + n * gammaln(n / 2)
            - (n - 1) * gammaln(n)
        )
    k = np.arange(1, n)
    return float(
        -(n - 1) * gammaln(eta + 0.5 * (n - 1))
        + np.sum(0.5 * k * math.log(math.pi) + gammaln(eta + 0.5 * (n - 1 - k)))
    )


@dataclass
class CorrelatedBlock:
    """One block of correlated terms: where its values sit in the sampler's vector and how
    its density and gradient are computed (see the module docstring)."""

    name: str
    n: int  # terms' columns in the block
    n_levels: int
    chol: object  # the `Block` of the packed factor (diagonal on the log scale)
    raw: object  # the `Block` of the joint effects (centered) or offsets (non-centered)
    noncentered: bool
    sd_prior: NumericPrior
    eta: float
    #: term name -> its columns in the block
    columns: dict = field(default_factory=dict)
    #: centered on the common coefficients (`anchor`): the intercept's column and place in the
    #: sampler's vector, and (column, place, mean of the predictor) of each anchored slope
    anchored: tuple | None = None

    def __post_init__(self):
        n = self.n
        self.rows, self.cols = np.tril_indices(n)  # packed order: row by row
        self.diag = np.cumsum(np.arange(1, n + 1)) - 1
        self.idx = np.arange(n)
        self.a = 2.0 * self.eta - 2.0 + n - self.idx
        self.norm = lkj_normalizing_constant(self.eta, n)
        self.dv0 = -0.5 * (self.a + self.idx)
        # numba is imported for models with correlated effects only (about 0.2 s and 30 MB)
        from bayesformula.density.correlated_kernels import block_backward, block_forward

        self._forward = block_forward()
        self._backward = block_backward()

    def anchor(self, column: int, at: int, slopes: list) -> None:
        """Sample each level's own coefficients, as `bayesformula.density.parts.anchor_effects`
        does for independent effects: the intercept column ``column`` as ``a_j = b0_j +
        Intercept_centered + sum mean(x) b1_j`` (``at``: the intercept's place) and each slope
        column as ``c_j = b1_j + beta_x``; a shift, so the Jacobian is 1."""
        self.anchored = (column, at, [(k, place, mean) for k, place, mean in slopes if k != column])

    def effects(self, x, raw) -> np.ndarray:
        """The effects (levels x n) from the sampled joint values ``raw``."""
        if self.anchored is None:
            return raw
        column, at, slopes = self.anchored
        b = raw.copy()
        for k, place, mean in slopes:
            b[:, k] = raw[:, k] - x[place]
            b[:, column] -= mean * b[:, k]
        b[:, column] -= x[at]
        return b

    def _unanchor(self, grad, gb) -> np.ndarray:
        """d lp / d raw from d lp / d b (adding what reaches the common coefficients)."""
        if self.anchored is None:
            return gb
        column, at, slopes = self.anchored
        graw = gb.copy()
        grad[at] -= gb[:, column].sum()
        for k, place, mean in slopes:
            graw[:, k] = gb[:, k] - mean * gb[:, column]
            grad[place] -= graw[:, k].sum()
        return graw

    # ---------------------------------------------------------------- forward
    def factor(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The factor at the sampler's vector ``x``: packed (diagonal exponentiated) and as
        the lower-triangular matrix ``L``."""
        packed = np.array(x[self.chol.slice], dtype=float)
        packed[self.diag] = np.exp(packed[self.diag])
        L = np.zeros((self.n, self.n))
        L[self.rows, self.cols] = packed
        return packed, L

    def forward(self, x):
        """``(log-density of the factor and the effects, effects (levels x n), state)``."""
        raw = x[self.raw.slice].reshape(self.n_levels, self.n)
        b = np.empty((self.n_levels, self.n)) if self.noncentered else self.effects(x, raw)
        lp, L, packed, v, Z = self._forward(x[self.chol.slice], self.a, raw, b, self.noncentered)
        sd = np.sqrt(v)
        lp_sd, g_sd = self.sd_prior.logp_grad(sd)
        dv = self.dv0 / v + 0.5 * g_sd / sd  # d lp / d v_i
        return lp + self.norm + float(lp_sd), b, (L, packed, dv, raw, Z)

    # ---------------------------------------------------------------- backward
    def backward(self, grad, db, state) -> None:
        """Add the gradient with respect to the block's values, given d(likelihood)/d(effects)
        ``db`` (levels x n)."""
        L, packed, dv, raw, Z = state
        dy, draw = self._backward(L, packed, dv, self.a, raw, Z, db, self.noncentered)
        if not self.noncentered:
            draw = self._unanchor(grad, draw)
        grad[self.chol.slice] += dy
        grad[self.raw.slice] += draw.reshape(-1)

    # ---------------------------------------------------------------- named values
    def expand(self, x, out: dict, terms: dict) -> None:
        """The block's named values: the packed factor, the correlations, the joint effects
        or offsets, and each term's standard deviations and effects."""
        packed, L = self.factor(x)
        sd = np.sqrt(np.sum(L * L, axis=1))
        i, j = np.triu_indices(self.n, 1)
        out[f"{self.name}_cholesky"] = packed
        out[f"{self.name}_corr"] = np.sum(L[i] * L[j], axis=1) / (sd[i] * sd[j])
        raw = x[self.raw.slice].reshape(self.n_levels, self.n).copy()
        b = raw @ L.T if self.noncentered else self.effects(x, raw)
        out[self.raw.name] = raw if self.noncentered else b.copy()
        for name, cols in self.columns.items():
            vector = terms[name].expr_dim is not None
            out[f"{name}_sigma"] = sd[cols].copy() if vector else np.asarray(sd[cols.start])
            out[name] = b[:, cols].copy() if vector else b[:, cols.start].copy()

    def add_shapes(self, shapes: dict, dims: dict, block, terms: dict) -> None:
        """Names, shapes and dims as the graph gives them."""
        shapes[f"{self.name}_cholesky"] = (self.n * (self.n + 1) // 2,)
        shapes[f"{self.name}_corr"] = (self.n * (self.n - 1) // 2,)
        dims[f"{self.name}_corr"] = (block.corr_dim,)
        shapes[self.raw.name] = (self.n_levels, self.n)
        dims[self.raw.name] = (f"{block.factor}__factor_dim", block.dim)
        for name, cols in self.columns.items():
            term = terms[name]
            vector = term.expr_dim is not None
            shapes[f"{name}_sigma"] = (cols.stop - cols.start,) if vector else ()
            if vector:
                dims[f"{name}_sigma"] = (term.expr_dim,)
            shapes[name] = (self.n_levels, cols.stop - cols.start) if vector else (self.n_levels,)
            dims[name] = term.dims

    def start(self, start: np.ndarray, scale: np.ndarray) -> None:
        """A starting point: the factor diagonal at the standard deviations' prior scale,
        the effects near zero."""
        sd0 = np.exp(self.sd_prior.initial(self.n))
        y0 = np.zeros(self.n * (self.n + 1) // 2)
        y0[self.diag] = np.log(sd0)
        start[self.chol.slice] = y0
        scale[self.chol.slice] = 0.1
        raw = np.zeros((self.n_levels, self.n))
        if self.anchored is not None:  # effects of 0: each level at the common coefficients
            column, at, slopes = self.anchored
            raw[:, column] = start[at]
            for k, place, _ in slopes:
                raw[:, k] = start[place]
        start[self.raw.slice] = raw.reshape(-1)
        if not self.noncentered:
            scale[self.raw.slice] = np.tile(np.minimum(1.0, sd0), self.n_levels) * 0.1


def correlated_block(layout, block, design, priors, noncentered: bool) -> CorrelatedBlock:
    """The `CorrelatedBlock` of the design's ``block``, its values added to ``layout``, or
    `Unsupported` where its priors are outside what the fast path computes."""
    from bayesformula.density.parts import group_sigma

    specs = [group_sigma(name, priors.group[name]) for name in block.terms]
    kinds = {s.name if isinstance(s, Prior) else None for s in specs}
    if None in kinds or len(kinds) != 1:  # the graph refuses these with a PriorError
        raise Unsupported(f"the standard deviations of {block.name} have mixed priors")
    keys = sorted(specs[0].args)
    if any(sorted(s.args) != keys for s in specs):
        raise Unsupported(f"the standard deviations of {block.name} set different parameters")
    args = {
        key: np.concatenate(
            [
                np.broadcast_to(np.asarray(s.args[key], dtype=float), (w,))
                for s, w in zip(specs, block.widths, strict=True)
            ]
        )
        for key in keys
    }
    sd_prior = numeric_prior(Prior(specs[0].name, **args), block.size, f"the sds of {block.name}")
    if not sd_prior.positive:
        raise Unsupported(f"the standard deviations of {block.name} have a prior not positive")
    eta = priors.corr[block.name].args.get("eta", 1.0)
    if isinstance(eta, Prior):
        raise Unsupported(f"the LKJ prior of {block.name} has a prior on eta")
    n_levels = len(design.group_levels[block.factor])
    n = block.size
    chol = layout.add(f"{block.name}_cholesky", n * (n + 1) // 2, None)
    raw = layout.add(f"{block.name}_{'offset' if noncentered else 'joint'}", n_levels * n, None)
    return CorrelatedBlock(
        name=block.name,
        n=n,
        n_levels=n_levels,
        chol=chol,
        raw=raw,
        noncentered=noncentered,
        sd_prior=sd_prior,
        eta=float(eta),
        columns=dict(block.slices()),
    )
