"""Predictions and comparisons of a fitted model on any scale, unit by unit or averaged, with
marginaleffects' semantics.

Every quantity is computed per posterior draw from the model's own prediction graph
(`bayesformula.results.predict`), on the fitting rows or any ``data`` (a `datagrid`):

* unit level by default, one row per data row (per response level for ordinal and
  categorical families);
* averaged within the groups of ``by`` columns, or over all rows with ``average=True``, each
  row weighted by ``wts`` if given (a weighted mean per draw).

Rows are evaluated in chunks of at most `bayesformula.results.tables.CHUNK_CELLS` draws x rows
and averages are accumulated per chunk, so an average over any number of rows holds one chunk
of draws in memory at a time.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.core.frames import to_pandas
from bayesformula.core.validate import check_bool, check_int, check_prob, check_seed
from bayesformula.errors import DataTypeError, PredictionError, did_you_mean
from bayesformula.interpret.grid import training_frame
from bayesformula.interpret.result import Interpretation, summarise
from bayesformula.plots._checks import check_idata, check_model
from bayesformula.plots.grid import Variables, levels_of, model_variables
from bayesformula.results.predict import LINPRED, param_draws, prepare, response_draws
from bayesformula.results.tables import CHUNK_CELLS, _progress

__all__ = ["COMPARISONS", "SLOPES", "comparisons", "predictions", "slopes"]

#: Scales every family has besides its own parameters.
TARGETS = ("mean", "linpred", "response")

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


# ---------------------------------------------------------------------------- evaluation
def _check_target(model, target: str, where: str) -> str:
    family = model.family
    known = [*TARGETS, family.parent, *family.aux_names]
    if not isinstance(target, str) or target not in known:
        raise PredictionError(
            did_you_mean(str(target), known, f"{where} target")
            + f" For family '{family.name}' it is one of {known}: 'mean' is the parent "
            f"parameter ({family.parent}), 'linpred' the linear predictor, 'response' draws "
            "of new responses."
        )
    return "mean" if target == family.parent else target


@dataclass
class _Rows:
    """One data frame's prepared predictions (`bayesformula.results.predict.prepare`)."""

    model: object
    prepared: object
    target: str

    def values(self, rows: slice, seed: int, chunk: int) -> np.ndarray:
        """The target's draws on ``rows``: ``(S, r, K)``, K the response levels (1 if
        none)."""
        spec = self.model.spec
        params = param_draws(spec, self.prepared, rows, linpred=self.target == "linpred")
        if self.target == "linpred":
            value = params[LINPRED]
        elif self.target == "mean":
            value = params[spec.family.parent]
        elif self.target == "response":
            # the same random numbers for every frame of a comparison: its two sides differ by
            # the data alone
            rng = np.random.default_rng([seed, chunk])
            parent = params[spec.family.parent]
            value = response_draws(spec, self.prepared, parent, rng, rows, params=params)
        else:
            value = params[self.target]
        value = np.asarray(value, dtype=float)
        n_rows = len(self.prepared.index[rows])
        if value.ndim < 2:  # a fixed or per-draw parameter
            value = np.broadcast_to(value.reshape(-1, 1), (self.prepared.n_draws, n_rows))
        value = np.broadcast_to(value, (self.prepared.n_draws, n_rows, *value.shape[2:]))
        return value if value.ndim == 3 else value[:, :, None]


def _prepare(model, idata, frame, target, options, seed) -> _Rows:
    prepared = prepare(
        model.spec,
        idata,
        kind="response" if target == "response" else "response_params",
        data=frame,
        include_group_specific=options["include_group_specific"],
        sample_new_groups=options["sample_new_groups"],
        rng=np.random.default_rng(seed),
    )
    return _Rows(model, prepared, target)


def _evaluate(sides, combine, groups, n_groups, weights, options, seed) -> np.ndarray:
    """``combine`` of the values of each side (`_Rows` or `_SlopeRows` of the same rows, with
    other data), per draw: ``(S, n, K)`` unit by unit (``groups`` None), else its weighted
    means within ``groups`` (one group id per row), ``(S, n_groups, K)``."""
    first = sides[0].prepared
    n, s = first.n_rows, first.n_draws
    chunk_size = options["chunk_size"] or max(1, CHUNK_CELLS // max(s * len(sides), 1))
    starts = range(0, n, chunk_size)
    show = options["progressbar"]
    show = len(starts) > 1 if show is None else show
    parts: list[np.ndarray] = []
    totals = weight_sums = None
    with _progress(len(starts), show) as bar:
        task = bar.add_task("interpreting", total=len(starts)) if bar is not None else None
        for chunk, start in enumerate(starts):
            rows = slice(start, min(start + chunk_size, n))
            value = combine(*(side.values(rows, seed, chunk) for side in sides))
            if groups is None:
                parts.append(np.asarray(value, dtype=float))
            else:
                if totals is None:
                    totals = np.zeros((s, n_groups, value.shape[2]))
                    weight_sums = np.zeros(n_groups)
                _accumulate(totals, weight_sums, value, groups[rows], weights[rows])
            if bar is not None:
                bar.advance(task)
    if groups is None:
        return np.concatenate(parts, axis=1)
    empty = np.flatnonzero(weight_sums == 0)
    if empty.size:
        raise PredictionError(
            f"{empty.size} group(s) of the average have a total weight of 0; give them "
            "positive weights (wts=...) or leave them out of data."
        )
    return totals / weight_sums[None, :, None]


def _accumulate(totals, weight_sums, value, groups, weights) -> None:
    """Add each group's weighted sum of ``value`` ``(S, r, K)`` over its rows."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    present = sorted_groups[starts]
    weighted = value[:, order] * weights[order][None, :, None]
    totals[:, present] += np.add.reduceat(weighted, starts, axis=1)
    weight_sums[present] += np.add.reduceat(weights[order], starts)


# ---------------------------------------------------------------------------- arguments
def _options(where, prob, include_group_specific, sample_new_groups, chunk_size, progressbar):
    return {
        "prob": check_prob(prob, "prob", where),
        "include_group_specific": check_bool(
            include_group_specific, "include_group_specific", where
        ),
        "sample_new_groups": check_bool(sample_new_groups, "sample_new_groups", where),
        "chunk_size": check_int(chunk_size, "chunk_size", where, minimum=1, allow_none=True),
        "progressbar": check_bool(progressbar, "progressbar", where, allow_none=True),
    }


def _frame(model, data, where: str) -> pd.DataFrame:
    if data is None:
        return training_frame(model)
    data = to_pandas(data, "data", where)[0]  # polars, pyarrow, a dict of columns
    if data.empty:
        raise PredictionError(f"{where}: data has no rows.")
    return data


def _grouping(frame: pd.DataFrame, by, average: bool, wts, where: str):
    """``(by columns, group id per row, group labels, weights)``: no grouping (unit level)
    gives ``([], None, None, None)``."""
    average = check_bool(average, "average", where)
    if by is True:
        by, average = None, True
    columns = [] if by is None or by is False else ([by] if isinstance(by, str) else list(by))
    for name in columns:
        if name not in frame.columns:
            raise PredictionError(
                did_you_mean(str(name), [str(c) for c in frame.columns], f"{where} by column")
                + " by= names columns of data (the fitting data when data is None)."
            )
    weights = _weights(frame, wts, where)
    if not columns and not average:
        if weights is not None:
            raise PredictionError(
                f"{where}: wts= weights averages; pass average=True or by=... with it."
            )
        return [], None, None, None
    if weights is None:
        weights = np.ones(len(frame))
    if not columns:
        return [], np.zeros(len(frame), dtype=np.intp), pd.DataFrame(index=[0]), weights
    missing = [name for name in columns if frame[name].isna().any()]
    if missing:
        raise PredictionError(
            f"{where}: the by column(s) {missing} have missing values; fill or drop those rows."
        )
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame[columns]), sort=True)
    labels = uniques.to_frame(index=False)
    labels.columns = columns
    return columns, np.asarray(codes, dtype=np.intp), labels, weights


def _weights(frame: pd.DataFrame, wts, where: str):
    if wts is None:
        return None
    values = frame[wts] if isinstance(wts, str) and wts in frame.columns else wts
    if isinstance(wts, str) and wts not in frame.columns:
        raise PredictionError(
            did_you_mean(wts, [str(c) for c in frame.columns], f"{where} wts column")
        )
    values = np.asarray(values, dtype=float)
    if values.shape != (len(frame),) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise PredictionError(
            f"{where}: wts must give one finite, non-negative weight per row of data "
            f"({len(frame)}), got shape {values.shape}."
        )
    return values


def _response_levels(model) -> list | None:
    """The response levels the parent has one value per (ordinal, categorical), else None."""
    if not model.family.parent_over_levels:
        return None
    return list(model.response_data.levels)


def _table(model, draws, leading: dict, n_units: int, prob: float, index=None):
    """Rows ``(unit, level)`` of ``draws`` ``(S, n_units, K)`` as a summarised table."""
    s, _, k = draws.shape
    columns = {
        name: np.repeat(np.asarray(values, dtype=object), k) for name, values in leading.items()
    }
    if k > 1:  # one value per response level (per category of a categorical linpred)
        levels = _response_levels(model)
        names = levels if levels is not None and len(levels) == k else list(range(k))
        columns["level"] = np.tile(np.asarray(names, dtype=object), n_units)
        if index is not None:
            index = index.repeat(k)
    for name, values in columns.items():
        columns[name] = pd.Series(values).infer_objects().to_numpy()
    return summarise(columns, draws.reshape(s, -1), prob, index=index)


def _unit_columns(model, frame: pd.DataFrame) -> dict:
    """The formula's variables in ``frame``: what identifies a unit-level row."""
    variables = model_variables(model)
    names = [*variables.predictors, *variables.factors, *variables.trials]
    return {name: frame[name].to_numpy() for name in names if name in frame.columns}


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

    Returns
    -------
    Interpretation
        A DataFrame: the ``by`` columns (or, unit by unit, the formula's variables, with
        ``data``'s index), a ``level`` column for ordinal and categorical families, then
        ``estimate`` (the posterior mean) and the interval (``hdi_3%``, ``hdi_97%``); the draws
        of every row in ``.draws``.
    """
    where = "predictions()"
    check_model(model, where)
    check_idata(idata, "posterior", where, "pass the result of model.fit().")
    target = _check_target(model, target, where)
    options = _options(
        where, prob, include_group_specific, sample_new_groups, chunk_size, progressbar
    )
    seed = _seed(random_seed, where)
    frame = _frame(model, data, where)
    by_columns, groups, labels, weights = _grouping(frame, by, average, wts, where)
    n_groups = 0 if labels is None else len(labels)
    draws = _evaluate(
        [_prepare(model, idata, frame, target, options, seed)],
        lambda v: v,
        groups,
        n_groups,
        weights,
        options,
        seed,
    )
    if groups is None:
        return _table(
            model, draws, _unit_columns(model, frame), len(frame), options["prob"], frame.index
        )
    leading = {name: labels[name].to_numpy() for name in by_columns}
    return _table(model, draws, leading, n_groups, options["prob"])


def _seed(random_seed, where: str) -> int:
    """One integer seed (drawn when none is given), so every side of a comparison shares it."""
    seed = check_seed(random_seed, where=where)
    return int(np.random.default_rng(seed).integers(2**63 - 1))


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
    random_seed, chunk_size, progressbar
        As for `predictions`.

    Returns
    -------
    Interpretation
        ``term`` (the predictor), ``contrast`` (e.g. ``x+1 - x``, ``b - a``), the ``by``
        columns (or, unit by unit, the formula's variables with ``data``'s index), ``level``
        for ordinal and categorical families, ``estimate`` and the interval; ``.draws``.
    """
    where = "comparisons()"
    check_model(model, where)
    check_idata(idata, "posterior", where, "pass the result of model.fit().")
    target = _check_target(model, target, where)
    options = _options(
        where, prob, include_group_specific, sample_new_groups, chunk_size, progressbar
    )
    seed = _seed(random_seed, where)
    if callable(comparison):
        function, label = comparison, getattr(comparison, "__name__", "f") + "({hi}, {lo})"
    elif isinstance(comparison, str) and comparison in COMPARISONS:
        function, label = COMPARISONS[comparison], _LABELS[comparison]
    else:
        raise PredictionError(
            f"{where}: comparison must be one of {list(COMPARISONS)} or a function "
            f"f(high, low); got {comparison!r}."
        )
    known = model_variables(model)
    wanted = _check_variables(variables, known, where)
    frame = _frame(model, data, where)
    by_columns, groups, labels, weights = _grouping(frame, by, average, wts, where)
    n_groups = 0 if labels is None else len(labels)
    tables = []
    for name, how in wanted.items():
        for contrast in _contrasts(name, how, frame, known, where):
            sides = [
                _prepare(model, idata, contrast.low_frame, target, options, seed),
                _prepare(model, idata, contrast.high_frame, target, options, seed),
            ]
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = _evaluate(
                    sides, lambda lo, hi: function(hi, lo), groups, n_groups, weights, options, seed
                )
            text = label.format(hi=_operand(contrast.high, label), lo=_operand(contrast.low, label))
            if groups is None:
                units, index, n_units = _unit_columns(model, frame), frame.index, len(frame)
            else:
                units = {c: labels[c].to_numpy() for c in by_columns}
                index, n_units = None, n_groups
            leading = {"term": [name] * n_units, "contrast": [text] * n_units, **units}
            tables.append(_table(model, draws, leading, n_units, options["prob"], index))
    return _concat(tables, keep_index=groups is None)


# ---------------------------------------------------------------------------- slopes
#: slope name -> its value from the derivative d, the variable x and the prediction y
SLOPES: dict[str, Callable] = {
    "dydx": lambda d, x, y: d,
    "eyex": lambda d, x, y: d * x / y,
    "eydx": lambda d, x, y: d / y,
    "dyex": lambda d, x, y: d * x,
}


@dataclass
class _SlopeRows:
    """The target and its derivative in one numeric variable on one data frame: the model's
    graph differentiated along the data's change with the variable
    (`bayesformula.graph.predict.compile_slope_predictor`)."""

    model: object
    prepared: object
    target: str
    tangents: dict
    x: np.ndarray
    kind: str

    def values(self, rows: slice, seed: int, chunk: int) -> np.ndarray:
        from bayesformula import compiled

        spec = self.model.spec
        s, n_rows = self.prepared.n_draws, len(self.prepared.index[rows])
        if self.target in (*TARGETS, *spec.aux_parts):
            function = compiled.slope_predictor(spec, self.target)
            args = list(self.prepared.coef_args)
            args += [self.prepared.rows[name][rows] for name in function.data_names]
            args += [self.tangents[name][rows] for name in function.tangent_names]
            value, derivative = (np.asarray(v, dtype=float) for v in function.function(*args))
        else:  # an auxiliary parameter without a formula: the same for every row
            value = np.asarray(param_draws(spec, self.prepared, rows)[self.target], dtype=float)
            derivative = np.zeros(1)
        shape = (s, n_rows, *value.shape[2:])
        value = np.broadcast_to(value.reshape(-1, 1) if value.ndim < 2 else value, shape)
        derivative = np.broadcast_to(
            derivative.reshape(-1, 1) if derivative.ndim < 2 else derivative, shape
        )
        x = self.x[rows].reshape((1, -1) + (1,) * (len(shape) - 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = SLOPES[self.kind](derivative, x, value)
        return out if out.ndim == 3 else out[:, :, None]


def _slope_rows(model, idata, frame, name, target, kind, eps, options, seed) -> _SlopeRows:
    """Prepared rows at ``frame`` with the tangent of every floating-point data input along
    ``name``: central differences of the design over ``x +- eps`` (exact for the columns
    linear in x, such as ``x`` and ``x:z``, up to rounding; second order in ``eps`` for
    transformations such as ``np.log(x)``)."""
    at = _prepare(model, idata, frame, target, options, seed)
    x = frame[name].to_numpy(dtype=float)
    plus = _prepare(model, idata, frame.assign(**{name: x + eps}), target, options, seed)
    minus = _prepare(model, idata, frame.assign(**{name: x - eps}), target, options, seed)
    tangents = {
        key: (
            np.asarray(plus.prepared.rows[key], float) - np.asarray(minus.prepared.rows[key], float)
        )
        / (2 * eps)
        for key, value in at.prepared.rows.items()
        if np.issubdtype(np.asarray(value).dtype, np.floating)
    }
    return _SlopeRows(model, at.prepared, target, tangents, x, kind)


def slopes(
    model,
    idata,
    variables=None,
    data: pd.DataFrame | None = None,
    *,
    slope: str = "dydx",
    by=None,
    average: bool = False,
    wts=None,
    target: str = "mean",
    prob: float = 0.94,
    eps: float | None = None,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed=None,
    chunk_size: int | None = None,
    progressbar: bool | None = None,
) -> Interpretation:
    """The derivative of the prediction in a numeric predictor, per row of ``data`` or
    averaged (marginaleffects' ``slopes`` / ``avg_slopes``).

    The derivative is the model's own graph differentiated (a Jacobian-vector product of the
    prediction graph, so the link and every term are exact) along the change of the design
    with the predictor; that change is a central difference of the formula's design over
    ``x +- eps``, exact up to rounding for the columns linear in x (``x``, ``x:z``, ``(x|g)``)
    and second order in ``eps`` for transformations (``np.log(x)``, splines).

    Parameters
    ----------
    variables : str or list of str, optional
        Numeric predictors (default: every numeric predictor of the formula).
    slope : str
        ``"dydx"`` (dy/dx), ``"eyex"`` (dy/dx x / y, an elasticity), ``"eydx"`` (dy/dx / y) or
        ``"dyex"`` (dy/dx x).
    target : str
        ``"mean"`` (default), ``"linpred"`` or an auxiliary parameter; response draws have no
        derivative.
    eps : float, optional
        The step of the design's central difference (default: 1e-4 times the predictor's
        range in the fitting data).
    data, by, average, wts, prob, include_group_specific, sample_new_groups, random_seed,
    chunk_size, progressbar
        As for `predictions`.

    Returns
    -------
    Interpretation
        ``term``, ``slope`` (its kind), the ``by`` columns (or the formula's variables with
        ``data``'s index), ``level`` for ordinal and categorical families, ``estimate`` and
        the interval; ``.draws``.
    """
    where = "slopes()"
    check_model(model, where)
    check_idata(idata, "posterior", where, "pass the result of model.fit().")
    target = _check_target(model, target, where)
    if target == "response":
        raise PredictionError(
            f"{where}: responses are random draws, without a derivative; use target='mean' "
            "(or 'linpred', or a parameter), or comparisons(..., target='response')."
        )
    if slope not in SLOPES:
        raise PredictionError(did_you_mean(str(slope), list(SLOPES), f"{where} slope"))
    options = _options(
        where, prob, include_group_specific, sample_new_groups, chunk_size, progressbar
    )
    seed = _seed(random_seed, where)
    known = model_variables(model)
    numeric = [v for v in known.predictors if v not in known.categorical]
    if variables is None:
        variables = numeric
    variables = [variables] if isinstance(variables, str) else list(variables)
    for name in variables:
        if name not in numeric:
            if name in known.predictors:
                raise PredictionError(
                    f"{where}: '{name}' is categorical, without a derivative; use "
                    f"comparisons(model, idata, '{name}') for the change between its levels."
                )
            raise PredictionError(did_you_mean(str(name), numeric, f"{where} variable"))
    frame = _frame(model, data, where)
    by_columns, groups, labels, weights = _grouping(frame, by, average, wts, where)
    n_groups = 0 if labels is None else len(labels)
    tables = []
    for name in variables:
        step = _step(known.data[name], eps, where)
        side = _slope_rows(model, idata, frame, name, target, slope, step, options, seed)
        draws = _evaluate([side], lambda v: v, groups, n_groups, weights, options, seed)
        if groups is None:
            units, index, n_units = _unit_columns(model, frame), frame.index, len(frame)
        else:
            units = {c: labels[c].to_numpy() for c in by_columns}
            index, n_units = None, n_groups
        leading = {"term": [name] * n_units, "slope": [slope] * n_units, **units}
        tables.append(_table(model, draws, leading, n_units, options["prob"], index))
    return _concat(tables, keep_index=groups is None)


def _step(series: pd.Series, eps, where: str) -> float:
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
            raise PredictionError(f"{where}: eps must be a positive number, got {eps!r}.")
        return float(eps)
    values = series.to_numpy(dtype=float)
    span = float(np.nanmax(values) - np.nanmin(values))
    return 1e-4 * (span if span > 0 else 1.0)


def _operand(text: str, label: str) -> str:
    """A contrast's side in parentheses where the comparison's operator would bind into it."""
    if label == _LABELS["difference"] or not any(c in text for c in "+-/ "):
        return text
    return f"({text})"


def _concat(tables: list[Interpretation], keep_index: bool) -> Interpretation:
    if len(tables) == 1:
        return tables[0]
    frames = [pd.DataFrame(t) for t in tables]
    out = Interpretation(pd.concat(frames, ignore_index=not keep_index))
    out.draws = np.concatenate([t.draws for t in tables], axis=1)
    out.prob = tables[0].prob
    return out
