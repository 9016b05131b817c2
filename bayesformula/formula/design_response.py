"""The response of a design: its name, the columns of ``c(y1, ..., yk)``, the level order of a
categorical response, and the checks of a ``p(successes, trials)`` response."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesformula.errors import DataTypeError, ResponseError

_PROPORTION_CALLS = {"p", "prop", "proportion"}


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
            try:
                values.append(np.asarray(data[name], dtype=float))
            except (TypeError, ValueError):
                numbers = pd.to_numeric(data[name], errors="coerce")
                bad = numbers.isna() & data[name].notna()
                raise DataTypeError(
                    f"column '{name}' of {call} must hold numbers, but {int(bad.sum())} rows "
                    f"hold other values (first: row {data.index[bad][0]!r}, "
                    f"{data[name][bad].iloc[0]!r}). Convert it with pandas.to_numeric."
                ) from None
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
