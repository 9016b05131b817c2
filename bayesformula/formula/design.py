"""Formula + DataFrame -> `Design`, and the same encoding applied to new data.

The design holds everything later stages need and nothing PyMC-specific:

* the response (values, binomial trials, category levels),
* the common-effects matrix ``X`` (without intercept and offsets) and its terms,
* group-specific terms as *level indices* plus their few expression columns (``Z``): an
  ``n x levels`` indicator matrix is never kept,
* the summed offset, the observation index, and formulae's fitted matrices, whose stateful
  transforms (``scale()``, ``center()``, category levels) are re-applied to new data.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import formulae as fm
import numpy as np
import pandas as pd

from bayesformula.errors import (
    DataError,
    DataTypeError,
    FormulaError,
    PredictionError,
    ResponseError,
    UnknownNameError,
)
from bayesformula.formula.formula import parse_formula
from bayesformula.formula.namespace import build_environment, check_names, restore_literals
from bayesformula.formula.terms import (
    check_special_calls,
    evaluate_special_terms,
    split_special_terms,
)

__all__ = [
    "CommonTerm",
    "CorrBlock",
    "GroupTerm",
    "Response",
    "Design",
    "NewData",
    "make_design",
    "evaluate_new_data",
    "drop_intercept",
]

_PROPORTION_CALLS = {"p", "prop", "proportion"}


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
    """A common (population-level) term occupying columns ``slice`` of ``Design.X``."""

    name: str
    kind: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    slice: slice

    @property
    def dim(self) -> str | None:
        """Name of the coordinate dimension of this term's coefficients (None if scalar)."""
        return f"{self.name}_dim" if len(self.columns) > 1 else None


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
    columns : tuple of str
        Labels of the expression's columns (coordinates of the expression dimension).
    Z : ndarray
        ``(n, len(columns))`` values of the expression (ones for an intercept).
    """

    name: str
    expr: str
    factor: str
    kind: str
    columns: tuple[str, ...]
    Z: np.ndarray = field(repr=False)

    @property
    def factor_dim(self) -> str:
        """Dimension holding the levels of the grouping factor."""
        return f"{self.factor}__factor_dim"

    @property
    def expr_dim(self) -> str | None:
        """Dimension of the expression's columns, when it has more than one."""
        return f"{self.expr}__expr_dim" if len(self.columns) > 1 else None

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


def _check_frame(data) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataTypeError(
            f"data must be a pandas DataFrame, got {type(data).__name__}; "
            "wrap it with pandas.DataFrame(...) first."
        )
    if data.shape[0] == 0:
        raise DataError("data has no rows; a model needs at least one observation.")


def _response_name(description) -> str:
    term = description.response.term
    components = getattr(term, "components", [])
    if len(components) == 1 and hasattr(components[0], "call"):
        call = components[0].call
        if getattr(call, "callee", None) in _PROPORTION_CALLS and call.args:
            return str(call.args[0])
    return str(term.name)


def _bound_columns(description) -> tuple[str, ...] | None:
    """The arguments of a ``c(y1, ..., yk)`` response as written, or None."""
    components = getattr(description.response.term, "components", [])
    if len(components) == 1 and hasattr(components[0], "call"):
        call = components[0].call
        if getattr(call, "callee", None) == "c":
            return tuple(str(arg) for arg in call.args)
    return None


def _categorical_response(matrix, levels, data: pd.DataFrame, description):
    """Indicator columns and levels, in the pandas category order when the column has one."""
    levels = [str(v) for v in levels]
    name = str(description.response.term.name)
    column = data[name] if name in data.columns else None
    if column is not None and isinstance(column.dtype, pd.CategoricalDtype):
        order = [str(c) for c in column.cat.categories if str(c) in levels]
        if sorted(order) == sorted(levels):
            matrix = matrix[:, [levels.index(level) for level in order]]
            levels = order
    return matrix, tuple(levels)


def _plain(value) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _check_proportion(description, data: pd.DataFrame) -> None:
    """Check p(successes, trials) before formulae does, so errors name rows (ResponseError)."""
    components = getattr(description.response.term, "components", [])
    if len(components) != 1 or not hasattr(components[0], "call"):
        return
    call = components[0].call
    if getattr(call, "callee", None) not in _PROPORTION_CALLS or len(call.args) != 2:
        return
    expr = str(call)
    values = []
    for arg in call.args:
        name = getattr(arg, "name", None)
        if name is not None and name in data.columns:
            values.append(np.asarray(data[name], dtype=float))
        elif hasattr(arg, "value") and not hasattr(arg, "name"):
            values.append(np.full(len(data), float(arg.value)))
        else:
            return  # an expression: formulae evaluates and checks it
    for label, v in zip(("successes", "trials"), values, strict=True):
        bad = np.isfinite(v) & ((v < 0) | (v != np.round(v)))
        if bad.any():
            rows = ", ".join(
                f"row {data.index[i]!r}: {_plain(v[i])}" for i in np.flatnonzero(bad)[:5]
            )
            raise ResponseError(
                f"the {label} in {expr} must be non-negative whole numbers; found "
                f"{int(bad.sum())} value(s) ({rows})."
            )
    successes, trials = values
    bad = successes > trials
    if bad.any():
        rows = ", ".join(
            f"row {data.index[i]!r}: {_plain(successes[i])} > {_plain(trials[i])}"
            for i in np.flatnonzero(bad)[:5]
        )
        raise ResponseError(
            f"successes exceed trials in {expr} for {int(bad.sum())} row(s) ({rows}); each row "
            "needs successes <= trials."
        )


def _keep_category_order(data: pd.DataFrame, used: list[str]) -> None:
    """Make pandas categoricals keep their category order (the first is the reference).

    formulae sorts the levels of unordered categoricals; like R's factors, the order the user
    set is kept here. Categories with no rows are dropped: they would give all-zero columns.
    """
    for col in used:
        if isinstance(data[col].dtype, pd.CategoricalDtype):
            data[col] = data[col].cat.remove_unused_categories().cat.as_ordered()


def _handle_missing(data: pd.DataFrame, used: list[str], dropna: bool) -> tuple[pd.DataFrame, int]:
    if not used:
        return data, 0
    missing = data[used].isna()
    incomplete = missing.any(axis=1)
    n_bad = int(incomplete.sum())
    if n_bad == 0:
        return data, 0
    per_column = ", ".join(f"'{c}': {int(k)}" for c, k in missing.sum().items() if k)
    if not dropna:
        rows = list(data.index[incomplete][:5])
        raise DataError(
            f"{n_bad} of {len(data)} rows have missing values in the columns the formula uses "
            f"({per_column}; first rows: {rows}). Pass dropna=True to drop these rows, or fill the "
            "missing values first."
        )
    kept = data.loc[~incomplete]
    if kept.shape[0] == 0:
        raise DataError(
            f"all {len(data)} rows have missing values ({per_column}); nothing is left."
        )
    warnings.warn(
        f"dropna=True: dropped {n_bad} of {len(data)} rows with missing values ({per_column}).",
        UserWarning,
        stacklevel=4,
    )
    return kept, n_bad


class _GroupPart:
    """Group-specific terms of a design, evaluated without an ``n x levels`` matrix.

    formulae would one-hot encode each grouping factor (``rows x levels`` dense) before
    turning it into indices; here the factor is encoded straight to level codes, and only
    the term's expression (``1``, ``x``, ...) is evaluated by formulae.
    """

    def __init__(self, terms) -> None:
        self.terms = {term.name: term for term in terms}


def _factor_levels(values) -> tuple[list, Any]:
    """Levels of one grouping-factor component, ordered as formulae orders them."""
    from formulae.transforms import CategoricalBox

    if isinstance(values, CategoricalBox):
        data = values.data
        levels = list(values.levels) if values.levels is not None else sorted(set(data))
        return levels, data
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return list(dtype.categories), values
    return sorted(np.unique(np.asarray(values)).tolist()), values


def _evaluate_group_terms(terms, data: pd.DataFrame, env) -> dict[str, np.ndarray]:
    """Evaluate group-specific terms; return each factor's level index (``n`` integers)."""
    index: dict[str, np.ndarray] = {}
    for term in terms:
        term.set_type(data, env)
    for term in terms:
        # (1|g) and (x|g) together: x's categorical encoding must not span the intercept
        spans = isinstance(term.expr, fm.terms.Intercept) or not any(
            isinstance(t.expr, fm.terms.Intercept) and t.factor.name == term.factor.name
            for t in terms
        )
        term.expr.set_data(spans)
        term.kind = term.expr.kind
        codes, dims, labels = [], [], []
        for component in term.factor.components:
            levels, values = _factor_levels(component._intermediate_data)
            component.levels = levels
            codes.append(pd.Categorical(values, categories=levels).codes.astype(np.int64))
            dims.append(len(levels))
            labels.append([str(v) for v in levels])
        term.groups = [":".join(parts) for parts in itertools.product(*labels)]
        if term.factor.name not in index:
            index[term.factor.name] = (
                np.ravel_multi_index(tuple(codes), tuple(dims)) if len(codes) > 1 else codes[0]
            )
    return index


def _new_group_index(term, data: pd.DataFrame) -> tuple[np.ndarray, tuple]:
    """Level index of a grouping factor on new data.

    Fitted levels keep their index, missing values get -1, and unseen levels get
    ``len(levels), len(levels) + 1, ...`` in order of first appearance (returned as the
    second item; an interaction's new level is a tuple of its parts).
    """
    from formulae.transforms import CategoricalBox

    values, codes, missing, dims = [], [], [], []
    for component in term.factor.components:
        if isinstance(component, fm.terms.Variable):
            value = data[component.name]
        else:
            value = component.call.eval(data, component.env)
            if isinstance(value, CategoricalBox):
                value = value.data
        value = np.asarray(value, dtype=object)
        values.append(value)
        codes.append(pd.Index(component.levels, dtype=object).get_indexer(value))
        missing.append(np.asarray(pd.isna(value), dtype=bool))
        dims.append(len(component.levels))
    missing_any = np.logical_or.reduce(missing)
    known = np.logical_and.reduce([c >= 0 for c in codes])
    index = np.full(len(data), -1, dtype=np.int64)
    index[known] = np.ravel_multi_index(tuple(c[known] for c in codes), tuple(dims))
    fitted = int(np.prod(dims))
    new: dict[tuple, int] = {}
    for row in np.flatnonzero(~known & ~missing_any):
        group = tuple(v[row] for v in values)
        index[row] = new.setdefault(group, fitted + len(new))
    groups = tuple(g[0] if len(g) == 1 else g for g in new)
    return index, groups


def _evaluate(rewritten: str, data: pd.DataFrame, env, text: str):
    """formulae's design matrices for the response and common terms, plus group indices."""
    try:
        description = fm.model_description(rewritten)
        names = description.var_names
        special = split_special_terms(description)
        group_terms = list(description.group_terms)
        description.group_terms = []
        columns = [c for c in data.columns if c in names]
        data = data[columns]
        dm = fm.matrices.DesignMatrices(description, data, env)
        description.group_terms = group_terms
        index = _evaluate_group_terms(group_terms, data, env)
        dm.group = _GroupPart(group_terms) if group_terms else None
        dm.special_terms = special
        return dm, index
    except KeyError as err:
        raise UnknownNameError(f"name {err} in the formula '{text}' is not defined.") from None
    except (ValueError, TypeError) as err:
        raise FormulaError(f"could not build the design for '{text}': {err}") from None


def _unquoted(text: str):
    """``(position, character)`` of the characters of ``text`` outside quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        else:
            yield i, ch


def _bar_groups(text: str) -> tuple[str, list[tuple[int, str, str, bool]]]:
    """The ``(expr | factor)`` and ``(expr || factor)`` parts of a formula.

    Returns the formula with each ``||`` written as ``|`` (the syntax formulae reads) and the
    parts as ``(position, expr, factor, independent)`` in order of position. Text inside
    quotes and bars nested in inner parentheses are not parts.
    """
    chars = list(text)
    groups = []
    stack: list[int] = []
    for i, ch in _unquoted(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            inner, depth, bar = text[start + 1 : i], 0, -1
            for j, c in _unquoted(inner):
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                elif c == "|" and depth == 0:
                    bar = j
                    break
            if bar < 0:
                continue
            double = inner[bar + 1 : bar + 2] == "|"
            if double:
                chars[start + 2 + bar] = ""
            factor = inner[bar + (2 if double else 1) :].strip()
            groups.append((start, inner[:bar].strip(), factor, double))
    return "".join(chars), sorted(groups)


def _correlation_blocks(
    rewritten: str, independent: list[bool], terms: list[GroupTerm], literals
) -> tuple[CorrBlock, ...]:
    """Blocks of correlated group-specific terms: per ``(... | factor)`` part and factor.

    A term written in two parts (``(1|g) + (x|g)``: ``(x|g)`` implies ``1|g``) belongs to the
    first, so that formula has independent intercepts and slopes, as in Bambi.
    """
    _, groups = _bar_groups(rewritten)
    by_name = {t.name: t for t in terms}
    claimed: set[str] = set()
    blocks = []
    for (_, expr, factor, _double), indep in zip(groups, independent, strict=True):
        part = f"({expr}|{factor})"
        # a term written in two parts ('(1|g) + (x|g)', where (x|g) implies 1|g) is taken
        # once, in the first part that has it, as formulae does
        names = []
        for t in fm.model_description(f"y ~ {part}").group_terms:
            name = restore_literals(str(t.name), literals)
            if name not in claimed:
                claimed.add(name)
                names.append(name)
        if indep:
            continue
        members: dict[str, list[GroupTerm]] = {}
        for name in names:
            if name in by_name:
                members.setdefault(by_name[name].factor, []).append(by_name[name])
        for fac, members_ in members.items():
            columns = []
            for t in members_:
                for col in t.columns:
                    if t.kind == "intercept":
                        columns.append("Intercept")
                    elif len(t.columns) == 1:
                        columns.append(t.expr)
                    else:
                        columns.append(f"{t.expr}[{col}]")
            if len(columns) < 2:
                continue
            label = "+".join(t.expr for t in members_)
            blocks.append(
                CorrBlock(
                    name=f"{label}|{fac}",
                    factor=fac,
                    terms=tuple(t.name for t in members_),
                    columns=tuple(columns),
                    widths=tuple(len(t.columns) for t in members_),
                )
            )
    return tuple(blocks)


def _labels(term, width: int) -> tuple[str, ...]:
    levels = getattr(term, "levels", None)
    if levels is not None and len(levels) == width:
        return tuple(str(v) for v in levels)
    labels = getattr(term, "labels", None)
    if labels is not None and len(labels) == width:
        return tuple(str(v) for v in labels)
    return tuple(str(i) for i in range(width))


def make_design(
    formula: str,
    data: pd.DataFrame,
    *,
    dropna: bool = False,
    categorical: list[str] | str | None = None,
    extra_namespace: dict[str, Any] | None = None,
    also_used: tuple[str, ...] | list[str] = (),
) -> Design:
    """Evaluate ``formula`` on ``data``.

    Parameters
    ----------
    formula : str
        An R-style formula such as ``"p(deaths, n) ~ dose"`` or ``"y ~ x + (x|g)"``.
    data : pandas.DataFrame
        The data. Only the columns the formula uses are read.
    dropna : bool, default False
        Drop rows with missing values in used columns (and warn how many). If False, such
        rows are an error.
    categorical : str or list of str, optional
        Columns to treat as categorical even if numeric.
    extra_namespace : dict, optional
        Extra functions or values the formula may use by name.
    also_used : sequence of str, optional
        Further columns whose missing values count as missing (those of the formulas of
        auxiliary parameters, which share the rows).

    Returns
    -------
    Design

    Examples
    --------
    >>> import pandas as pd
    >>> d = make_design("y ~ x", pd.DataFrame({"y": [1.0, 2.0, 4.0], "x": [0.0, 1.0, 2.0]}))
    >>> d.X.ravel().tolist(), d.intercept
    ([0.0, 1.0, 2.0], True)
    """
    _check_frame(data)
    if extra_namespace is not None and not isinstance(extra_namespace, Mapping):
        raise FormulaError(
            "extra_namespace must be a dict of name -> function or value, got "
            f"{type(extra_namespace).__name__}."
        )
    single_bars, groups = _bar_groups(formula)
    description, rewritten, literals = parse_formula(single_bars)
    _check_proportion(description, data)
    check_special_calls(description, formula)
    check_names(description, data.columns, extra_namespace, literals)

    data = data.copy()
    if categorical is not None:
        cats = [categorical] if isinstance(categorical, str) else list(categorical)
        for col in cats:
            if col not in data.columns:
                raise UnknownNameError(
                    f"categorical names column '{col}', which is not in the data; "
                    f"columns are {list(map(str, data.columns))}."
                )
            data[col] = data[col].astype("category")
    used = [c for c in data.columns if str(c) in description.var_names or c in also_used]
    data, n_dropped = _handle_missing(data, used, dropna)
    dtypes = {c: data[c].dtype for c in used}  # before categories are made ordered (for mo())
    _keep_category_order(data, used)
    env = build_environment(extra_namespace, literals)
    dm, factor_index = _evaluate(rewritten, data, env, formula)
    special_terms = evaluate_special_terms(
        dm.special_terms, data, env, dtypes, lambda name: restore_literals(name, literals)
    )

    # Response
    resp_matrix = np.asarray(dm.response.design_matrix)
    kind = dm.response.kind
    trials = None
    levels = None
    if kind == "proportion":
        values, trials = resp_matrix[:, 0], resp_matrix[:, 1]
    elif kind == "categoric" and dm.response.levels is None:  # y[level]: one indicator column
        values = resp_matrix.reshape(resp_matrix.shape[0], -1)[:, 0].astype(int)
        kind = "numeric"
    elif kind == "categoric":
        values, levels = _categorical_response(resp_matrix, dm.response.levels, data, description)
    elif _bound_columns(description) is not None:
        levels = tuple(restore_literals(c, literals) for c in _bound_columns(description))
        values = resp_matrix.reshape(resp_matrix.shape[0], -1)
        kind = "columns"
    else:
        values = resp_matrix.reshape(resp_matrix.shape[0], -1)
        values = values[:, 0] if values.shape[1] == 1 else values
    response = Response(
        name=restore_literals(_response_name(description), literals),
        expr=restore_literals(str(dm.response.name), literals),
        kind=kind,
        values=values,
        trials=trials,
        levels=levels,
    )

    # Common terms
    common = dm.common
    intercept = False
    offset = None
    columns: list[np.ndarray] = []
    terms: list[CommonTerm] = []
    start = 0
    if common is not None:
        matrix = np.asarray(common.design_matrix, dtype=float)
        for name, term in common.terms.items():
            block = matrix[:, common.slices[name]]
            if term.kind == "intercept":
                intercept = True
                continue
            if term.kind == "offset":
                offset = block[:, 0] if offset is None else offset + block[:, 0]
                continue
            width = block.shape[1]
            terms.append(
                CommonTerm(
                    name=restore_literals(name, literals),
                    kind=term.kind,
                    columns=tuple(restore_literals(c, literals) for c in term.labels),
                    labels=_labels(term, width),
                    slice=slice(start, start + width),
                )
            )
            columns.append(block)
            start += width
    n = resp_matrix.shape[0]
    X = np.column_stack(columns) if columns else np.zeros((n, 0))

    # Group-specific terms: level index per factor plus the expression columns
    group_terms: list[GroupTerm] = []
    group_index: dict[str, np.ndarray] = {}
    group_levels: dict[str, tuple[str, ...]] = {}
    if dm.group is not None:
        for name, term in dm.group.terms.items():
            factor = term.factor.name
            if factor not in group_index:
                group_index[factor] = factor_index[factor]
                group_levels[factor] = tuple(term.groups)
            Z = np.asarray(term.expr.data, dtype=float)
            Z = Z[:, None] if Z.ndim == 1 else Z
            expr = "1" if term.kind == "intercept" else str(term.expr.name)
            cols = ("Intercept",) if term.kind == "intercept" else _labels(term.expr, Z.shape[1])
            group_terms.append(
                GroupTerm(
                    name=restore_literals(name, literals),
                    expr=restore_literals(expr, literals),
                    factor=factor,
                    kind=term.kind,
                    columns=cols,
                    Z=Z,
                )
            )

    blocks = _correlation_blocks(rewritten, [g[3] for g in groups], group_terms, literals)
    return Design(
        formula=formula,
        response=response,
        intercept=intercept,
        X=X,
        common_terms=tuple(terms),
        group_terms=tuple(group_terms),
        group_index=group_index,
        group_levels=group_levels,
        offset=offset,
        index=data.index,
        n_dropped=n_dropped,
        matrices=dm,
        data_columns=tuple(used),
        group_blocks=blocks,
        special_terms=special_terms,
    )


def drop_intercept(design: Design, owner: str) -> Design:
    """The design without an intercept, for models whose ``owner`` takes its place.

    Ordinal families' thresholds do the intercept's job. Categorical predictors keep the
    reduced (treatment) coding they got with the intercept. A formula that removed the
    intercept itself (``0 +``, ``- 1``) is kept as it is, unless its columns add up to a
    constant (a categorical term coded with one column per level): that would duplicate the
    thresholds, and the error says so.
    """
    if design.intercept:
        return dataclasses.replace(design, intercept=False)
    X = np.asarray(design.X, dtype=float)
    if X.shape[1] == 0:
        return design
    ones = np.ones(X.shape[0])
    coef = np.linalg.lstsq(X, ones, rcond=None)[0]
    if np.linalg.norm(X @ coef - ones) > 1e-8 * np.sqrt(X.shape[0]):
        return design
    full = [t.name for t in design.common_terms if np.allclose(X[:, t.slice].sum(axis=1), 1.0)]
    culprit = (
        f"'{full[0]}' is coded with one column per level, and these columns add up"
        if full
        else "the predictors' columns add up"
    )
    raise FormulaError(
        f"the formula '{design.formula}' removes the intercept, so {culprit} to a constant, "
        f"which duplicates {owner}. Keep the intercept in the formula (drop the '0 +' or "
        "'- 1'): it is removed for you, and categorical predictors get reduced coding."
    )


def evaluate_new_data(design: Design, data: pd.DataFrame, *, need_trials: bool = False) -> NewData:
    """Apply the design's encoding (levels, stateful transforms) to new data.

    Group levels not seen in fitting get indices ``>= len(levels)`` (listed in ``new_levels``);
    missing group values get ``-1``. Deciding what to do with them is the caller's job.
    """
    _check_frame(data)
    dm = design.matrices
    try:
        if dm.common is not None:
            common = dm.common.evaluate_new_data(data)
            matrix = np.asarray(common.design_matrix, dtype=float)
        else:
            common, matrix = None, np.zeros((len(data), 0))
    except KeyError as err:
        raise PredictionError(
            f"new data lacks column {err}, which the formula '{design.formula}' uses."
        ) from None
    except ValueError as err:
        raise PredictionError(
            f"cannot encode the new data: {err} Predictions can only use category levels seen "
            "when the model was built."
        ) from None

    columns, offset = [], None
    if common is not None:
        for name, term in dm.common.terms.items():
            block = matrix[:, common.slices[name]]
            if term.kind == "intercept":
                continue
            if term.kind == "offset":
                offset = block[:, 0] if offset is None else offset + block[:, 0]
                continue
            columns.append(block)
    X = np.column_stack(columns) if columns else np.zeros((len(data), 0))
    if X.shape[0] and np.isnan(X).any():
        rows = list(data.index[np.isnan(X).any(axis=1)][:5])
        raise PredictionError(f"new data has missing values in predictors (first rows: {rows}).")

    group_index: dict[str, np.ndarray] = {}
    new_levels: dict[str, tuple] = {}
    Z: dict[str, np.ndarray] = {}
    if dm.group is not None:
        for (name, term), gterm in zip(dm.group.terms.items(), design.group_terms, strict=True):
            try:
                if gterm.factor not in group_index:
                    idx, new = _new_group_index(term, data)
                    group_index[gterm.factor] = idx.astype(np.int64)
                    new_levels[gterm.factor] = tuple(
                        ":".join(map(str, g)) if isinstance(g, tuple) else str(g) for g in new
                    )
                z = np.asarray(term.expr.eval_new_data(data), dtype=float)
            except KeyError as err:
                raise PredictionError(
                    f"new data lacks column {err}, used by the group-specific term '{name}'."
                ) from None
            Z[gterm.name] = z[:, None] if z.ndim == 1 else z

    trials = _new_trials(design, data, need_trials)
    return NewData(
        X=X,
        group_index=group_index,
        new_levels=new_levels,
        Z=Z,
        offset=offset,
        trials=trials,
        index=data.index,
        special={term.name: term.evaluate(data) for term in design.special_terms},
    )


def _new_totals(design: Design, data: pd.DataFrame, need: bool) -> np.ndarray | None:
    """Row totals of a ``c(y1, ..., yK)`` response in new data (the multinomial trials)."""
    response = design.matrices.response
    call = response.term.term.components[0].call
    try:
        columns = [np.asarray(arg.eval(data, response.env), dtype=float) for arg in call.args]
    except KeyError as err:
        if not need:
            return None
        raise PredictionError(
            f"kind='response' draws counts per category, and each row's total comes from the "
            f"columns of '{design.response.expr}'; new data lacks {err}. Add the columns (any "
            "split of each row's total will do) or predict kind='response_params'."
        ) from None
    totals = np.sum(np.broadcast_arrays(*columns), axis=0)
    totals = np.broadcast_to(totals, (len(data),)).astype(float)
    if np.any(~np.isfinite(totals)) or np.any(totals < 0) or np.any(totals != np.round(totals)):
        raise PredictionError(
            f"the totals of '{design.response.expr}' in new data must be non-negative whole "
            "numbers."
        )
    return totals


def _new_trials(design: Design, data: pd.DataFrame, need: bool) -> np.ndarray | None:
    """Binomial trials for new data: its trials column, or the constant used in fitting
    (for counts per category, ``c(y1, ..., yK)``, the rows' totals)."""
    if design.response.kind == "columns":
        return _new_totals(design, data, need)
    if design.response.kind != "proportion":
        return None
    response = design.matrices.response
    call = response.term.term.components[0].call
    try:
        value = call.args[1].eval(data, response.env)
    except KeyError:
        value = None
    if value is not None:
        values = np.broadcast_to(np.asarray(value, dtype=float), (len(data),)).copy()
        if np.any(values < 0) or np.any(values != np.round(values)):
            raise PredictionError(
                f"the trials in '{design.response.expr}' for new data must be non-negative "
                "whole numbers."
            )
        return values
    fitted = design.response.trials
    if fitted is not None and np.all(fitted == fitted[0]):
        return np.full(len(data), float(fitted[0]))
    if need:
        raise PredictionError(
            f"kind='response' draws binomial counts, so new data needs the trials column "
            f"'{call.args[1]}' of '{design.response.expr}' (trials varied in fitting, so there "
            "is no single value to use)."
        )
    return None
