"""A fitted design applied to new data (for prediction): `evaluate_new_data`, and the binomial
trials or multinomial totals of the new rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bayesformula.errors import PredictionError
from bayesformula.formula.design_data import _check_frame, _check_unique, _infinite
from bayesformula.formula.design_types import Design, NewData
from bayesformula.formula.group_terms import _new_group_index

__all__ = ["evaluate_new_data"]


def evaluate_new_data(design: Design, data: pd.DataFrame, *, need_trials: bool = False) -> NewData:
    """Apply the design's encoding (levels, stateful transforms) to new data.

    Group levels not seen in fitting get indices ``>= len(levels)`` (listed in ``new_levels``);
    missing group values get ``-1``. Deciding what to do with them is the caller's job.
    """
    _check_frame(data)
    _check_unique(data, [c for c in design.data_columns if c in data.columns])
    _check_new_values(design, data)
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
