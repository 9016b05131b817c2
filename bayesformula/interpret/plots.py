"""Comparisons and slopes along one predictor, as `bayesformula.plot_predictions` draws
predictions: a line and band over a numeric predictor, points and error bars over the levels of
a categorical one, one colour per value of ``by``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesformula.core.validate import check_int
from bayesformula.interpret.effects import comparisons
from bayesformula.interpret.slopes import slopes
from bayesformula.plots._checks import check_idata, check_model, check_prob
from bayesformula.plots.grid import conditional_grid, value_label

__all__ = ["plot_comparisons", "plot_slopes"]


def _grid(model, idata, condition, by, data, n_points, where):
    check_model(model, where)
    check_idata(idata, "posterior", where, "pass the result of model.fit().")
    n_points = check_int(n_points, "n_points", where, minimum=2)
    variables, grid, xs, by_levels = conditional_grid(
        model, condition, by, data, n_points, "condition", where
    )
    return grid, xs, by_levels, condition in variables.categorical


def _draw(result, what, xs, by, by_levels, categorical, prob, condition, ylabel, baseline, ax):
    """One line (or set of points) per ``by`` value and per quantity of ``result`` (each
    contrast, or each response level)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    keys = [c for c in (what, "level") if c in result.columns]
    quantities = result[keys].drop_duplicates().itertuples(index=False) if keys else [()]
    quantities = list(quantities)
    n_x = len(xs)
    lower, upper = result.columns[-2], result.columns[-1]
    positions = np.arange(n_x, dtype=float)
    series = [(q, level) for q in quantities for level in by_levels]
    for i, (quantity, level) in enumerate(series):
        rows = np.ones(len(result), dtype=bool)
        for key, value in zip(keys, quantity, strict=True):
            rows &= (result[key] == value).to_numpy()
        if by is not None:
            rows &= (result[by] == level).to_numpy()
        part = result[rows]
        mean, low, high = (part[c].to_numpy(float) for c in ("estimate", lower, upper))
        text = [str(v) for v in quantity if len(quantities) > 1]
        if by is not None:
            text.append(f"{by} = {value_label(level)}")
        label = ", ".join(text) or None
        color = f"C{i}"
        if categorical:
            shift = (i - (len(series) - 1) / 2) * min(0.15, 0.6 / len(series))
            ax.errorbar(
                positions + shift,
                mean,
                yerr=np.vstack([mean - low, high - mean]),
                fmt="o",
                color=color,
                capsize=3,
                label=label,
            )
        else:
            ax.fill_between(xs, low, high, color=color, alpha=0.25, linewidth=0)
            ax.plot(xs, mean, color=color, label=label)
    ax.axhline(baseline, color="grey", lw=0.8, ls=":")
    if categorical:
        ax.set_xticks(positions, labels=[value_label(x) for x in xs])
    ax.set_xlabel(condition)
    ax.set_ylabel(ylabel)
    ax.set_title(f"posterior mean and {prob:.0%} interval", fontsize="medium")
    if any(label for label in ax.get_legend_handles_labels()[1]):
        ax.legend(fontsize="small")
    return ax.get_figure()


def plot_comparisons(
    model,
    idata,
    variable,
    condition: str,
    by: str | None = None,
    *,
    comparison="difference",
    target: str = "mean",
    prob: float = 0.94,
    data: pd.DataFrame | None = None,
    n_points: int = 50,
    ax=None,
    random_seed=None,
):
    """Plot `bayesformula.comparisons` of ``variable`` along ``condition``.

    The grid is `plot_predictions`': ``condition`` over its range (or its levels), crossed
    with the values of ``by``, every other predictor at its mean or most common value, for a
    typical group (group-specific effects left out).

    Parameters
    ----------
    variable : str or dict
        The predictor to change, with its contrast as ``{name: contrast}`` (see
        `bayesformula.comparisons`); several contrasts (a categorical predictor's levels)
        draw one line each.
    condition : str
        The predictor on the x axis.
    by : str, optional
        A predictor drawn as one colour per value.
    comparison, target, prob
        As for `bayesformula.comparisons` (``prob``: the highest-density interval).
    data : pandas.DataFrame, optional
        Data whose ranges and typical values define the grid (default: the model's).
    n_points : int
        Grid values of a numeric condition.
    ax : matplotlib.axes.Axes, optional
    random_seed
        As for `bayesformula.comparisons`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    where = "plot_comparisons()"
    prob = check_prob(prob, where)
    grid, xs, by_levels, categorical = _grid(model, idata, condition, by, data, n_points, where)
    result = comparisons(
        model,
        idata,
        variable,
        grid,
        comparison=comparison,
        target=target,
        prob=prob,
        include_group_specific=False,
        random_seed=random_seed,
    )
    name = comparison if isinstance(comparison, str) else getattr(comparison, "__name__", "f")
    terms = ", ".join(dict.fromkeys(result["term"]))
    ylabel = f"{name} in {target} ({terms})"
    baseline = 1.0 if comparison == "ratio" else 0.0
    return _draw(
        result, "contrast", xs, by, by_levels, categorical, prob, condition, ylabel, baseline, ax
    )


def plot_slopes(
    model,
    idata,
    variable: str,
    condition: str,
    by: str | None = None,
    *,
    slope: str = "dydx",
    target: str = "mean",
    prob: float = 0.94,
    data: pd.DataFrame | None = None,
    n_points: int = 50,
    ax=None,
):
    """Plot `bayesformula.slopes` of ``variable`` along ``condition`` (see `plot_comparisons`
    for the grid and the parameters).

    Returns
    -------
    matplotlib.figure.Figure
    """
    where = "plot_slopes()"
    prob = check_prob(prob, where)
    grid, xs, by_levels, categorical = _grid(model, idata, condition, by, data, n_points, where)
    result = slopes(
        model,
        idata,
        variable,
        grid,
        slope=slope,
        target=target,
        prob=prob,
        include_group_specific=False,
    )
    ylabel = f"{slope} of {target} in {variable}"
    return _draw(result, "slope", xs, by, by_levels, categorical, prob, condition, ylabel, 0.0, ax)
