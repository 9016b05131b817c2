"""pandas tables in statsmodels' vocabulary: summary, params, conf_int, prediction tables."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from bayesformula.core import progress
from bayesformula.core.frames import as_kind, to_pandas
from bayesformula.core.tree import groups, has_group, is_tree
from bayesformula.core.validate import (
    check_bool,
    check_int,
    check_names,
    check_prob,
    check_seed,
)
from bayesformula.errors import ArgumentError, ArgumentTypeError, DataTypeError, PredictionError
from bayesformula.results.display import ParameterTable
from bayesformula.results.predict import (
    _check_args,
    param_draws,
    prepare,
    response_draws,
)

__all__ = [
    "ParameterTable",
    "conf_int",
    "hdi_bounds",
    "parameter_order",
    "params",
    "prediction_table",
    "summary",
]

#: Variables a fit keeps for internal reasons; tables leave them out unless asked for.
INTERNAL_SUFFIXES = ("_centered", "_offset")

#: `summary`'s columns besides the interval bounds, which follow ``sd``.
SUMMARY_COLUMNS = ("mean", "sd", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat")

#: Rows per chunk are chosen so that one chunk holds at most this many draws x rows.
CHUNK_CELLS = 4_000_000


def _percent(p: float) -> str:
    return f"{100 * p:g}%"


def interval_names(prob: float, prefix: str = "hdi") -> tuple[str, str]:
    """Column names of a central interval, e.g. ``("hdi_3%", "hdi_97%")`` for 0.94."""
    return f"{prefix}_{_percent((1 - prob) / 2)}", f"{prefix}_{_percent((1 + prob) / 2)}"


def _check_kind(kind: str, where: str = "") -> str:
    """The interval kind: 'hdi' (highest-density) or 'eti' (equal-tailed)."""
    if kind in ("hdi", "eti"):
        return kind
    label = f"{where}: kind" if where else "kind"
    error = ArgumentError if isinstance(kind, str) else ArgumentTypeError
    raise error(
        f"{label} must be 'hdi' or 'eti' (highest-density or equal-tailed interval), got {kind!r}."
    )


def _check_prob(prob: float, where: str = "") -> float:
    """An interval probability strictly between 0 and 1 (0.94 for a 94% interval)."""
    return check_prob(prob, "prob", where)


def hdi_bounds(samples: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval of each column of ``samples`` (draws along axis 0).

    The narrowest interval holding ``floor(prob * n)`` + 1 sorted draws, as ArviZ computes it.
    """
    x = np.sort(np.asarray(samples, dtype=float), axis=0)
    n = x.shape[0]
    inside = int(np.floor(prob * n))
    n_intervals = n - inside
    if n_intervals < 1 or inside < 1:
        raise PredictionError(
            f"{n} draws are too few for a {prob:g} interval; draw more (fit(draws=...))."
        )
    widths = x[inside:] - x[:n_intervals]
    start = np.expand_dims(np.argmin(widths, axis=0), 0)
    lower = np.take_along_axis(x, start, axis=0)[0]
    upper = np.take_along_axis(x, start + inside, axis=0)[0]
    return lower, upper


def _posterior(idata):
    if not is_tree(idata):
        raise DataTypeError(
            "expected the fit from model.fit() (an xarray.DataTree with a 'posterior' group); "
            f"got {type(idata).__name__}."
        )
    if not has_group(idata, "posterior"):
        raise PredictionError(
            "expected the fit from model.fit() (an xarray.DataTree; it needs a 'posterior' "
            f"group); got {type(idata).__name__}"
            + (f" with groups {groups(idata)}" if groups(idata) else "")
            + "."
        )
    return idata["posterior"]


def _aux_params() -> dict[str, bool]:
    """Auxiliary parameters of the registered families -> whether one takes the intercept's
    place (ordinal thresholds)."""
    from bayesformula.families.registry import FAMILIES

    out: dict[str, bool] = {}
    for family in FAMILIES.values():
        for aux in family.aux:
            out[aux.name] = out.get(aux.name, False) or bool(aux.replaces_intercept)
    return out


#: Suffixes of a group-specific term's variables, stripped to find the term (``1|g_sigma``).
_GROUP_SUFFIXES = ("_sigma", "_offset")
#: Suffixes of variables of blocks of correlated terms, listed after the terms.
_BLOCK_SUFFIXES = ("_corr", "_cholesky", "_joint")


def parameter_order(names) -> list[str]:
    """Posterior variables in the order the model is written.

    The intercept first (with the parameters that take its place, ordinal thresholds), then
    the common terms, then the group-specific terms (each term's standard deviation before its
    effects, correlations after the terms), then the auxiliary parameters: a parameter with a
    formula of its own (``sigma_Intercept``, ``sigma_x``, ``sigma_1|g``) has its variables
    ordered the same way. Within each part the variables keep their order in ``names`` (the
    posterior's, in which the graph creates the terms in formula order).

    The parts are read from the names the model gives its variables
    (`bayesformula.graph.model`): ``|`` marks a group-specific term, and an auxiliary parameter
    of a registered family, or the prefix ``{param}_`` when ``param`` itself is not among
    ``names`` (it is then modelled by a formula), marks an auxiliary parameter's variables. A
    fit holds no family, so a predictor named like such a parameter (a column ``b`` or
    ``sigma``) is listed with the auxiliary parameters.

    Parameters
    ----------
    names : iterable of str
        Variable names, in the posterior's order.

    Returns
    -------
    list of str

    Examples
    --------
    >>> parameter_order(["x", "sigma", "Intercept", "1|g_sigma", "1|g"])
    ['Intercept', 'x', '1|g_sigma', '1|g', 'sigma']
    """
    names = [str(n) for n in names]
    aux = _aux_params()
    present = set(names)
    prefixes = sorted((p for p in aux if p not in present), key=len, reverse=True)
    owners: dict[str, int] = {}  # auxiliary parameter -> position of its first variable
    bases: dict[str, int] = {}  # group-specific term -> position of its first variable

    def key(position: int, name: str) -> tuple:
        owner, local = "", name
        root = name.removesuffix("_centered")
        if root in aux:  # the parameter itself: first in its part (thresholds: in the main)
            owner = "" if aux[root] else root
            local = "Intercept" if root == name else "Intercept_centered"
        else:
            for prefix in prefixes:
                if name.startswith(f"{prefix}_"):
                    owner, local = prefix, name[len(prefix) + 1 :]
                    break
        part = 0 if not owner else 1 + owners.setdefault(owner, position)
        if local in ("Intercept", "Intercept_centered"):
            return (part, 0, int(local != "Intercept"), 0, position)
        if "|" not in local:
            return (part, 1, 0, 0, position)
        if local.endswith(_BLOCK_SUFFIXES):
            return (part, 3, 0, 0, position)
        base = local
        for suffix in _GROUP_SUFFIXES:
            base = base.removesuffix(suffix)
        sub = 0 if local.endswith("_sigma") else (1 if base == local else 2)
        return (part, 2, bases.setdefault(f"{owner}:{base}", position), sub, position)

    keys = {name: key(i, name) for i, name in enumerate(names)}
    return sorted(names, key=keys.__getitem__)


def _default_vars(posterior, var_names, include_internal: bool) -> list[str]:
    """The variables a table shows: ``var_names`` in the order given, or every parameter in
    the order the model is written (`parameter_order`)."""
    if var_names is not None:
        known = [str(v) for v in posterior.data_vars]
        return check_names(var_names, "var_names", known, "posterior variable")
    names = []
    for name, da in posterior.data_vars.items():
        if "__obs__" in da.dims:
            continue
        if not include_internal and str(name).endswith(INTERNAL_SUFFIXES):
            continue
        names.append(str(name))
    return parameter_order(names)


def summary(
    idata,
    var_names: str | list[str] | None = None,
    prob: float = 0.94,
    include_internal: bool = False,
    round_to: int | None = None,
    kind: str = "hdi",
) -> pd.DataFrame:
    """Posterior summary as a DataFrame: one row per parameter (by term and level).

    Parameters
    ----------
    idata : xarray.DataTree
        From `bayesformula.Model.fit`.
    var_names : str or list of str, optional
        Variables to include (default: every parameter; per-observation quantities and the
        internal ``Intercept_centered`` / ``*_offset`` variables are left out).
    prob : float, default 0.94
        Probability of the interval.
    include_internal : bool, default False
        Also show the internal variables.
    round_to : int, optional
        Round the values themselves to this many decimals (a plain DataFrame, shown as
        pandas shows it). By default the values keep full precision and only their display
        is rounded.
    kind : {"hdi", "eti"}
        Highest-density interval (default) or equal-tailed interval.

    Returns
    -------
    ParameterTable
        A `pandas.DataFrame` whose display is rounded (`ParameterTable`) with columns
        ``mean``, ``sd``, ``hdi_3%``, ``hdi_97%`` (for ``prob=0.94``; ``eti_3%`` ... with
        ``kind="eti"``), ``mcse_mean``, ``mcse_sd``, ``ess_bulk``, ``ess_tail`` and ``r_hat``;
        rows named like ``dose``, ``a[mid]`` or ``1|g[g3]``, in the order the model is written
        (`parameter_order`). The columns are bayesformula's own and stay as they are whatever
        ArviZ calls them (docs/results.md explains the interval).

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=200, tune=200, chains=2, progressbar=False)  # doctest: +SKIP
    >>> bf.summary(idata).loc["dose", ["mean", "r_hat"]]  # doctest: +SKIP
    """
    where = "summary()"
    prob = _check_prob(prob, where)
    kind = _check_kind(kind, where)
    include_internal = check_bool(include_internal, "include_internal", where)
    round_to = check_int(round_to, "round_to", where, minimum=0, allow_none=True)
    posterior = _posterior(idata)
    names = _default_vars(posterior, var_names, include_internal)
    with warnings.catch_warnings():  # one chain: ArviZ warns about r_hat
        warnings.simplefilter("ignore", UserWarning)
        table = _statistics(posterior, names, prob, kind)
    lower, upper = interval_names(prob, kind)
    bounds = [c for c in table.columns if c.endswith(("_lb", "_ub"))]
    table = table.rename(columns={c: lower if c.endswith("_lb") else upper for c in bounds})
    table = table[list(SUMMARY_COLUMNS[:2]) + [lower, upper] + list(SUMMARY_COLUMNS[2:])]
    table = pd.DataFrame(table)
    table.index.name = "parameter"
    return table.round(round_to) if round_to is not None else ParameterTable(table)


def element_labels(dataset, sample_dims=("chain", "draw")) -> pd.Index:
    """ArviZ's row labels (``a[mid]``, ``b[x, y]``) of every element of every variable of
    ``dataset``, variable after variable, each variable's elements in C order over its
    dimensions other than ``sample_dims`` (the order of ``values.reshape`` after moving the
    sample dimensions out)."""
    from arviz_base.labels import BaseLabeller
    from arviz_base.sel_utils import xarray_sel_iter

    labeller = BaseLabeller()
    labels = [
        labeller.make_label_flat(name, sel, isel)
        for name, sel, isel in xarray_sel_iter(dataset, skip_dims=set(sample_dims))
    ]
    return pd.Index(labels, dtype=object)


def _statistics(posterior, names: list[str], prob: float, kind: str) -> pd.DataFrame:
    """ArviZ's summary statistics of ``names`` as its wide frame (``az.summary``'s rows, labels
    and values; the interval's columns ``{kind}{percent}_lb`` and ``_ub``).

    The same array functions ArviZ's summary applies per variable and statistic through
    xarray run here once over every element of every variable stacked, which on a small model
    costs a tenth of the xarray route (`bayesformula.fit_many` summarises every dataset);
    tests check the frame equals ArviZ's.
    """
    from arviz_stats.base import array_stats
    from arviz_stats.validate import validate_ci_prob

    subset = posterior.to_dataset()[names]
    labels = element_labels(subset)
    blocks = []
    for name in names:
        da = subset[name]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        values = da.transpose(*other, "chain", "draw").values
        blocks.append(values.reshape(-1, values.shape[-2], values.shape[-1]))
    draws = np.concatenate(blocks).astype(float, copy=False)
    axes = np.arange(-2, 0, 1)
    if kind == "eti":
        ci = array_stats.eti(draws, prob, axis=axes, method="linear", skipna=False)
    else:
        ci = array_stats.hdi(draws, prob, axis=axes, method="nearest", skipna=False)
    percent = int(prob * 100)
    columns = {
        "mean": array_stats.mean(draws, axis=axes, skipna=False),
        "sd": array_stats.std(draws, axis=axes, skipna=False),
        f"{kind}{percent}_lb": ci[..., 0],
        f"{kind}{percent}_ub": ci[..., 1],
    }
    for method in ("bulk", "tail"):
        columns[f"ess_{method}"] = array_stats.ess(
            draws,
            chain_axis=-2,
            draw_axis=-1,
            method=method,
            relative=False,
            prob=validate_ci_prob(None) if method == "tail" else None,
        )
    columns["r_hat"] = array_stats.rhat(draws, chain_axis=-2, draw_axis=-1, method="rank")
    for method in ("mean", "sd"):
        columns[f"mcse_{method}"] = array_stats.mcse(
            draws, chain_axis=-2, draw_axis=-1, method=method, prob=None, circular=False
        )
    return pd.DataFrame(columns, index=labels)


def _flat_draws(idata, var_names, include_internal) -> pd.DataFrame:
    """Draws as a (draws x parameters) frame with summary-style column names."""
    posterior = _posterior(idata)
    include_internal = check_bool(include_internal, "include_internal")
    names = _default_vars(posterior, var_names, include_internal)
    columns = {}
    for name in names:
        da = posterior[name]
        other = [d for d in da.dims if d not in ("chain", "draw")]
        values = da.transpose("chain", "draw", *other).values
        values = values.reshape(values.shape[0] * values.shape[1], -1)
        if not other:
            columns[name] = values[:, 0]
            continue
        labels = [da[d].values for d in other]
        grids = np.meshgrid(*labels, indexing="ij")
        flat = [g.ravel() for g in grids]
        for j in range(values.shape[1]):
            label = ", ".join(str(f[j]) for f in flat)
            columns[f"{name}[{label}]"] = values[:, j]
    return pd.DataFrame(columns)


def params(
    idata, var_names: str | list[str] | None = None, include_internal: bool = False
) -> pd.Series:
    """Posterior means as a Series named like `summary`'s rows.

    Examples
    --------
    >>> bf.params(idata)["dose"]  # doctest: +SKIP
    """
    draws = _flat_draws(idata, var_names, include_internal)
    out = draws.mean(axis=0)
    out.index.name = "parameter"
    out.name = "mean"
    return out


def conf_int(
    idata,
    prob: float = 0.94,
    var_names: str | list[str] | None = None,
    kind: str = "hdi",
    include_internal: bool = False,
) -> pd.DataFrame:
    """Credible intervals as two columns, ``lower`` and ``upper``, one row per parameter
    (a `ParameterTable`: full values, rounded display), rows ordered like `summary`'s.

    Parameters
    ----------
    prob : float, default 0.94
        Probability mass inside the interval.
    kind : {"hdi", "eti"}
        Highest-density interval, or equal-tailed (quantile) interval.

    Examples
    --------
    >>> bf.conf_int(idata, prob=0.9).loc["dose"]  # doctest: +SKIP
    """
    prob = _check_prob(prob, "conf_int()")
    kind = _check_kind(kind, "conf_int()")
    draws = _flat_draws(idata, var_names, include_internal)
    values = draws.to_numpy()
    if kind == "hdi":
        lower, upper = hdi_bounds(values, prob)
    else:
        lower, upper = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    out = ParameterTable({"lower": lower, "upper": upper}, index=draws.columns)
    out.index.name = "parameter"
    return out


def prediction_table(
    spec,
    idata,
    *,
    data: pd.DataFrame | None = None,
    kind: str = "response_params",
    prob: float = 0.94,
    include_group_specific: bool = True,
    sample_new_groups: bool = False,
    random_seed: Any = None,
    group: str = "posterior",
    chunk_size: int | None = None,
    progressbar: bool | None = None,
    return_type: str | None = None,
):
    """Summaries of predictions, one row per row of ``data``; see `Model.predictions`."""
    where = "predictions()"
    caller = "pandas"
    if data is not None:
        data, caller = to_pandas(data, "data", where)
    kind = _check_args(idata, kind, group, where)
    prob = _check_prob(prob, where)
    chunk_size = check_int(chunk_size, "chunk_size", where, minimum=1, allow_none=True)
    progressbar = check_bool(progressbar, "progressbar", where, allow_none=True)
    check_bool(include_group_specific, "include_group_specific", where)
    check_bool(sample_new_groups, "sample_new_groups", where)
    random_seed = check_seed(random_seed, where=where)
    rng = np.random.default_rng(random_seed)
    prepared = prepare(
        spec,
        idata,
        kind=kind,
        data=data,
        include_group_specific=include_group_specific,
        sample_new_groups=sample_new_groups,
        rng=rng,
        group=group,
    )
    n, s = prepared.n_rows, prepared.n_draws
    if chunk_size is None:
        chunk_size = max(1, CHUNK_CELLS // max(s, 1))
    chunk_size = int(chunk_size)
    starts = range(0, n, chunk_size)
    if progressbar is None:
        progressbar = len(starts) > 1
    lower, upper = interval_names(prob)
    p_lower, p_upper = interval_names(prob, "pi")
    q = [(1 - prob) / 2, (1 + prob) / 2]
    parts: dict[str, list[np.ndarray]] = {}

    def add(name, values):
        parts.setdefault(name, []).append(values)

    levels = spec.response_data.levels if spec.family.parent_over_levels else None
    with progress.bar(len(starts), progressbar) as bar:
        task = bar.add_task("predicting", total=len(starts)) if bar is not None else None
        for start in starts:
            rows = slice(start, min(start + chunk_size, n))
            params = param_draws(spec, prepared, rows)
            parent = params[spec.family.parent]
            if levels is not None:  # ordinal and categorical: a probability per level
                _level_columns(add, parent, levels, prob, s)
                if kind == "response":
                    y = response_draws(spec, prepared, parent, rng, rows, params=params)
                    if y.ndim == 3:  # counts per category
                        _response_count_columns(add, y, levels, prob)
                    else:
                        _response_level_columns(add, y, levels)
                if bar is not None:
                    bar.advance(task)
                continue
            lo, hi = hdi_bounds(parent, prob)
            add("mean", parent.mean(axis=0))
            add("sd", parent.std(axis=0, ddof=1) if s > 1 else np.zeros(parent.shape[1]))
            add(lower, lo)
            add(upper, hi)
            if kind == "response":
                y = response_draws(spec, prepared, parent, rng, rows, params=params)
                add("response_mean", y.mean(axis=0))
                add("response_sd", y.std(axis=0, ddof=1) if s > 1 else np.zeros(y.shape[1]))
                pl, pu = np.quantile(y, q, axis=0)
                add(p_lower, pl)
                add(p_upper, pu)
            if bar is not None:
                bar.advance(task)
    columns = {name: np.concatenate(values) for name, values in parts.items()}
    return as_kind(pd.DataFrame(columns, index=prepared.index), caller, return_type)


def _level_columns(add, parent: np.ndarray, levels, prob: float, s: int) -> None:
    """Per-level columns of category probabilities ``parent`` (S, rows, K): ``mean[level]``
    for every level, then ``sd[level]``, then the HDI bounds ``hdi_3%[level]`` ..."""
    lower, upper = interval_names(prob)
    lo, hi = hdi_bounds(parent, prob)
    sd = parent.std(axis=0, ddof=1) if s > 1 else np.zeros(parent.shape[1:])
    for stat, values in (("mean", parent.mean(axis=0)), ("sd", sd), (lower, lo), (upper, hi)):
        for j, level in enumerate(levels):
            add(f"{stat}[{level}]", values[:, j])


def _response_count_columns(add, y: np.ndarray, levels, prob: float) -> None:
    """Drawn counts per category (S, rows, K): ``response_mean[level]``, ``response_sd[level]``
    and the predictive interval ``pi_3%[level]``, ``pi_97%[level]`` of every level."""
    p_lower, p_upper = interval_names(prob, "pi")
    y = np.asarray(y, dtype=float)
    sd = y.std(axis=0, ddof=1) if y.shape[0] > 1 else np.zeros(y.shape[1:])
    lo, hi = np.quantile(y, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    for stat, values in (("response_mean", y.mean(axis=0)), ("response_sd", sd)):
        for j, level in enumerate(levels):
            add(f"{stat}[{level}]", values[:, j])
    for stat, values in ((p_lower, lo), (p_upper, hi)):
        for j, level in enumerate(levels):
            add(f"{stat}[{level}]", values[:, j])


def _response_level_columns(add, y: np.ndarray, levels) -> None:
    """Drawn categories (codes, S x rows): the share of draws in each level
    (``response[level]``) and the most frequent level (``response_mode``)."""
    codes = np.asarray(y, dtype=np.int64)
    shares = np.stack([(codes == j).mean(axis=0) for j in range(len(levels))], axis=1)
    for j, level in enumerate(levels):
        add(f"response[{level}]", shares[:, j])
    add("response_mode", np.asarray(levels, dtype=object)[shares.argmax(axis=1)])
