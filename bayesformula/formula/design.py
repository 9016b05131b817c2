"""Formula + DataFrame -> `Design`, and the same encoding applied to new data.

`make_design` evaluates a formula on a data frame; the `Design` it returns holds everything later
stages need and nothing PyMC-specific (see `bayesformula.formula.design_types`). The parts live
in their own modules: `bayesformula.formula.design_types` (the dataclasses),
`bayesformula.formula.design_data` (checks of the data frame, missing values),
`bayesformula.formula.design_response` (the response), `bayesformula.formula.group_terms`
(group-specific terms) and `bayesformula.formula.new_data` (`evaluate_new_data`). This module
re-exports their public names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import formulae as fm
import numpy as np
import pandas as pd

from bayesformula.errors import DataError, DataTypeError, FormulaError, UnknownNameError
from bayesformula.formula.design_data import (
    _check_column_types,
    _check_frame,
    _check_unique,
    _handle_infinite,
    _handle_missing,
    _keep_category_order,
)
from bayesformula.formula.design_response import (
    _bound_columns,
    _categorical_response,
    _check_proportion,
    _response_name,
)
from bayesformula.formula.design_types import (
    CommonTerm,
    CorrBlock,
    Design,
    GroupTerm,
    NewData,
    Response,
)
from bayesformula.formula.formula import parse_formula
from bayesformula.formula.group_terms import (
    _bar_groups,
    _correlation_blocks,
    _evaluate_group_terms,
    _GroupPart,
)
from bayesformula.formula.limits import restore_literals
from bayesformula.formula.namespace import build_environment, check_names
from bayesformula.formula.new_data import evaluate_new_data
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
]


def _evaluate(rewritten: str, data: pd.DataFrame, env, text: str):
    """formulae's design matrices for the response and common terms, plus group indices."""
    names: set = set()  # the error message below reads it
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
    except (ValueError, TypeError, ArithmeticError, IndexError, NotImplementedError) as err:
        single = _single_levels(data, [c for c in data.columns if c in names])
        hint = "".join(
            f" Column '{c}' has a single level ({v!r}): a factor needs at least two."
            for c, v in single.items()
        )
        raise FormulaError(f"could not build the design for '{text}': {err}.{hint}") from None


def _response_column(description, data: pd.DataFrame) -> str | None:
    """The data column that is the response, if it is a plain column."""
    name = str(description.response.term.name) if description.response is not None else None
    return name if name in data.columns else None


def _is_categorical(term) -> bool:
    """Whether a formulae term is categorical, or an interaction with a categorical part."""
    if term.kind == "interaction":
        return any(c.kind == "categoric" for c in getattr(term, "components", ()))
    return term.kind == "categoric"


def _labels(term, width: int) -> tuple:
    """Coordinates of a term's columns: the levels of a categorical term (as text), the
    positions ``0, 1, ...`` of the columns of a numeric one (a spline's basis functions),
    as Bambi names them."""
    levels = getattr(term, "levels", None)
    if _is_categorical(term) and levels is not None and len(levels) == width:
        return tuple(str(v) for v in levels)
    return tuple(range(width))


def _single_levels(data: pd.DataFrame, names) -> dict[str, object]:
    """Used columns that are categories (text, categorical, bool) with one level: its value."""
    out = {}
    for name in names:
        if name not in data.columns:
            continue
        column = data[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            continue
        levels = column.dropna().unique()
        if len(levels) == 1:
            out[str(name)] = levels[0]
    return out


def _check_terms(formula, data, terms, X, offset, group_terms, group_levels) -> None:
    """Terms that cannot be estimated (a factor with one level) and values that are not
    finite after the formula's transforms (``log(0)``) are errors naming the term."""
    for term in terms:
        if term.slice.stop == term.slice.start:
            used = [c for c in data.columns if re.search(rf"\b{re.escape(str(c))}\b", term.name)]
            single = _single_levels(data, used)
            level = (
                f" ({', '.join(f'{c!r} is always {v!r}' for c, v in single.items())})"
                if single
                else ""
            )
            raise DataError(
                f"the term '{term.name}' of '{formula}' has a single level in the data{level}, "
                "so beside the intercept it has nothing to estimate. Drop it from the formula, "
                "or check the data (a filter may have left one level)."
            )
        block = X[:, term.slice]
        bad = ~np.isfinite(block).all(axis=1)
        if bad.any():
            raise DataError(
                f"the term '{term.name}' of '{formula}' is not finite in {int(bad.sum())} of "
                f"{len(bad)} rows (first rows: {list(data.index[bad][:5])}), for example the "
                "log of 0 or of a negative number. Transform the column so every row is "
                "finite, or drop those rows."
            )
    if offset is not None and not np.all(np.isfinite(offset)):
        bad = ~np.isfinite(offset)
        raise DataError(
            f"the offset of '{formula}' is not finite in {int(bad.sum())} rows (first rows: "
            f"{list(data.index[bad][:5])}), for example log(0) exposure. Fix those rows."
        )
    for term in group_terms:
        bad = ~np.isfinite(term.Z).all(axis=1)
        if bad.any():
            raise DataError(
                f"the group-specific term '{term.name}' of '{formula}' is not finite in "
                f"{int(bad.sum())} rows (first rows: {list(data.index[bad][:5])})."
            )
    for factor, levels in group_levels.items():
        if len(levels) < 2:
            names = [t.name for t in group_terms if t.factor == factor]
            raise DataError(
                f"the grouping factor '{factor}' has a single level ({levels[0]!r}) in the "
                f"data: one group cannot tell how much groups vary, so "
                f"{', '.join(repr(n) for n in names)} cannot be estimated. Drop the term, or "
                "check the data (a filter may have left one group)."
            )


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
    _check_unique(data, [*description.var_names, *also_used])
    _check_proportion(description, data)
    check_special_calls(description, formula)
    check_names(description, data.columns, extra_namespace, literals)

    data = data.copy()
    if categorical is not None:
        if not isinstance(categorical, str | list | tuple):
            raise DataTypeError(
                f"categorical must be a column name or a list of column names, got {categorical!r}."
            )
        cats = [categorical] if isinstance(categorical, str) else list(categorical)
        for col in cats:
            if col not in data.columns:
                raise UnknownNameError(
                    f"categorical names column '{col}', which is not in the data; "
                    f"columns are {list(map(str, data.columns))}."
                )
            data[col] = data[col].astype("category")
    used = [c for c in data.columns if str(c) in description.var_names or c in also_used]
    _check_column_types(data, used)
    data, n_dropped = _handle_missing(data, used, dropna)
    data, n_infinite = _handle_infinite(data, used, dropna, _response_column(description, data))
    n_dropped += n_infinite
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
                    categorical=_is_categorical(term),
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
                    categorical=term.kind != "intercept" and _is_categorical(term.expr),
                )
            )

    _check_terms(formula, data, terms, X, offset, group_terms, group_levels)
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
