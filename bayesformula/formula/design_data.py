"""Checks and preparation of the data frame a design is built from: that it is a non-empty
DataFrame, that the columns the formula uses have one name each and a type a model can use,
the order of its categories, and rows with missing or infinite values."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
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


def _check_unique(data: pd.DataFrame, names) -> None:
    """Columns the formula uses must each appear once in the frame."""
    counts = pd.Series(list(map(str, data.columns))).value_counts()
    twice = [n for n in names if counts.get(str(n), 0) > 1]
    if twice:
        listing = ", ".join(f"'{n}' ({counts[str(n)]} times)" for n in twice)
        raise DataError(
            f"data has more than one column named {listing}; the formula cannot tell them "
            "apart. Rename them, or keep one with df.loc[:, ~df.columns.duplicated()]."
        )


def _rows(index: pd.Index, mask) -> str:
    rows = list(index[np.asarray(mask)][:5])
    return f"first rows: {rows}"


_DATE_ADVICE = (
    "Convert it to a number first, for example days since the start: "
    "(df['{c}'] - df['{c}'].min()).dt.days, or a category with df['{c}'].astype(str)."
)


def _column_type_problem(name, column: pd.Series) -> str | None:
    """Why a column cannot be used by a model as it is, or None."""
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return f"column '{name}' holds dates ({dtype}). " + _DATE_ADVICE.format(c=name)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return (
            f"column '{name}' holds time spans ({dtype}). Convert it to a number first, for "
            f"example df['{name}'].dt.total_seconds() / 86400 for days."
        )
    if isinstance(dtype, pd.PeriodDtype):
        return f"column '{name}' holds periods ({dtype}). " + _DATE_ADVICE.format(c=name)
    if pd.api.types.is_complex_dtype(dtype):
        return f"column '{name}' holds complex numbers ({dtype}); models take real numbers."
    if not pd.api.types.is_object_dtype(dtype):
        return None
    kinds: dict[str, int] = {}
    first: dict[str, object] = {}
    for label, value in column.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str):
            kind = "text"
        elif isinstance(value, bool | np.bool_):
            kind = "True/False"
        elif isinstance(value, numbers.Real):
            kind = "numbers"
        else:
            kind = type(value).__name__
        kinds[kind] = kinds.get(kind, 0) + 1
        first.setdefault(kind, label)
    odd = [k for k in kinds if k not in ("text", "numbers", "True/False")]
    if odd:
        kind = odd[0]
        return (
            f"column '{name}' holds values of type {kind} ({kinds[kind]} of them, first in row "
            f"{first[kind]!r}); a model takes numbers, text categories or True/False. Convert "
            "the column first."
        )
    if len(kinds) > 1:
        listing = ", ".join(f"{n} {k} (first in row {first[k]!r})" for k, n in kinds.items())
        return (
            f"column '{name}' mixes types: {listing}. Make it all numbers "
            f"(pandas.to_numeric(df['{name}'])) or all text (df['{name}'].astype(str))."
        )
    return None


def _check_column_types(data: pd.DataFrame, used: list) -> None:
    for name in used:
        problem = _column_type_problem(name, data[name])
        if problem:
            raise DataTypeError(problem)


def _keep_category_order(data: pd.DataFrame, used: list[str]) -> None:
    """Make pandas categoricals keep their category order (the first is the reference).

    formulae sorts the levels of unordered categoricals; like R's factors, the order the user
    set is kept here. Categories with no rows are dropped: they would give all-zero columns.
    """
    for col in used:
        if isinstance(data[col].dtype, pd.CategoricalDtype):
            data[col] = data[col].cat.remove_unused_categories().cat.as_ordered()


def _infinite(data: pd.DataFrame, used: list[str]) -> pd.DataFrame:
    """Which cells of the numeric used columns are +-inf (a frame like ``data[used]``)."""
    out = pd.DataFrame(False, index=data.index, columns=used)
    for name in used:
        column = data[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            out[name] = np.isinf(column.to_numpy(dtype=float, na_value=np.nan))
    return out


def _drop_rows(
    data: pd.DataFrame, cells: pd.DataFrame, dropna: bool, what: str, fix: str
) -> tuple[pd.DataFrame, int]:
    """Rows with a ``True`` cell in ``cells`` (``what`` values of the used columns): an error
    naming the columns and first rows (ending with ``fix``), or dropped with a warning."""
    bad = cells.any(axis=1)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return data, 0
    per_column = ", ".join(f"'{c}': {int(k)}" for c, k in cells.sum().items() if k)
    if not dropna:
        raise DataError(
            f"{n_bad} of {len(data)} rows have {what} values in the columns the formula uses "
            f"({per_column}; {_rows(data.index, bad)}). {fix}"
        )
    kept = data.loc[~bad]
    if kept.shape[0] == 0:
        raise DataError(f"all {len(data)} rows have {what} values ({per_column}); nothing is left.")
    warnings.warn(
        f"dropna=True: dropped {n_bad} of {len(data)} rows with {what} values ({per_column}).",
        UserWarning,
        stacklevel=6,
    )
    return kept, n_bad


def _handle_infinite(
    data: pd.DataFrame, used: list[str], dropna: bool, response: str | None
) -> tuple[pd.DataFrame, int]:
    """Rows with +-inf in a used column: an error naming the columns, or dropped (dropna).

    Without dropna an infinite response is left to the family's check of the response,
    which names the rows in the family's terms.
    """
    if not used:
        return data, 0
    infinite = _infinite(data, used)
    if not dropna and response in infinite:
        infinite[response] = False
    fix = "Fix or remove them; dropna=True drops these rows along with those with missing values."
    return _drop_rows(data, infinite, dropna, "infinite", fix)


def _handle_missing(data: pd.DataFrame, used: list[str], dropna: bool) -> tuple[pd.DataFrame, int]:
    if not used:
        return data, 0
    fix = "Pass dropna=True to drop these rows, or fill the missing values first."
    return _drop_rows(data, data[used].isna(), dropna, "missing", fix)
