"""The machinery behind `predictions`, `comparisons` and `slopes`: one request's checked
arguments, its rows evaluated per draw in chunks, and the summarised table.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesformula.core import progress
from bayesformula.core.frames import RETURN_TYPES, as_kind, to_pandas
from bayesformula.core.validate import check_bool, check_int, check_prob, check_seed
from bayesformula.errors import PredictionError, did_you_mean
from bayesformula.interpret.grid import training_frame
from bayesformula.interpret.result import Interpretation, summarise
from bayesformula.plots._checks import check_idata, check_model
from bayesformula.plots.grid import model_variables
from bayesformula.results.predict import LINPRED, param_draws, prepare, response_draws
from bayesformula.results.tables import CHUNK_CELLS

__all__ = ["TARGETS", "Request", "request"]

#: Scales every family has besides its own parameters.
TARGETS = ("mean", "linpred", "response")


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
    with progress.bar(len(starts), show) as bar:
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
def _options(where, *, prob, include_group_specific, sample_new_groups, chunk_size, progressbar):
    return {
        "prob": check_prob(prob, "prob", where),
        "include_group_specific": check_bool(
            include_group_specific, "include_group_specific", where
        ),
        "sample_new_groups": check_bool(sample_new_groups, "sample_new_groups", where),
        "chunk_size": check_int(chunk_size, "chunk_size", where, minimum=1, allow_none=True),
        "progressbar": check_bool(progressbar, "progressbar", where, allow_none=True),
    }


def _frame(model, data, where: str) -> tuple[pd.DataFrame, str]:
    """The rows as pandas, and the kind of frame they came as."""
    if data is None:
        return training_frame(model), "pandas"
    data, kind = to_pandas(data, "data", where)  # polars, pyarrow, a dict of columns
    if data.empty:
        raise PredictionError(f"{where}: data has no rows.")
    return data, kind


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


def _seed(random_seed, where: str) -> int:
    """One integer seed (drawn when none is given), so every side of a comparison shares it."""
    seed = check_seed(random_seed, where=where)
    return int(np.random.default_rng(seed).integers(2**63 - 1))


@dataclass
class Request:
    """One call's checked arguments: the rows to evaluate (``frame``), the target, the
    options, one seed for every side, and the grouping of the averages (``groups`` None:
    unit level)."""

    model: object
    idata: object
    target: str
    options: dict
    seed: int
    frame: pd.DataFrame
    by_columns: list
    groups: np.ndarray | None
    labels: pd.DataFrame | None
    weights: np.ndarray | None
    kind: str = "pandas"
    return_type: str | None = None

    def side(self, frame: pd.DataFrame) -> _Rows:
        """``frame`` (the request's rows with other values) prepared for evaluation."""
        return _prepare(self.model, self.idata, frame, self.target, self.options, self.seed)

    def evaluate(self, sides, combine) -> np.ndarray:
        """``combine`` of the sides' values, unit by unit or averaged (`_evaluate`)."""
        n_groups = 0 if self.labels is None else len(self.labels)
        return _evaluate(
            sides, combine, self.groups, n_groups, self.weights, self.options, self.seed
        )

    def table(self, draws: np.ndarray, labels: dict | None = None) -> Interpretation:
        """``draws`` summarised, each row labelled by ``labels`` (name -> one value) and by
        its unit (the formula's variables, with ``frame``'s index) or its group."""
        if self.groups is None:
            units, index, n = (
                _unit_columns(self.model, self.frame),
                self.frame.index,
                len(self.frame),
            )
        else:
            units = {c: self.labels[c].to_numpy() for c in self.by_columns}
            index, n = None, len(self.labels)
        leading = {name: [value] * n for name, value in (labels or {}).items()}
        return _table(self.model, draws, {**leading, **units}, n, self.options["prob"], index)

    def result(self, table: Interpretation):
        """``table`` in the caller's kind of frame (``data``'s, or ``return_type``)."""
        return as_kind(table, self.kind, self.return_type)

    def concat(self, tables: list[Interpretation]) -> Interpretation:
        """One table of several quantities' tables, with their draws side by side."""
        if len(tables) == 1:
            return tables[0]
        frames = [pd.DataFrame(t) for t in tables]
        out = Interpretation(pd.concat(frames, ignore_index=self.groups is not None))
        out.draws = np.concatenate([t.draws for t in tables], axis=1)
        out.prob = tables[0].prob
        return out


def request(model, idata, data, *, where, target, by, average, wts, **options) -> Request:
    """Check a call's arguments (``options``: prob, include_group_specific,
    sample_new_groups, random_seed, chunk_size, progressbar, return_type) into a `Request`."""
    check_model(model, where)
    return_type = options.pop("return_type", None)
    if return_type is not None and return_type not in RETURN_TYPES:
        raise PredictionError(
            f"{where}: return_type must be one of {list(RETURN_TYPES)} or None, got "
            f"{return_type!r}."
        )
    check_idata(idata, "posterior", where, "pass the result of model.fit().")
    target = _check_target(model, target, where)
    seed = _seed(options.pop("random_seed"), where)
    options = _options(where, **options)
    frame, kind = _frame(model, data, where)
    by_columns, groups, labels, weights = _grouping(frame, by, average, wts, where)
    return Request(
        model,
        idata,
        target,
        options,
        seed,
        frame,
        by_columns,
        groups,
        labels,
        weights,
        kind,
        return_type,
    )
