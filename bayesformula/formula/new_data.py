"""A fitted design applied to new data (for prediction): `evaluate_new_data`, the binomial
trials or multinomial totals of the new rows, and the matching of new data's category levels to
the fitted ones by value (`match_levels`)."""

from __future__ import annotations

import math
import numbers
import re

import formulae as fm
import numpy as np
import pandas as pd

from bayesformula.errors import PredictionError
from bayesformula.formula.design_data import _check_frame, _check_unique, _infinite
from bayesformula.formula.design_types import Design, NewData
from bayesformula.formula.group_terms import _new_group_index

__all__ = [
    "conversion_hint",
    "describe_levels",
    "evaluate_new_data",
    "fitted_levels",
    "match_levels",
    "stored_levels_note",
]

#: functions of formulae whose result is categorical with the levels of their first argument
_CATEGORICAL_CALLS = frozenset({"C", "S", "T"})


def evaluate_new_data(design: Design, data: pd.DataFrame, *, need_trials: bool = False) -> NewData:
    """Apply the design's encoding (levels, stateful transforms) to new data.

    Levels of categorical predictors and grouping factors are matched by value whatever the
    type the new data holds them in (see `match_levels`). Group levels not seen in fitting get
    indices ``>= len(levels)`` (listed in ``new_levels``); missing group values get ``-1``.
    Deciding what to do with them is the caller's job.
    """
    _check_frame(data)
    _check_unique(data, [c for c in design.data_columns if c in data.columns])
    _check_new_values(design, data)
    data = match_levels(design, data)
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
        raise PredictionError(_encoding_problem(design, data, err)) from None

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
    if X.shape[0] and not np.isfinite(X).all():
        rows = list(data.index[~np.isfinite(X).all(axis=1)][:5])
        raise PredictionError(
            f"new data gives predictors that are not finite (first rows: {rows}), for example "
            "the log of 0 in a transformed column; fix or drop those rows."
        )

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


def _check_new_values(design: Design, data: pd.DataFrame) -> None:
    """Missing or infinite values in the columns the model uses are an error naming them."""
    response = getattr(design.matrices.response, "term", None)
    skip = set(getattr(response, "var_names", ()))  # not needed for predictions
    # a missing group level is allowed: such rows get no group-specific effect
    skip |= {part for factor in design.group_levels for part in str(factor).split(":")}
    used = [c for c in design.data_columns if c in data.columns and c not in skip]
    if not used:
        return
    bad = data[used].isna() | _infinite(data, used)
    if bad.to_numpy().any():
        per_column = ", ".join(f"'{c}': {int(k)}" for c, k in bad.sum().items() if k)
        rows = list(data.index[bad.any(axis=1)][:5])
        raise PredictionError(
            f"new data has missing or infinite values in columns the model uses ({per_column}; "
            f"first rows: {rows}); predictions need a value in every used column. Fill them "
            "or drop those rows (new_df.dropna())."
        )


def _encoding_problem(design: Design, data: pd.DataFrame, err: ValueError) -> str:
    """Why new data could not be encoded, naming the column where it can be found."""
    text = str(err)
    match = re.search(r"could not convert string to float: '(.*)'$", text)
    if match:
        value = match.group(1)
        for column in design.data_columns:
            if column in data.columns:
                hits = data.index[data[column].astype(str) == value]
                if len(hits):
                    return (
                        f"new data column '{column}' holds text ({value!r} in row "
                        f"{hits[0]!r}{f' and {len(hits) - 1} more' if len(hits) > 1 else ''}) "
                        "where the model was fitted on numbers; convert it with "
                        f"pandas.to_numeric(df['{column}'])."
                    )
    return (
        f"cannot encode the new data: {text} Predictions can only use category levels seen "
        "when the model was built."
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


# ------------------------------------------------------------------ levels matched by value
def _source_column(component) -> str | None:
    """The data column whose values are a categorical component's levels: the variable
    itself, or the first argument of ``C(column)`` (``S``, ``T``); None for anything else."""
    if isinstance(component, fm.terms.Variable):
        return component.name
    call = getattr(component, "call", None)
    if getattr(call, "callee", None) in _CATEGORICAL_CALLS and call.args:
        first = call.args[0]
        if type(first).__name__ == "LazyVariable":
            return first.name
    return None


def fitted_levels(design: Design) -> dict[str, tuple[list, bool]]:
    """The levels each data column had in fitting, for the columns the design encodes as
    categories.

    Returns
    -------
    dict
        column -> ``(levels, strict)``: the fitted level values (in the column's fitted type)
        and whether a level not among them is an error (a categorical predictor) rather than
        a new group (a grouping factor only).
    """
    dm = design.matrices
    found: dict[str, tuple[dict, bool]] = {}

    def add(components, strict: bool) -> None:
        for component in components:
            levels = getattr(component, "levels", None)
            column = _source_column(component)
            if column is None or not levels:
                continue
            known, was_strict = found.get(column, ({}, False))
            known.update(dict.fromkeys(levels))
            found[column] = (known, was_strict or strict)

    if dm.common is not None:
        for term in dm.common.terms.values():
            add(getattr(term, "components", ()), strict=True)
    if dm.group is not None:
        for term in dm.group.terms.values():
            add(getattr(term.expr, "components", ()), strict=True)
            add(term.factor.components, strict=False)
    return {column: (list(known), strict) for column, (known, strict) in found.items()}


def _level_key(value) -> tuple:
    """The key that matches a level across types: numbers and numeric text by numeric value
    (``308``, ``308.0``, ``"308"`` and ``np.int64(308)`` share one key), other text without
    surrounding spaces, anything else as itself."""
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if "_" in text:  # Python would read "1_0" as 10
            return ("text", text)
        try:
            return ("number", int(text))
        except ValueError:
            pass
        try:
            value = float(text)
        except ValueError:
            return ("text", text)
    if isinstance(value, numbers.Integral):
        return ("number", int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return ("number", int(number))
        return ("number", number)
    return ("other", value)


def _kind(values) -> str:
    """'numbers' or 'text' (or 'mixed') for a collection of non-missing values."""
    kinds = {
        "text"
        if isinstance(v, (str, bytes))
        else "numbers"
        if isinstance(v, numbers.Number)
        else type(v).__name__
        for v in values
    }
    return kinds.pop() if len(kinds) == 1 else "mixed"


def describe_levels(levels, limit: int = 4) -> str:
    """How fitted levels are stored: their type and the first few, for messages.

    Examples
    --------
    >>> describe_levels([308, 309, 310, 330, 331])
    'numbers of dtype int64 (308, 309, 310, 330, ... 5 in all)'
    """
    levels = list(levels)
    dtype = pd.Index(levels).dtype
    kind = _kind(levels)
    dtype_name = "str" if kind == "text" else str(dtype)
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in levels[:limit])
    more = f", ... {len(levels)} in all" if len(levels) > limit else ""
    return f"{kind} of dtype {dtype_name} ({shown}{more})"


def conversion_hint(column: str, levels) -> str:
    """The pandas call that converts a new-data column to the type the levels were fitted in."""
    if _kind(levels) == "numbers":
        return f"new_df['{column}'] = pandas.to_numeric(new_df['{column}'])"
    return f"new_df['{column}'] = new_df['{column}'].astype(str)"


def _matched_column(column: str, values: pd.Series, levels: list, strict: bool):
    """``values`` with each value replaced by the fitted level it equals by value (see
    `_level_key`), or None when every value already is a fitted level (or missing).

    Values that equal no fitted level but equal each other by value become one new level
    (spelled as the first of them). A value equal to several fitted levels by value (``1``
    where ``"1"`` and ``"01"`` were fitted) is an error, and so, when ``strict``, is a value
    that equals none.
    """
    raw = np.asarray(values, dtype=object)
    missing = np.asarray(pd.isna(raw), dtype=bool)
    exact = pd.Index(levels, dtype=object).get_indexer(raw) >= 0
    todo = ~exact & ~missing
    if not todo.any():
        return None
    by_key: dict[tuple, list] = {}
    for level in levels:
        by_key.setdefault(_level_key(level), []).append(level)
    stored = describe_levels(levels)
    mapping, unseen, first_unseen = {}, [], {}
    for value in pd.unique(raw[todo]):
        key = _level_key(value)
        candidates = by_key.get(key, [])
        if len(candidates) > 1:
            raise PredictionError(
                f"new data column '{column}' holds {value!r}, which equals several levels "
                f"fitted for '{column}' by value ({', '.join(map(repr, candidates[:5]))}); the "
                f"levels were stored as {stored}. Give the new data the exact fitted spelling, "
                f"in the fitted type ({conversion_hint(column, levels)})."
            )
        if candidates:
            mapping[value] = candidates[0]
        elif key in first_unseen:  # "7" after 7: one new level, spelled as first seen
            mapping[value] = first_unseen[key]
        else:
            first_unseen[key] = value
            unseen.append(value)
    if strict and unseen and fm.config["EVAL_UNSEEN_CATEGORIES"] == "error":
        differs = _kind(unseen) != _kind(levels)
        raise PredictionError(
            f"new data column '{column}' has level(s) {unseen[:5]!r} that the categorical "
            f"predictor '{column}' did not have in fitting (levels are compared by value, so "
            f"308, '308' and 308.0 are one level); it was fitted with {stored}. Predictions can "
            "only use levels seen when the model was built"
            + (
                f"; the new values are {_kind(unseen)} and the fitted levels {_kind(levels)}: "
                f"map them to fitted levels ({conversion_hint(column, levels)} gives the fitted "
                "type)."
                if differs
                else "."
            )
        )
    if not mapping:
        return None
    out = [mapping.get(v, v) if t else v for v, t in zip(raw, todo, strict=True)]
    return pd.Series(out, index=values.index, name=values.name).infer_objects()


def match_levels(design: Design, data: pd.DataFrame) -> pd.DataFrame:
    """New data whose categorical columns hold the fitted level values.

    A value is matched to the fitted level it equals by value, whatever its type (``"308"``,
    ``308.0``, ``np.int64(308)`` or a category all match a level fitted as ``308``); values
    that match exactly, or no level at all, are left as they are. ``data`` itself is not
    changed: a shallow copy is returned when a column is converted.

    Raises
    ------
    PredictionError
        A value matches several fitted levels, or a categorical predictor (not a grouping
        factor) has a level not seen in fitting; the message says how the levels were stored.
    """
    out = data
    for column, (levels, strict) in fitted_levels(design).items():
        if column not in data.columns:
            continue
        matched = _matched_column(column, data[column], levels, strict)
        if matched is not None:
            if out is data:
                out = data.copy(deep=False)
            out[column] = matched
    return out


def stored_levels_note(design: Design, factor: str, data: pd.DataFrame | None) -> tuple[str, bool]:
    """How the levels of a grouping factor were stored, for a message about unseen levels.

    Returns
    -------
    tuple
        The sentence (``"'Subject' was fitted with int64 numbers (308, ...)"``, with the
        conversion that would give new data that type) and whether the new data holds the
        factor's values as another kind (text where numbers were fitted, or the reverse).
    """
    levels = fitted_levels(design)
    notes, differs = [], False
    for part in str(factor).split(":"):
        if part not in levels:
            continue
        fitted = levels[part][0]
        note = f"'{part}' was fitted with {describe_levels(fitted)}"
        if data is not None and part in data.columns:
            present = pd.unique(np.asarray(data[part].dropna(), dtype=object))
            if len(present) and _kind(present) != _kind(fitted):
                differs = True
                note += (
                    f" but new data holds {_kind(present)} of dtype {data[part].dtype} (convert "
                    f"with {conversion_hint(part, fitted)})"
                )
        notes.append(note)
    return "; ".join(notes), differs
