"""Predictions and comparisons of a fitted model on any scale, unit by unit or averaged, with
marginaleffects' semantics (`bayesformula.interpret.engine` evaluates them)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.errors import DataTypeError, PredictionError, did_you_mean
from bayesformula.interpret.engine import request
from bayesformula.interpret.result import Interpretation
from bayesformula.plots.grid import Variables, levels_of, model_variables

__all__ = ["COMPARISONS", "comparisons", "predictions"]

#: comparison name -> f(high, low), applied per draw and row before any averaging
COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "difference": lambda hi, lo: hi - lo,
    "ratio": lambda hi, lo: hi / lo,
    "lift": lambda hi, lo: (hi - lo) / lo,
}
_LABELS = {
    "difference": "{hi} - {lo}",
    "ratio": "{hi} / {lo}",
    "lift": "({hi} - {lo}) / {lo}",
}
#: the spans a numeric variable's contrast may be given as
_NUMERIC_SPANS = ("sd", "2sd", "iqr", "minmax")
_CATEGORICAL_SPANS = ("reference", "pairwise")


# ---------------------------------------------------------------------------- predictions
def predictions(
    model,
    idata,
    data: pd.DataFrame | None = None,
    *,
    by=None,
    average: bool = False,
    wts=None,
    target: str = "mean",
    prob: float = 0.94,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed=None,
    chunk_size: int | None = None,
    progressbar: bool | None = None,
    return_type: str | None = None,
) -> Interpretation:
    """Posterior predictions on any scale, per row of ``data`` or averaged.

    Parameters
    ----------
    model : bayesformula.Model
    idata : xarray.DataTree
        The fit (`Model.fit`).
    data : pandas.DataFrame, optional
        Rows to predict for (default: the fitting rows); a `datagrid` for chosen values.
    by : str or list of str, optional
        Average within the groups of these columns of ``data``; ``by=True`` is
        ``average=True``.
    average : bool
        Average over all rows: one number per quantity.
    wts : str or array, optional
        Weights of the rows in the averages (a column of ``data`` or one value per row).
    target : str
        ``"mean"`` (the parent parameter, default), ``"linpred"`` (the linear predictor),
        ``"response"`` (draws of new responses) or an auxiliary parameter (``"sigma"``).
    prob : float
        Probability of the highest-density interval.
    include_group_specific, sample_new_groups
        As for `Model.predict`: new group levels are an error unless ``sample_new_groups``.
    random_seed
        Seeds the draws of new responses and of new groups' effects.
    chunk_size : int, optional
        Rows evaluated at a time (default: at most four million values).
    progressbar : bool, optional
        Progress over chunks (default: shown when there is more than one).
    return_type : {"pandas", "polars", "pyarrow"}, optional
        The kind of table returned; default ``data``'s kind (pandas for pandas, a dict or no
        ``data``). Only the pandas table (an `Interpretation`) carries the draws.

    Returns
    -------
    Interpretation
        A DataFrame: the ``by`` columns (or, unit by unit, the formula's variables, with
        ``data``'s index), a ``level`` column for ordinal and categorical families, then
        ``estimate`` (the posterior mean) and the interval (``hdi_3%``, ``hdi_97%``); the draws
        of every row in ``.draws``.
    """
    call = request(
        model,
        idata,
        data,
        where="predictions()",
        target=target,
        by=by,
        average=average,
        wts=wts,
        prob=prob,
        include_group_specific=include_group_specific,
        sample_new_groups=sample_new_groups,
        random_seed=random_seed,
        chunk_size=chunk_size,
        progressbar=progressbar,
        return_type=return_type,
    )
    return call.result(call.table(call.evaluate([call.side(call.frame)], lambda v: v)))


# ---------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class _Contrast:
    term: str
    high: str
    low: str
    low_frame: pd.DataFrame
    high_frame: pd.DataFrame


def _with(frame: pd.DataFrame, name: str, value, variables: Variables) -> pd.DataFrame:
    """``frame`` with column ``name`` set to ``value`` (one value, or one per row)."""
    out = frame.copy()
    dtype = variables.data[name].dtype if name in variables.data.columns else None
    if isinstance(dtype, pd.CategoricalDtype):
        values = np.broadcast_to(np.asarray(value, dtype=object), (len(out),))
        out[name] = pd.Categorical(values, categories=dtype.categories)
    else:
        out[name] = value
    return out


def _contrasts(name, how, frame, variables, where) -> list[_Contrast]:
    source = variables.data[name]
    if name in variables.categorical:
        levels = levels_of(source)
        how = "reference" if how is None else how
        if isinstance(how, str) and how in _CATEGORICAL_SPANS:
            if how == "reference":
                pairs = [(levels[0], level) for level in levels[1:]]
            else:
                pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1 :]]
        elif isinstance(how, list | tuple) and len(how) == 2:
            unknown = [v for v in how if v not in levels]
            if unknown:
                raise PredictionError(
                    f"{where}: {unknown} are not levels of '{name}' (its levels: {levels})."
                )
            pairs = [tuple(how)]
        else:
            raise PredictionError(
                f"{where}: the contrast of the categorical '{name}' must be 'reference', "
                f"'pairwise' or a pair of its levels [low, high]; got {how!r}."
            )
        return [
            _Contrast(
                name,
                str(b),
                str(a),
                _with(frame, name, a, variables),
                _with(frame, name, b, variables),
            )
            for a, b in pairs
        ]
    x = frame[name].to_numpy(dtype=float)
    observed = source.to_numpy(dtype=float)
    how = 1 if how is None else how
    if isinstance(how, numbers.Real) and not isinstance(how, bool):
        low, high, labels = x, x + float(how), (f"{name}+{how:g}", name)
    elif how in ("sd", "2sd"):
        half = np.nanstd(observed, ddof=1) * (1.0 if how == "2sd" else 0.5)
        low, high, labels = x - half, x + half, (f"{name}+{how}/2", f"{name}-{how}/2")
    elif how == "iqr":
        q1, q3 = np.nanquantile(observed, [0.25, 0.75])
        low, high, labels = q1, q3, (f"Q3 ({q3:.4g})", f"Q1 ({q1:.4g})")
    elif how == "minmax":
        lo, hi = np.nanmin(observed), np.nanmax(observed)
        low, high, labels = lo, hi, (f"max ({hi:.4g})", f"min ({lo:.4g})")
    elif isinstance(how, list | tuple) and len(how) == 2:
        low, high = float(how[0]), float(how[1])
        labels = (f"{high:g}", f"{low:g}")
    else:
        raise PredictionError(
            f"{where}: the contrast of the numeric '{name}' must be a step (a number), "
            f"one of {list(_NUMERIC_SPANS)} or a pair [low, high]; got {how!r}."
        )
    return [
        _Contrast(
            name,
            labels[0],
            labels[1],
            _with(frame, name, low, variables),
            _with(frame, name, high, variables),
        )
    ]


def _check_variables(variables, known: Variables, where: str) -> dict:
    if variables is None:
        return dict.fromkeys(known.predictors)
    if isinstance(variables, str):
        variables = [variables]
    if isinstance(variables, list | tuple):
        variables = dict.fromkeys(variables)
    if not isinstance(variables, dict) or not variables:
        raise DataTypeError(
            f"{where}: variables must be a predictor's name, a list of them or a dict "
            f"{{name: contrast}}, got {variables!r}."
        )
    for name in variables:
        if name not in known.predictors:
            raise PredictionError(
                did_you_mean(str(name), list(known.predictors), f"{where} variable")
                + f" Comparisons vary the formula's predictors: {list(known.predictors)}."
            )
    return variables


def comparisons(
    model,
    idata,
    variables=None,
    data: pd.DataFrame | None = None,
    *,
    comparison="difference",
    by=None,
    average: bool = False,
    wts=None,
    target: str = "mean",
    prob: float = 0.94,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed=None,
    chunk_size: int | None = None,
    progressbar: bool | None = None,
    return_type: str | None = None,
) -> Interpretation:
    """How the prediction changes when a predictor changes, per row of ``data`` or averaged.

    For each row, each draw and each contrast the prediction is computed at the contrast's low
    and high value of the predictor (every other column as in ``data``) and compared; averages
    (``by``, ``average``, ``wts``) are then taken per draw, as marginaleffects'
    ``avg_comparisons`` does.

    Parameters
    ----------
    variables : str, list or dict, optional
        The predictors to vary (default: every predictor of the formula), with their contrast
        as ``{name: contrast}``: for a numeric predictor a step (``1``, the default: from x
        to x + 1), ``"sd"`` or ``"2sd"`` (one or two standard deviations centred on x),
        ``"iqr"`` (from the first quartile to the third), ``"minmax"`` or a pair
        ``[low, high]``; for a categorical one ``"reference"`` (each level against the
        first, the default), ``"pairwise"`` or a pair of levels ``[low, high]``.
    comparison : str or callable
        ``"difference"`` (high - low), ``"ratio"`` (high / low), ``"lift"``
        ((high - low) / low) or a function ``f(high, low)`` of two arrays of draws.
    data, by, average, wts, target, prob, include_group_specific, sample_new_groups,
    random_seed, chunk_size, progressbar, return_type
        As for `predictions`.

    Returns
    -------
    Interpretation
        ``term`` (the predictor), ``contrast`` (e.g. ``x+1 - x``, ``b - a``), the ``by``
        columns (or, unit by unit, the formula's variables with ``data``'s index), ``level``
        for ordinal and categorical families, ``estimate`` and the interval; ``.draws``.
    """
    where = "comparisons()"
    if callable(comparison):
        function, label = comparison, getattr(comparison, "__name__", "f") + "({hi}, {lo})"
    elif isinstance(comparison, str) and comparison in COMPARISONS:
        function, label = COMPARISONS[comparison], _LABELS[comparison]
    else:
        raise PredictionError(
            f"{where}: comparison must be one of {list(COMPARISONS)} or a function "
            f"f(high, low); got {comparison!r}."
        )
    call = request(
        model,
        idata,
        data,
        where=where,
        target=target,
        by=by,
        average=average,
        wts=wts,
        prob=prob,
        include_group_specific=include_group_specific,
        sample_new_groups=sample_new_groups,
        random_seed=random_seed,
        chunk_size=chunk_size,
        progressbar=progressbar,
        return_type=return_type,
    )
    known = model_variables(model)
    tables = []
    for name, how in _check_variables(variables, known, where).items():
        for contrast in _contrasts(name, how, call.frame, known, where):
            sides = [call.side(contrast.low_frame), call.side(contrast.high_frame)]
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = call.evaluate(sides, lambda lo, hi: function(hi, lo))
            text = label.format(hi=_operand(contrast.high, label), lo=_operand(contrast.low, label))
            tables.append(call.table(draws, {"term": name, "contrast": text}))
    return call.result(call.concat(tables))


def _operand(text: str, label: str) -> str:
    """A contrast's side in parentheses where the comparison's operator would bind into it."""
    if label == _LABELS["difference"] or not any(c in text for c in "+-/ "):
        return text
    return f"({text})"
