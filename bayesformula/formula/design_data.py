"""Checks and preparation of the data frame a design is built from: that it is a non-empty
DataFrame, the order of its categories, and rows with missing values."""

from __future__ import annotations

import warnings

import pandas as pd

from bayesformula.errors import DataError, DataTypeError


def _check_frame(data) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataTypeError(
            f"data must be a pandas DataFrame, got {type(data).__name__}; "
            "wrap it with pandas.DataFrame(...) first."
        )
    if data.shape[0] == 0:
        raise DataError("data has no rows; a model needs at least one observation.")


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
        stacklevel=5,
    )
    return kept, n_bad
