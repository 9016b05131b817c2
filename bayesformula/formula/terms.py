"""Terms that are not columns of the common matrix ``X``: ``mo()`` and ``hsgp()``.

* ``mo(x)`` is a monotonic effect of an ordered predictor (brms): with ``x`` coded
  ``0, 1, ..., D`` its contribution is ``b * D * sum(zeta[:x])``, ``zeta`` a simplex of ``D``
  steps, so ``b`` is the average difference between adjacent levels. ``mo(x):z`` multiplies it
  by a numeric predictor ``z``.
* ``hsgp(x1[, x2, ...], m=..., c=... | L=...)`` is a Hilbert-space approximate Gaussian process
  (Riutort-Mayol et al. 2022): ``f(x) = sum_j phi_j(x) * beta_j`` with fixed basis functions
  ``phi_j`` (eigenfunctions of the Laplacian on ``[-L, L]``) and ``beta_j ~ Normal(0, S(omega_j))``,
  ``S`` the covariance function's spectral density.

formulae parses these calls like any other; `split_special_terms` takes them out of its model
description before the design matrices are built, and `evaluate_special_terms` evaluates them
here. Each term keeps what it learned from the fitting data (the levels of the monotonic
predictor; the centre, boundary and basis of the Gaussian process) and re-applies it to new data
with ``evaluate``.

The pieces live in their own modules: `bayesformula.formula.special_calls` (syntax checks,
taking the terms out of the description), `bayesformula.formula.monotonic` (``mo()``),
`bayesformula.formula.hsgp` and `bayesformula.formula.hsgp_math` (``hsgp()``), and
`bayesformula.formula.term_values` (helpers both use). This module evaluates them and re-exports
their public names.
"""

from __future__ import annotations

import pandas as pd

from bayesformula.formula.hsgp import HSGPTerm, _make_hsgp
from bayesformula.formula.hsgp_math import (
    SHORTEST_LENGTHSCALE,
    basis_indices,
    hsgp_basis,
    inverse_gamma_tails,
)
from bayesformula.formula.monotonic import MonotonicTerm, _make_monotonic
from bayesformula.formula.special_calls import (
    HSGP_ARGUMENTS,
    SPECIAL_CALLS,
    _callee,
    check_special_calls,
    split_special_terms,
)

__all__ = [
    "HSGP_ARGUMENTS",
    "HSGPTerm",
    "MonotonicTerm",
    "SHORTEST_LENGTHSCALE",
    "SPECIAL_CALLS",
    "basis_indices",
    "check_special_calls",
    "evaluate_special_terms",
    "hsgp_basis",
    "inverse_gamma_tails",
    "split_special_terms",
]


def evaluate_special_terms(terms, data: pd.DataFrame, env, dtypes, rename) -> tuple:
    """Evaluate ``mo()``/``hsgp()`` terms on the fitting data.

    Parameters
    ----------
    terms : list
        formulae terms returned by `split_special_terms`.
    data : pandas.DataFrame
        The fitting data (missing values already handled).
    env : formulae Environment
        Where the formula's names resolve.
    dtypes : dict
        Column -> dtype as the user gave it (before categories were made ordered).
    rename : callable
        Maps formulae's term name to the displayed one (list literals restored).

    Returns
    -------
    tuple of MonotonicTerm and HSGPTerm
    """
    out = []
    for term in terms:
        name = rename(term.name)
        kinds = {_callee(c) for c in term.components} - {None}
        if "hsgp" in kinds:
            out.append(_make_hsgp(term, name, data, env, dtypes))
        else:
            out.append(_make_monotonic(term, name, data, env, dtypes))
    return tuple(out)
