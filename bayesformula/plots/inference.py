"""ArviZ-based figures: prior predictive, trace, posterior, posterior predictive check.

Thin wrappers around ArviZ 1's plots (``arviz.plot_dist``, ``plot_trace_dist``,
``plot_ppc_dist``) that know the model: they pick the model's parameters (leaving out
per-observation variables), draw what is missing and return the matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np

from bayesformula.core.tree import dataset, has_group, make_tree
from bayesformula.core.validate import check_int
from bayesformula.errors import PredictionError
from bayesformula.plots._checks import (
    OBS_DIM,
    check_idata,
    check_model,
    check_prob,
    check_var_names,
    figure_of,
    parameter_names,
)
from bayesformula.plots._ppc import Y_LABELS, clip_to_support, in_sample, on_scale, response_scale

__all__ = ["plot_prior_predictive", "plot_trace", "plot_posterior", "plot_ppc"]


def _select(dataset, var_names, group: str) -> list[str]:
    if var_names is None:
        return parameter_names(dataset)
    return check_var_names(var_names, [str(v) for v in dataset.data_vars], group)


def plot_prior_predictive(model, idata=None, draws: int = 500, random_seed=None, **kwargs: Any):
    """Plot the prior predictive distribution of the response against the observed one.

    Each thin line is the distribution of one simulated data set drawn from the prior; the
    dark line is the observed response. Priors that put the observed data far in the tails of
    the simulated ones deserve a second look.

    Parameters
    ----------
    model : bayesformula.Model
        The model.
    idata : xarray.DataTree, optional
        The result of ``model.prior_predictive()`` (groups ``prior_predictive`` and
        ``observed_data``). Drawn here when not given. Prior predictive draws of other rows
        than the observed ones are replaced by draws for the observed rows, as in `plot_ppc`,
        which also describes the scale and support of the figure.
    draws : int, default 500
        Number of prior draws when ``idata`` is not given.
    random_seed : int, optional
        Seed of the prior draws and of the subset of draws shown.
    **kwargs
        Passed to `arviz.plot_ppc_dist` (for example ``kind="ecdf"``); ``num_samples`` (or
        ArviZ 0.x's name for it, ``num_pp_samples``) shows that many of the simulated data
        sets (default: all).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> fig = bf.plot_prior_predictive(model, draws=200, random_seed=1)  # doctest: +SKIP
    """
    check_model(model, "plot_prior_predictive()")
    if idata is None:
        idata = model.prior_predictive(draws=draws, random_seed=random_seed)
    fix = "pass the result of model.prior_predictive(), or leave idata=None."
    check_idata(idata, "prior_predictive", "plot_prior_predictive", fix)
    check_idata(idata, "observed_data", "plot_prior_predictive", fix)
    _check_response(model, idata["prior_predictive"], "prior_predictive")
    idata = in_sample(model, idata, "prior_predictive", random_seed, "plot_prior_predictive()")
    num_samples = kwargs.pop("num_samples", kwargs.pop("num_pp_samples", None))
    num_samples = check_int(
        num_samples, "num_samples", "plot_prior_predictive()", minimum=1, allow_none=True
    )
    return _ppc_figure(model, idata, "prior_predictive", num_samples, random_seed, kwargs)


def _ppc_figure(model, idata, group: str, num_samples: int | None, random_seed, kwargs):
    """`arviz.plot_ppc_dist` of ``num_samples`` simulated data sets (None: all), chosen with
    ``random_seed``, against the observed response, on the response's scale and support."""
    name = model.response_name
    scale = response_scale(model)
    predictive = dataset(idata, group)[[name]]
    total = predictive.sizes["chain"] * predictive.sizes["draw"]
    num_samples = total if num_samples is None else max(1, min(int(num_samples), total))
    stacked = predictive.stack(sample=("chain", "draw"))
    picked = np.random.default_rng(random_seed).choice(total, size=num_samples, replace=False)
    subset = stacked.isel(sample=np.sort(picked)).drop_vars(["sample", "chain", "draw"])
    subset = subset.rename(sample="draw").expand_dims("chain").transpose("chain", "draw", ...)
    subset = on_scale(subset.assign_coords(chain=[0], draw=np.arange(num_samples)), scale)
    observed = on_scale(dataset(idata, "observed_data")[[name]], scale)
    values = np.asarray(observed[name].values, dtype=float)
    if scale.discrete or np.all(np.isfinite(values) & (values == np.round(values))):
        # counts, categories and proportions of counts: densities of discrete data mislead
        kwargs.setdefault("kind", "ecdf")
    kwargs.setdefault("kind", "kde")
    if group == "prior_predictive":  # ArviZ leaves the data out of prior checks by default
        kwargs["visuals"] = {"observed_dist": {}, **(kwargs.get("visuals") or {})}
    figure_kwargs = kwargs["figure_kwargs"] = dict(kwargs.get("figure_kwargs") or {})
    figure_kwargs.setdefault("layout", "constrained")  # room for the axis labels
    tree = make_tree({group: subset, "observed_data": observed})
    plot = az.plot_ppc_dist(tree, group=group, var_names=[name], num_samples=num_samples, **kwargs)
    what = "Prior predictive" if group.startswith("prior") else "Posterior predictive"
    _label_predictive(plot, name, what, scale, Y_LABELS.get(kwargs["kind"], ""))
    return figure_of(plot)


def _label_predictive(plot, response: str, what: str, scale, ylabel: str) -> None:
    """Label the axes with the response on its scale, keep the x axis within the support, and
    add a legend for the simulated data sets and the observed response, styled like the lines
    ArviZ drew (read from its PlotCollection)."""
    from matplotlib.lines import Line2D

    (ax,) = figure_of(plot).axes
    ax.set_xlabel(scale.label)
    ax.set_ylabel(ylabel)
    clip_to_support(ax, scale.bounds)
    handles = []
    for visual, label in (("predictive_dist", what), ("observed_dist", "Observed")):
        if visual not in plot.viz.children:
            continue
        line = np.ravel(plot.viz[visual][response].values)[0]
        handles.append(Line2D([], [], color=line.get_color(), alpha=line.get_alpha(), label=label))
    ax.legend(handles=handles, frameon=False, loc="best")


def plot_trace(idata, var_names=None, **kwargs: Any):
    """Trace plot of posterior draws: density per chain (left) and draws in order (right).

    A thin wrapper of `arviz.plot_trace_dist` that leaves per-observation variables (dims
    containing ``__obs__``, such as ``mu`` added by ``predict``) out by default.

    Parameters
    ----------
    idata : xarray.DataTree
        The result of `Model.fit`.
    var_names : str or list of str, optional
        Variables to show. Default: every posterior variable that is not per-observation
        (without the internal ``Intercept_centered`` when ``Intercept`` is there).
    **kwargs
        Passed to `arviz.plot_trace_dist` (for example ``compact=False``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig = bf.plot_trace(idata, var_names=["Intercept", "dose"])  # doctest: +SKIP
    """
    fix = "pass the result of model.fit()."
    check_idata(idata, "posterior", "plot_trace", fix)
    names = _select(idata["posterior"], var_names, "posterior")
    return figure_of(az.plot_trace_dist(idata, var_names=names, **kwargs))


def plot_posterior(idata, var_names=None, prob: float = 0.94, **kwargs: Any):
    """Posterior density of each parameter with its mean and highest-density interval.

    A thin wrapper of `arviz.plot_dist` that leaves per-observation variables out
    by default.

    Parameters
    ----------
    idata : xarray.DataTree
        The result of `Model.fit`.
    var_names : str or list of str, optional
        Variables to show. Default: every posterior variable that is not per-observation
        (without the internal ``Intercept_centered`` when ``Intercept`` is there).
    prob : float, default 0.94
        Probability mass of the highest-density interval drawn under each density.
    **kwargs
        Passed to `arviz.plot_dist`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig = bf.plot_posterior(idata, var_names="dose", prob=0.9)  # doctest: +SKIP
    """
    fix = "pass the result of model.fit()."
    check_idata(idata, "posterior", "plot_posterior", fix)
    prob = check_prob(prob, "plot_posterior")
    names = _select(idata["posterior"], var_names, "posterior")
    kwargs.setdefault("ci_kind", "hdi")
    kwargs.setdefault("point_estimate", "mean")
    return figure_of(az.plot_dist(idata, var_names=names, ci_prob=prob, **kwargs))


def plot_ppc(model, idata, num_pp_samples: int = 100, random_seed=None, **kwargs: Any):
    """Posterior predictive check: simulated response distributions against the observed one.

    The check always compares responses simulated for the observed rows. When ``idata`` has
    no ``posterior_predictive`` group, or holds predictions on other rows there (after
    ``model.predict(idata, data=new_df, kind="response")``: another number of rows, other
    ``__obs__`` labels, or ``attrs["in_sample"] = False``), responses for the observed rows
    are drawn on a copy with ``model.predict(..., kind="response", inplace=False)``;
    ``idata`` itself is not changed.

    The response is drawn on its own scale and within its support: counts from 0 up (the
    x axis ends at the support's bounds), a ``p(y, n)`` response as counts from 0 to ``n`` when
    every row has the same trials and as proportions ``y / n`` otherwise. Discrete responses
    are drawn as empirical CDFs. The axes name the response and what the y axis shows.

    Parameters
    ----------
    model : bayesformula.Model
        The fitted model.
    idata : xarray.DataTree
        The result of `Model.fit` (groups ``posterior`` and ``observed_data``), with or
        without ``posterior_predictive``.
    num_pp_samples : int, default 100
        Number of simulated data sets drawn as thin lines (at most the number of draws).
    random_seed : int, optional
        Seed of the response draws and of the subset of draws shown.
    **kwargs
        Passed to `arviz.plot_ppc_dist` (for example ``kind="kde"``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    PredictionError
        If ``idata`` has neither in-sample ``posterior_predictive`` draws nor a ``posterior``
        to draw them from, or its draws are not of the model's response.

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig = bf.plot_ppc(model, idata, random_seed=1)  # doctest: +SKIP
    >>> fig.axes[0].get_xlabel()  # doctest: +SKIP
    'deaths (out of n = 5)'
    >>> "posterior_predictive" in idata.children  # doctest: +SKIP
    False
    """
    check_model(model, "plot_ppc()")
    fix = "pass the result of model.fit()."
    check_idata(idata, "observed_data", "plot_ppc", fix)
    if has_group(idata, "posterior_predictive"):
        _check_response(model, idata["posterior_predictive"], "posterior_predictive")
    idata = in_sample(model, idata, "posterior_predictive", random_seed, "plot_ppc()")
    _check_response(model, idata["posterior_predictive"], "posterior_predictive")
    num_samples = kwargs.pop("num_samples", num_pp_samples)
    num_samples = check_int(num_samples, "num_pp_samples", "plot_ppc()", minimum=1, allow_none=True)
    return _ppc_figure(model, idata, "posterior_predictive", num_samples, random_seed, kwargs)


def _check_response(model, dataset, group: str) -> None:
    name = model.response_name
    if name not in dataset.data_vars:
        raise PredictionError(
            f"the '{group}' group has no variable '{name}' (the model's response); it has "
            f"{[str(v) for v in dataset.data_vars]}. Was idata produced by this model?"
        )
    if OBS_DIM not in dataset[name].dims:
        raise PredictionError(f"'{name}' in the '{group}' group has no '{OBS_DIM}' dimension.")


def model_graph(pm_model, formatting="plain", name=None, figsize=None, dpi=300, fmt="png"):
    """Draw a PyMC model with ``pymc.model_to_graphviz`` (needs the graphviz package); with
    ``name`` the figure is also saved as ``name.fmt``."""
    import pymc as pm

    try:
        graph = pm.model_to_graphviz(pm_model, formatting=formatting, figsize=figsize, dpi=dpi)
    except ImportError as err:
        raise ImportError(
            f"model.graph() needs graphviz: pip install graphviz (and the system graphviz "
            f"package). ({err})"
        ) from None
    if name is not None:
        graph.render(filename=name, format=fmt, cleanup=True)
    return graph
