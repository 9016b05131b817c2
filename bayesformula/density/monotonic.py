"""Monotonic effects ``mo(x)`` on the fast path, as `bayesformula.graph.terms` builds them.

The term adds ``b * steps[code] * z`` to the linear predictor (``z`` 1 without an interaction),
``steps = D * [0, cumsum(zeta)]`` for a simplex ``zeta`` of ``D`` steps with a Dirichlet prior;
with the intercept sampled at the predictors' means, its mean over the fitting rows is taken
off (the graph moves it into ``Intercept``). The coefficient ``b`` is a coefficient block with
its prior; ``zeta`` is sampled through PyMC's simplex transform: ``y`` of ``D - 1`` values,
``v = [y, -sum(y)]``, ``zeta = softmax(v)``, with the log-Jacobian
``log D + D sum(y) - D logsumexp([y + sum(y), 0])``, which equals ``log D + sum(log zeta)``.
`bayesformula.testing.check_density` proves it equal to the graph (``tests/density``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from bayesformula.density.parts import Block, coefficient_block
from bayesformula.density.priors import Unsupported

__all__ = ["MonotonicPart", "monotonic_parts"]


@dataclass
class MonotonicPart:
    """One ``mo()`` term: its coefficient and simplex blocks, and each (merged) row's level and
    factor."""

    term: object
    coef: Block
    simplex: Block
    alpha: np.ndarray  # the Dirichlet's concentrations, D of them
    codes: np.ndarray
    z: np.ndarray | None
    #: each level's share of the fitting rows (times the factor): the term's mean is
    #: ``b * steps @ weights``; None when the intercept is not centred
    weights: np.ndarray | None

    @property
    def D(self) -> int:
        return self.alpha.size

    @property
    def columns(self) -> list[np.ndarray]:
        """What merged rows must share."""
        return [self.codes] + ([self.z] if self.z is not None else [])

    def take(self, rows: np.ndarray) -> None:
        self.codes = self.codes[rows]
        if self.z is not None:
            self.z = self.z[rows]

    def zeta(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The simplex and its logarithm from the sampler's ``D - 1`` values."""
        y = x[self.simplex.slice]
        v = np.concatenate([y, [-float(np.sum(y))]])
        m = float(v.max())
        e = np.exp(v - m)
        total = float(e.sum())
        return e / total, v - m - math.log(total)

    def steps(self, zeta) -> np.ndarray:
        return self.D * np.concatenate([[0.0], np.cumsum(zeta)])

    def value(self, x) -> np.ndarray:
        """The term's contribution to each row's linear predictor (centred if the intercept
        is)."""
        b = float(x[self.coef.start])
        steps = self.steps(self.zeta(x)[0])
        out = steps[self.codes] if self.z is None else steps[self.codes] * self.z
        if self.weights is not None:
            out = out - float(steps @ self.weights)
        return b * out

    def mean(self, x) -> float:
        """The term's mean over the fitting rows (what the graph moves into ``Intercept``)."""
        if self.weights is None:
            return 0.0
        return float(x[self.coef.start]) * float(self.steps(self.zeta(x)[0]) @ self.weights)

    def prior(self, x, grad) -> float:
        """The Dirichlet log-density of the simplex with the transform's log-Jacobian, its
        gradient added to ``grad``."""
        zeta, log_zeta = self.zeta(x)
        a = self.alpha
        lp = float(gammaln(a.sum()) - gammaln(a).sum() + (a - 1.0) @ log_zeta)
        lp += math.log(self.D) + float(log_zeta.sum())
        h = a - zeta * a.sum()  # d(sum a log zeta) / dv
        grad[self.simplex.slice] += h[:-1] - h[-1]
        return lp

    def backward(self, grad, deta, x) -> None:
        """Add the gradient of ``b`` and of the simplex, given d(lp)/d(eta) per row."""
        b = float(x[self.coef.start])
        zeta, _ = self.zeta(x)
        steps = self.steps(zeta)
        w = deta if self.z is None else deta * self.z
        dsteps = np.bincount(self.codes, weights=w, minlength=self.D + 1)
        if self.weights is not None:
            dsteps = dsteps - float(np.sum(deta)) * self.weights
        grad[self.coef.start] += float(dsteps @ steps)
        # steps_j = D sum_{k < j} zeta_k: d/dzeta_k = D sum_{j > k} d/dsteps_j
        dzeta = b * self.D * np.cumsum(dsteps[::-1])[::-1][1:]
        h = zeta * (dzeta - float(zeta @ dzeta))  # through the softmax
        grad[self.simplex.slice] += h[:-1] - h[-1]


def monotonic_parts(layout, design, priors, centered: bool) -> list[MonotonicPart]:
    """The design's ``mo()`` terms, their blocks laid out in ``layout``; `Unsupported` for a
    ``hsgp()`` term or a simplex prior the fast path does not compute."""
    out = []
    for term in getattr(design, "special_terms", ()):
        if term.kind != "mo":
            raise Unsupported(f"the {term.kind}() term '{term.name}'")
        prior = priors.terms[term.simplex_name]
        if prior.name != "Dirichlet" or set(prior.args) != {"a"} or prior.options:
            raise Unsupported(f"the simplex of '{term.name}' has the prior {prior!r}")
        alpha = np.broadcast_to(np.asarray(prior.args["a"], dtype=float), (term.D,)).copy()
        coef = coefficient_block(layout, term.name, priors.common[term.name], 1, term.name)
        simplex = layout.add(term.simplex_name, term.D - 1, None)
        codes = np.asarray(term.codes, dtype=np.intp)
        z = None if term.z is None else np.asarray(term.z, dtype=float)
        weights = None
        if centered:
            factor = np.ones(codes.size) if z is None else z
            weights = np.bincount(codes, weights=factor, minlength=term.D + 1) / codes.size
        out.append(MonotonicPart(term, coef, simplex, alpha, codes, z, weights))
    return out
