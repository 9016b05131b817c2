"""Formulas for auxiliary parameters on the fast path (``sigma ~ x``): a linear predictor of
common terms through the parameter's link, one value per row.

The graph builds the same predictor (`bayesformula.graph.model`): coefficients named after the
parameter (``sigma_Intercept``, ``sigma_x``), the intercept sampled at the predictors' means
(``sigma_Intercept_centered``) when predictors are centred. Group terms and ``mo()``/``hsgp()``
terms in such a formula keep the model on the graph, as does a family whose row likelihood does
not take that parameter per row (`bayesformula.density.rows.RowFamily.row_aux`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesformula.density.links import link_inverse
from bayesformula.density.parts import Block, coefficient_block, times
from bayesformula.density.priors import Unsupported

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

    @property
    def columns(self) -> list[np.ndarray]:
        """What rows must share to be merged."""
        return [self.X] + ([self.offset] if self.offset is not None else [])

    def take(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (the first of each merged pattern)."""
        self.X = np.asfortranarray(self.X[rows])
        if self.offset is not None:
            self.offset = self.offset[rows]

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
        return self.linkinv(eta)

    def backward(self, grad, d_eta) -> None:
        """Add the gradient of the coefficients, given d(lp)/d(predictor) per row."""
        if self.intercept is not None:
            grad[self.intercept.start] += float(np.sum(d_eta))
        at = 0
        g_beta = d_eta @ self.X if self.terms else None
        for _, block in self.terms:
            grad[block.slice] += g_beta[at : at + block.size]
            at += block.size

    def add_shapes(self, shapes: dict, dims: dict) -> None:
        if self.intercept is not None:
            if self.centered:
                shapes[f"{self.param}_Intercept_centered"] = ()
            shapes[f"{self.param}_Intercept"] = ()
        for term, _ in self.terms:
            shapes[term.name] = (len(term.columns),) if term.dim else ()
            if term.dim:
                dims[term.name] = (term.dim,)

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


def aux_formulas(layout, parts, priors, center_predictors: bool, row_aux) -> dict:
    """`AuxFormula` of each auxiliary parameter with a formula, its coefficients' blocks laid
    out in ``layout``; `Unsupported` where the fast path cannot compute one."""
    out = {}
    for param, part in (parts or {}).items():
        if param not in row_aux:
            raise Unsupported(f"the formula for {param} ({part.formula})")
        design = part.design
        if design.group_terms or getattr(design, "special_terms", ()):
            raise Unsupported(f"group or special terms in the formula for {param}")
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
        out[param] = AuxFormula(
            param, intercept, centered, xbar, terms, np.asfortranarray(X - xbar), offset, linkinv
        )
    return out
