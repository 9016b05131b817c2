"""Data grids: chosen values of some variables, every other variable at a typical value."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from bayesformula.core.frames import to_pandas
from bayesformula.errors import PredictionError, did_you_mean
from bayesformula.plots._checks import check_model
from bayesformula.plots.grid import model_variables, typical_value

__all__ = ["datagrid", "training_frame"]


def training_frame(model) -> pd.DataFrame:
    """The rows of the model's data it was fitted on (after ``dropna``), every column."""
    data, index = model.data, model.design.index
    if len(index) == len(data):
        return data
    return data.loc[index]


def datagrid(model, data: pd.DataFrame | None = None, **values) -> pd.DataFrame:
    """A grid of rows for predictions: every combination of the ``values`` given, every other
    variable of the formula at its typical value.

    Typical values are those marginaleffects' ``datagrid`` uses: the mean of a numeric
    predictor, the most common value of a categorical predictor, of a grouping factor and of
    a binomial response's trials, taken from ``data`` (default: the rows the model was fitted
    on).

    Parameters
    ----------
    model : bayesformula.Model
    data : pandas.DataFrame, optional
        Where typical values come from.
    **values
        Variable name -> a value or a list of values.

    Returns
    -------
    pandas.DataFrame
        One row per combination, the first variable given varying slowest; categorical
        columns keep the fitting data's categories.

    Examples
    --------
    >>> grid = bf.datagrid(model, dose=[-0.5, 0, 0.5])  # doctest: +SKIP
    """
    check_model(model, "datagrid()")
    variables = model_variables(model)
    source = training_frame(model) if data is None else to_pandas(data, "data", "datagrid()")[0]
    known = [*variables.predictors, *variables.factors, *variables.trials]
    for name in values:
        if name not in known:
            raise PredictionError(
                did_you_mean(name, known, "datagrid() variable")
                + f" The model '{model.formula}' uses {known}."
            )
    missing = [c for c in known if c not in values and c not in source.columns]
    if missing:
        raise PredictionError(
            f"datagrid(): data lacks the column(s) {missing}, which the formula uses; give "
            "them values or pass data with them."
        )
    choices = {name: _as_list(name, value) for name, value in values.items()}
    rows = list(itertools.product(*choices.values())) or [()]
    columns: dict[str, list] = {}
    for name in known:
        if name in choices:
            at = list(choices).index(name)
            columns[name] = [row[at] for row in rows]
        else:
            categorical = name in variables.categorical or name not in variables.predictors
            columns[name] = [typical_value(source[name], categorical)] * len(rows)
    grid = pd.DataFrame(columns)
    for name in grid.columns:  # levels encode as in fitting
        dtype = variables.data[name].dtype if name in variables.data.columns else None
        if isinstance(dtype, pd.CategoricalDtype):
            grid[name] = pd.Categorical(grid[name], categories=dtype.categories)
    return grid


def _as_list(name: str, value) -> list:
    if isinstance(value, str) or np.ndim(value) == 0:
        return [value]
    out = list(value)
    if not out:
        raise PredictionError(f"datagrid(): no values given for '{name}'.")
    return out
