"""Helpers shared by the ``mo()`` and ``hsgp()`` terms: numeric columns, level codes, and the
rows that error messages name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesformula.errors import FormulaError, PredictionError


# ------------------------------------------------------------------ helpers
def _plain(value) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


def _rows(index, mask, values=None, limit: int = 5) -> str:
    where = np.flatnonzero(mask)[:limit]
    if values is None:
        return ", ".join(repr(index[i]) for i in where)
    return ", ".join(f"row {index[i]!r}: {_plain(values[i])}" for i in where)


def _numeric(values, what: str, where: str, index, error=FormulaError) -> np.ndarray:
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype) or (
        dtype is not None and getattr(dtype, "kind", "O") not in "biuf"
    ):
        raise error(
            f"{what} in '{where}' must be numeric, but it is {dtype}. For a separate Gaussian "
            "process per level of a categorical column use by=..., for an ordered categorical "
            "predictor mo()."
        )
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise error(f"{what} in '{where}' must be numeric.") from None
    if out.ndim != 1:
        raise error(f"{what} in '{where}' must be one column, got shape {out.shape}.")
    bad = ~np.isfinite(out)
    if bad.any():
        raise error(
            f"{what} in '{where}' has {int(bad.sum())} missing or infinite value(s) "
            f"(rows {_rows(index, bad)})."
        )
    return out


def _evaluate(expr, data, env, where: str, error=FormulaError):
    """Evaluate a formulae expression (an argument of ``mo()`` or ``hsgp()``) on ``data``.

    Errors name the term: a name that is neither a column nor available inside these terms
    (formulae's transforms such as ``I()`` or ``scale()`` are not), or a value that cannot be
    computed.
    """
    try:
        return expr.eval(data, env)
    except KeyError as err:
        missing = err.args[0] if err.args else err
        if error is PredictionError:
            raise PredictionError(
                f"new data lacks column '{missing}', which '{where}' uses."
            ) from None
        raise FormulaError(
            f"'{missing}' is not available inside '{where}': its arguments may use columns, "
            "numpy functions (np.log, ...) and log, exp, sqrt, ...; compute other expressions "
            "in a column of the data frame first."
        ) from None
    except (ArithmeticError, AttributeError, IndexError, TypeError, ValueError) as err:
        raise error(f"could not evaluate '{expr}' in '{where}': {err}") from None


def _component_values(component, data, env, error):
    if hasattr(component, "call"):
        return _evaluate(component.call, data, env, str(component.call), error)
    try:
        return data[component.name]
    except KeyError as err:
        raise error(f"new data lacks column {err}.") from None


def _encode_levels(values, levels, variable, name, index, error) -> np.ndarray:
    """Positions of ``values`` among ``levels``; values outside them are an error."""
    raw = np.asarray(values, dtype=object)
    missing = np.asarray(pd.isna(raw), dtype=bool)
    if missing.any():
        raise error(
            f"'{variable}' has {int(missing.sum())} missing value(s) in '{name}' (rows "
            f"{_rows(index, missing)})."
        )
    numeric_levels = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in levels
    )
    if numeric_levels:
        try:
            as_float = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            as_float = None
        if as_float is not None:
            raw = np.where(
                as_float == np.round(as_float), as_float.round().astype(np.int64), as_float
            ).astype(object)
    codes = pd.Index(list(levels), dtype=object).get_indexer(raw)
    unseen = codes < 0
    if unseen.any():
        found = list(dict.fromkeys(_plain(v) for v in raw[unseen]))[:10]
        known = ", ".join(map(_plain, levels))
        if error is PredictionError:
            raise PredictionError(
                f"new data has values of '{variable}' that are not levels of '{name}': "
                f"{', '.join(found)} (rows {_rows(index, unseen)}). Predictions can only use the "
                f"levels the model was built with: {known}."
            )
        raise FormulaError(
            f"'{variable}' has values that are not among the levels of '{name}': "
            f"{', '.join(found)} (rows {_rows(index, unseen)}); the levels are {known}. List every "
            "level in levels=[...]."
        )
    return codes.astype(np.int64)
