"""The dataclasses of a design: `Design`, its `Response` and terms, and `NewData`.

The design holds everything later stages need and nothing PyMC-specific:

* the response (values, binomial trials, category levels),
* the common-effects matrix ``X`` (without intercept and offsets) and its terms,
* group-specific terms as *level indices* plus their few expression columns (``Z``): an
  ``n x levels`` indicator matrix is never kept,
* the summed offset, the observation index, and formulae's fitted matrices, whose stateful
  transforms (``scale()``, ``center()``, category levels) are re-applied to new data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CommonTerm",
    "CorrBlock",
    "GroupTerm",
    "Response",
    "Design",
    "NewData",
]


@dataclass(frozen=True)
class Response:
    """The response of a model.

    Attributes
    ----------
    name : str
        Name of the response variable (``deaths`` for ``p(deaths, n)``).
    expr : str
        The response as written in the formula.
    kind : {"numeric", "categoric", "proportion", "columns"}
        What formulae made of it ("columns": count columns bound with ``c(y1, ..., yk)``).
    values : ndarray
        ``(n,)`` for numeric and proportion responses (successes for the latter), ``(n, K)``
        indicator columns for a categoric response and the columns of ``c(...)``.
    trials : ndarray or None
        Binomial trials of a ``p(y, n)`` response.
    levels : tuple of str or None
        Levels of a categoric response; the column names of ``c(...)``.
    """

    name: str
    expr: str
    kind: str
    values: np.ndarray
    trials: np.ndarray | None = None
    levels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CommonTerm:
    """A common (population-level) term occupying columns ``slice`` of ``Design.X``.

    Attributes
    ----------
    name : str
        The term as written (``"x"``, ``"a"``, ``"a:x"``, ``"bs(x, df=4)"``).
    kind : str
        formulae's kind of the term (``"numeric"``, ``"categoric"``, ``"interaction"``).
    columns : tuple of str
        Labels of the term's columns in ``X`` (``"a[lo]"``, ``"bs(x, df=4)[0]"``).
    labels : tuple
        Coordinates of the term's dimension: the levels of a categorical term (``"lo"``),
        the column positions ``0, 1, ...`` of a numeric term with several columns.
    slice : slice
        The term's columns in ``Design.X``.
    categorical : bool
        Whether the term is categorical or an interaction with a categorical part: its
        coefficients keep their levels along `dim`, even when there is one column.
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    labels: tuple
    slice: slice
    categorical: bool = False

    @property
    def dim(self) -> str | None:
        """Name of the coordinate dimension of this term's coefficients: every categorical
        term has one, a numeric term when it has several columns (None: a scalar)."""
        return f"{self.name}_dim" if self.categorical or len(self.columns) > 1 else None


@dataclass(frozen=True)
class GroupTerm:
    """A group-specific term ``expr|factor``.

    Attributes
    ----------
    name : str
        ``"1|g"``, ``"x|g"``, ...
    expr : str
        ``"1"`` for intercepts, otherwise the expression (``"x"``, ``"C(a)"``).
    factor : str
        The grouping factor (``"g"``, ``"g1:g2"``).
    kind : str
        ``"intercept"``, ``"numeric"``, ``"categoric"`` or ``"interaction"``.
    columns : tuple
        Coordinates of the expression's columns: the levels of a categorical expression, the
        column positions ``0, 1, ...`` of a numeric one with several columns.
    Z : ndarray
        ``(n, len(columns))`` values of the expression (ones for an intercept).
    categorical : bool
        Whether the expression is categorical (or an interaction with a categorical part):
        its effects keep the levels along `expr_dim`, even when there is one column.
    """

    name: str
    expr: str
    factor: str
    kind: str
    columns: tuple
    Z: np.ndarray = field(repr=False)
    categorical: bool = False

    @property
    def factor_dim(self) -> str:
        """Dimension holding the levels of the grouping factor."""
        return f"{self.factor}__factor_dim"

    @property
    def expr_dim(self) -> str | None:
        """Dimension of the expression's columns: for a categorical expression, and for a
        numeric one with more than one column."""
        return f"{self.expr}__expr_dim" if self.categorical or len(self.columns) > 1 else None

    @property
    def dims(self) -> tuple[str, ...]:
        """Dims of the term's group-specific effects."""
        return (self.factor_dim,) + ((self.expr_dim,) if self.expr_dim else ())


@dataclass(frozen=True)
class CorrBlock:
    """Group-specific terms of one ``(... | factor)`` whose effects are correlated.

    ``(1 + x | g)`` makes one block of the terms ``1|g`` and ``x|g``: each level's effects are
    drawn jointly, ``Normal(0, diag(sigma) R diag(sigma))``, with an LKJ prior on the
    correlation matrix ``R``. ``(1 + x || g)``, ``(1|g) + (0 + x|g)`` and ``(1|g) + (x|g)``
    make no block.

    Attributes
    ----------
    name : str
        ``"1+x|g"``: the terms' expressions joined with ``+``, then ``|`` and the factor.
    factor : str
        The grouping factor.
    terms : tuple of str
        Names of the block's group-specific terms, in design order.
    columns : tuple of str
        One label per effect of a level (``"Intercept"``, ``"x"``, ``"C(a)[b]"``).
    widths : tuple of int
        Number of columns of each term.
    """

    name: str
    factor: str
    terms: tuple[str, ...]
    columns: tuple[str, ...]
    widths: tuple[int, ...]

    @property
    def dim(self) -> str:
        """Dimension of the block's effects (one coordinate per column)."""
        return f"{self.name}__dim"

    @property
    def corr_dim(self) -> str:
        """Dimension of the block's correlations: one per pair of columns."""
        return f"{self.name}__corr_dim"

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """Column pairs ``(i, j)``, ``i < j``, in the order of `corr_labels`."""
        return tuple(zip(*np.triu_indices(self.size, k=1), strict=True))

    @property
    def corr_labels(self) -> tuple[str, ...]:
        """``"Intercept,x"``: the coordinates of `corr_dim`."""
        return tuple(f"{self.columns[i]},{self.columns[j]}" for i, j in self.pairs)

    @property
    def size(self) -> int:
        return len(self.columns)

    def slices(self) -> dict[str, slice]:
        """Each term's columns within the block."""
        out, start = {}, 0
        for term, width in zip(self.terms, self.widths, strict=True):
            out[term] = slice(start, start + width)
            start += width
        return out


@dataclass(frozen=True)
class Design:
    """Everything the model needs from formula and data (see the module docstring)."""

    formula: str
    response: Response
    intercept: bool
    X: np.ndarray = field(repr=False)
    common_terms: tuple[CommonTerm, ...]
    group_terms: tuple[GroupTerm, ...]
    group_index: dict[str, np.ndarray] = field(repr=False)
    group_levels: dict[str, tuple[str, ...]]
    offset: np.ndarray | None = field(repr=False)
    index: pd.Index = field(repr=False)
    n_dropped: int = 0
    matrices: Any = field(default=None, repr=False, compare=False)
    data_columns: tuple[str, ...] = ()
    group_blocks: tuple[CorrBlock, ...] = ()
    #: ``mo()`` and ``hsgp()`` terms (`bayesformula.formula.terms`), which are not columns of X
    special_terms: tuple = ()

    @property
    def n_obs(self) -> int:
        """Number of observations used."""
        return int(self.X.shape[0])

    @property
    def factors(self) -> tuple[str, ...]:
        """Grouping factors in order of first appearance."""
        return tuple(dict.fromkeys(t.factor for t in self.group_terms))


@dataclass(frozen=True)
class NewData:
    """The design evaluated on new data (for prediction)."""

    X: np.ndarray
    group_index: dict[str, np.ndarray]
    new_levels: dict[str, tuple]
    Z: dict[str, np.ndarray]
    offset: np.ndarray | None
    trials: np.ndarray | None
    index: pd.Index
    #: term name -> arrays of each ``mo()``/``hsgp()`` term (see ``special_terms``)
    special: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
