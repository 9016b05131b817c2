"""Monotonic effects, ``mo(x)`` and ``mo(x):z``: the term and how it is made from the data.

``mo(x)`` is a monotonic effect of an ordered predictor (brms): with ``x`` coded
``0, 1, ..., D`` its contribution is ``b * D * sum(zeta[:x])``, ``zeta`` a simplex of ``D``
steps, so ``b`` is the average difference between adjacent levels. ``mo(x):z`` multiplies it
by a numeric predictor ``z``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.errors import FormulaError, PredictionError
from bayesformula.formula.special_calls import _callee
from bayesformula.formula.term_values import (
    _component_values,
    _encode_levels,
    _evaluate,
    _numeric,
    _rows,
)

#: The most levels a monotonic predictor may have (one simplex step between each two).
MAX_LEVELS = 1000

__all__ = ["MonotonicTerm"]


# ------------------------------------------------------------------ monotonic effects
@dataclass(frozen=True, eq=False)
class MonotonicTerm:
    """A monotonic effect ``mo(x)`` (optionally times a numeric predictor, ``mo(x):z``).

    Attributes
    ----------
    name : str
        The term as written by formulae (``"mo(x)"``, ``"mo(x):z"``); also the name of its
        coefficient ``b``.
    variable : str
        The ordered column.
    levels : tuple
        The ordered levels (lowest first); ``x`` is coded ``0, ..., D`` by position.
    labels : tuple of str
        The levels as strings.
    codes : ndarray
        ``(n,)`` level positions of the fitting data.
    other : str or None
        The numeric factor of an interaction (``"z"``), else None.
    z : ndarray or None
        ``(n,)`` values of ``other``.
    """

    name: str
    variable: str
    levels: tuple
    labels: tuple[str, ...]
    codes: np.ndarray = field(repr=False)
    other: str | None = None
    z: np.ndarray | None = field(default=None, repr=False)
    _component: Any = field(default=None, repr=False)
    _env: Any = field(default=None, repr=False)
    kind: str = "mo"

    @property
    def D(self) -> int:
        """Number of steps between adjacent levels (levels - 1)."""
        return len(self.levels) - 1

    @property
    def simplex_name(self) -> str:
        return f"{self.name}_simplex"

    @property
    def simplex_dim(self) -> str:
        return f"{self.name}_simplex_dim"

    @property
    def steps(self) -> tuple[str, ...]:
        """Labels of the simplex's entries: ``"low->mid"``, ``"mid->high"``, ..."""
        return tuple(f"{a}->{b}" for a, b in itertools.pairwise(self.labels))

    def coords(self) -> dict[str, list]:
        return {self.simplex_dim: list(self.steps)}

    @property
    def covariate(self) -> np.ndarray:
        """The term's column when the steps are equal (``codes``, times ``z``): its default
        prior is scaled like a common term's with this column."""
        codes = self.codes.astype(float)
        return codes if self.z is None else codes * self.z

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The term's data: level codes and, for an interaction, the numeric factor."""
        out = {"codes": self.codes}
        if self.z is not None:
            out["z"] = self.z
        return out

    def state(self) -> dict[str, Any]:
        """What the term learned from the fitting data, JSON-ready (for saved models)."""
        return {"levels": list(self.labels), "other": self.other}

    def describe(self) -> str:
        shown = ", ".join(self.labels)
        return f"{self.name}: levels {shown} ({self.D} steps, simplex {self.simplex_name})"

    def evaluate(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        """The term's arrays for new data (levels must be among the fitted ones)."""
        if self.variable not in data.columns:
            raise PredictionError(
                f"new data lacks column '{self.variable}', which the term '{self.name}' uses."
            )
        codes = _encode_levels(
            data[self.variable], self.levels, self.variable, self.name, data.index, PredictionError
        )
        out = {"codes": codes}
        if self.other is not None:
            out["z"] = _numeric(
                _component_values(self._component, data, self._env, PredictionError),
                f"'{self.other}'",
                self.name,
                data.index,
                PredictionError,
            )
        return out


def _monotonic_levels(values, dtype, levels_arg, variable: str, name: str, index) -> tuple:
    if levels_arg is not None:
        levels = list(np.atleast_1d(np.asarray(levels_arg, dtype=object)))
        if len(set(map(repr, levels))) != len(levels):
            raise FormulaError(f"levels=[...] in '{name}' lists a level twice: {levels}.")
        return tuple(v.item() if hasattr(v, "item") else v for v in levels)
    if isinstance(dtype, pd.CategoricalDtype):
        if not dtype.ordered:
            cats = list(dtype.categories)
            raise FormulaError(
                f"'{name}' needs the order of the levels of '{variable}', but it is an unordered "
                f"categorical (categories {cats}). Make it ordered, e.g. df['{variable}'] = "
                f"pd.Categorical(df['{variable}'], categories={cats}, ordered=True), or list the "
                f"levels lowest first: mo({variable}, levels={cats})."
            )
        return tuple(v.item() if hasattr(v, "item") else v for v in dtype.categories)
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf":
        x = np.asarray(values, dtype=float)
        bad = (x < 0) | (x != np.round(x))
        if bad.any():
            raise FormulaError(
                f"'{name}' needs whole numbers 0, 1, 2, ... in '{variable}' (0 is the lowest "
                f"level); found {int(bad.sum())} other value(s) ({_rows(index, bad, x)}). Recode "
                f"the column, or make it an ordered categorical."
            )
        if x.max() >= MAX_LEVELS:
            raise FormulaError(
                f"'{name}' would have {x.max():.0f} steps (the levels of whole numbers are 0 to "
                f"the largest value of '{variable}'), more than the {MAX_LEVELS} supported. Code "
                "the levels 0, 1, 2, ... or make the column an ordered categorical."
            )
        return tuple(range(int(x.max()) + 1))
    found = sorted(map(str, pd.unique(np.asarray(values, dtype=object))))[:10]
    raise FormulaError(
        f"'{name}' needs the order of the levels of '{variable}', which holds {dtype} values "
        f"({found}). Make it an ordered categorical (pd.Categorical(..., categories=[...], "
        f"ordered=True)) or list the levels lowest first: mo({variable}, levels={found})."
    )


def _make_monotonic(term, name: str, data, env, dtypes) -> MonotonicTerm:
    mo = next(c for c in term.components if _callee(c) == "mo")
    call = mo.call
    variable = call.args[0].name
    if variable not in data.columns:
        raise FormulaError(f"'{name}': '{variable}' is not a column of the data.")
    levels_arg = (
        _evaluate(call.kwargs["levels"], data, env, name) if "levels" in call.kwargs else None
    )
    levels = _monotonic_levels(
        data[variable], dtypes.get(variable), levels_arg, variable, name, data.index
    )
    if len(levels) < 2:
        raise FormulaError(
            f"'{name}' needs at least two levels of '{variable}', found {list(levels)}."
        )
    codes = _encode_levels(data[variable], levels, variable, name, data.index, FormulaError)
    other = next((c for c in term.components if c is not mo), None)
    z = None
    if other is not None:
        dtype = None if hasattr(other, "call") else dtypes.get(other.name)
        if dtype is not None and (
            isinstance(dtype, pd.CategoricalDtype) or getattr(dtype, "kind", "O") not in "biuf"
        ):
            raise FormulaError(
                f"the interaction '{name}' of a monotonic effect with the categorical "
                f"'{other.name}' is not supported; interact it with numeric predictors only, or "
                f"fit mo() per level with separate models."
            )
        z = _numeric(
            _component_values(other, data, env, FormulaError), f"'{other.name}'", name, data.index
        )
    return MonotonicTerm(
        name=name,
        variable=variable,
        levels=levels,
        labels=tuple(str(v) for v in levels),
        codes=codes,
        other=None if other is None else str(other.name),
        z=z,
        _component=other,
        _env=env,
    )
