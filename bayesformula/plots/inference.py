"""ArviZ-based figures: priors, prior predictive, trace, posterior, posterior predictive check.

Thin wrappers around ArviZ that know the model: they pick the model's parameters (leaving out
per-observation variables), draw what is missing and return the Figure.
"""

from __future__ import annotations

from typing import Any

import arviz as az

from bayesformula.core.prior import Prior
from bayesformula.errors import PredictionError
from bayesformula.plots._checks import (
    OBS_DIM,
    check_idata,
    check_prob,
    check_var_names,
    figure_of,
    parameter_names,
)

__all__ = ["plot_priors", "plot_prior_predictive", "plot_trace", "plot_posterior", "plot_ppc"]


def _model_parameters(model) -> list[str]:
    """The model's parameters in table order: common terms, group terms and sigmas, aux."""
    priors = model.priors
    names = list(priors.common)
    for term, prior in priors.group.items():
        names.append(term)
        if isinstance(prior.args.get("sigma"), Prior):
            names.append(f"{term}_sigma")
    names += [name for name, prior in priors.aux.items() if isinstance(prior, Prior)]
    return names


def _select(dataset, var_names, group: str) -> list[str]:
    if var_names is None:
        return parameter_names(dataset)
    return check_var_names(var_names, [str(v) for v in dataset.data_vars], group)


def plot_priors(model, draws: int = 1000, var_names=None, random_seed=None, **kwargs: Any):
    """Plot the prior density of each parameter of the model.

    Draws from the prior with `Model.prior_predictive` (forward sampling, no MCMC) and
    shows one density panel per parameter (and per level of vector-valued ones, such as the
    effects of a categorical term or of a group-specific term).

    Parameters
    ----------
    model : bayesformula.Model
        The model whose priors to show.
    draws : int, default 1000
        Number of prior draws.
    var_names : str or list of str, optional
        Parameters to show (for example ``["dose", "Intercept"]``, ``"1|g_sigma"``,
        ``"sigma"``). Default: every parameter of the model, without per-observation
        variables and without the sampler's internal ``Intercept_centered``.
    random_seed : int, optional
        Seed of the prior draws.
    **kwargs
        Passed to `arviz.plot_posterior` (for example ``figsize``, ``hdi_prob``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> fig = bf.plot_priors(model, draws=500, random_seed=1)  # doctest: +SKIP
    >>> fig.savefig("priors.png")  # doctest: +SKIP
    """
    idata = model.prior_predictive(draws=draws, random_seed=random_seed)
    prior = idata.prior
    if var_names is None:
        known = set(parameter_names(prior))
        names = [n for n in _model_parameters(model) if n in known] or sorted(known)
    else:
        names = check_var_names(var_names, [str(v) for v in prior.data_vars], "prior")
    axes = az.plot_posterior(idata, group="prior", var_names=names, **kwargs)
    return figure_of(axes)


def plot_prior_predictive(model, idata=None, draws: int = 500, random_seed=None, **kwargs: Any):
    """Plot the prior predictive distribution of the response against the observed one.

    Each thin line is the distribution of one simulated data set drawn from the prior; the
    dark line is the observed response. Priors that put the observed data far in the tails of
    the simulated ones deserve a second look.

    Parameters
    ----------
    model : bayesformula.Model
        The model.
    idata : arviz.InferenceData, optional
        The result of ``model.prior_predictive()`` (groups ``prior_predictive`` and
        ``observed_data``). Drawn here when not given.
    draws : int, default 500
        Number of prior draws when ``idata`` is not given.
    random_seed : int, optional
        Seed of the prior draws and of the subset of draws shown.
    **kwargs
        Passed to `arviz.plot_ppc` (for example ``num_pp_samples``, ``kind``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> fig = bf.plot_prior_predictive(model, draws=200, random_seed=1)  # doctest: +SKIP
    """
    if idata is None:
        idata = model.prior_predictive(draws=draws, random_seed=random_seed)
    fix = "pass the result of model.prior_predictive(), or leave idata=None."
    check_idata(idata, "prior_predictive", "plot_prior_predictive", fix)
    check_idata(idata, "observed_data", "plot_prior_predictive", fix)
    _check_response(model, idata.prior_predictive, "prior_predictive")
    kwargs.setdefault("random_seed", random_seed)
    kwargs.setdefault("observed", True)  # ArviZ hides the data for group="prior" by default
    axes = az.plot_ppc(idata, group="prior", var_names=[model.response_name], **kwargs)
    return figure_of(axes)


def plot_trace(idata, var_names=None, **kwargs: Any):
    """Trace plot of posterior draws: density per chain (left) and draws in order (right).

    A thin wrapper of `arviz.plot_trace` that leaves per-observation variables (dims
    containing ``__obs__``, such as ``mu`` added by ``predict``) out by default.

    Parameters
    ----------
    idata : arviz.InferenceData
        The result of `Model.fit`.
    var_names : str or list of str, optional
        Variables to show. Default: every posterior variable that is not per-observation
        (without the internal ``Intercept_centered`` when ``Intercept`` is there).
    **kwargs
        Passed to `arviz.plot_trace`.

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
    names = _select(idata.posterior, var_names, "posterior")
    axes = az.plot_trace(idata, var_names=names, **kwargs)
    fig = figure_of(axes)
    if fig.get_layout_engine() is None:  # ArviZ's titles otherwise overlap the tick labels
        fig.tight_layout()
    return fig


def plot_posterior(idata, var_names=None, prob: float = 0.94, **kwargs: Any):
    """Posterior density of each parameter with its mean and highest-density interval.

    A thin wrapper of `arviz.plot_posterior` that leaves per-observation variables out
    by default.

    Parameters
    ----------
    idata : arviz.InferenceData
        The result of `Model.fit`.
    var_names : str or list of str, optional
        Variables to show. Default: every posterior variable that is not per-observation
        (without the internal ``Intercept_centered`` when ``Intercept`` is there).
    prob : float, default 0.94
        Probability mass of the highest-density interval drawn under each density.
    **kwargs
        Passed to `arviz.plot_posterior`.

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
    names = _select(idata.posterior, var_names, "posterior")
    axes = az.plot_posterior(idata, var_names=names, hdi_prob=prob, **kwargs)
    return figure_of(axes)


def plot_ppc(model, idata, num_pp_samples: int = 100, random_seed=None, **kwargs: Any):
    """Posterior predictive check: simulated response distributions against the observed one.

    If ``idata`` has no ``posterior_predictive`` group, responses are drawn on a copy with
    ``model.predict(idata, kind="response", inplace=False)``; ``idata`` itself is not changed.

    Parameters
    ----------
    model : bayesformula.Model
        The fitted model.
    idata : arviz.InferenceData
        The result of `Model.fit` (groups ``posterior`` and ``observed_data``), with or
        without ``posterior_predictive``.
    num_pp_samples : int, default 100
        Number of simulated data sets drawn as thin lines (at most the number of draws).
    random_seed : int, optional
        Seed of the response draws and of the subset of draws shown.
    **kwargs
        Passed to `arviz.plot_ppc` (for example ``kind="cumulative"``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bayesformula as bf
    >>> model = bf.Model("p(deaths, n) ~ dose", bf.load_data("bioassay"), family="binomial")
    >>> idata = model.fit(draws=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig = bf.plot_ppc(model, idata, random_seed=1)  # doctest: +SKIP
    >>> "posterior_predictive" in idata.groups()  # doctest: +SKIP
    False
    """
    fix = "pass the result of model.fit()."
    check_idata(idata, "observed_data", "plot_ppc", fix)
    if "posterior_predictive" not in idata.groups():
        check_idata(idata, "posterior", "plot_ppc", fix)
        light = az.InferenceData(posterior=idata.posterior, observed_data=idata.observed_data)
        idata = model.predict(light, kind="response", inplace=False, random_seed=random_seed)
    _check_response(model, idata.posterior_predictive, "posterior_predictive")
    predictive = idata.posterior_predictive
    total = predictive.sizes["chain"] * predictive.sizes["draw"]
    kwargs.setdefault("random_seed", random_seed)
    axes = az.plot_ppc(
        idata,
        var_names=[model.response_name],
        num_pp_samples=max(1, min(int(num_pp_samples), total)),
        **kwargs,
    )
    return figure_of(axes)


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
