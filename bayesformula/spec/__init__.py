"""The model specification: `specify(formula, data, **options) -> ModelSpec`, frozen.

`ModelSpec` is the one description of a model that every later stage reads: the PyMC graph
(`bayesformula.graph`), the fast path's log-density (`bayesformula.density`), predictions and
the pointwise log-likelihood (`bayesformula.results`), saving (`bayesformula.io`).
"""

from bayesformula.spec.specify import ModelSpec, SpecOptions, specify

__all__ = ["ModelSpec", "SpecOptions", "specify"]
