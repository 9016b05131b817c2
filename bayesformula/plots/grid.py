"""The variables a model's formula uses, and prediction grids over one or two of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.errors import DataTypeError, PredictionError, did_you_mean

__all__ = [
    "Variables",
    "conditional_grid",
    "levels_of",
    "make_grid",
    "model_variables",
    "typical_value",
    "value_label",
]

BY_QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)


@dataclass(frozen=True)
class Variables:
    """Data columns a model's formula uses, by role.

    Attributes
    ----------
    data : pandas.DataFrame
        The rows and columns the model was built on (after ``dropna`` and ``categorical``).
    predictors : tuple of str
        Columns used by common terms or by the expressions of group-specific terms.
    factors : tuple of str
        Columns used only as grouping factors.
    trials : tuple of str
        Columns of the response other than the response itself (binomial trials).
    categorical : frozenset of str
        Predictors the model encodes as categories (strings, ``C(x)``, ``categorical=``).
    """

    data: pd.DataFrame
    predictors: tuple[str, ...]
    factors: tuple[str, ...]
    trials: tuple[str, ...]
    categorical: frozenset[str]


def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def model_variables(model) -> Variables:
    """Find which data columns the model's formula uses, and how."""
    design = model.design
    matrices = design.matrices
    data = matrices.data
    used: set[str] = set()
    categoric: set[str] = set()
    factor_vars: set[str] = set()

    def visit(term) -> None:
        used.update(getattr(term, "var_names", ()))
        for component in getattr(term, "components", ()):
            if getattr(component, "kind", None) == "categoric":
                categoric.update(getattr(component, "var_names", ()))

    if matrices.common is not None:
        for term in matrices.common.terms.values():
            visit(term)
    for term in getattr(matrices, "special_terms", ()):  # mo() and hsgp() terms
        visit(term)
        for component in term.components:  # mo(x): x takes its levels only
            call = getattr(component, "call", None)
            if getattr(call, "callee", None) == "mo":
                categoric.update(getattr(arg, "name", "") for arg in call.args)
    if matrices.group is not None:
        for term in matrices.group.terms.values():
            visit(term.expr)
            factor_vars.update(term.factor.var_names)
    response_vars = set()
    if design.response.kind == "proportion":
        response_vars = set(getattr(matrices.model.response, "var_names", ()))
    columns = [str(c) for c in data.columns]

    def ordered(names) -> tuple[str, ...]:
        return tuple(c for c in columns if c in names)

    predictors = ordered(used)
    categorical = {c for c in predictors if c in categoric or _is_categorical(data[c])}
    return Variables(
        data=data,
        predictors=predictors,
        factors=ordered(factor_vars - used),
        trials=ordered(response_vars - used - {design.response.name}),
        categorical=frozenset(categorical),
    )


def check_variable(name, variables: Variables, what: str, formula: str) -> str:
    """Raise a clear error unless ``name`` is a predictor of the formula."""
    if not isinstance(name, str):
        raise DataTypeError(f"{what} must be a column name (str), got {type(name).__name__}.")
    if name in variables.predictors:
        return name
    if name in variables.factors:
        raise PredictionError(
            f"{what} '{name}' is a grouping factor of '{formula}'. plot_predictions leaves "
            "group-specific effects out (it predicts for a typical group), so every level would "
            "give the same curve. For per-group predictions use model.predict(idata, data=..., "
            "include_group_specific=True)."
        )
    if not variables.predictors:
        raise PredictionError(
            f"the formula '{formula}' has no predictors, so there is no {what} to vary."
        )
    raise PredictionError(
        did_you_mean(name, variables.predictors, what)
        + f" It must be a column that the formula '{formula}' uses as a predictor."
    )


def levels_of(series: pd.Series) -> list:
    """A column's levels: its categories, else its distinct values, sorted where they sort."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    values = pd.unique(series.dropna())
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def covariate_values(series: pd.Series, categorical: bool, n_points: int) -> list:
    """Evenly spaced values from min to max, or the levels of a categorical column."""
    if categorical:
        return levels_of(series)
    values = series.to_numpy(dtype=float)
    return list(np.linspace(np.nanmin(values), np.nanmax(values), n_points))


def by_values(series: pd.Series, categorical: bool) -> list:
    """Levels of a categorical column; for a numeric one its few values or 5 quantiles."""
    if categorical:
        return levels_of(series)
    values = series.to_numpy(dtype=float)
    unique = np.unique(values[~np.isnan(values)])
    if len(unique) <= len(BY_QUANTILES):
        return list(unique)
    return list(np.unique(np.quantile(values[~np.isnan(values)], BY_QUANTILES)))


def value_label(value) -> str:
    """A grid value as a legend or tick label: floats to three significant digits."""
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def typical_value(series: pd.Series, categorical: bool):
    """The mean of a numeric column, the most common value of a categorical one."""
    if categorical:
        return series.mode(dropna=True).iloc[0]
    return float(np.nanmean(series.to_numpy(dtype=float)))


def make_grid(
    variables: Variables,
    covariate: str,
    by: str | None,
    data: pd.DataFrame,
    n_points: int,
) -> tuple[pd.DataFrame, list, list]:
    """Rows: every covariate value (per ``by`` value), other predictors at typical values.

    Numeric predictors are held at their mean, categorical ones at their most common value,
    grouping factors at their first value (group-specific effects are left out anyway) and
    binomial trials at their most common value. Ranges and typical values come from ``data``.

    Returns
    -------
    grid : pandas.DataFrame
        ``len(by_levels) * len(xs)`` rows, ``xs`` varying fastest.
    xs : list
        The covariate values.
    by_levels : list
        The ``by`` values (``[None]`` without ``by``).
    """
    missing = [c for c in variables.predictors if c not in data.columns]
    if missing:
        raise PredictionError(
            f"data lacks the column(s) {missing}, which the formula uses; pass a DataFrame "
            f"with all of {list(variables.predictors)} (or data=None for the model's data)."
        )
    xs = covariate_values(data[covariate], covariate in variables.categorical, n_points)
    by_levels = [None] if by is None else by_values(data[by], by in variables.categorical)
    n = len(xs) * len(by_levels)
    columns = {}
    for name in variables.predictors:
        columns[name] = [typical_value(data[name], name in variables.categorical)] * n
    for name in variables.factors:
        source = data if name in data.columns else variables.data
        columns[name] = [source[name].iloc[0]] * n
    for name in variables.trials:
        source = data if name in data.columns else variables.data
        columns[name] = [typical_value(source[name], categorical=True)] * n
    columns[covariate] = list(xs) * len(by_levels)
    if by is not None:
        columns[by] = [level for level in by_levels for _ in xs]
    grid = pd.DataFrame(columns)
    for name in grid.columns:  # keep category dtypes so levels encode as in fitting
        dtype = variables.data[name].dtype if name in variables.data.columns else None
        if isinstance(dtype, pd.CategoricalDtype):
            grid[name] = pd.Categorical(grid[name], categories=dtype.categories)
    return grid, xs, by_levels


def conditional_grid(model, covariate: str, by, data, n_points: int, what: str, where: str):
    """`make_grid` for a plot along ``covariate`` (named ``what`` in errors) per ``by`` value,
    after checking both are predictors of the formula; ``data`` (any data frame) gives the
    ranges and typical values, the model's data by default. Returns ``(variables, grid, xs,
    by_levels)``."""
    from bayesformula.core.frames import to_pandas

    variables = model_variables(model)
    formula = model.design.formula
    check_variable(covariate, variables, what, formula)
    if by is not None:
        check_variable(by, variables, "by", formula)
        if by == covariate:
            raise PredictionError(
                f"by and {what} are both '{by}'; choose another predictor for by, or leave it out."
            )
    source = variables.data if data is None else to_pandas(data, "data", where)[0]
    grid, xs, by_levels = make_grid(variables, covariate, by, source, n_points)
    return variables, grid, xs, by_levels
