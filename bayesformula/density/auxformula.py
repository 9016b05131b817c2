"""Formulas for auxiliary parameters on the fast path (``sigma ~ x``): a linear predictor of
common terms through the parameter's link, one value per row.

The graph builds the same predictor (`bayesformula.graph.model`): coefficients named after the
parameter (``sigma_Intercept``, ``sigma_x``), the intercept sampled at the predictors' means
(``sigma_Intercept_centered``) when predictors are centred, and independent group terms
non-centered as the graph builds them there: ``sigma_1|g = sigma_1|g_offset * sigma_1|g_sigma``
with standard normal offsets. Correlated group terms and ``mo()``/``hsgp()`` terms in such a
formula keep the model on the graph, as does a family whose row likelihood does not take that
parameter per row (`bayesformula.density.rows.RowFamily.row_aux`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bayesformula.density.links import link_inverse
from bayesformula.density.parts import Block, coefficient_block, group_sigma_block, times
from bayesformula.density.priors import Unsupported

_LOG_2PI = math.log(2 * math.pi)


@dataclass
class AuxGroup:
    """A non-centered group term of an auxiliary parameter's formula: offsets ``(levels,
    columns)``, their standard deviation (a block sampled on the log scale, or fixed), and each
    row's level and columns (None for an intercept)."""

    term: object
    offsets: Block
    sigma: Block | None
    fixed: np.ndarray | None
    idx: np.ndarray
    Z: np.ndarray | None

    @property
    def shape(self) -> tuple[int, ...]:
        levels = self.offsets.size // self.width
        return (levels, self.width) if self.term.expr_dim is not None else (levels,)

    @property
    def width(self) -> int:
        return 1 if self.Z is None else self.Z.shape[1]

    def parts(self, x):
        """The offsets ``(levels, columns)``, the standard deviations and the effects."""
        raw = x[self.offsets.slice].reshape(-1, self.width)
        sig = np.exp(x[self.sigma.slice]) if self.sigma is not None else self.fixed
        return raw, sig, raw * sig


__all__ = ["AuxFormula", "aux_formulas"]


@dataclass
class AuxFormula:
    """One auxiliary parameter's linear predictor on the rows the likelihood sees."""

    param: str
    intercept: Block | None
    centered: bool
    xbar: np.ndarray
    terms: list  # (term, Block)
    X: np.ndarray
    offset: np.ndarray | None
    linkinv: object
    groups: list[AuxGroup] = field(default_factory=list)

    @property
    def columns(self) -> list[np.ndarray]:
        """What rows must share to be merged."""
        out = [self.X] + ([self.offset] if self.offset is not None else [])
        for g in self.groups:
            out += [g.idx] + ([g.Z] if g.Z is not None else [])
        return out

    def take(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (the first of each merged pattern)."""
        self.X = np.asfortranarray(self.X[rows])
        if self.offset is not None:
            self.offset = self.offset[rows]
        for g in self.groups:
            g.idx = g.idx[rows]
            g.Z = None if g.Z is None else np.ascontiguousarray(g.Z[rows])

    def effects_prior(self, x, grad) -> float:
        """The standard normal log-density of the group terms' offsets, its gradient added to
        ``grad``."""
        lp = 0.0
        for g in self.groups:
            raw = x[g.offsets.slice]
            lp += -0.5 * float(raw @ raw) - 0.5 * raw.size * _LOG_2PI
            grad[g.offsets.slice] -= raw
        return lp

    def _beta(self, x):
        if not self.terms:
            return None
        return np.concatenate([x[block.slice] for _, block in self.terms])

    def value(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The parameter per row and its derivative in its linear predictor."""
        beta = self._beta(x)
        eta = times(self.X, beta) if beta is not None else np.zeros(self.X.shape[0])
        if self.intercept is not None:
            eta += x[self.intercept.start]
        if self.offset is not None:
            eta = eta + self.offset
        for g in self.groups:
            b = g.parts(x)[2][g.idx]
            eta = eta + (b[:, 0] if g.Z is None else np.einsum("ij,ij->i", b, g.Z))
        return self.linkinv(eta)

    def backward(self, grad, d_eta, x) -> None:
        """Add the gradient of the coefficients, given d(lp)/d(predictor) per row."""
        if self.intercept is not None:
            grad[self.intercept.start] += float(np.sum(d_eta))
        at = 0
        g_beta = d_eta @ self.X if self.terms else None
        for _, block in self.terms:
            grad[block.slice] += g_beta[at : at + block.size]
            at += block.size
        for g in self.groups:
            raw, sig, _ = g.parts(x)
            levels = raw.shape[0]
            db = np.column_stack(
                [
                    np.bincount(
                        g.idx, weights=d_eta if g.Z is None else d_eta * g.Z[:, j], minlength=levels
                    )
                    for j in range(g.width)
                ]
            )
            grad[g.offsets.slice] += (db * sig).reshape(-1)
            if g.sigma is not None:  # on the log scale
                grad[g.sigma.slice] += (db * raw).sum(axis=0) * sig

    def add_shapes(self, shapes: dict, dims: dict) -> None:
        if self.intercept is not None:
            if self.centered:
                shapes[f"{self.param}_Intercept_centered"] = ()
            shapes[f"{self.param}_Intercept"] = ()
        for term, _ in self.terms:
            shapes[term.name] = (len(term.columns),) if term.dim else ()
            if term.dim:
                dims[term.name] = (term.dim,)
        for g in self.groups:
            term = g.term
            if g.sigma is not None:
                shapes[g.sigma.name] = (g.width,) if term.expr_dim else ()
                if term.expr_dim:
                    dims[g.sigma.name] = (term.expr_dim,)
            for name in (g.offsets.name, term.name):
                shapes[name], dims[name] = g.shape, term.dims

    def expand(self, out: dict, x, shapes: dict) -> None:
        beta = self._beta(x)
        if self.intercept is not None:
            alpha = float(x[self.intercept.start])
            name = f"{self.param}_Intercept"
            if self.centered:
                out[f"{name}_centered"] = np.asarray(alpha)
                out[name] = np.asarray(alpha - float(self.xbar @ beta))
            else:
                out[name] = np.asarray(alpha)
        for term, block in self.terms:
            out[term.name] = x[block.slice].reshape(shapes[term.name]).copy()
        for g in self.groups:
            raw, sig, b = g.parts(x)
            if g.sigma is not None:
                out[g.sigma.name] = sig.reshape(shapes[g.sigma.name]).copy()
            out[g.offsets.name] = raw.reshape(g.shape).copy()
            out[g.term.name] = b.reshape(g.shape)


def aux_formulas(layout, parts, priors, center_predictors: bool, row_aux) -> dict:
    """`AuxFormula` of each auxiliary parameter with a formula, its coefficients' blocks laid
    out in ``layout``; `Unsupported` where the fast path cannot compute one."""
    out = {}
    for param, part in (parts or {}).items():
        if param not in row_aux:
            raise Unsupported(f"the formula for {param} ({part.formula})")
        design = part.design
        if design.group_blocks or getattr(design, "special_terms", ()):
            raise Unsupported(f"correlated or special terms in the formula for {param}")
        linkinv = link_inverse(part.link)
        if linkinv is None:
            raise Unsupported(f"the link '{part.link.name}' of {param}")
        X = np.asarray(design.X, dtype=float)
        p = X.shape[1]
        centered = bool(design.intercept and p and center_predictors)
        xbar = X.mean(axis=0) if centered else np.zeros(p)
        intercept = None
        if design.intercept:
            name = part.intercept_name + ("_centered" if centered else "")
            intercept = coefficient_block(
                layout, name, priors.common[part.intercept_name], 1, f"the intercept of {param}"
            )
        terms = [
            (
                term,
                coefficient_block(
                    layout,
                    term.name,
                    priors.common[term.name],
                    len(term.columns),
                    f"term '{term.name}'",
                ),
            )
            for term in design.common_terms
        ]
        offset = None if design.offset is None else np.asarray(design.offset, dtype=float)
        groups = [_aux_group(layout, design, priors, term) for term in design.group_terms]
        out[param] = AuxFormula(
            param,
            intercept,
            centered,
            xbar,
            terms,
            np.asfortranarray(X - xbar),
            offset,
            linkinv,
            groups,
        )
    return out


def _aux_group(layout, design, priors, term) -> AuxGroup:
    """A group term of an auxiliary parameter's formula, its blocks laid out in ``layout``."""
    width = len(term.columns)
    sigma, fixed = group_sigma_block(layout, term.name, priors, width)
    levels = len(design.group_levels[term.factor])
    offsets = layout.add(f"{term.name}_offset", levels * width, None)
    Z = None if term.kind == "intercept" else np.ascontiguousarray(term.Z, dtype=float)
    idx = np.asarray(design.group_index[term.factor], dtype=np.intp)
    return AuxGroup(term, offsets, sigma, fixed, idx, Z)
