"""Conditional predictions: a parameter of the likelihood (or responses) along one predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from bayesformula.core.tree import make_tree
from bayesformula.core.validate import check_choice, check_int, check_seed
from bayesformula.errors import PredictionError
from bayesformula.formula.design import evaluate_new_data
from bayesformula.plots._checks import OBS_DIM, check_idata, check_model, check_prob
from bayesformula.plots.grid import conditional_grid, value_label
from bayesformula.results.predict import param_draws, prepare

__all__ = ["plot_predictions"]

_KINDS = {"response_params": "response_params", "mean": "response_params"}
_KINDS.update({"response": "response", "pps": "response"})
#: What the parent parameter of a family is on the response's scale (the y axis label names
#: it); observed responses are drawn beside it. Families not listed have a parent on another
#: scale (lognormal's mu is on the log scale, a zero-inflated Poisson's mu is the rate of its
#: Poisson part), shown under the parameter's name and without observed points.
PARENT_MEANING = {
    **dict.fromkeys(
        (
            "gaussian",
            "t",
            "bernoulli",
            "binomial",
            "beta_binomial",
            "poisson",
            "negativebinomial",
            "gamma",
            "beta",
            "exponential",
            "weibull",
            "wald",
        ),
        "mean",
    ),
    "laplace": "median",
    "asymmetriclaplace": "quantile",
    "skewnormal": "location",
    "vonmises": "mean direction",
}


def _check_per_row(name: str, extra: list) -> None:
    """One value per grid row: a parameter or response with ``extra`` dimensions (one value
    per response category) is an error."""
    if extra:
        raise PredictionError(
            f"plot_predictions draws one value per row, but '{name}' has the extra "
            f"dimensions {extra} (a multi-category response); use model.predict directly."
        )


def _response_draws(model, pred, n_rows: int) -> np.ndarray:
    da = pred.posterior_predictive[model.response_name]
    _check_per_row(str(da.name), [d for d in da.dims if d not in ("chain", "draw", OBS_DIM)])
    values = da.transpose("chain", "draw", OBS_DIM).values
    return values.reshape(-1, n_rows).astype(float)


def _param_values(model, idata, grid: pd.DataFrame, target: str, random_seed) -> np.ndarray:
    """Draws ``(S, len(grid))`` of the family's parameter ``target`` on the grid rows, for a
    typical group (`bayesformula.results.predict.param_draws`)."""
    prepared = prepare(
        model.spec,
        idata,
        kind="response_params",
        data=grid,
        include_group_specific=False,
        rng=np.random.default_rng(random_seed),
    )
    value = np.asarray(param_draws(model.spec, prepared)[target], dtype=float)
    shape = (prepared.n_draws, prepared.n_rows)
    _check_per_row(target, [f"axis {i}" for i in range(2, value.ndim)])
    return np.broadcast_to(value if value.ndim else value.reshape(1, 1), shape)


def _check_target(model, target, kind: str) -> str:
    family = model.family
    if target is None:
        return family.parent
    known = [family.parent, *family.aux_names]
    target = check_choice(target, "target", known, "plot_predictions()")
    if kind == "response" and target != family.parent:
        raise PredictionError(
            f"plot_predictions(target='{target}') draws a parameter, but kind='response' draws "
            "new responses; leave kind at 'response_params' to plot the parameter, or leave "
            "target out to plot responses."
        )
    return target


def _ylabel(model, variables, kind: str, target: str) -> str:
    """The response on the plotted scale and what is shown of it: ``Reaction (mean)``,
    ``deaths / n (mean)``, ``seizures (psi: P(not an extra zero))``."""
    name = model.response_name
    scale = name
    if model.design.response.kind == "proportion" and target == model.family.parent:
        denominator = variables.trials[0] if len(variables.trials) == 1 else "trials"
        scale = f"{name} / {denominator}"
    if kind == "response":
        return f"{scale} (posterior predictive)"
    if target == model.family.parent:
        return f"{scale} ({PARENT_MEANING.get(model.family.name, target)})"
    descriptions = {p.name: p.description for p in model.family.aux}
    what = f"{target}: {descriptions[target]}" if descriptions.get(target) else target
    return f"{name} ({what})"


def _observed(model, variables, covariate: str):
    """Observed (x, y) on the scale of the plot: y, or successes / trials for p(y, n)."""
    response = model.design.response
    if response.kind not in ("numeric", "proportion") or np.ndim(response.values) != 1:
        return None
    y = np.asarray(response.values, dtype=float)
    if response.kind == "proportion":
        y = y / np.asarray(response.trials, dtype=float)
    x = variables.data[covariate]
    if len(x) != len(y):
        return None
    return x.to_numpy(), y


def plot_predictions(
    model,
    idata,
    covariate: str,
    by: str | None = None,
    kind: str = "response_params",
    prob: float = 0.94,
    data: pd.DataFrame | None = None,
    n_points: int = 100,
    ax=None,
    random_seed=None,
    target: str | None = None,
):
    """Plot conditional predictions along one predictor (conditional effects).

    Builds a grid over ``covariate`` (``n_points`` evenly spaced values from its minimum to
    its maximum, or its levels if it is categorical), optionally crossed with the values of
    ``by``, and holds every other predictor of the formula at its mean (numeric) or its most
    common value (categorical). Predictions leave group-specific effects out: they are for a
    typical group. The figure shows the posterior mean and the central ``prob`` interval: a
    line and band for a numeric covariate, points with error bars for a categorical one, one
    colour per ``by`` value. Observed data are drawn as points when they are on the scale of
    the plot (``kind="response"``, or a parent parameter on the response's scale, such as the
    mean ``mu`` of a gaussian model or ``p`` of a binomial one; a ``p(y, n)`` response is
    shown as the proportion ``y / n``).

    The y axis names the response and what is shown of it: ``Reaction (mean)``,
    ``deaths / n (mean)`` (the probability ``p``), ``deaths / n (posterior predictive)``, or
    the parameter, ``seizures (psi: P(not an extra zero))``, ``Reaction (sigma)``.

    Like Bambi's ``plot_predictions`` and brms's ``conditional_effects``.

    Parameters
    ----------
    model : bayesformula.Model
        The fitted model.
    idata : xarray.DataTree
        The result of `Model.fit` (needs the ``posterior`` group).
    covariate : str
        The predictor on the x axis: a data column the formula uses.
    by : str, optional
        A predictor drawn as one coloured line per value: each level of a categorical
        column; for a numeric column its values if it has at most 5, else its 10%, 30%, 50%,
        70% and 90% quantiles.
    kind : {"response_params", "response"}, default "response_params"
        Plot the family's parent parameter (``mu``, ``p``), or new responses drawn from the
        posterior predictive distribution (for ``p(y, n)`` as proportions ``y / n``, with
        ``n`` held at its most common value).
    prob : float, default 0.94
        Probability of the central (equal-tailed) interval.
    data : pandas.DataFrame, optional
        Data whose ranges, levels and typical values define the grid (default: the data the
        model was built on). The observed points always show the model's data.
    n_points : int, default 100
        Number of grid values of a numeric covariate.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    random_seed : int, optional
        Seed of the response draws for ``kind="response"``.
    target : str, optional
        The family's parameter to plot with ``kind="response_params"``: its parent
        (``mu``, ``p``; the default) or an auxiliary parameter such as the ``psi`` of a
        zero-inflated family or the ``sigma`` of a model with ``sigma ~ x``. An auxiliary
        parameter without a formula of its own is the same in every row (a flat line and
        band).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    PredictionError
        If ``covariate`` or ``by`` is not a predictor of the formula (the message suggests the
        nearest name), ``idata`` has no posterior, or ``target`` is given with
        ``kind="response"``.
    ArgumentError
        If ``kind`` or ``target`` is unknown (the message lists the known ones), or ``prob``
        is not in (0, 1).

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig = bf.plot_predictions(model, idata, "dose")  # doctest: +SKIP
    >>> fig.savefig("dose_response.png")  # doctest: +SKIP
    >>> fig.axes[0].get_ylabel()  # doctest: +SKIP
    'deaths / n (mean)'
    """
    import matplotlib.pyplot as plt

    check_model(model, "plot_predictions()")
    kind = _KINDS[check_choice(kind, "kind", list(_KINDS), "plot_predictions()")]
    target = _check_target(model, target, kind)
    prob = check_prob(prob, "plot_predictions()")
    check_idata(idata, "posterior", "plot_predictions", "pass the result of model.fit().")
    n_points = check_int(n_points, "n_points", "plot_predictions()", minimum=2)
    random_seed = check_seed(random_seed, where="plot_predictions()")
    variables, grid, xs, by_levels = conditional_grid(
        model, covariate, by, data, n_points, "covariate", "plot_predictions()"
    )

    light = make_tree({"posterior": idata["posterior"]})
    response = model.design.response
    if kind == "response":
        pred = model.predict(
            light,
            data=grid,
            kind=kind,
            inplace=False,
            include_group_specific=False,
            random_seed=random_seed,
        )
        values = _response_draws(model, pred, len(grid))
        if response.kind == "proportion":
            values = values / evaluate_new_data(model.design, grid, need_trials=True).trials
    else:
        values = _param_values(model, light, grid, target, random_seed)
    mean = values.mean(axis=0)
    low, high = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2], axis=0)

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    categorical = covariate in variables.categorical
    n_x, n_by = len(xs), len(by_levels)
    positions = np.arange(n_x, dtype=float)
    for i, level in enumerate(by_levels):
        rows = slice(i * n_x, (i + 1) * n_x)
        color = f"C{i}"
        label = None if by is None else value_label(level)
        if categorical:
            shift = (i - (n_by - 1) / 2) * min(0.15, 0.6 / n_by)
            ax.errorbar(
                positions + shift,
                mean[rows],
                yerr=np.vstack([mean[rows] - low[rows], high[rows] - mean[rows]]),
                fmt="o",
                color=color,
                capsize=3,
                label=label,
            )
        else:
            ax.fill_between(xs, low[rows], high[rows], color=color, alpha=0.25, linewidth=0)
            ax.plot(xs, mean[rows], color=color, label=label)

    observed = None
    on_response_scale = target == model.family.parent and model.family.name in PARENT_MEANING
    if response.kind in ("numeric", "proportion") and (kind == "response" or on_response_scale):
        observed = _observed(model, variables, covariate)
    if observed is not None:
        x_obs, y_obs = observed
        colors = np.full(len(x_obs), "black", dtype=object)
        if by is not None and by in variables.categorical:  # colour points like their line
            colour_of = {level: f"C{i}" for i, level in enumerate(by_levels)}
            colors = np.array([colour_of.get(v, "black") for v in variables.data[by]], object)
        if categorical:
            where = {level: k for k, level in enumerate(xs)}
            keep = np.array([x in where for x in x_obs], dtype=bool)
            x_obs = np.array([where[x] for x in x_obs[keep]], dtype=float)
            y_obs, colors = y_obs[keep], colors[keep]
        ax.scatter(
            x_obs,
            y_obs,
            s=14,
            c=list(colors),
            edgecolors="black",
            linewidths=0.5,
            alpha=0.4 if categorical else 0.7,
            zorder=1 if categorical else 3,
        )
    if categorical:
        ax.set_xticks(positions, labels=[value_label(x) for x in xs])
    ax.set_xlabel(covariate)
    ax.set_ylabel(_ylabel(model, variables, kind, target))
    shown = "posterior predictive" if kind == "response" else target
    ax.set_title(f"{shown}: posterior mean and {prob:.0%} interval", fontsize="medium")
    handles, labels = ax.get_legend_handles_labels()
    if observed is not None:  # a neutral marker: the points may carry the by colours
        handles.append(Line2D([], [], ls="", marker="o", ms=4, mfc="lightgrey", mec="black"))
        labels.append("observed")
    if handles:
        ax.legend(handles, labels, title=by, fontsize="small")
    return ax.get_figure()
